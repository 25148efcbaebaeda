"""The dashboard's figures for one area and one date range, each one grouped SQL query.

Definitions (the page and every export use these functions, so they always agree):

- **Area**: the whole country (admin), a province, a regency or a district, inside the user's
  scope. A KIM lies in the area when its village code lies below the area's code.
- **KIM by status**: every KIM in the area per ``KimStatus``. A stock, not a flow: the date range
  does not apply.
- **Coverage**: per child area (provinces, regencies, districts; villages for a district) the
  villages, those with at least one verified (*terverifikasi*) KIM, and the share; plus the total.
- **Counted events**: events that are neither drafts nor cancelled whose first session
  (``starts_on``) falls in the range (both days included), and — for the country, a province or
  a regency — whose owner (a province or regency) lies in the area; for a district, which owns
  no events, those with at least one registered (*terdaftar*) person from a KIM of the district.
- **Events by kind per month**: the counted events grouped by kind and by the month of
  ``starts_on``.
- **Counted registrations**: registrations with status *terdaftar* in the counted events; for a
  district only those whose KIM lies in the district. **People**: distinct phone numbers among
  them (a registration without a number counts as one person).
- **Attendance rate**: *hadir* marks of the counted registrations in the counted events'
  sessions that start within the range and **have ended** (by the clock of the event's zone),
  divided by (counted registrations of the event × those sessions), summed over the events: a
  session still to come has nobody present yet and must not lower the rate.
- **Gender**: counted registrations by the gender given (L, P, not given).
- **By origin**: the counted registrations by where their person comes from (``origin_code``,
  "asal daerah"): per child area (provinces, regencies, districts; villages for a district), the
  people from outside the area, and those whose origin is unknown or not finer than the area
  itself (*tidak diketahui*) — the rows add up to the counted registrations.
- **Elsewhere** (a province or regency): the area's people at events organised outside it —
  registrations with status *terdaftar* whose origin lies in the area, in events that are neither
  drafts nor cancelled, start in the range and whose owner lies outside the area (the province's,
  the nation's, another regency's). Kept apart from the area's own events: its events,
  registrations, people (distinct numbers), and attendance = their *hadir* marks in those
  events' ended sessions within the range ÷ (their registrations × those sessions).
- **Most / least active KIM**: verified KIM of the area ranked by the *hadir* marks of their
  registered people in sessions within the range of any event that is neither a draft nor
  cancelled (the KIM's own activity, wherever the event was held); ties by name. The least
  active list starts with KIM that have none.

The hadir marks are read from ``attendance_tallies`` (hadir marks of registered people per session
and KIM, kept exact by database triggers): a regency sums a few rows per session instead of
walking its thousands of marks. The KIM by status of the country, a province or a regency sum
their regencies' ``kim_tallies``; coverage reads ``village_tallies`` (groups/queries.py). For a
whole calendar year of the country, a province or a regency, ``reports/figures.py`` reads every
dated figure from the year tallies instead (migration 0021); the statements here count any other
range, and a district, from the rows — and are what the tests compare the tallies with.

Every statement is built once per *shape* — the kind of area (the country, a province or regency,
a district) and, where the scope rule applies, the viewer's role and scope — with the area's code
and the dates as bound parameters: building and keying a statement of this size took longer in
Python than the database took to answer it.

Over 600 lines on purpose: every figure of the dashboard and of its exports is defined here, next
to the definitions above, so the page and every file count the same way.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from kim_app.attendance.models import Attendance, AttendanceTally, Presence
from kim_app.db import on_postgresql
from kim_app.evaluation.queries import KindFigures, by_kind, kind_statements
from kim_app.events.models import (
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from kim_app.extensions import db
from kim_app.groups.models import Gender, Kim, KimStatus, KimTally
from kim_app.groups.operations import kim_filter
from kim_app.groups.queries import Coverage, CoverageRow, coverage
from kim_app.regions.models import Region, RegionLevel
from kim_app.security import Viewer, code_range, codes_within
from kim_app.timezones import LABELS, WIB

RANKED = 5  # KIM in each of the most / least active lists
COUNTED_STATUSES = (EventStatus.TERBIT, EventStatus.BERLANGSUNG, EventStatus.SELESAI)


@dataclass(frozen=True)
class DateRange:
    """Days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @property
    def low(self) -> datetime:
        return datetime.combine(self.start, time.min)

    @property
    def high(self) -> datetime:
        """The first moment after the range (naive, like the stored local times)."""
        return datetime.combine(self.end + timedelta(days=1), time.min)

    def months(self) -> list[tuple[int, int]]:
        """Every (year, month) the range touches, in order."""
        year, month, found = self.start.year, self.start.month, []
        while (year, month) <= (self.end.year, self.end.month):
            found.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found


