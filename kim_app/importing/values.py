"""Reading the text of imported cells: words, dates, phone numbers and lengths, with the
messages an invalid value gets. Every importer uses them, so a value reads the same in all."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from kim_app.phones import PhoneError, normalise_phone


def clean(text: str) -> str:
    """Runs of whitespace as one space, the ends trimmed."""
    return " ".join((text or "").split())


def shown(text: str, limit: int = 24) -> str:
    """A value quoted back in a message, cut short so a page of errors stays small."""
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def words(text: str) -> list[str]:
    """Lower-case ASCII words: ``"No. HP (WA) Ketua"`` → ``["no", "hp", "wa", "ketua"]``."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return [w for w in re.split(r"[^a-z0-9]+", ascii_text.lower()) if w]


def person_key(name: str) -> str:
    """A person's name as compared: case and spacing set aside."""
    return " ".join((name or "").casefold().split())


def label_keys(labels: Mapping, values: Iterable[enum.Enum]) -> dict[str, Any]:
    """Each member keyed by its value and its label in Indonesian and English (as words)."""
    keys: dict[str, Any] = {}
    for member in values:
        keys[" ".join(words(member.value))] = member
        for lang in ("id", "en"):
            with force_locale(lang):
                keys[" ".join(words(str(labels[member])))] = member
    return keys


MONTHS = {
    "jan": 1, "januari": 1, "january": 1, "feb": 2, "februari": 2, "pebruari": 2, "february": 2,
    "mar": 3, "maret": 3, "march": 3, "apr": 4, "april": 4, "mei": 5, "may": 5, "jun": 6,
    "juni": 6, "june": 6, "jul": 7, "juli": 7, "july": 7, "agu": 8, "ags": 8, "agt": 8,
    "agustus": 8, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "okt": 10,
    "oktober": 10, "oct": 10, "october": 10, "nov": 11, "nopember": 11, "november": 11,
    "des": 12, "desember": 12, "dec": 12, "december": 12,
}  # fmt: skip
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def parse_date(text: str) -> date | None:
    """``2026-01-05``, ``05/01/2026``, ``5-1-2026``, ``5 Januari 2026``; None when unreadable."""
    text = clean(text)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})", text)
        named = re.fullmatch(r"(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})", text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            year += 2000 if year < 100 else 0
        elif named and named.group(2).lower() in MONTHS:
            day, month, year = int(named[1]), MONTHS[named[2].lower()], int(named[3])
        else:
            return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def checked_phone(raw: str, what: str, errors: list[str]) -> str | None:
    """The number in E.164, or None with a message in ``errors`` when it is not one."""
    try:
        return normalise_phone(raw)
    except PhoneError:
        errors.append(_("%(what)s tidak valid: %(phone)s.", what=what, phone=shown(raw)))
        return None


def checked_length(value: str, limit: int, what: str, errors: list[str]) -> str:
    """``value``, with a message in ``errors`` when it is longer than ``limit``."""
    if len(value) > limit:
        errors.append(
            _("%(what)s terlalu panjang (paling banyak %(n)d karakter).", what=what, n=limit)
        )
    return value


def checked_email(raw: str, errors: list[str]) -> str:
    """The address in lower case, with a message in ``errors`` when it is not one."""
    email = raw.lower()
    if email and (not EMAIL.fullmatch(email) or len(email) > 254):
        errors.append(_("Email tidak valid: %(email)s.", email=shown(raw)))
    return email
