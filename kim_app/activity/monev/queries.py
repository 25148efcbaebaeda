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
    then joined to their KIM), at most ``limit``."""
    chosen = (
        sa.select(MonevTally)
        .where(_where(m), *([extra] if extra is not None else []))
        .order_by(*order)
    )
    if limit is not None:
        chosen = chosen.limit(limit)
    inner = chosen.subquery()
    tally = aliased(MonevTally, inner)
    rows = db.session.execute(sa.select(Kim, tally).join(tally, tally.kim_id == Kim.id)).all()
    return sorted((KimRow(kim, t) for kim, t in rows), key=lambda r: _position(r, order))


def _position(row: KimRow, order) -> tuple:
    """The row's place in ``order`` again (the join does not keep the subquery's order)."""
    t = row.tally
    if order is RANK_DOWN:
        return (-t.score, -t.kim_id)
    if order is RANK_UP:
        return (t.score, t.kim_id)
    return (t.last_active or date.min, t.kim_id)  # IDLE


RANK_DOWN = (MonevTally.score.desc(), MonevTally.kim_id.desc())
RANK_UP = (MonevTally.score.asc(), MonevTally.kim_id.asc())
IDLE = (MonevTally.last_active.asc(), MonevTally.kim_id.asc())


def most_active(m: Monev) -> list[KimRow]:
    return _kims(m, RANK_DOWN, SHOWN)


def least_active(m: Monev) -> list[KimRow]:
    return _kims(m, RANK_UP, SHOWN)


def inactive(m: Monev) -> list[KimRow]:
    """KIM without any activity, then those whose last lies before the cutoff, longest idle
    first: two reads of the last-activity index, each stopping at the list's length."""
    never = _kims(m, IDLE, INACTIVE_SHOWN, MonevTally.last_active.is_(None))
    if len(never) >= INACTIVE_SHOWN:
        return never
    before = _kims(m, IDLE, INACTIVE_SHOWN - len(never), MonevTally.last_active < m.cutoff)
    return never + before


def every_kim(m: Monev) -> list[KimRow]:
    """Every KIM of the area with its figures, by score (the exports)."""
    return _kims(m, RANK_DOWN, None)


def kim_count(m: Monev) -> int:
    return summary(m).kims