class Shape(enum.Enum):
    """What kind of area a statement is built for."""

    COUNTRY = "country"  # no area condition
    PART = "part"  # a province or a regency: what lies below its code
    DISTRICT = "district"  # a district: its KIM, and the events they registered for


def shape_of(area: Region | None) -> Shape:
    if area is None:
        return Shape.COUNTRY
    return Shape.DISTRICT if area.level is RegionLevel.KECAMATAN else Shape.PART


def in_area(column, shape: Shape) -> sa.ColumnElement[bool]:
    """``column`` holds the area's code (bound as ``area``) or a code below it; everything for
    the country."""
    return sa.true() if shape is Shape.COUNTRY else codes_within(column)


LOW = sa.bindparam("low", type_=sa.DateTime())
HIGH = sa.bindparam("high", type_=sa.DateTime())
# the wall-clock time now in each zone (session times are naive local times of their event's zone)
NOW = {
    zone: sa.bindparam(f"now_{label.lower()}", type_=sa.DateTime())
    for zone, label in LABELS.items()
}


def clocks() -> dict[str, datetime]:
    """The parameters of ``NOW``: the current local time in WIB, WITA and WIT."""
    return {
        param.key: datetime.now(ZoneInfo(zone)).replace(tzinfo=None) for zone, param in NOW.items()
    }


def ended(session_end, event_zone) -> sa.ColumnElement[bool]:
    """The session has ended by the clock of its event's zone (``event_zone``: the event's
    ``timezone`` column, joined in; the statement is executed with ``clocks()``)."""
    now = sa.case(
        *((event_zone == zone, param) for zone, param in NOW.items() if zone != WIB),
        else_=NOW[WIB],
    )
    return session_end <= now


def bound(area: Region | None, dates: DateRange | None = None) -> dict:
    """The parameters of the statements here: the dates, and the area's code range."""
    params = {} if dates is None else {"low": dates.low, "high": dates.high}
    if area is not None:
        params |= code_range("area", area.code)
    return params


def _area_kim_ids() -> sa.Select:
    return sa.select(Kim.id).where(in_area(Kim.village_code, Shape.DISTRICT))


def counted_events(shape: Shape) -> sa.Select:
    """Ids of the counted events (see the module docstring)."""
    return sa.select(Event.id).where(*counted_conditions(shape))


def counted_conditions(shape: Shape) -> list[sa.ColumnElement[bool]]:
    """What makes an event counted, as conditions on ``Event`` (for a statement that joins the
    events to rows of its own, and is best started from those)."""
    conditions = [
        Event.status.in_(COUNTED_STATUSES),
        Event.starts_on >= LOW,
        Event.starts_on < HIGH,
    ]
    if shape is Shape.DISTRICT:
        conditions.append(
            Event.id.in_(
                sa.select(Registration.event_id).where(
                    Registration.status == RegistrationStatus.TERDAFTAR,
                    Registration.kim_id.in_(_area_kim_ids()),
                )
            )
        )
    else:
        conditions.append(in_area(Event.region_code, shape))
    return conditions


def _counted_registrations(shape: Shape, *columns) -> sa.Select:
    """``SELECT columns`` over the counted registrations, reached from the counted events (by
    the index on event and status), so that no database walks every registration instead."""
    counted = counted_events(shape).subquery("counted")
    conditions = [Registration.status == RegistrationStatus.TERDAFTAR]
    if shape is Shape.DISTRICT:
        conditions.append(Registration.kim_id.in_(_area_kim_ids()))
    return (
        sa.select(*columns)
        .select_from(counted)
        .join(Registration, Registration.event_id == counted.c.id)
        .where(*conditions)
    )


# --- the figures ---------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _status_statement(shape: Shape, viewer: Viewer | None) -> sa.Select:
    if shape is not Shape.DISTRICT:  # the regencies' tallies (kept by triggers on kims)
        return (
            sa.select(KimTally.status, sa.func.sum(KimTally.kims))
            .where(in_area(KimTally.regency_code, shape))
            .group_by(KimTally.status)
        )
    return (
        sa.select(Kim.status, sa.func.count())
        .where(in_area(Kim.village_code, shape), kim_filter(viewer))
        .group_by(Kim.status)
    )


