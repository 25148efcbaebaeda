"""Which column of a file fills which field: guessed from the header names (Indonesian or
English), then chosen by the person in the preview form."""

from __future__ import annotations

from collections.abc import Mapping

from kim_app.importing.importer import Importer
from kim_app.importing.values import words

# header words several importers read the same way
PHONE_WORDS = {"hp", "wa", "whatsapp", "telepon", "telpon", "telp", "tlp", "ponsel", "phone"}
PHONE_WORDS |= {"handphone", "kontak", "nohp", "mobile"}
EMAIL_WORDS = {"email", "surel", "mail"}
NAME_WORDS = {"nama", "name"}
POSITION_WORDS = {"jabatan", "posisi", "position", "peran", "kedudukan"}
GENDER_WORDS = {"kelamin", "gender", "jk", "sex"}
KIM_WORDS = {"kim", "komunitas", "kelompok"}


def is_gender(header_words: set[str]) -> bool:
    """A gender column: one of its words, or a header reading ``L/P``."""
    return bool(header_words & GENDER_WORDS) or header_words == {"l", "p"}


def guess_mapping(importer: Importer, headers: list[str]) -> dict[str, int]:
    """Field → column index, guessed from header names; the first fitting column wins."""
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        target = importer.guess(set(words(header)))
        if target and target not in mapping:
            mapping[target] = index
    return mapping


def mapping_from_form(importer: Importer, headers: list[str], form: Mapping) -> dict[str, int]:
    """The mapping chosen in the form (``kolom_<field>`` = column index); bad values are dropped."""
    mapping = {}
    for target in importer.targets:
        value = (form.get(f"kolom_{target.key}") or "").strip()
        if value.isascii() and value.isdigit() and len(value) < 6 and int(value) < len(headers):
            mapping[target.key] = int(value)
    return mapping
