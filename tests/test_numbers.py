"""Numbers on the page: the fast formatters of ``kim_app.i18n`` write exactly what Babel writes."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask import session
from flask_babel import format_decimal, format_number, refresh
from hypothesis import given, settings
from hypothesis import strategies as st

from kim_app.i18n import count, one_decimal

TIES = [0.05, 0.15, 0.25, 0.35, 12.45, 99.95, 1234.55, 53.846153, 7.407407, 100.0]


LANGUAGES = pytest.mark.parametrize("language", ["id", "en"])


@contextmanager
def reading_in(app, language: str):
    """A request whose reader chose ``language``."""
    with app.test_request_context():
        session["lang"] = language
        refresh()
        yield


@LANGUAGES
@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_count_writes_what_babel_writes(app, language, value):
    """A whole number reads the same as Babel's format_number in both languages."""
    with reading_in(app, language):
        assert count(value) == format_number(value)


@LANGUAGES
@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.sampled_from(TIES),
        st.floats(min_value=0, max_value=100_000, allow_nan=False),
        st.integers(min_value=0, max_value=100_000).map(lambda n: n / 100),
    )
)
def test_one_decimal_writes_what_babel_writes(app, language, value):
    """A share with one decimal reads as Babel's format_decimal("#,##0.0"), rounding included."""
    with reading_in(app, language):
        assert one_decimal(value) == format_decimal(value, format="#,##0.0")


@LANGUAGES
def test_separators_follow_the_language(app, language):
    """Indonesian groups with dots and writes a decimal comma; English the other way round."""
    expected = {"id": ("83.762", "53,8"), "en": ("83,762", "53.8")}[language]
    with reading_in(app, language):
        assert (count(83762), one_decimal(53.846)) == expected


def test_whatsapp_link_carries_the_number_without_plus_and_a_bounded_text():
    """A hand-off to a number is wa.me/62…; the text is encoded and cut at 1,000 characters."""
    from urllib.parse import parse_qs, urlsplit

    from kim_app.phones import MAX_HANDOFF_TEXT, whatsapp_link

    link = whatsapp_link("+6281234567890", "Halo & selamat\n" + "x" * 2000)
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("wa.me", "/6281234567890")
    text = parse_qs(parts.query)["text"][0]
    assert text.startswith("Halo & selamat\n") and len(text) == MAX_HANDOFF_TEXT
    assert whatsapp_link(None, "a b").startswith("https://wa.me/?text=a%20b")