def kim_by_status(area: Region | None, user) -> dict[KimStatus, int]:
    """Every status with its number of KIM in the area (zero included), in workflow order.

    The country, a province or a regency sum their regencies' tallies (KIM per regency and
    status, ``KimTally``); the area lies inside the user's scope (the view checks), so the scope
    rule leaves every one of its KIM. A district counts its KIM."""
    shape = shape_of(area)
    statement = _status_statement(shape, Viewer.of(user) if shape is Shape.DISTRICT else None)
    found = {KimStatus(s): int(n) for s, n in db.session.execute(statement, bound(area))}
    return {status: found.get(status, 0) for status in KimStatus}


def area_coverage(area: Region | None, user) -> Coverage:
    """Villages with a verified KIM per child area; a district's rows are its villages."""
    if shape_of(area) is not Shape.DISTRICT:
        return coverage(area, user)
    has_active = (
        sa.exists()
        .where(Kim.village_code == Region.code, Kim.status == KimStatus.TERVERIFIKASI)
        .correlate(Region)
    )
    rows = db.session.execute(
        sa.select(Region, has_active)
        .where(Region.parent_code == area.code, Region.level == RegionLevel.DESA)
        .order_by(Region.code)
    ).all()
    return Coverage(area=area, rows=[CoverageRow(r, 1, int(bool(a))) for r, a in rows])


@dataclass
class MonthKinds:
    """Counted events per month (every month of the range) and per kind."""

    months: list[tuple[int, int]]
    counts: dict[tuple[int, int], dict[EventKind, int]]

    @property
    def kinds(self) -> list[EventKind]:
        """Kinds that occur, in their declared order."""
        seen = {kind for per_kind in self.counts.values() for kind in per_kind}
        return [kind for kind in EventKind if kind in seen]

    def total(self, month: tuple[int, int]) -> int:
        return sum(self.counts.get(month, {}).values())

    def kind_total(self, kind: EventKind) -> int:
        return sum(per_kind.get(kind, 0) for per_kind in self.counts.values())

    @property
    def grand_total(self) -> int:
        return sum(self.total(m) for m in self.months)


@lru_cache(maxsize=8)
def _events_statement(shape: Shape) -> sa.Select:
    year = sa.extract("year", Event.starts_on)
    month = sa.extract("month", Event.starts_on)
    return (
        sa.select(Event.kind, year, month, sa.func.count())
        .where(Event.id.in_(counted_events(shape)))
        .group_by(Event.kind, year, month)
    )


def events_by_month(area: Region | None, dates: DateRange) -> MonthKinds:
    """Counted events by kind and by the year and month of their first session."""
    rows = db.session.execute(_events_statement(shape_of(area)), bound(area, dates)).all()
    counts: dict[tuple[int, int], dict[EventKind, int]] = {}
    for kind, y, m, n in rows:
        counts.setdefault((int(y), int(m)), {})[kind] = n
    return MonthKinds(months=dates.months(), counts=counts)


@dataclass
class Participation:
    registrations: int
    people: int
    sessions: int  # in the range
    ended: int  # in the range and over: the sessions the rate counts
    expected: int  # registered people × ended sessions
    present: int  # hadir marks in ended sessions
    genders: dict[Gender | None, int]  # registrations for L, P and not given, zeros included

    @property
    def rate(self) -> float:
        return 100.0 * self.present / self.expected if self.expected else 0.0


def participation(area: Region | None, dates: DateRange) -> Participation:
    """Registrations, people, the gender split, sessions and attendance, in one query.

    The expected attendances are summed per event (its counted registrations × its sessions in
    the range that have ended) instead of pairing every person with every session, and the hadir
    marks are read from the tallies (per session and KIM, kept by triggers), not mark by mark."""
    statement = _participation_statement(shape_of(area))
    row = db.session.execute(statement, bound(area, dates) | clocks()).one()
    registrations, men, women = int(row.registrations), int(row.men), int(row.women)
    return Participation(
        registrations=registrations,
        people=int(row.phones) + int(row.no_phone),
        sessions=int(row.sessions),
        ended=int(row.ended),
        expected=int(row.expected),
        present=int(row.hadir),
        genders={Gender.L: men, Gender.P: women, None: registrations - men - women},
    )


