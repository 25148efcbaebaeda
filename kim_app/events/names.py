"""Recognising a person by the name they type: the same name written a little differently
(case, spacing, punctuation, one slip of the finger, or only the first name) is the same person.

Used where a number and a name together stand for the person, as in "Tiket hilang?": the number
finds the registration, the name only has to agree with it.
"""

from __future__ import annotations

import re
import unicodedata

# one typo is allowed only in names at least this long: "Siti" and "Sita" are two people
TYPO_MIN_LENGTH = 5
# a first name alone must be at least this long ("Hj", "M." are no first names)
FIRST_NAME_MIN_LENGTH = 3


def name_words(name: str | None) -> list[str]:
    """``"Siti  Aminah, S.Pd."`` → ``["siti", "aminah", "s", "pd"]``: no case, accents or
    punctuation."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return [w for w in re.split(r"[\W_]+", text) if w]


def same_name(registered: str | None, typed: str | None) -> bool:
    """The same name exactly, once case, spacing, accents and punctuation are set aside
    (``Siti  aminah.`` = ``Siti Aminah``); no typo or first-name allowance. What a returning
    registration must show to take back its own ticket."""
    words = name_words(registered)
    return bool(words) and words == name_words(typed)


def _one_edit_apart(a: str, b: str) -> bool:
    """One letter changed, added or left out (Levenshtein distance exactly 1)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


def _close(registered: str, typed: str) -> bool:
    if registered == typed:
        return True
    return min(len(registered), len(typed)) >= TYPO_MIN_LENGTH and _one_edit_apart(
        registered, typed
    )


def names_match(registered: str | None, typed: str | None) -> bool:
    """Whether ``typed`` names the person registered as ``registered``: equal once case,
    spacing and punctuation are set aside, or one typo apart (names of five letters or more),
    or only the first name given (on either side), with the same allowance for a typo."""
    have, given = name_words(registered), name_words(typed)
    if not have or not given:
        return False
    if _close("".join(have), "".join(given)):
        return True
    if len(have) == len(given) or min(len(have), len(given)) != 1:
        return False
    single, full = (given, have) if len(given) == 1 else (have, given)
    return len(single[0]) >= FIRST_NAME_MIN_LENGTH and _close(full[0], single[0])
