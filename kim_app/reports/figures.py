"""The dashboard's figures, the one entry point of its page and exports (``dashboard``).

A calendar year of the country, a province or a regency — the page's default — is read from
the year tallies (``reports.models``, migration 0021): database triggers keep, per area and
year, the registrations and people, their origins, the events per month and kind, the sessions
per day they end with the attendances expected and the hadir marks, and every KIM's hadir
marks, exact whichever code writes. The figures mean exactly what ``reports/queries.py``
defines; any other range, and a district, are counted from the rows there. The whole country's
dashboard went from 3.4 s to 30 ms, 12 ms of it SQL (docs/architecture.md, "Speed").

What stays live: the sessions that ended today (a tally cannot know the clock), looked up one
by one; the area's people at events elsewhere (a few hundred rows from the origin index).
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from kim_app.attendance.models import AttendanceTally
from kim_app.events.models import Event, EventKind, EventSession, Registration, RegistrationStatus
from kim_app.extensions import db
from kim_app.groups.models import Gender, Kim, KimStatus
from kim_app.regions.models import Region
from kim_app.reports import queries
from kim_app.reports.models import (
    YearEventTally,
    YearKimTally,
    YearOriginTally,
    YearSessionTally,
    YearTally,
)
from kim_app.reports.queries import (
    COUNTED_STATUSES,
    HIGH,
    LOW,
    NOW,
    RANKED,
    ByOrigin,
    Dashboard,
    DateRange,
    MonthKinds,
    Participation,
    RankedKim,
    Shape,
    bound,
    clocks,
    ended,
    in_area,
    shape_of,
)
from kim_app.timezones import WIB

AREA = sa.bindparam("area_key", type_=sa.String())  # '' for the country
YEAR = sa.bindparam("year", type_=sa.Integer())
TODAY = sa.bindparam("today", type_=sa.Date())  # today in WIB, the earliest of the clocks
TODAY_STARTED = sa.bindparam("today_started", type_=sa.DateTime())
LATEST = sa.bindparam("latest", type_=sa.DateTime())  # now by the latest clock (WIT)


def tallied_year(area: Region | None, dates: DateRange) -> int | None:
    """The year whose tallies hold the figures of ``dates`` in ``area``: the range is one whole
    calendar year and the area the country, a province or a regency; else None."""
    year = dates.start.year
    whole = dates.start == date(year, 1, 1) and dates.end == date(year, 12, 31)
    return year if whole and shape_of(area) is not Shape.DISTRICT else None


def dashboard(area: Region | None, user, dates: DateRange) -> Dashboard:
    """Every figure of the page: from the tallies for a calendar year of the country, a province
    or a regency, counted from the rows otherwise; either way seven statements whatever the
    data size (six for the country), one more on PostgreSQL."""
    year = tallied_year(area, dates)
    if year is None:
        return queries.counted_dashboard(area, user, dates)
    return tallied_dashboard(area, user, dates, year)


def tallied_dashboard(area: Region | None, user, dates: DateRange, year: int) -> Dashboard:
    """The figures of ``year`` (``dates`` is that whole year) from the tallies."""
    queries.plan_for(area)
    cover = queries.area_coverage(area, user)
    most, least = ranked(area, year)
    return Dashboard(
        area=area,
        dates=dates,
        statuses=queries.kim_by_status(area, user),
        coverage=cover,
        events=events_by_month(area, dates, year),
        participation=participation(area, dates, year),
        origins=by_origin(area, year, [r.region for r in cover.rows]),
        elsewhere=queries.elsewhere(area, dates),
        most=most,
        least=least,
        evaluations=queries.evaluation_by_kind(area, dates),
    )


def _keyed(area: Region | None, year: int) -> dict:
    return {"area_key": area.code if area else "", "year": year}


def _total(column) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(column), 0)


# --- events per month and kind -------------------------------------------------------------------

EVENTS = sa.select(YearEventTally.month, YearEventTally.kind, YearEventTally.events).where(
    YearEventTally.area_code == AREA, YearEventTally.year == YEAR, YearEventTally.events > 0
)


def events_by_month(area: Region | None, dates: DateRange, year: int) -> MonthKinds:
    counts: dict[tuple[int, int], dict[EventKind, int]] = {}
    for month, kind, n in db.session.execute(EVENTS, _keyed(area, year)):
        counts.setdefault((year, month), {})[EventKind(kind)] = n
    return MonthKinds(months=dates.months(), counts=counts)


# --- people and attendance -----------------------------------------------------------------------


def participation(area: Region | None, dates: DateRange, year: int) -> Participation:
    """The year's people from its tally row, its sessions from the tallies of the days before
    today, and today's ended sessions looked up one by one; one query."""
    now = clocks()
    today = now[NOW[WIB].key].date()
    params = (
        _keyed(area, year)
        | bound(area, dates)
        | now
        | {
            "today": today,
            "today_started": datetime.combine(today, time.min),
            "latest": max(now.values()),
        }
    )
    row = db.session.execute(_participation_statement(shape_of(area)), params).one()
    registrations, men, women = int(row.registrations), int(row.men), int(row.women)
    return Participation(
        registrations=registrations,
        people=int(row.people) + int(row.no_phone),
        sessions=int(row.sessions),
        ended=int(row.ended) + int(row.ended_today),
        expected=int(row.expected) + int(row.expected_today),
        present=int(row.hadir) + int(row.hadir_today),
        genders={Gender.L: men, Gender.P: women, None: registrations - men - women},
    )