@lru_cache(maxsize=8)
def _participation_statement(shape: Shape) -> sa.Select:
    def total(column) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(column), 0)

    def how_many(condition) -> sa.ColumnElement[int]:
        return total(sa.case((condition, 1), else_=0))

    # people: grouped by number first (a hash, where count(DISTINCT) sorted them), then summed
    by_phone = (
        _counted_registrations(
            shape,
            Registration.phone,
            sa.func.count().label("n"),
            how_many(Registration.gender == Gender.L).label("men"),
            how_many(Registration.gender == Gender.P).label("women"),
        )
        .group_by(Registration.phone)
        .subquery("by_phone")
    )
    people = sa.select(
        total(by_phone.c.n).label("registrations"),
        sa.func.count(by_phone.c.phone).label("phones"),
        total(sa.case((by_phone.c.phone.is_(None), by_phone.c.n), else_=0)).label("no_phone"),
        total(by_phone.c.men).label("men"),
        total(by_phone.c.women).label("women"),
    ).subquery("people")
    # sessions in the range, those over, and what they expected: each event's ended sessions ×
    # its registrations (the event joined under another name: counted_events reads ``events``)
    zone_of = aliased(Event, name="zone_of")
    counted_sessions = (
        EventSession.event_id.in_(counted_events(shape)),
        EventSession.starts_at >= LOW,
        EventSession.starts_at < HIGH,
    )
    over = ended(EventSession.ends_at, zone_of.timezone)
    sessions = (
        sa.select(
            EventSession.event_id,
            sa.func.count().label("n"),
            how_many(over).label("ended"),
        )
        .join(zone_of, zone_of.id == EventSession.event_id)
        .where(*counted_sessions)
        .group_by(EventSession.event_id)
        .subquery("sessions")
    )
    registered = (
        _counted_registrations(shape, Registration.event_id, sa.func.count().label("n"))
        .group_by(Registration.event_id)
        .subquery("registered")
    )
    per_event = (
        sa.select(
            total(sessions.c.n).label("sessions"),
            total(sessions.c.ended).label("ended"),
            total(sessions.c.ended * sa.func.coalesce(registered.c.n, 0)).label("expected"),
        )
        .select_from(sessions)
        .outerjoin(registered, registered.c.event_id == sessions.c.event_id)
        .subquery("per_event")
    )
    # the hadir marks of the ended sessions, from the tallies
    in_district = [AttendanceTally.kim_id.in_(_area_kim_ids())] if shape is Shape.DISTRICT else []
    ended_sessions = (
        sa.select(EventSession.id)
        .join(zone_of, zone_of.id == EventSession.event_id)
        .where(*counted_sessions, over)
    )
    present = (
        sa.select(total(AttendanceTally.hadir))
        .where(AttendanceTally.session_id.in_(ended_sessions), *in_district)
        .scalar_subquery()
        .label("hadir")
    )
    # three one-row parts side by side
    return sa.select(people, per_event, present).select_from(people).join(per_event, sa.true())


@dataclass
class Elsewhere:
    """The area's people at events organised outside it (see the module docstring)."""

    events: int
    registrations: int
    people: int
    expected: int
    present: int

    @property
    def rate(self) -> float:
        return 100.0 * self.present / self.expected if self.expected else 0.0


def elsewhere(area: Region | None, dates: DateRange) -> Elsewhere | None:
    """The area's people at other areas' events, in one query; None for the country (nothing
    lies outside it) and for a district (its figures already follow its KIM's people)."""
    if shape_of(area) is not Shape.PART:
        return None
    row = db.session.execute(_elsewhere_statement(), bound(area, dates) | clocks()).one()
    return Elsewhere(
        events=int(row.events),
        registrations=int(row.registrations),
        people=int(row.phones) + int(row.no_phone),
        expected=int(row.expected),
        present=int(row.hadir),
    )


