"""Reads for the attendance pages whose shape matters for speed."""

from __future__ import annotations

import sqlalchemy as sa

from kim_app.attendance.models import Attendance
from kim_app.attendance.operations import counter_columns
from kim_app.events.models import Event, EventSession, Registration
from kim_app.extensions import db
from kim_app.groups.models import Kim

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
