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
# surrogates (never valid text on their own), and the Unicode noncharacters: U+FFFE and U+FFFF,
# which XML 1.0 forbids, with the rest of their kind (U+FDD0–U+FDEF, the last two of each plane)
NONCHARACTERS = r"\ufdd0-\ufdef" + "".join(
    rf"\U{plane:04x}fffe\U{plane:04x}ffff" for plane in range(17)
)
UNPRINTABLE = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{NONCHARACTERS}]")


def printable(text: str) -> str:
    """``text`` without the characters above; CR LF and a lone CR become a line feed."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return UNPRINTABLE.sub("", text)