@lru_cache(maxsize=1)
def _elsewhere_statement() -> sa.Select:
    zone_of = aliased(Event, name="zone_of")
    in_range = (
        EventSession.starts_at >= LOW,
        EventSession.starts_at < HIGH,
        ended(EventSession.ends_at, zone_of.timezone),
    )
    # from the origin index (origin, status, event) to the few events outside the area
    theirs = (
        sa.select(Registration.id, Registration.event_id, Registration.phone)
        .join(Event, Event.id == Registration.event_id)
        .where(
            codes_within(Registration.origin_code),
            Registration.status == RegistrationStatus.TERDAFTAR,
            sa.not_(codes_within(Event.region_code)),
            Event.status.in_(COUNTED_STATUSES),
            Event.starts_on >= LOW,
            Event.starts_on < HIGH,
        )
        .cte("theirs")
    )
    sessions = (
        sa.select(EventSession.event_id, sa.func.count().label("n"))
        .join(zone_of, zone_of.id == EventSession.event_id)
        .where(EventSession.event_id.in_(sa.select(theirs.c.event_id)), *in_range)
        .group_by(EventSession.event_id)
        .subquery("sessions")
    )
    expected = (
        sa.select(sa.func.coalesce(sa.func.sum(sessions.c.n), 0))
        .select_from(theirs)
        .join(sessions, sessions.c.event_id == theirs.c.event_id)
        .scalar_subquery()
    )
    present = (
        sa.select(sa.func.count())
        .select_from(Attendance)
        .join(EventSession, EventSession.id == Attendance.session_id)
        .join(zone_of, zone_of.id == EventSession.event_id)
        .where(
            Attendance.registration_id.in_(sa.select(theirs.c.id)),
            Attendance.status == Presence.HADIR,
            *in_range,
        )
        .scalar_subquery()
    )
    return sa.select(
        sa.func.count().label("registrations"),
        sa.func.count(sa.distinct(theirs.c.event_id)).label("events"),
        sa.func.count(sa.distinct(theirs.c.phone)).label("phones"),
        sa.func.coalesce(sa.func.sum(sa.case((theirs.c.phone.is_(None), 1), else_=0)), 0).label(
            "no_phone"
        ),
        expected.label("expected"),
        present.label("hadir"),
    ).select_from(theirs)


# how long a child area's code is, by the level of the area (None: the country's provinces)
CHILD_CODE_LENGTH = {
    None: 2,
    RegionLevel.PROVINSI: 5,
    RegionLevel.KABUPATEN: 8,
    RegionLevel.KECAMATAN: 13,
}
OUTSIDE = "~"  # the key of the people from outside the area
UNKNOWN = ""  # the key of the people whose origin is unknown


@dataclass
class ByOrigin:
    """Counted registrations per child area of origin (only those with any), from outside the
    area, and of unknown origin; the parts add up to ``total``."""

    rows: list[tuple[Region, int]]
    outside: int
    unknown: int

    @property
    def total(self) -> int:
        return sum(n for _r, n in self.rows) + self.outside + self.unknown


def by_origin(area: Region | None, dates: DateRange, children: list[Region]) -> ByOrigin:
    """The counted registrations by the child area their person comes from, in one query.
    ``children`` are the area's child areas (the coverage rows), which name the keys."""
    length = CHILD_CODE_LENGTH[area.level if area is not None else None]
    params = bound(area, dates) | {"child_length": length}
    found = dict(db.session.execute(_origin_statement(shape_of(area)), params).all())
    return origins_of(found, children)


def origins_of(found: dict[str, int], children: list[Region]) -> ByOrigin:
    """Registrations per key (a child area's code, ``OUTSIDE``, ``UNKNOWN``) as a ``ByOrigin``
    over ``children``, in their order."""
    found = dict(found)
    outside, unknown = found.pop(OUTSIDE, 0), found.pop(UNKNOWN, 0)
    rows = [(r, found.pop(r.code)) for r in children if found.get(r.code)]
    # an origin no finer than the area itself (a province picked at a province's event)
    unknown += sum(found.values())
    return ByOrigin(rows=rows, outside=outside, unknown=unknown)


@lru_cache(maxsize=8)
def _origin_statement(shape: Shape) -> sa.Select:
    origin = Registration.origin_code
    child = sa.func.substr(origin, 1, sa.bindparam("child_length", type_=sa.Integer()))
    key = sa.case(
        (origin.is_(None), UNKNOWN),
        (in_area(origin, shape), child),
        else_=OUTSIDE,
    )
    keyed = _counted_registrations(shape, key.label("k")).subquery("keyed")
    return sa.select(keyed.c.k, sa.func.count()).group_by(keyed.c.k)


@dataclass(frozen=True)
class RankedKim:
    id: int
    name: str
    village: str
    present: int


def ranked(area: Region | None, user, dates: DateRange) -> tuple[list[RankedKim], list[RankedKim]]:
    """The most and the least active KIM, in one query: the area's KIM's tallies (hadir marks per
    session and KIM) are summed once (materialised, so the database does not sum them again per
    KIM) and both ends of the ranking are read with window functions."""
    statement = _ranking_statement(shape_of(area), Viewer.of(user))
    rows = db.session.execute(statement, bound(area, dates)).all()
    most = sorted((r for r in rows if r.high <= RANKED), key=lambda r: r.high)
    least = sorted((r for r in rows if r.low <= RANKED), key=lambda r: r.low)
    return (
        [RankedKim(r.id, r.name, r.village, r.present) for r in most],
        [RankedKim(r.id, r.name, r.village, r.present) for r in least],
    )


