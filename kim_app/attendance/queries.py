"""Reads for the attendance pages: what one tap needs (its shape matters for speed), the roll
call's rows and the people it finds."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, load_only, noload

from kim_app.attendance.models import Attendance, AttendanceMark, Certificate, Presence
from kim_app.attendance.operations import counter_columns, registered_in, registered_in_ids
from kim_app.events.models import Event, EventSession, Registration
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.pagination import Page, clamped
from kim_app.regions.models import Region
from kim_app.security import origin_filter

# what one tap needs, in one query: the session's event (its owner and status); the person,
# when registered for that event, with the name of their KIM and where they stand now; and the
# session's counters, which the tap then moves by its own change (no second query after the
# write). Written on the tables (Core), not the mapped classes: the rows are read as they are,
# and the ORM's result machinery would cost the hot path of the hall for nothing.
_sessions, _events = EventSession.__table__, Event.__table__
_registrations, _kims = Registration.__table__, Kim.__table__
_attendance = Attendance.__table__
TAP_TARGET = (
    sa.select(
        _sessions.c.event_id,
        _events.c.region_code,
        _events.c.status.label("event_status"),
        _registrations.c.id,
        _registrations.c.name,
        _registrations.c.institution,
        _registrations.c.status,
        _kims.c.name.label("kim_name"),
        _attendance.c.status.label("standing"),
        _sessions.c.starts_at,
        _sessions.c.ends_at,
        _events.c.checkin_opens_minutes,
        _events.c.timezone,
        *counter_columns(_sessions.c.id, _sessions.c.event_id),
    )
    .select_from(
        _sessions.join(_events, _events.c.id == _sessions.c.event_id)
        .outerjoin(
            _registrations,
            sa.and_(
                _registrations.c.id == sa.bindparam("registration_id"),
                _registrations.c.event_id == _sessions.c.event_id,
            ),
        )
        .outerjoin(_kims, _kims.c.id == _registrations.c.kim_id)
        .outerjoin(
            _attendance,
            sa.and_(
                _attendance.c.registration_id == _registrations.c.id,
                _attendance.c.session_id == _sessions.c.id,
            ),
        )
    )
    .where(_sessions.c.id == sa.bindparam("session_id"))
)


def tap_target(session_id: int, registration_id: int) -> sa.Row | None:
    """The row ``TAP_TARGET`` gives for one tap, or None when the session does not exist."""
    return db.session.execute(
        TAP_TARGET, {"session_id": session_id, "registration_id": registration_id}
    ).one_or_none()


# --- the roll call ----------------------------------------------------------------------------------

# rows shown at once; the search reaches everybody else, the counters always count everybody
PAGE_SIZE = 40

# a registration with the name of its KIM (nothing else of the KIM), in one query
REGISTRATION_WITH_KIM_NAME = (
    joinedload(Registration.kim).options(load_only(Kim.name), noload(Kim.fields)),
)


def registration_in(session: EventSession, registration_id: int | None) -> Registration | None:
    """The registration in the session's event, with its KIM (the row shows its name)."""
    registration = (
        db.session.get(Registration, registration_id, options=REGISTRATION_WITH_KIM_NAME)
        if registration_id
        else None
    )
    if registration is None or registration.event_id != session.event_id:
        return None
    return registration


NOT_MARKED = sa.or_(Attendance.status.is_(None), Attendance.status == Presence.BELUM)


def roll_condition(q: str, unmarked: bool):
    """Who the roll call lists: those whose name or institution holds ``q`` (when given), only
    the not yet marked when ``unmarked``."""
    condition = sa.true()
    if q:
        pattern = "%" + q.replace("\\", "").replace("%", "").replace("_", "") + "%"
        condition = sa.or_(
            Registration.name.ilike(pattern), Registration.institution.ilike(pattern)
        )
    return sa.and_(condition, NOT_MARKED) if unmarked else condition


