"""Translations: every user-facing string is in the English catalogue, and it is translated."""

from __future__ import annotations

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
    messages = {m.id: m for m in catalogue if m.id}
    assert sorted(in_source - set(messages)) == [], "strings missing from the English catalogue"
    untranslated = sorted(
        str(mid)
        for mid, m in messages.items()
        if mid in in_source
        and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)
    )
    assert untranslated == []