@lru_cache(maxsize=256)
def _ranking_statement(shape: Shape, viewer: Viewer) -> sa.Select:
    in_the_area = in_area(Kim.village_code, shape)
    marks = (
        sa.select(
            AttendanceTally.kim_id.label("kim_id"), sa.func.sum(AttendanceTally.hadir).label("n")
        )
        # from the area's KIM to their tallies (index on kim_id, session_id), a few per session
        .join(Kim, Kim.id == AttendanceTally.kim_id)
        .join(EventSession, EventSession.id == AttendanceTally.session_id)
        .join(Event, Event.id == EventSession.event_id)
        .where(
            in_the_area,
            Event.status.in_(COUNTED_STATUSES),
            EventSession.starts_at >= LOW,
            EventSession.starts_at < HIGH,
        )
        .group_by(AttendanceTally.kim_id)
        .cte("marks")
        .prefix_with("MATERIALIZED")
    )
    present = sa.func.coalesce(marks.c.n, 0)
    village = aliased(Region, name="village")
    by_name = (sa.func.lower(Kim.name), Kim.id)
    ranking = (
        sa.select(
            Kim.id,
            Kim.name,
            village.name.label("village"),
            present.label("present"),
            sa.func.row_number().over(order_by=(present.desc(), *by_name)).label("high"),
            sa.func.row_number().over(order_by=(present, *by_name)).label("low"),
        )
        .join(village, village.code == Kim.village_code)
        .outerjoin(marks, marks.c.kim_id == Kim.id)
        .where(Kim.status == KimStatus.TERVERIFIKASI, in_the_area, kim_filter(viewer))
        .subquery("ranking")
    )
    return sa.select(ranking).where(sa.or_(ranking.c.high <= RANKED, ranking.c.low <= RANKED))


@dataclass
class Dashboard:
    area: Region | None
    dates: DateRange
    statuses: dict[KimStatus, int]
    coverage: Coverage
    events: MonthKinds
    participation: Participation
    origins: ByOrigin
    elsewhere: Elsewhere | None
    most: list[RankedKim]
    least: list[RankedKim]
    evaluations: list[KindFigures]


SERIAL = sa.text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
    "set_config('max_parallel_workers_per_gather', '0', true)"
)
CUSTOM = sa.text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")


def evaluation_by_kind(area: Region | None, dates: DateRange) -> list[KindFigures]:
    """The counted events' average gain and satisfaction index, by kind (two statements)."""
    return by_kind(_evaluation_statements(shape_of(area)), bound(area, dates))


@cache
def _evaluation_statements(shape: Shape) -> tuple[sa.Select, sa.Select]:
    return kind_statements(counted_conditions(shape))


def plan_for(area: Region | None) -> None:
    """How PostgreSQL plans the rest of this transaction's statements, in one round trip.

    Always for the values at hand: the same statement serves a province and a regency (and,
    for the same viewer, areas of every size), and the plan PostgreSQL keeps for a statement
    prepared five times was made for none of them (a province's ranking took 470 ms instead of
    70). No parallel workers for a part of the country: its figures read a few thousand rows by
    index, and starting workers takes longer than that (docs/benchmarks.md); the whole
    country's figures counted from the rows keep them."""
    if on_postgresql():
        db.session.execute(CUSTOM if area is None else SERIAL)


def counted_dashboard(area: Region | None, user, dates: DateRange) -> Dashboard:
    """Every figure of the page counted from the rows: seven statements whatever the data size
    (six for the country and a district, which have nothing elsewhere), one more on PostgreSQL.
    ``reports.figures.dashboard`` reads a calendar year from the tallies instead."""
    plan_for(area)
    most, least = ranked(area, user, dates)
    cover = area_coverage(area, user)
    return Dashboard(
        area=area,
        dates=dates,
        statuses=kim_by_status(area, user),
        coverage=cover,
        events=events_by_month(area, dates),
        participation=participation(area, dates),
        origins=by_origin(area, dates, [r.region for r in cover.rows]),
        elsewhere=elsewhere(area, dates),
        most=most,
        least=least,
        evaluations=evaluation_by_kind(area, dates),
    )
