"""The Survei Kepuasan Masyarakat index of PermenPAN-RB 14/2017, as the regulation computes it.

Each respondent rates the nine service elements (unsur) 1–4. For each element the average rating
(NRR, *nilai rata-rata*) is the sum of its ratings over the number of respondents who rated it.
Every element weighs the same, 1/9 (the regulation writes it "1/9 = 0,11"), so the index (IKM,
1–4) is the sum of the weighted averages, and the converted value (25–100) is the index × 25.
The regulation's four grades read the converted value:

    25,00–64,99  D  Tidak baik
    65,00–76,60  C  Kurang baik
    76,61–88,30  B  Baik
    88,31–100    A  Sangat baik

Everything is computed with exact fractions; only the converted value is rounded (half up, to two
decimals, as the grades are written), and the grade read from it. ``WORDED`` names the elements
and asks about each as a training's survey does; the operator may reword the questions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Element:
    key: str
    label: str  # the regulation's name of the element
    question: str  # the default question, worded for a training (the operator may edit it)


# the nine elements of the regulation, in its order
WORDED = (
    Element(
        "persyaratan",
        _l("Persyaratan"),
        _l("Bagaimana kesesuaian persyaratan peserta dengan pelatihan ini?"),
    ),
    Element(
        "prosedur",
        _l("Prosedur"),
        _l("Bagaimana kemudahan pendaftaran dan presensi pelatihan ini?"),
    ),
    Element(
        "waktu",
        _l("Waktu pelaksanaan"),
        _l("Bagaimana ketepatan waktu pelaksanaan pelatihan ini?"),
    ),
    Element(
        "biaya",
        _l("Biaya"),
        _l("Bagaimana kewajaran biaya mengikuti pelatihan ini (gratis pun dinilai)?"),
    ),
    Element(
        "produk",
        _l("Produk layanan"),
        _l("Bagaimana kesesuaian materi pelatihan dengan yang diumumkan?"),
    ),
    Element(
        "kompetensi",
        _l("Kompetensi pelaksana"),
        _l("Bagaimana kemampuan narasumber dan panitia?"),
    ),
    Element(
        "perilaku",
        _l("Perilaku pelaksana"),
        _l("Bagaimana kesopanan dan keramahan narasumber dan panitia?"),
    ),
    Element(
        "pengaduan",
        _l("Penanganan pengaduan"),
        _l("Bagaimana penanganan pertanyaan, saran, dan keluhan peserta?"),
    ),
    Element(
        "sarana",
        _l("Sarana dan prasarana"),
        _l("Bagaimana kualitas tempat, peralatan, dan perlengkapan pelatihan?"),
    ),
)
ELEMENTS = tuple(element.key for element in WORDED)
RATINGS = range(1, 5)
# what each rating means, as the survey offers it
RATING_LABELS = {
    1: _l("Tidak baik"),
    2: _l("Kurang baik"),
    3: _l("Baik"),
    4: _l("Sangat baik"),
}
# the lowest converted value of each grade, best first, and what each grade means
GRADES = ((Decimal("88.31"), "A"), (Decimal("76.61"), "B"), (Decimal("65.00"), "C"))
GRADE_LABELS = {
    "A": RATING_LABELS[4],
    "B": RATING_LABELS[3],
    "C": RATING_LABELS[2],
    "D": RATING_LABELS[1],
}


@dataclass(frozen=True)
class Index:
    respondents: int  # who rated at least one element
    averages: dict[str, Fraction]  # NRR of each element rated by anyone
    index: Fraction  # IKM, 1–4
    converted: Decimal  # the index × 25, two decimals
    grade: str  # A, B, C or D


def grade_of(converted: Decimal) -> str:
    """The regulation's grade of a converted value (two decimals)."""
    return next((grade for lowest, grade in GRADES if converted >= lowest), "D")


def skm_index(answers: Iterable[Mapping[str, int | None]]) -> Index | None:
    """The index of the respondents' ``answers`` (element → rating 1–4, or None where left
    blank); None until every element has been rated by someone. A rating outside 1–4 or an
    element the regulation does not have is a ValueError: the survey's form never sends one."""
    sums = dict.fromkeys(ELEMENTS, 0)
    counts = dict.fromkeys(ELEMENTS, 0)
    respondents = 0
    for answer in answers:
        rated = False
        for element, rating in answer.items():
            if element not in sums:
                raise ValueError(f"unknown element {element!r}")
            if rating is None:
                continue
            if rating not in RATINGS:
                raise ValueError(f"rating {rating!r} of {element!r} is not 1–4")
            sums[element] += rating
            counts[element] += 1
            rated = True
        respondents += rated
    return index_of_tallies(sums, counts, respondents)


def index_of_tallies(
    sums: Mapping[str, int], counts: Mapping[str, int], respondents: int
) -> Index | None:
    """The index from each element's sum of ratings and number of ratings (what a database
    adds up); None until every element has been rated by someone."""
    if not all(counts.get(element) for element in ELEMENTS):
        return None
    averages = {element: Fraction(sums[element], counts[element]) for element in ELEMENTS}
    index = sum(average * Fraction(1, len(ELEMENTS)) for average in averages.values())
    exact = index * 25
    converted = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    return Index(respondents, averages, index, converted, grade_of(converted))
