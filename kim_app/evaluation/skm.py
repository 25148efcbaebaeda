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
decimals, as the grades are written), and the grade read from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

# the nine elements of the regulation, in its order
ELEMENTS = (
    "persyaratan",
    "prosedur",
    "waktu",
    "biaya",
    "produk",
    "kompetensi",
    "perilaku",
    "pengaduan",
    "sarana",
)
RATINGS = range(1, 5)
# the lowest converted value of each grade, best first
GRADES = ((Decimal("88.31"), "A"), (Decimal("76.61"), "B"), (Decimal("65.00"), "C"))


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
    if not all(counts.values()):
        return None
    averages = {element: Fraction(sums[element], counts[element]) for element in ELEMENTS}
    index = sum(average * Fraction(1, len(ELEMENTS)) for average in averages.values())
    exact = index * 25
    converted = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    return Index(respondents, averages, index, converted, grade_of(converted))
