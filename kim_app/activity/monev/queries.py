"""Reading the monev figures of an area and a year: the totals and the areas one level below
(one ``MonevArea`` row each, whatever the number of KIM), the most and least active KIM and those
without activity for some months (ordered by the kept score or last activity, through their
indexes), and every KIM's row for the exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from kim_app.activity.models import MonevArea, MonevTally
from kim_app.activity.monev.operations import IDLE_MONTHS, LEVELS
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.regions.models import Region, RegionLevel
from kim_app.security import codes_below, codes_within

SHOWN = 10  # KIM in each ranking
INACTIVE_SHOWN = 30
DEPTH = {None: 0, RegionLevel.PROVINSI: 1, RegionLevel.KABUPATEN: 2, RegionLevel.KECAMATAN: 3}


@dataclass(frozen=True)
class Monev:
    """What is asked: the area (None: the whole country), the year, the weights that hold
    there, and the month count after which a KIM without activity is flagged (``cutoff``: the
    day before which its last activity lies)."""

    area: Region | None
    year: int
    weights: dict[str, int]
    months: int
    cutoff: date

    @property
    def code(self) -> str:
        return self.area.code if self.area else ""


@dataclass
class Figures:
    """An area's totals as the page shows them."""

    kims: int = 0
    score: float = 0.0
    sangat_aktif: int = 0
    aktif: int = 0
    kurang_aktif: int = 0
    tidak_aktif: int = 0
    inactive: int = 0
    reports: int = 0
    relays: int = 0
    reach: int = 0
    hadir: int = 0
    certificates: int = 0
    refreshed_at: datetime | None = None

    def __getitem__(self, key: str):
        return getattr(self, key)


def _figures(row: MonevArea | None, months: int) -> Figures:
    if row is None or not row.kims:
        return Figures()
    months = months if months in IDLE_MONTHS else 3
    return Figures(
        kims=row.kims,
        score=row.score_sum / row.kims,
        **{key: getattr(row, key) for _lowest, key in LEVELS},
        inactive=getattr(row, f"idle_{months}"),
        reports=row.reports,
        relays=row.relays,
        reach=row.reach,
        hadir=row.hadir,
        certificates=row.certificates,
        refreshed_at=row.refreshed_at,
    )


def summary(m: Monev) -> Figures:
    """The area's totals: KIM, average score, KIM per level, idle ones, and the figures."""
    row = db.session.get(MonevArea, (m.code, m.year))
    return _figures(row, m.months)


@dataclass
class ChildRow:
    region: Region
    figures: Figures


def children(m: Monev) -> list[ChildRow]:
    """The areas one level below (provinces, regencies or districts) side by side, by average
    score, highest first; an area without KIM is left out."""
    depth = DEPTH.get(m.area.level if m.area else None)
    if depth is None or depth >= 3:
        return []
    condition = sa.and_(MonevArea.year == m.year, MonevArea.depth == depth + 1)
    if m.code:
        condition = sa.and_(condition, codes_below(MonevArea.area_code, m.code))
    rows = db.session.execute(
        sa.select(MonevArea, Region)
        .join(Region, Region.code == MonevArea.area_code)
        .where(condition)
    ).all()
    found = [ChildRow(region, _figures(row, m.months)) for row, region in rows if row.kims]
    return sorted(found, key=lambda c: (-c.figures.score, c.region.code))


@dataclass
class KimRow:
    kim: Kim
    tally: MonevTally

    @property
    def score(self) -> float:
        return self.tally.score


def _where(m: Monev) -> sa.ColumnElement[bool]:
    condition = MonevTally.year == m.year
    if m.code:
        condition = sa.and_(condition, codes_within(MonevTally.village_code, m.code))
    return condition


def _kims(m: Monev, order, limit: int | None, extra=None) -> list[KimRow]:
    """The area's KIM rows in ``order`` (an index's order: the rows are found by reading it,
    then joined to their KIM, in the same order again), at most ``limit``."""
    chosen = (
        sa.select(MonevTally)
        .where(_where(m), *([extra] if extra is not None else []))
        .order_by(*order(MonevTally))
    )
    if limit is not None:
        chosen = chosen.limit(limit)
    tally = aliased(MonevTally, chosen.subquery())
    rows = db.session.execute(
        sa.select(Kim, tally).join(tally, tally.kim_id == Kim.id).order_by(*order(tally))
    ).all()
    return [KimRow(kim, t) for kim, t in rows]


# the orders, of the table or of the subquery that read it
def _most_first(t):
    return (t.score.desc(), t.kim_id.desc())


def _least_first(t):
    return (t.score.asc(), t.kim_id.asc())


def _idle_first(t):
    return (t.last_active.asc(), t.kim_id.asc())


def most_active(m: Monev) -> list[KimRow]:
    return _kims(m, _most_first, SHOWN)


def least_active(m: Monev) -> list[KimRow]:
    return _kims(m, _least_first, SHOWN)


def inactive(m: Monev) -> list[KimRow]:
    """KIM without any activity, then those whose last lies before the cutoff, longest idle
    first: two reads of the last-activity index, each stopping at the list's length."""
    never = _kims(m, _idle_first, INACTIVE_SHOWN, MonevTally.last_active.is_(None))
    if len(never) >= INACTIVE_SHOWN:
        return never
    before = _kims(m, _idle_first, INACTIVE_SHOWN - len(never), MonevTally.last_active < m.cutoff)
    return never + before


def every_kim(m: Monev) -> list[KimRow]:
    """Every KIM of the area with its figures, by score (the exports)."""
    return _kims(m, _most_first, None)


def kim_count(m: Monev) -> int:
    kims = db.session.scalar(
        sa.select(MonevArea.kims).where(MonevArea.area_code == m.code, MonevArea.year == m.year)
    )
    return kims or 0