def roll_rows(session: EventSession, q: str, unmarked: bool, page: int) -> tuple[list, int]:
    """One page of the registered people (sorted by name) matching ``q`` and ``unmarked``, with their status
    in ``session`` and their KIM's name; and how many match in all."""
    condition = roll_condition(q, unmarked)
    total = db.session.scalar(registered_in(session, sa.func.count()).where(condition))
    rows = db.session.execute(
        registered_in(
            session, Registration, Attendance.status, Attendance.signature.is_not(None), Kim.name
        )
        .outerjoin(Kim, Kim.id == Registration.kim_id)
        .where(condition)
        .order_by(sa.func.lower(Registration.name), Registration.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return [
        {
            "r": registration,
            "status": Presence(status) if status else Presence.BELUM,
            "signed": bool(signed),
            "origin": registration.institution or kim_name or "",
        }
        for registration, status, signed, kim_name in rows
    ], total


def next_unmarked(session_id: int, event_id: int, q: str, name: str, after: int) -> int | None:
    """In the "not marked yet" list (searched for ``q``), the id of the person after the one just
    marked (who has left it)."""
    return db.session.scalar(
        registered_in_ids(session_id, event_id, Registration.id)
        .where(
            roll_condition(q, unmarked=True),
            sa.tuple_(sa.func.lower(Registration.name), Registration.id)
            > sa.tuple_(sa.func.lower(sa.literal(name)), sa.literal(after)),
        )
        .order_by(sa.func.lower(Registration.name), Registration.id)
        .limit(1)
    )


def walk_in_of(session: EventSession, client_id: str) -> Registration | None:
    """The person a walk-in tap with this client id added in this session, if it arrived."""
    registration_id = db.session.scalar(
        sa.select(AttendanceMark.registration_id).where(
            AttendanceMark.session_id == session.id, AttendanceMark.client_id == client_id
        )
    )
    return None if registration_id is None else db.session.get(Registration, registration_id)


# --- an area's people at an event organised elsewhere ---------------------------------------------

AREA_PER_PAGE = 50


def _people_of_area(event: Event, user) -> list[sa.ColumnElement[bool]]:
    return [Registration.event_id == event.id, origin_filter(Registration.origin_code, user)]


def area_people_page(event: Event, user, page: int) -> Page:
    """The event's registrations whose person comes from ``user``'s area, 50 a page by name,
    each with KIM, origin, sessions attended (hadir) and a valid certificate: two queries."""
    conditions = _people_of_area(event, user)
    total = db.session.scalar(sa.select(sa.func.count()).where(*conditions)) or 0
    page = clamped(page, total, AREA_PER_PAGE)
    hadir = (
        sa.select(Attendance.registration_id, sa.func.count().label("n"))
        .join(Registration, Registration.id == Attendance.registration_id)
        .where(*conditions, Attendance.status == Presence.HADIR)
        .group_by(Attendance.registration_id)
        .subquery("hadir")
    )
    rows = db.session.execute(
        sa.select(
            Registration.id,
            Registration.name,
            Registration.institution,
            Registration.position,
            Registration.status,
            Registration.source,
            Kim.name.label("kim_name"),
            Region.name.label("origin_name"),
            sa.func.coalesce(hadir.c.n, 0).label("attended"),
            Certificate.number.label("certificate"),
        )
        .outerjoin(Kim, Kim.id == Registration.kim_id)
        .outerjoin(Region, Region.code == Registration.origin_code)
        .outerjoin(hadir, hadir.c.registration_id == Registration.id)
        .outerjoin(
            Certificate,
            sa.and_(
                Certificate.registration_id == Registration.id, Certificate.revoked_at.is_(None)
            ),
        )
        .where(*conditions)
        .order_by(sa.func.lower(Registration.name), Registration.id)
        .limit(AREA_PER_PAGE)
        .offset((page - 1) * AREA_PER_PAGE)
    ).all()
    return Page(items=rows, total=total, page=page, per_page=AREA_PER_PAGE)


def session_count(event: Event) -> int:
    return (
        db.session.scalar(sa.select(sa.func.count()).where(EventSession.event_id == event.id)) or 0
    )
