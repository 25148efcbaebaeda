"""The satisfaction survey's index (issue 25 item 3), against worked examples computed by hand
with the formula of PermenPAN-RB 14/2017."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from flask_babel import force_locale

from kim_app.evaluation.skm import (
    ELEMENTS,
    GRADE_LABELS,
    RATING_LABELS,
    WORDED,
    grade_of,
    skm_index,
)

# ten respondents' ratings of each element, in the regulation's order
WORKED = {
    "persyaratan": [4, 4, 4, 4, 3, 3, 3, 3, 3, 3],  # 34 / 10 = 3.4
    "prosedur": [4, 4, 3, 3, 3, 3, 3, 3, 3, 3],  # 32 / 10 = 3.2
    "waktu": [3] * 10,  # 3.0
    "biaya": [4] * 10,  # 4.0
    "produk": [4, 4, 4, 3, 3, 3, 3, 3, 3, 3],  # 3.3
    "kompetensi": [4, 4, 4, 4, 4, 4, 3, 3, 3, 3],  # 3.6
    "perilaku": [4] * 8 + [3, 3],  # 3.8
    "pengaduan": [2, 2, 3, 3, 3, 3, 3, 3, 3, 3],  # 2.8
    "sarana": [4] * 5 + [3] * 5,  # 3.5
}


def respondents(by_element: dict[str, list[int | None]]) -> list[dict[str, int | None]]:
    count = len(next(iter(by_element.values())))
    return [{element: by_element[element][i] for element in ELEMENTS} for i in range(count)]


def test_the_worked_example():
    """By hand: the averages (NRR) are 3.4, 3.2, 3.0, 4.0, 3.3, 3.6, 3.8, 2.8 and 3.5; each
    weighs 1/9, so the index is 30.6 / 9 = 3.4; converted, 3.4 × 25 = 85.00: grade B (76.61–88.30).
    (With the weight rounded to 0,111 as the regulation's text prints it, 30.6 × 0.111 × 25 =
    84.92, also B; the exact 1/9 keeps the scale's top at 100.)"""
    result = skm_index(respondents(WORKED))
    assert result is not None and result.respondents == 10
    averages = [Fraction(34, 10), Fraction(32, 10), 3, 4, Fraction(33, 10), Fraction(36, 10)]
    averages += [Fraction(38, 10), Fraction(28, 10), Fraction(35, 10)]
    assert [result.averages[e] for e in ELEMENTS] == averages
    assert result.index == Fraction(34, 10)
    assert (result.converted, result.grade) == (Decimal("85.00"), "B")


def test_an_element_left_blank_is_averaged_over_those_who_rated_it():
    """Three respondents rate everything 4, 3 and 2, except that the last two leave "biaya"
    blank: biaya's average is 4 / 1 = 4, every other element's (4 + 3 + 2) / 3 = 3; the index
    is (8 × 3 + 4) / 9 = 28/9 = 3.111…, converted 77.777… → 77.78: grade B."""
    answers = [dict.fromkeys(ELEMENTS, rating) for rating in (4, 3, 2)]
    answers[1]["biaya"] = answers[2]["biaya"] = None
    result = skm_index(answers)
    assert result.averages["biaya"] == 4 and result.averages["waktu"] == 3
    assert result.index == Fraction(28, 9)
    assert (result.converted, result.grade) == (Decimal("77.78"), "B")


@pytest.mark.parametrize(
    ("rating", "converted", "grade"),
    [(4, "100.00", "A"), (3, "75.00", "C"), (2, "50.00", "D"), (1, "25.00", "D")],
)
def test_the_ends_of_the_scale(rating, converted, grade):
    result = skm_index([dict.fromkeys(ELEMENTS, rating)] * 3)
    assert (result.converted, result.grade) == (Decimal(converted), grade)


@pytest.mark.parametrize(
    ("converted", "grade"),
    [
        ("100.00", "A"),
        ("88.31", "A"),
        ("88.30", "B"),
        ("76.61", "B"),
        ("76.60", "C"),
        ("65.00", "C"),
        ("64.99", "D"),
        ("25.00", "D"),
    ],
)
def test_the_grades_at_their_bounds(converted, grade):
    assert grade_of(Decimal(converted)) == grade


def test_no_index_until_every_element_is_rated_and_no_rating_outside_the_scale():
    assert skm_index([]) is None
    some = dict.fromkeys(ELEMENTS, 3) | {"sarana": None}
    assert skm_index([some, some]) is None
    with pytest.raises(ValueError):
        skm_index([dict.fromkeys(ELEMENTS, 5)])
    with pytest.raises(ValueError):
        skm_index([{"keramahan": 3}])


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_elements_ratings_and_grades_are_worded_in_both_languages(app, lang):
    """The nine elements in the regulation's order, each with its name and a question worded
    for a training; the ratings 1–4 and the grades A–D read the same words."""
    with app.test_request_context(), force_locale(lang):
        labels = [str(e.label) for e in WORDED]
        questions = [str(e.question) for e in WORDED]
        ratings = [str(RATING_LABELS[r]) for r in (1, 2, 3, 4)]
        grades = [str(GRADE_LABELS[g]) for g in "DCBA"]
    assert [e.key for e in WORDED] == list(ELEMENTS) and len(set(questions)) == 9
    assert all(q.endswith("?") for q in questions) and grades == ratings
    first = {"id": ("Persyaratan", "Sangat baik"), "en": ("Requirements", "Very good")}
    assert (labels[0], ratings[3]) == first[lang]
