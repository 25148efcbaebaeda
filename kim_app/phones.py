"""Indonesian mobile (WhatsApp) numbers: accepted as people write them, stored as E.164."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class PhoneError(ValueError):
    """Not an Indonesian mobile number."""


def normalise_phone(raw: str | None) -> str | None:
    """``0812-3456-7890``, ``+62 812…`` or ``62812…`` → ``+6281234567890``; empty → None.

    Raises PhoneError for anything that is not a valid Indonesian mobile number.
    """
    text = (raw or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, "ID")
    except NumberParseException as error:
        raise PhoneError(text) from error
    if (
        number.country_code != 62
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in MOBILE_TYPES
    ):
        raise PhoneError(text)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def display_phone(e164: str | None) -> str:
    """How Indonesians read a number: ``0812-3456-7890``. Remembered: a list of 50 people
    would otherwise pay for 50 parses."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, "ID")
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return national.replace(" ", "-")


def mask_phone(e164: str | None) -> str:
    """For roles that need to recognise a number but not use it: ``0812-****-7890``."""
    shown = display_phone(e164)
    if len(shown) < 8:
        return shown
    parts = shown.split("-")
    if len(parts) >= 3:
        return "-".join([parts[0], *["*" * len(p) for p in parts[1:-1]], parts[-1]])
    return shown[:4] + "*" * (len(shown) - 8) + shown[-4:]


# a prepared WhatsApp message stays short enough to read on a phone and to fit any link limit
MAX_HANDOFF_TEXT = 1000


def whatsapp_link(e164: str | None, text: str) -> str:
    """A ``wa.me`` hand-off that opens WhatsApp with ``text`` filled in: to that number (E.164,
    sent as ``62…`` without the plus), or, without a number, ready to pick a chat or a group.
    The text is cut at MAX_HANDOFF_TEXT characters."""
    number = (e164 or "").lstrip("+")
    message = quote(text[:MAX_HANDOFF_TEXT], safe="")
    return f"https://wa.me/{number}?text={message}"
