"""Queries behind the operators' registry and the coverage view, built for national scale.

A registry page is one query for its rows and one for the count, whatever the number of KIM or
members. Coverage is counted in SQL with GROUP BY on a prefix of the village code (``substr``
works on SQLite and PostgreSQL); no Python loop ever walks the 83,762 villages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from kim_app.db import contains_text
from kim_app.extensions import db
from kim_app.groups.models import (
    NATIONAL_BIDANG,
    Bidang,
    BidangOption,
    FieldLabel,
    Kim,
    KimField,
    KimStatus,
    Member,
    VillageTally,
)
from kim_app.groups.operations import areas_above, kim_filter
from kim_app.labels import LabelledEnum, set_labels
from kim_app.pagination import Page, clamped
from kim_app.regions.models import Region, RegionLevel, level_of
from kim_app.security import Viewer, code_range, codes_below, scope_filter, scope_of

PER_PAGE = 25
QUERY_MAX = 60


class Sort(LabelledEnum):
    NAMA = "nama"
    DESA = "desa"
    TERBARU = "terbaru"
    STATUS = "status"


SORT_LABELS = set_labels(
    Sort,
    {
        Sort.NAMA: _l("Nama KIM"),
        Sort.DESA: _l("Desa/kelurahan"),
        Sort.TERBARU: _l("Terbaru didaftarkan"),
        Sort.STATUS: _l("Status"),
    },
)


def _clean_query(text: str) -> str:
    """Search words as typed, without control characters (PostgreSQL refuses NUL), at most 60."""
    return " ".join("".join(ch for ch in text if ch.isprintable()).split())[:QUERY_MAX]


def _member(enum_cls, value: str | None):
    """The enum member whose value is ``value``, or None."""
    return enum_cls(value) if value in {m.value for m in enum_cls} else None


def known_bidang(value: str | None) -> str | None:
    """``value`` when it is the key of a field of activity (national or an area's), else None."""
    if not value or len(value) > 24:
        return None
    if value in NATIONAL_BIDANG:
        return value
    found = db.session.scalar(sa.select(BidangOption.key).where(BidangOption.key == value))
    return found


def bidang_for_filter(user) -> list[FieldLabel]:
    """The fields a registry can be narrowed to: the national ones, then those of the areas in
    ``user``'s scope and above it (retired ones too: KIM still have them)."""
    scope = scope_of(user) or ""
    condition = BidangOption.area_code.startswith(scope)
    if scope:
        condition = sa.or_(condition, BidangOption.area_code.in_(areas_above(scope)))
    options = db.session.scalars(sa.select(BidangOption).where(condition).limit(500)).all()
    local = sorted((FieldLabel(o.key, o.shown_label) for o in options), key=lambda c: c.label)
    return [FieldLabel(b.value, b.label) for b in Bidang] + local


@dataclass(frozen=True)
class RegistryFilter:
    """What the registry is narrowed to; ``area`` is a province, regency or district code."""

    q: str = ""
    status: KimStatus | None = None
    bidang: str | None = None  # a field's key: national, or one an area keeps
    area: str | None = None
    sort: Sort = Sort.NAMA

    @classmethod
    def from_args(cls, args, area: str | None = None) -> RegistryFilter:
        """Read the query string; unknown values are ignored rather than refused (they come from links)."""
        return cls(
            q=_clean_query(args.get("q") or ""),
            status=_member(KimStatus, args.get("status")),
            bidang=known_bidang(args.get("bidang")),
            area=area,
            sort=_member(Sort, args.get("urut")) or Sort.NAMA,
        )

    @property
    def narrowed(self) -> bool:
        """True when any filter other than the search box is set (the filter panel opens)."""
        return bool(self.status or self.bidang or self.area or self.sort is not Sort.NAMA)


# --- the registry ------------------------------------------------------------------------------

village = aliased(Region, name="village")
district = aliased(Region, name="district")


def registry_conditions(filters: RegistryFilter, user) -> list[sa.ColumnElement[bool]]:
    conditions = [kim_filter(user)]
    if filters.area:
        conditions.append(codes_below(Kim.village_code, filters.area))
    if filters.status:
        conditions.append(Kim.status == filters.status)
    if filters.bidang:
        conditions.append(
            sa.exists().where(KimField.kim_id == Kim.id, KimField.field == filters.bidang)
        )
    for word in filters.q.split()[:4]:
        conditions.append(
            sa.or_(
                contains_text(Kim.name, word),
                contains_text(village.name, word),
                contains_text(district.name, word),
            )
        )
    return conditions


def registry_order(sort: Sort) -> list:
    if sort is Sort.DESA:
        return [village.name, village.code, sa.func.lower(Kim.name), Kim.id]
    if sort is Sort.TERBARU:
        return [Kim.created_at.desc(), Kim.id.desc()]
    if sort is Sort.STATUS:
        rank = sa.case({s: i for i, s in enumerate(KimStatus)}, value=Kim.status)
        return [rank, sa.func.lower(Kim.name), Kim.id]
    return [sa.func.lower(Kim.name), Kim.id]


def registry_page(filters: RegistryFilter, user, page: int) -> Page:
    """KIM in ``user``'s scope matching ``filters``: the rows of one page and the total.

    Each row has ``id, name, status, registration_number, village, district, members`` (active).
    """
    conditions = registry_conditions(filters, user)
    count = sa.select(sa.func.count()).select_from(Kim)
    if filters.q:  # the names searched live in the region rows
        count = count.join(village, village.code == Kim.village_code).join(
            district, district.code == village.parent_code
        )
    total = db.session.scalar(count.where(*conditions)) or 0
    page = clamped(page, total, PER_PAGE)
    members = (
        sa.select(sa.func.count())
        .select_from(Member)
        .where(Member.kim_id == Kim.id, Member.active)
        .correlate(Kim)
        .scalar_subquery()
        .label("members")
    )
    rows = db.session.execute(
        sa.select(
            Kim.id,
            Kim.name,
            Kim.status,
            Kim.registration_number,
            village,
            district,
            members,
        )
        .join(village, village.code == Kim.village_code)
        .join(district, district.code == village.parent_code)
        .where(*conditions)
        .order_by(*registry_order(filters.sort))
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return Page(items=list(rows), total=total, page=page, per_page=PER_PAGE)


# --- coverage ------------------------------------------------------------------------------------


@dataclass
class CoverageRow:
    """Villages in one region and how many of them have an active (verified) KIM."""

    region: Region | None
    villages: int
    active: int

    @property
    def missing(self) -> int:
        return self.villages - self.active

    @property
    def percent(self) -> float:
        return 100.0 * self.active / self.villages if self.villages else 0.0


@dataclass
class Coverage:
    area: Region | None  # None: the whole country
    rows: list[CoverageRow] = field(default_factory=list)

    @property
    def total(self) -> CoverageRow:
        """The sum of the rows (one per child region, not per village)."""
        return CoverageRow(
            region=self.area,
            villages=sum(r.villages for r in self.rows),
            active=sum(r.active for r in self.rows),
        )

    @property
    def child_level(self) -> RegionLevel:
        if self.area is None:
            return RegionLevel.PROVINSI
        return (
            RegionLevel.KABUPATEN
            if self.area.level is RegionLevel.PROVINSI
            else RegionLevel.KECAMATAN
        )


# areas a coverage table or a list of villages without a KIM can be drawn for
AREA_LEVELS = (RegionLevel.PROVINSI, RegionLevel.KABUPATEN, RegionLevel.KECAMATAN)


def coverage(area: Region | None, user) -> Coverage:
    """One row per child region of ``area`` (provinces for the whole country), in one query.

    ``area`` must be the whole country, a province or a regency inside ``user``'s reach (the
    view checks that; a district's table would be one row per village). The country's and a
    province's rows sum their regencies' tallies (``VillageTally``, kept by triggers on regions
    and KIM: a few hundred rows instead of 83,762 villages); a regency's districts are counted
    per code prefix with GROUP BY. The statement is built once per level and viewer, the area's
    code bound."""
    code = area.code if area else None
    statement = _coverage_statement(len(code) if code else 0, Viewer.of(user))
    params = {} if code is None else code_range("area", code)
    rows = [
        CoverageRow(region, int(n), int(a))
        for region, n, a in db.session.execute(statement, params)
    ]
    return Coverage(area=area, rows=rows)


@lru_cache(maxsize=256)
def _coverage_statement(code_length: int, viewer: Viewer) -> sa.Select:
    child = aliased(Region, name="child")
    children = (  # the provinces are the regions without a parent (its index, not all 91,599)
        child.parent_code == sa.bindparam("area") if code_length else child.parent_code.is_(None),
        scope_filter(child.code, viewer),
    )
    if code_length < 5:  # the country or a province: its regencies' tallies
        width = sa.literal_column("5" if code_length else "2")  # a province's or a regency's code
        prefix = sa.func.substr(VillageTally.regency_code, sa.literal_column("1"), width)
        tallied = (
            sa.select(
                prefix.label("code"),
                sa.func.sum(VillageTally.villages).label("villages"),
                sa.func.sum(VillageTally.active).label("active"),
            )
            .where(codes_below(VillageTally.regency_code) if code_length else sa.true())
            .group_by(prefix)
            .subquery("tallied")
        )
        return (
            sa.select(
                child,
                sa.func.coalesce(tallied.c.villages, 0),
                sa.func.coalesce(tallied.c.active, 0),
            )
            .outerjoin(tallied, tallied.c.code == child.code)
            .where(*children)
            .order_by(child.code)
        )
    # a regency: its districts, counted per code prefix
    prefix_len = sa.literal_column("8")  # a literal, so GROUP BY repeats the same expression
    one = sa.literal_column("1")
    village_prefix = sa.func.substr(Region.code, one, prefix_len)
    villages = (
        sa.select(village_prefix.label("code"), sa.func.count().label("n"))
        .where(
            Region.level == RegionLevel.DESA,
            codes_below(Region.code),
            scope_filter(Region.code, viewer),
        )
        .group_by(village_prefix)
        .subquery("villages")
    )
    kim_prefix = sa.func.substr(Kim.village_code, one, prefix_len)
    active = (
        sa.select(kim_prefix.label("code"), sa.func.count(Kim.village_code.distinct()).label("n"))
        .where(
            Kim.status == KimStatus.TERVERIFIKASI,
            codes_below(Kim.village_code),
            kim_filter(viewer),
        )
        .group_by(kim_prefix)
        .subquery("active")
    )
    return (
        sa.select(child, sa.func.coalesce(villages.c.n, 0), sa.func.coalesce(active.c.n, 0))
        .outerjoin(villages, villages.c.code == child.code)
        .outerjoin(active, active.c.code == child.code)
        .where(*children)
        .order_by(child.code)
    )


def region_at(code: str | None, levels: tuple[RegionLevel, ...]) -> Region | None:
    """The region with ``code`` if it exists at one of ``levels``; None for anything else.

    The caller still checks the user's reach (the scope rule answers 404 outside it).
    """
    if not code or level_of(code) not in levels:
        return None
    return db.session.get(Region, code)


def villages_without_kim(area: Region, user, page: int) -> Page:
    """Villages below ``area`` in ``user``'s scope with no verified KIM, one page in code order.

    Rows are ``(village, district, regency)`` regions.
    """
    has_active = (
        sa.exists()
        .where(Kim.village_code == Region.code, Kim.status == KimStatus.TERVERIFIKASI)
        .correlate(Region)
    )
    conditions = [
        Region.level == RegionLevel.DESA,
        codes_below(Region.code, area.code),
        scope_filter(Region.code, user),
        ~has_active,
    ]
    total = (
        db.session.scalar(sa.select(sa.func.count()).select_from(Region).where(*conditions)) or 0
    )
    page = clamped(page, total, PER_PAGE)
    parent = aliased(Region, name="parent")
    grandparent = aliased(Region, name="grandparent")
    rows = db.session.execute(
        sa.select(Region, parent, grandparent)
        .join(parent, parent.code == Region.parent_code)
        .join(grandparent, grandparent.code == parent.parent_code)
        .where(*conditions)
        .order_by(Region.code)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return Page(items=list(rows), total=total, page=page, per_page=PER_PAGE)
