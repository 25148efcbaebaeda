"""Reading the monev figures of an area and a year: the summary, the areas one level below side
by side, the most and least active KIM, those without activity for some months, and every KIM's
row for the exports. The score is computed in SQL from the kept figures with the area's weights,
so each read is one statement over the area's rows (an index on year and village code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from kim_app.activity.models import MonevTally
from kim_app.activity.monev.operations import PARTS
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.regions.models import Region, RegionLevel
from kim_app.security import codes_within

# the activity levels, by score: (lowest score, key)
LEVELS = ((70, "sangat_aktif"), (40, "aktif"), (10, "kurang_aktif"), (0, "tidak_aktif"))
SHOWN = 10  # KIM in each ranking
INACTIVE_SHOWN = 50


@dataclass(frozen=True)
class Monev:
    """What is asked: the area (None: the whole country), the year, the weights, and the
    month count after which a KIM without activity is flagged (``cutoff``: the day before
    which its last activity must lie)."""

    area: Region | None
    year: int
    weights: dict[str, int]
    months: int
    cutoff: date

    @property
    def code(self) -> str:
        return self.area.code if self.area else ""


def _part(key: str):
    if key == "data":
        return MonevTally.completeness
    return getattr(MonevTally, key)


def score(weights: dict[str, int]) -> sa.ColumnElement[float]:
    """The activity score 0–100: Σ weight × min(figure ÷ target, 1) ÷ Σ weights × 100."""
    total = sum(weights.values()) or 1
    terms = []
    for part in PARTS:
        weight = weights.get(part.key, 0)
        if not weight:
            continue
        figure = _part(part.key)
        share = sa.case((figure >= part.target, 1.0), else_=figure * 1.0 / part.target)
        terms.append(share * (100.0 * weight / total))
    return sum(terms, sa.literal(0.0))


def _where(m: Monev) -> sa.ColumnElement[bool]:
    condition = MonevTally.year == m.year
    if m.area is not None:
        condition = sa.and_(condition, codes_within(MonevTally.village_code, m.area.code))
    return condition


def _inactive(m: Monev) -> sa.ColumnElement[bool]:
    return sa.or_(MonevTally.last_active.is_(None), MonevTally.last_active < m.cutoff)


def _level_counts(points) -> list:
    """Per level, how many KIM reach it (each counted once, at its highest level)."""
    columns, upper = [], None
    for lowest, key in LEVELS:
        condition = points >= lowest if upper is None else sa.and_(points >= lowest, points < upper)
        columns.append(
            sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0).label(key)
        )
        upper = lowest
    return columns


def _figures(m: Monev, points) -> list:
    return [
        sa.func.count().label("kims"),
        sa.func.coalesce(sa.func.avg(points), 0.0).label("score"),
        *_level_counts(points),
        sa.func.coalesce(sa.func.sum(sa.case((_inactive(m), 1), else_=0)), 0).label("inactive"),
        sa.func.coalesce(sa.func.sum(MonevTally.reports), 0).label("reports"),
        sa.func.coalesce(sa.func.sum(MonevTally.relays), 0).label("relays"),
        sa.func.coalesce(sa.func.sum(MonevTally.reach), 0).label("reach"),
        sa.func.coalesce(sa.func.sum(MonevTally.hadir), 0).label("hadir"),
        sa.func.coalesce(sa.func.sum(MonevTally.certificates), 0).label("certificates"),
        sa.func.max(MonevTally.refreshed_at).label("refreshed_at"),
    ]


def summary(m: Monev) -> sa.Row:
    """The area's totals: KIM, average score, KIM per level, inactive, and the figures."""
    points = score(m.weights)
    return db.session.execute(sa.select(*_figures(m, points)).where(_where(m))).one()


CHILD_LENGTH = {None: 2, RegionLevel.PROVINSI: 5, RegionLevel.KABUPATEN: 8}


@dataclass
class ChildRow:
    region: Region
    figures: sa.Row


def children(m: Monev) -> list[ChildRow]:
    """The areas one level below (provinces, regencies or districts) side by side, by average
    score, highest first; an area without KIM is left out."""
    length = CHILD_LENGTH.get(m.area.level if m.area else None)
    if length is None:
        return []
    points = score(m.weights)
    child = sa.func.substr(MonevTally.village_code, 1, length).label("child")
    rows = db.session.execute(
        sa.select(child, *_figures(m, points)).where(_where(m)).group_by(child)
    ).all()
    names = {
        r.code: r
        for r in db.session.scalars(
            sa.select(Region).where(Region.code.in_([r.child for r in rows]))
        )
    }
    found = [ChildRow(names[r.child], r) for r in rows if r.child in names]
    return sorted(found, key=lambda c: (-c.figures.score, c.region.code))


@dataclass
class KimRow:
    kim: Kim
    tally: MonevTally
    score: float


def _kims(m: Monev, order, limit: int | None, extra=None) -> list[KimRow]:
    points = score(m.weights)
    statement = (
        sa.select(Kim, MonevTally, points.label("points"))
        .join(Kim, Kim.id == MonevTally.kim_id)
        .where(_where(m), *([extra] if extra is not None else []))
        .order_by(*order(points))
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [KimRow(kim, tally, float(p)) for kim, tally, p in db.session.execute(statement)]


def most_active(m: Monev) -> list[KimRow]:
    return _kims(m, lambda p: (p.desc(), MonevTally.kim_id), SHOWN)


def least_active(m: Monev) -> list[KimRow]:
    return _kims(m, lambda p: (p.asc(), MonevTally.kim_id), SHOWN)


def inactive(m: Monev) -> list[KimRow]:
    """KIM whose last activity lies before the cutoff (or who have none), longest idle first."""
    return _kims(
        m,
        lambda _p: (MonevTally.last_active.is_not(None), MonevTally.last_active, MonevTally.kim_id),
        INACTIVE_SHOWN,
        _inactive(m),
    )


def every_kim(m: Monev) -> list[KimRow]:
    """Every KIM of the area with its figures, by score (the exports)."""
    return _kims(m, lambda p: (p.desc(), MonevTally.kim_id), None)


def kim_count(m: Monev) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(MonevTally).where(_where(m)))
