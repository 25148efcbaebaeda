"""Translations: every user-facing string is in the English catalogue, and it is translated."""

from __future__ import annotations

import re

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from kim_app import ROOT

CATALOGUE = ROOT / "kim_app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def _source_messages() -> set[str]:
    """Message ids in the code and templates, read with the mapping in babel.cfg."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found = set()
    for pattern, method in method_map:
        for path in ROOT.glob(pattern.replace("**.", "**/*.")):
            for _lineno, message, _comments, _context in extract_from_file(
                method, str(path), keywords=keywords, options=options_map.get(pattern, {})
            ):
                found.add(message if isinstance(message, str) else message[0])
    return found


def test_english_catalogue_covers_every_string_and_translates_it():
    """Run ``make extract-messages`` and translate the new entries when this fails."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    in_source = _source_messages()
    # a plural entry's id is (singular, plural): keyed by its singular, as the source is read
    messages = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue if m.id}
    assert sorted(in_source - set(messages)) == [], "strings missing from the English catalogue"
    untranslated = sorted(
        str(mid)
        for mid, m in messages.items()
        if mid in in_source
        and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)
    )
    assert untranslated == []


# Words a page shows as they are in both languages: names, file formats, the languages' own names.
SAME_IN_BOTH = {"KIM", "XLSX", "CSV", "PDF", "DOCX", "QR", "Indonesia", "English", "WhatsApp"}
# Attributes whose text a person reads (``value`` of a button is what the server receives).
READ_ATTRIBUTES = ("placeholder", "title", "alt", "aria-label", "aria-description", "label")


def _visible_text_outside_gettext(template: str) -> list[str]:
    """Text a template shows that does not pass through ``_()``: what is left once comments,
    tags, expressions, scripts and markup are taken out, plus the text of read attributes."""
    source = re.sub(r"\{#.*?#\}|\{%.*?%\}", " ", template, flags=re.S)
    attributes = [
        value
        for _name, value in re.findall(rf'\b({"|".join(READ_ATTRIBUTES)})="([^"{{]*)"', source)
    ]
    source = re.sub(r"\{\{.*?\}\}", " ", source, flags=re.S)
    source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S)
    text = re.sub(r"&[a-z#0-9]+;", " ", re.sub(r"<[^>]*>", "\n", source))
    pieces = [line.strip() for line in text.splitlines()] + attributes
    return [
        piece
        for piece in pieces
        if any(word not in SAME_IN_BOTH for word in re.findall(r"[^\W\d_]{2,}", piece))
    ]


def test_templates_show_no_text_outside_gettext():
    """Every word a template shows goes through _(), so neither language has untranslated text
    (Bahasa Indonesia is the source language; the English catalogue is checked above)."""
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert len(templates) > 100
    found = {
        str(path.relative_to(ROOT)): leftovers
        for path in templates
        if (leftovers := _visible_text_outside_gettext(path.read_text()))
    }
    assert found == {}


def test_the_template_check_finds_plain_text():
    """The check above sees text and read attributes written without _(), and nothing else."""
    page = (
        '<p>{{ _("Simpan") }} Kirim</p><input placeholder="Nama lengkap">'
        '<button name="aksi" value="hapus">{{ _("Hapus") }}</button>{# catatan #}'
        "<span>KIM · XLSX</span>"
    )
    assert _visible_text_outside_gettext(page) == ["Kirim", "Nama lengkap"]
