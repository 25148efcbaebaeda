"""Text fit to keep and to write into any file: without control characters.

No keyboard types ESC, a form feed or a C1 character, yet a crafted request or an imported cell
can carry one, and XML (XLSX, DOCX) has no place for them: one such character in a stored name
used to make every export that held it fail. ``printable`` is the one rule of what goes. It is
applied where text enters (every request value, before a view reads it; every imported cell) and
again by every writer (spreadsheets, CSV, Word and PDF documents, calendar files), so text stored
before the rule existed is still written safely.
"""

from __future__ import annotations

import re

# C0 controls but tab and line feed (a carriage return turns into a line feed first), DEL, C1,
# surrogates (never valid text on their own), and the Unicode noncharacters of the BMP: U+FFFE and
# U+FFFF, which XML 1.0 forbids, and U+FDD0–U+FDEF
UNPRINTABLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
# beyond the BMP the last two code points of each plane are noncharacters too; found by their
# number, since a class listing all 32 makes every search ten times slower
BEYOND_BMP = re.compile(r"[\U0001fffe-\U0010ffff]")


def _unless_noncharacter(match: re.Match) -> str:
    char = match.group()
    return "" if ord(char) & 0xFFFE == 0xFFFE else char


def printable(text: str) -> str:
    """``text`` without the characters above; CR LF and a lone CR become a line feed."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = UNPRINTABLE.sub("", text)
    return text if text.isascii() else BEYOND_BMP.sub(_unless_noncharacter, text)
