"""contains_text: the one meaning every search box gives a word (case ignored, LIKE's wildcards
and its escape character taken as the characters they are), on SQLite and PostgreSQL alike."""

import pytest
import sqlalchemy as sa

from kim_app.db import contains_text
from kim_app.extensions import db
from kim_app.groups.models import Kim

NAMES = ["KIM 100% Jaya", "KIM 1000 Jaya", "KIM A_B", "KIM AxB", "KIM C\\D", "KIM CD", "KIM Ceria"]


@pytest.fixture
def named(make_kim):
    for name in NAMES:
        make_kim(name=name)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("100%", {"KIM 100% Jaya"}),  # not "100 then anything"
        ("%", {"KIM 100% Jaya"}),
        ("a_b", {"KIM A_B"}),  # not "a, one character, b"
        ("_", {"KIM A_B"}),
        ("c\\d", {"KIM C\\D"}),  # the escape character itself
        ("CERIA", {"KIM Ceria"}),  # case ignored both ways
        ("jaya", {"KIM 100% Jaya", "KIM 1000 Jaya"}),
        ("tidakada", set()),
    ],
)
def test_a_word_matches_names_containing_it_as_typed(ctx, named, word, expected):
    names = db.session.scalars(sa.select(Kim.name).where(contains_text(Kim.name, word))).all()
    assert set(names) == expected