@lru_cache(maxsize=4)
def _participation_statement(shape: Shape) -> sa.Select:
    year = (YearTally.area_code == AREA, YearTally.year == YEAR)
    people = sa.select(
        *(
            _total(getattr(YearTally, c)).label(c)
            for c in ("registrations", "men", "women", "no_phone", "people")
        )
    ).where(*year)
    s = YearSessionTally
    before_today = s.ends_on < TODAY

    def until_yesterday(column) -> sa.ColumnElement[int]:
        return _total(sa.case((before_today, column), else_=0))

    sessions = sa.select(
        _total(s.sessions).label("sessions"),
        until_yesterday(s.sessions).label("ended"),
        until_yesterday(s.expected).label("expected"),
        until_yesterday(s.hadir).label("hadir"),
    ).where(s.area_code == AREA, s.year == YEAR)
    # today's sessions that have ended (by their event's clock), with their event's registered
    # people and their hadir marks
    registered = (
        sa.select(sa.func.count())
        .where(
            Registration.event_id == Event.id,
            Registration.status == RegistrationStatus.TERDAFTAR,
        )
        .correlate(Event)
        .scalar_subquery()
    )
    marked = (
        sa.select(_total(AttendanceTally.hadir))
        .where(AttendanceTally.session_id == EventSession.id)
        .correlate(EventSession)
        .scalar_subquery()
    )
    today = (
        sa.select(
            sa.func.count().label("ended_today"),
            _total(registered).label("expected_today"),
            _total(marked).label("hadir_today"),
        )
        .select_from(EventSession)
        .join(Event, Event.id == EventSession.event_id)
        .where(
            EventSession.ends_at >= TODAY_STARTED,
            EventSession.ends_at <= LATEST,
            ended(EventSession.ends_at, Event.timezone),
            EventSession.starts_at >= LOW,
            EventSession.starts_at < HIGH,
            Event.status.in_(COUNTED_STATUSES),
            Event.starts_on >= LOW,
            Event.starts_on < HIGH,
            in_area(Event.region_code, shape),
        )
    )
    parts = [people.subquery("people"), sessions.subquery("sessions"), today.subquery("today")]
    return (
        sa.select(*parts).select_from(parts[0]).join(parts[1], sa.true()).join(parts[2], sa.true())
    )


# --- origins -------------------------------------------------------------------------------------

ORIGINS = sa.select(YearOriginTally.origin_key, YearOriginTally.registrations).where(
    YearOriginTally.area_code == AREA,
    YearOriginTally.year == YEAR,
    YearOriginTally.registrations != 0,
)


def by_origin(area: Region | None, year: int, children: list[Region]) -> ByOrigin:
    found = dict(db.session.execute(ORIGINS, _keyed(area, year)).all())
    return queries.origins_of(found, children)


# --- the most and least active KIM ---------------------------------------------------------------


def ranked(area: Region | None, year: int) -> tuple[list[RankedKim], list[RankedKim]]:
    """The most and least active verified KIM of the area in ``year``, in one query, from each
    KIM's tally: the five with the most marks (an index read from the top), the five with the
    fewest, and the first five by name with none (read in name order until five are found);
    both lists are the five best of what those give. The area lies inside the viewer's scope
    (the view checks), so the scope rule leaves every one of its KIM."""
    rows = db.session.execute(_ranking_statement(shape_of(area)), bound(area) | {"year": year})
    lists: dict[int, list] = {1: [], 2: []}
    for row in sorted(rows, key=lambda r: (r.list, r.rank)):
        lists[row.list].append(RankedKim(row.id, row.name, row.village, int(row.present)))
    return lists[1], lists[2]


@lru_cache(maxsize=4)
def _ranking_statement(shape: Shape) -> sa.Select:
    """Ranked on ids, tallies and name keys alone; only the ten KIM listed are joined with their
    villages, not every candidate before the limit (a province of 1,038 verified KIM: 16.6 →
    11.8 ms in-process)."""
    key = sa.func.lower(Kim.name)

    def verified(*columns) -> sa.Select:
        return sa.select(Kim.id, *columns, key.label("key")).where(
            Kim.status == KimStatus.TERVERIFIKASI, in_area(Kim.village_code, shape)
        )

    this_year = (YearKimTally.kim_id == Kim.id, YearKimTally.year == YEAR, YearKimTally.hadir > 0)
    active = verified(YearKimTally.hadir.label("present")).join(YearKimTally, sa.and_(*this_year))
    busiest = active.order_by(YearKimTally.hadir.desc(), key, Kim.id).limit(RANKED)
    quietest = active.order_by(YearKimTally.hadir, key, Kim.id).limit(RANKED)
    idle = (
        verified(sa.literal(0).label("present"))
        .where(~sa.exists().where(*this_year))
        .order_by(key, Kim.id)
        .limit(RANKED)
        .cte("idle")
    )

    def best(tag: int, first: sa.Select, second, descending: bool) -> sa.Select:
        both = sa.union_all(sa.select(first.subquery()), sa.select(second)).subquery()
        present = both.c.present.desc() if descending else both.c.present
        order = sa.func.row_number().over(order_by=(present, both.c.key, both.c.id))
        listed = sa.select(
            both.c.id, both.c.present, sa.literal(tag).label("list"), order.label("rank")
        ).subquery()
        return sa.select(listed).where(listed.c.rank <= RANKED)

    chosen = sa.union_all(best(1, busiest, idle, True), best(2, quietest, idle, False)).subquery(
        "chosen"
    )
    village = aliased(Region, name="village")
    return (
        sa.select(
            Kim.id,
            Kim.name,
            village.name.label("village"),
            chosen.c.present,
            chosen.c.list,
            chosen.c.rank,
        )
        .select_from(chosen)
        .join(Kim, Kim.id == chosen.c.id)
        .join(village, village.code == Kim.village_code)
    )
