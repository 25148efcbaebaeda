"""Marking attendance. Each mark carries a client-generated id: a mark replayed from an offline
queue, or sent twice by a double tap, is applied once. When two devices mark the same person in
the same session differently, the mark made last (by its own clock) wins; both stay in history.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from kim_app import audit
from kim_app.attendance.models import Attendance, AttendanceMark, Method, Presence
from kim_app.auth.models import User, utcnow
from kim_app.events.models import EventSession, Registration, RegistrationStatus
from kim_app.extensions import db

# how far a device clock may run ahead before its mark time is not believed
CLOCK_SKEW_SECONDS = 300


class AttendanceError(ValueError):
    """A mark that cannot be recorded; the message is for the user."""


def _check_client_id(client_id: str | None) -> str:
    if not client_id:
        return str(uuid.uuid4())
    client_id = client_id.strip()
    if not 8 <= len(client_id) <= 40 or not all(c.isalnum() or c in "-_" for c in client_id):
        raise AttendanceError(_("Tanda kehadiran ini tidak sah."))
    return client_id


def mark_attendance(
    registration: Registration,
    session: EventSession,
    status: Presence,
    by: User | None,
    *,
    method: Method = Method.ROLL_CALL,
    client_id: str | None = None,
    marked_at: datetime | None = None,
) -> tuple[Attendance | None, bool]:
    """Record a mark; returns ``(the attendance as it now stands, whether this mark was new)``.

    ``marked_at`` (UTC) is when the mark was made on the device; it is capped at the server's
    clock plus a small skew. A ``client_id`` seen before changes nothing.
    """
    if registration.event_id != session.event_id:
        raise AttendanceError(_("Peserta ini tidak terdaftar di kegiatan ini."))
    if registration.status is RegistrationStatus.BATAL:
        raise AttendanceError(_("Pendaftaran peserta ini sudah dibatalkan."))
    client_id = _check_client_id(client_id)
    now = utcnow()
    when = min(marked_at or now, now + timedelta(seconds=CLOCK_SKEW_SECONDS))
    mark = AttendanceMark(
        client_id=client_id,
        registration_id=registration.id,
        session_id=session.id,
        status=status,
        method=method,
        marked_at=when,
        recorded_by_id=getattr(by, "id", None),
    )
    try:
        with db.session.begin_nested():
            db.session.add(mark)
    except IntegrityError:  # a replay: this mark was applied before
        return current_attendance(registration.id, session.id), False
    attendance = current_attendance(registration.id, session.id)
    if attendance is not None and attendance.marked_at > when:
        mark.applied = False  # a later mark from another device stands
    elif attendance is None:
        attendance = Attendance(
            registration_id=registration.id,
            session_id=session.id,
            status=status,
            method=method,
            marked_at=when,
            recorded_by_id=mark.recorded_by_id,
        )
        try:
            with db.session.begin_nested():
                db.session.add(attendance)
        except IntegrityError:  # another device created the row at the same moment
            attendance = current_attendance(registration.id, session.id)
            if attendance.marked_at <= when:
                _apply(attendance, mark)
            else:
                mark.applied = False
    else:
        _apply(attendance, mark)
    db.session.flush()
    audit.record(
        "attendance.mark",
        "registration",
        registration.id,
        region_code=session.event.region_code,
        changes={
            "session": session.id,
            "status": status.value,
            "method": method.value,
            "applied": mark.applied,
        },
        actor=by,
    )
    return attendance, True


def _apply(attendance: Attendance, mark: AttendanceMark) -> None:
    attendance.status, attendance.method = mark.status, mark.method
    attendance.marked_at, attendance.recorded_by_id = mark.marked_at, mark.recorded_by_id


def current_attendance(registration_id: int, session_id: int) -> Attendance | None:
    return db.session.scalar(
        sa.select(Attendance).where(
            Attendance.registration_id == registration_id, Attendance.session_id == session_id
        )
    )


def session_counts(session: EventSession) -> dict[Presence, int]:
    """Hadir / izin / sakit / alpa / belum for a session, among registered people, in one query."""
    rows = db.session.execute(
        sa.select(Attendance.status, sa.func.count())
        .select_from(Registration)
        .outerjoin(
            Attendance,
            sa.and_(
                Attendance.registration_id == Registration.id, Attendance.session_id == session.id
            ),
        )
        .where(
            Registration.event_id == session.event_id,
            Registration.status == RegistrationStatus.TERDAFTAR,
        )
        .group_by(Attendance.status)
    )
    counts = dict.fromkeys(Presence, 0)
    for status, n in rows:  # no row yet (NULL) is "belum", like an undone mark
        counts[Presence(status) if status else Presence.BELUM] += n
    return counts


def mark_history(registration_id: int, session_id: int) -> list[AttendanceMark]:
    """Every mark for one person in one session, in the order they were made."""
    return list(
        db.session.scalars(
            sa.select(AttendanceMark)
            .where(
                AttendanceMark.registration_id == registration_id,
                AttendanceMark.session_id == session_id,
            )
            .order_by(AttendanceMark.marked_at, AttendanceMark.id)
        )
    )
