"""Marking attendance. Each mark carries a client-generated id: a mark replayed from an offline
queue, or sent twice by a double tap, is applied once. When two devices mark the same person in
the same session differently, the mark made last (by its own clock) wins; both stay in history.

The attendance window (``attendance_window``) is one for the roll call, the ticket scan and self
check-in: it opens ``checkin_opens_minutes`` before a session starts (an hour when self check-in
is off) and closes when the session ends. Before it nothing is taken ("Sesi belum dibuka — mulai
08.00 WITA"), whoever marks; after it the scan and self check-in refuse ("Sesi sudah ditutup"),
while an operator may still mark from the roll call, the person page or the walk-in form, and
that mark is recorded as a correction (``Method.KOREKSI``), so the audit log, the history and
the export tell it from a mark taken in the hall.

Why this module is over 600 lines: marking, the counters each tap moves, the attendance window,
the scan's check-in and the walk-in are one chain (``check_in`` and ``add_walk_in`` call
``mark_attendance``, which reads ``current_attendance`` and the window), and some twenty
modules and tests import its names. The reads it holds (the counters, ``registered_in``,
``find_ticket``, ``mark_history``) could move to queries.py, and the scan's part (tickets,
``Verdict``, ``check_in``) to a topic module; left for a change of its own, so that the split
of certificates stays small to merge.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kim_app import audit
from kim_app.attendance import tallies
from kim_app.attendance.models import Attendance, AttendanceMark, AttendanceTally, Method, Presence
from kim_app.auth.models import OPERATOR_ROLES, Role, User
from kim_app.db import on_postgresql
from kim_app.errors import OperationError
from kim_app.events.models import (
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
    Source,
    normalise_checkin_code,
)
from kim_app.events.operations import PersonData, may_manage_event, register_person
from kim_app.extensions import db
from kim_app.formatting import clock, day
from kim_app.labels import LabelledEnum, set_labels
from kim_app.timezones import utcnow, zone_label

# how far a device clock may run ahead before its mark time is not believed
CLOCK_SKEW_SECONDS = 300


class AttendanceError(OperationError):
    """A mark that cannot be recorded; the message is for the user."""


def _check_client_id(client_id: str | None) -> str:
    if not client_id:
        return str(uuid.uuid4())
    client_id = client_id.strip()
    if not 8 <= len(client_id) <= 40 or not all(c.isalnum() or c in "-_" for c in client_id):
        raise AttendanceError(_("Tanda kehadiran ini tidak sah."))
    return client_id


@dataclass(frozen=True)
class Standing:
    """Where a person stands in a session after a mark: what the roll-call row shows."""

    status: Presence
    signed: bool
    new: bool  # False when the client id was seen before (a replay changes nothing)


@dataclass(frozen=True)
class Marking:
    """Whom a mark is for: a registration in a session of its own event."""

    registration_id: int
    registration_status: RegistrationStatus
    session_id: int
    region_code: str  # the event's, for the audit log

    @classmethod
    def of(cls, registration: Registration, session: EventSession) -> Marking:
        if registration.event_id != session.event_id:
            raise AttendanceError(_("Peserta ini tidak terdaftar di kegiatan ini."))
        return cls(registration.id, registration.status, session.id, session.event.region_code)


def _typed(statement: sa.TextClause) -> sa.TextClause:
    """Bind enums and times as the models store them (the same text on every database)."""
    table = Attendance.__table__
    return statement.bindparams(
        sa.bindparam("status", type_=table.c.status.type),
        sa.bindparam("method", type_=table.c.method.type),
        sa.bindparam("marked_at", type_=table.c.marked_at.type),
        sa.bindparam("now", type_=table.c.updated_at.type),
    )


# The writes of one mark, in SQL that PostgreSQL and SQLite both speak; written once, as one
# tap runs on every hall phone. The mark goes in unless its client id is known (a replay) ...
_ADD_MARK = (
    "INSERT INTO attendance_marks (client_id, registration_id, session_id, status, method, "
    "marked_at, received_at, recorded_by_id, applied) VALUES (:client_id, :registration_id, "
    ":session_id, :status, :method, :marked_at, :now, :recorded_by_id, TRUE) "
    "ON CONFLICT (session_id, client_id) DO NOTHING "
    "RETURNING id, registration_id, session_id, status, method, marked_at, recorded_by_id, "
    "received_at"
)
# ... the attendance row is inserted, or updated unless a later mark (by the devices' clocks)
# stands; it answers only when it was written ...
_STAND = (
    "INSERT INTO attendance (registration_id, session_id, status, method, marked_at, "
    "recorded_by_id, updated_at) {rows} ON CONFLICT (registration_id, session_id) DO UPDATE "
    "SET status = excluded.status, method = excluded.method, marked_at = excluded.marked_at, "
    "recorded_by_id = excluded.recorded_by_id, updated_at = excluded.updated_at "
    "WHERE attendance.marked_at <= excluded.marked_at "
    # not ``signature IS NOT NULL``: SQLite (3.40) answers true for it here, on the row just
    # written without a signature, and every tapped row would show a signature nobody made
    "RETURNING coalesce(length(signature), 0) > 0 AS signed"
)
ADD_MARK = _typed(sa.text(_ADD_MARK))
STAND = _typed(
    sa.text(
        _STAND.format(
            rows="VALUES (:registration_id, :session_id, :status, :method, :marked_at, "
            ":recorded_by_id, :now)"
        )
    )
)
# On PostgreSQL the two go in one statement, the attendance row made from the mark just
# inserted (none for a replay), and the audit entry with them, its changes those of
# ``mark_changes`` (the values of ``audit.entry`` bound): two round trips fewer on the hall's
# hot path. No row back: a replay; ``signed`` NULL: a later mark stands.
MARK_AND_STAND = _typed(
    sa.text(
        f"WITH mark AS ({_ADD_MARK}), stood AS ("
        + _STAND.format(
            rows="SELECT registration_id, session_id, status, method, marked_at, "
            "recorded_by_id, received_at FROM mark"
        )
        + "), logged AS (INSERT INTO audit_log (at, actor_id, action, object_type, object_id, "
        "region_code, changes, address) SELECT :at, CAST(:actor_id AS INTEGER), :action, "
        ":object_type, :object_id, :region_code, json_build_object('session', mark.session_id, "
        "'status', mark.status, 'method', mark.method, 'applied', stood.signed IS NOT NULL), "
        ":address FROM mark LEFT JOIN stood ON TRUE) "
        "SELECT mark.id, stood.signed FROM mark LEFT JOIN stood ON TRUE"
    )
)
# ... and when it was not, the mark stays in the history as not applied.
NOT_APPLIED = sa.text("UPDATE attendance_marks SET applied = FALSE WHERE id = :mark_id")


def mark_changes(session_id: int, status: Presence, method: Method, applied: bool) -> dict:
    """What the audit entry of a mark says about it."""
    return {
        "session": session_id,
        "status": status.value,
        "method": method.value,
        "applied": applied,
    }


def _write_mark(params: dict, logged: dict) -> tuple[int | None, bool | None]:
    """Write the mark, where it stands and its audit entry (``logged``: ``audit.entry``'s values
    but the changes). Answers the mark's id (None for a replay, which writes nothing) and
    whether the attendance row it wrote is signed (None when a later mark stands and nothing was
    written)."""
    if on_postgresql():
        row = db.session.execute(MARK_AND_STAND, params | logged).one_or_none()
        return (None, None) if row is None else (row.id, row.signed)
    mark_id = db.session.execute(ADD_MARK, params).scalar()
    if mark_id is None:
        return None, None
    stood = db.session.execute(STAND, params).one_or_none()
    signed = None if stood is None else stood.signed
    changes = mark_changes(
        params["session_id"], params["status"], params["method"], signed is not None
    )
    audit.write(logged | {"changes": changes})
    return mark_id, signed


def apply_mark(
    target: Marking,
    status: Presence,
    by: User | None,
    *,
    method: Method = Method.ROLL_CALL,
    client_id: str | None = None,
    marked_at: datetime | None = None,
) -> Standing:
    """Record a mark and its audit entry in three statements (one on PostgreSQL), without
    savepoints, safe under concurrent devices.

    The mark is inserted unless its client id is known (then nothing changes: a replay). The
    attendance row is inserted or, when it exists, updated only if this mark was made no earlier
    than the one standing (by the devices' clocks); otherwise the mark stays in the history with
    ``applied`` false. ``marked_at`` (UTC) is capped at the server's clock plus a small skew.
    """
    if target.registration_status is RegistrationStatus.BATAL:
        raise AttendanceError(_("Pendaftaran peserta ini sudah dibatalkan."))
    client_id = _check_client_id(client_id)
    now = utcnow()
    params = {
        "registration_id": target.registration_id,
        "session_id": target.session_id,
        "status": status,
        "method": method,
        "marked_at": min(marked_at or now, now + timedelta(seconds=CLOCK_SKEW_SECONDS)),
        "recorded_by_id": getattr(by, "id", None),
        "client_id": client_id,
        "now": now,
    }
    logged = audit.entry(
        "attendance.mark",
        "registration",
        target.registration_id,
        region_code=target.region_code,
        actor=by,
    )
    del logged["changes"]
    mark_id, signed = _write_mark(params, logged)
    if mark_id is None:  # a replay: this mark was applied before
        _same_tap(target, client_id)
        return standing_of(target.registration_id, target.session_id, new=False)
    if signed is not None:
        return Standing(status, bool(signed), new=True)
    # a later mark from another device stands
    db.session.execute(NOT_APPLIED, {"mark_id": mark_id})
    return standing_of(target.registration_id, target.session_id)


def _same_tap(target: Marking, client_id: str) -> None:
    """A known client id is a replay only for the person it was first sent for; for anyone
    else (a device that reused an id, or a forged one) the mark is refused, visibly."""
    first = db.session.scalar(
        sa.select(AttendanceMark.registration_id).where(
            AttendanceMark.session_id == target.session_id,
            AttendanceMark.client_id == client_id,
        )
    )
    if first is not None and first != target.registration_id:
        raise AttendanceError(
            _(
                "Tanda ini tidak tercatat: kodenya sudah dipakai untuk peserta lain. Ulangi tandanya."
            )
        )


def standing_of(registration_id: int, session_id: int, *, new: bool = True) -> Standing:
    """Where the person stands now (belum when never marked)."""
    found = db.session.execute(
        sa.select(Attendance.status, Attendance.signature.is_not(None)).where(
            Attendance.registration_id == registration_id, Attendance.session_id == session_id
        )
    ).one_or_none()
    if found is None:
        return Standing(Presence.BELUM, False, new)
    return Standing(Presence(found[0]), bool(found[1]), new)


def mark_attendance(
    registration: Registration,
    session: EventSession,
    status: Presence,
    by: User | None,
    **options,
) -> tuple[Attendance | None, bool]:
    """``apply_mark``, then the attendance as it now stands (loaded afresh) and whether this
    mark was new; for callers that go on to change the row (signatures)."""
    standing = apply_mark(Marking.of(registration, session), status, by, **options)
    return current_attendance(registration.id, session.id), standing.new


def current_attendance(registration_id: int, session_id: int) -> Attendance | None:
    return db.session.scalar(
        sa.select(Attendance)
        .where(Attendance.registration_id == registration_id, Attendance.session_id == session_id)
        .execution_options(populate_existing=True)
    )


def registered_in(session: EventSession, *columns) -> sa.Select:
    """``SELECT columns`` over the people registered (terdaftar) for the session's event, each
    with their attendance in ``session`` joined when there is one (NULL: not marked yet)."""
    return registered_in_ids(session.id, session.event_id, *columns)


def registered_in_ids(session_id, event_id, *columns) -> sa.Select:
    """``registered_in`` by the session's and its event's ids."""
    return (
        sa.select(*columns)
        .select_from(Registration)
        .outerjoin(
            Attendance,
            sa.and_(
                Attendance.registration_id == Registration.id, Attendance.session_id == session_id
            ),
        )
        .where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.TERDAFTAR,
        )
    )


# Hadir / izin / sakit / alpa / belum among the registered people, per session: the marks summed
# from the sessions' tallies (a row per KIM, kept by triggers), belum what is left of the
# registered people. Written on the tables (Core): they run with every tap, and need no ORM.
TALLIED = tuple(Presence(status) for status in tallies.MARKED)


def counter_columns(session_id, event_id) -> list[sa.ScalarSelect]:
    """The counters of one session as columns: its event's registered people, then the marks
    of each ``TALLIED`` status. ``session_id`` and ``event_id`` are columns of the enclosing
    query or bound parameters; ``counts_from`` reads them back."""
    people, tally = Registration.__table__, AttendanceTally.__table__
    registered = (
        sa.select(sa.func.count())
        .select_from(people)
        .where(people.c.event_id == event_id, people.c.status == RegistrationStatus.TERDAFTAR)
        .correlate_except(people)  # its own registrations, even where the query reads one
        .scalar_subquery()
    )
    marked = (
        sa.select(sa.func.coalesce(sa.func.sum(tally.c[p.value]), 0))
        .where(tally.c.session_id == session_id)
        .correlate_except(tally)
        .scalar_subquery()
        for p in TALLIED
    )
    return [
        registered.label("registered"),
        *(m.label(f"n_{p.value}") for m, p in zip(marked, TALLIED, strict=True)),
    ]


def counts_from(row) -> dict[Presence, int]:
    """Hadir / izin / sakit / alpa / belum from a row holding ``counter_columns``."""
    marked = [int(getattr(row, f"n_{p.value}")) for p in TALLIED]
    counts = dict.fromkeys(Presence, 0)
    counts.update(zip(TALLIED, marked, strict=True))
    counts[Presence.BELUM] = row.registered - sum(marked)
    return counts


def moved(counts: dict[Presence, int], before: Presence, after: Presence) -> dict[Presence, int]:
    """The counters once one person went from ``before`` to ``after`` (the same when a replay
    or a later mark from another device left them where they were)."""
    if before is not after:
        counts = {**counts, before: counts[before] - 1, after: counts[after] + 1}
    return counts


def _counts_statement(*, one_session: bool) -> sa.Select:
    sessions = EventSession.__table__
    statement = sa.select(
        sessions.c.id, *counter_columns(sessions.c.id, sessions.c.event_id)
    ).where(sessions.c.event_id == sa.bindparam("event_id"))
    return (
        statement.where(sessions.c.id == sa.bindparam("session_id")) if one_session else statement
    )


_SESSION_COUNTS = _counts_statement(one_session=True)
_EVENT_COUNTS = _counts_statement(one_session=False)


def session_counts(session: EventSession) -> dict[Presence, int]:
    """Hadir / izin / sakit / alpa / belum for a session, among registered people, in one query."""
    return counts_of(session.id, session.event_id)


def counts_of(session_id: int, event_id: int) -> dict[Presence, int]:
    """``session_counts`` by ids (the session must belong to the event)."""
    row = db.session.execute(
        _SESSION_COUNTS, {"session_id": session_id, "event_id": event_id}
    ).one()
    return counts_from(row)


def event_counts(event_id: int) -> dict[int, dict[Presence, int]]:
    """``session_counts`` of every session of the event, by session id, in one query."""
    rows = db.session.execute(_EVENT_COUNTS, {"event_id": event_id})
    return {row.id: counts_from(row) for row in rows}


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


# --- who may check people in ------------------------------------------------------------------


def may_take_attendance(user, event: Event) -> bool:
    """Operators who manage the event, and the petugas absensi assigned to it."""
    role = getattr(user, "role", None)
    if role is Role.PETUGAS_ABSENSI:
        return user.event_id == event.id and user.active
    return role in OPERATOR_ROLES and may_manage_event(user, event)


# marks are taken while the event is published, running or just finished (late entries)
OPEN_FOR_ATTENDANCE = (EventStatus.TERBIT, EventStatus.BERLANGSUNG, EventStatus.SELESAI)


def attendance_open(event: Event) -> bool:
    return event.status in OPEN_FOR_ATTENDANCE


# --- times ---------------------------------------------------------------------------------------


def device_time(value: str | None) -> datetime | None:
    """A mark time sent by a device (milliseconds since the epoch) as naive UTC; None if absent
    or not a number (then the server's own time is used)."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 13:  # 13 digits: until year 2286
        return None
    return datetime.fromtimestamp(int(text) / 1000, UTC).replace(tzinfo=None)


def to_local(event: Event, moment: datetime) -> datetime:
    """A naive UTC moment as the event's local wall-clock time (how sessions are stored)."""
    return local_time(event.timezone, moment)


def local_time(timezone: str, moment: datetime) -> datetime:
    """``to_local`` by the zone's name (for rows read without the event)."""
    from zoneinfo import ZoneInfo

    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


# --- the attendance window ------------------------------------------------------------------------

# how long before a session starts its window opens when self check-in is off
DEFAULT_OPENS_MINUTES = 60


class Phase(enum.Enum):
    """Where a moment falls against a session's attendance window."""

    NOT_OPEN = "not_open"
    OPEN = "open"
    CLOSED = "closed"


def window_of(
    starts_at: datetime, ends_at: datetime, opens_minutes: int | None
) -> tuple[datetime, datetime]:
    """The attendance window (local times) of a session from its times and the event's
    ``checkin_opens_minutes``."""
    minutes = DEFAULT_OPENS_MINUTES if opens_minutes is None else opens_minutes
    return starts_at - timedelta(minutes=minutes), ends_at


def attendance_window(event: Event, session: EventSession) -> tuple[datetime, datetime]:
    """When ``session`` takes attendance, for every way of taking it (local times)."""
    return window_of(session.starts_at, session.ends_at, event.checkin_opens_minutes)


def phase_of(
    window: tuple[datetime, datetime], now: datetime, moment: datetime | None = None
) -> Phase:
    """Where a mark made at ``moment`` (a device's time; ``now`` when absent) falls, all local.
    A device's time may place a mark queued offline inside the window, but only once the
    server's own clock (``now``) has opened it: no device time opens a session early."""
    opens, closes = window
    moment = now if moment is None else moment
    if now < opens or moment < opens:
        return Phase.NOT_OPEN
    return Phase.CLOSED if moment > closes else Phase.OPEN


def session_phase(event: Event, session: EventSession, moment: datetime | None = None) -> Phase:
    """``phase_of`` the session's window now (UTC ``moment``: a device's time, capped)."""
    now = utcnow()
    at = (
        None
        if moment is None
        else to_local(event, min(moment, now + timedelta(seconds=CLOCK_SKEW_SECONDS)))
    )
    return phase_of(attendance_window(event, session), to_local(event, now), at)


def not_open_message(opens: datetime, timezone: str, now: datetime) -> str:
    """``Sesi belum dibuka — mulai 08.00 WITA`` (with the day when it is not today)."""
    at = clock(opens) if opens.date() == now.date() else f"{day(opens)} {clock(opens)}"
    return _("Sesi belum dibuka — mulai %(when)s %(zone)s", when=at, zone=zone_label(timezone))


def closed_message(closes: datetime, timezone: str) -> str:
    return _(
        "Sesi sudah ditutup pukul %(time)s %(zone)s.", time=clock(closes), zone=zone_label(timezone)
    )


def checkin_window(event: Event, session: EventSession) -> tuple[datetime, datetime] | None:
    """When self check-in is open for ``session`` (local times), or None when it is off: the
    attendance window."""
    if event.checkin_opens_minutes is None:
        return None
    return attendance_window(event, session)


def session_for_checkin(event: Event, at_local: datetime) -> EventSession | None:
    """The session whose check-in window holds ``at_local`` (the earliest one if several)."""
    for session in event.sessions:
        window = checkin_window(event, session)
        if window and window[0] <= at_local <= window[1]:
            return session
    return None


def current_session(event: Event, at_local: datetime) -> EventSession | None:
    """The session to open by default: the one taking attendance now (the earliest if several),
    else the next one, else the last one."""
    sessions = event.sessions
    if not sessions:
        return None
    for session in sessions:
        opens, closes = attendance_window(event, session)
        if opens <= at_local <= closes:
            return session
    upcoming = [s for s in sessions if s.starts_at > at_local]
    return upcoming[0] if upcoming else sessions[-1]


def running(session: EventSession, at_local: datetime) -> bool:
    """Whether the session is under way (between its start and its end)."""
    return session.starts_at <= at_local <= session.ends_at


# --- tickets and scans -----------------------------------------------------------------------------

TICKET_IN_URL = re.compile(r"/tiket/([A-Za-z0-9_-]{16,32})")


def _ticket_condition(text: str):
    """What a scanned or typed code matches: the ticket link from the QR code, the bare ticket
    token, or the 8-character check-in code; None for an empty code."""
    # control characters (a NUL byte) are no part of any code, and some databases refuse them
    text = "".join(c for c in (text or "") if c.isprintable()).strip()[:300]
    if not text:
        return None
    match = TICKET_IN_URL.search(text)
    token = match.group(1) if match else text
    condition = Registration.ticket == token
    code = normalise_checkin_code(text)
    if len(code) == 8:
        condition = sa.or_(condition, Registration.checkin_code == code)
    return condition


def find_ticket(event: Event, text: str) -> Registration | None:
    """The registration a scanned or typed code names, within ``event``: the ticket link from
    the QR code, the bare ticket token, or the 8-character check-in code."""
    condition = _ticket_condition(text)
    if condition is None:
        return None
    return db.session.scalar(
        sa.select(Registration).where(Registration.event_id == event.id, condition).limit(1)
    )


def ticket_elsewhere(event: Event, text: str) -> Event | None:
    """The event a code names when it is not ``event``'s own ticket (someone holding the ticket
    of another event), or None."""
    condition = _ticket_condition(text)
    if condition is None:
        return None
    return db.session.scalar(
        sa.select(Event)
        .join(Registration, Registration.event_id == Event.id)
        .where(Event.id != event.id, condition)
        .limit(1)
    )


class Verdict(LabelledEnum):
    CHECKED_IN = "checked_in"
    ALREADY = "already"
    NOT_REGISTERED = "not_registered"
    OTHER_EVENT = "other_event"
    WAITING = "waiting"
    CANCELLED = "cancelled"
    NOT_OPEN = "not_open"
    CLOSED = "closed"


set_labels(
    Verdict,
    {
        Verdict.CHECKED_IN: _l("Hadir tercatat"),
        Verdict.ALREADY: _l("Sudah tercatat hadir"),
        Verdict.NOT_REGISTERED: _l("Tidak terdaftar"),
        Verdict.OTHER_EVENT: _l("Tiket untuk kegiatan lain"),
        Verdict.WAITING: _l("Masih di daftar tunggu"),
        Verdict.CANCELLED: _l("Pendaftaran dibatalkan"),
        Verdict.NOT_OPEN: _l("Sesi belum dibuka"),
        Verdict.CLOSED: _l("Sesi sudah ditutup"),
    },
)
GOOD_VERDICTS = (Verdict.CHECKED_IN, Verdict.ALREADY)


@dataclass
class CheckIn:
    """What a scan or a self check-in came to: the verdict, the person (when known) and the
    attendance as it now stands."""

    verdict: Verdict
    registration: Registration | None = None
    attendance: Attendance | None = None


def verdict_text(outcome: CheckIn, event: Event, session: EventSession) -> str:
    """The verdict as the person at the desk reads it, with the real reason: the time of an
    earlier check-in, when the session opens, when it closed."""
    verdict = outcome.verdict
    opens, closes = attendance_window(event, session)
    if verdict is Verdict.ALREADY and outcome.attendance is not None:
        earlier = clock(to_local(event, outcome.attendance.marked_at))
        return _(
            "Sudah tercatat hadir pukul %(time)s %(zone)s", time=earlier, zone=event.zone_label
        )
    if verdict is Verdict.NOT_OPEN:
        return not_open_message(opens, event.timezone, to_local(event, utcnow()))
    if verdict is Verdict.CLOSED:
        return closed_message(closes, event.timezone)
    return str(verdict.label)


def check_in(
    registration: Registration | None,
    session: EventSession,
    by: User | None,
    *,
    method: Method,
    client_id: str | None = None,
    marked_at: datetime | None = None,
    signature: str | None = None,
    enforce_window: bool = True,
) -> CheckIn:
    """Mark ``registration`` hadir in ``session`` by scan or self check-in, with a verdict for
    every case: not registered, cancelled, on the waiting list, already present (the earlier
    time stands, whenever asked), before the session's window or after it, or checked in now."""
    if registration is None or registration.event_id != session.event_id:
        return CheckIn(Verdict.NOT_REGISTERED)
    if registration.status is RegistrationStatus.BATAL:
        return CheckIn(Verdict.CANCELLED, registration)
    if registration.status is RegistrationStatus.DAFTAR_TUNGGU:
        return CheckIn(Verdict.WAITING, registration)
    attendance = current_attendance(registration.id, session.id)
    if attendance is not None and attendance.status is Presence.HADIR:
        if signature and not attendance.signature:
            attendance.signature = signature
        return CheckIn(Verdict.ALREADY, registration, attendance)
    if enforce_window:
        phase = session_phase(session.event, session, marked_at)
        if phase is Phase.NOT_OPEN:
            return CheckIn(Verdict.NOT_OPEN, registration)
        if phase is Phase.CLOSED:
            return CheckIn(Verdict.CLOSED, registration)
    attendance, _new = mark_attendance(
        registration,
        session,
        Presence.HADIR,
        by,
        method=method,
        client_id=client_id,
        marked_at=marked_at,
    )
    if signature and attendance is not None:
        attendance.signature = signature
    return CheckIn(Verdict.CHECKED_IN, registration, attendance)


def add_walk_in(
    event: Event,
    session: EventSession,
    person: PersonData,
    by: User,
    *,
    client_id: str | None = None,
    marked_at: datetime | None = None,
    method: Method = Method.ROLL_CALL,
) -> Registration:
    """Someone who came without registering: a registration with source walk-in (a seat even
    when the event is full — they are in the hall), marked hadir in ``session`` (``method``:
    a correction when the session's window has closed)."""
    registration, _new = register_person(
        event, person, Source.WALK_IN, by=by, phone_required=False, walk_in=True
    )
    if registration.status is RegistrationStatus.TERDAFTAR:
        mark_attendance(
            registration,
            session,
            Presence.HADIR,
            by,
            method=method,
            client_id=client_id,
            marked_at=marked_at,
        )
    return registration


# --- signatures -------------------------------------------------------------------------------------

SIGNATURE_MAX = 8 * 1024
SIGNATURE_PATH = re.compile(r"^(?:[ML] ?-?\d{1,4}(?:\.\d)? -?\d{1,4}(?:\.\d)? ?)+$")


def clean_signature(text: str | None) -> str | None:
    """A signature as SVG path data of absolute moves and lines (``M10 20L11 22…``) inside the
    300 × 100 pad, at most 8 KB; None when empty. Anything else is refused, so the path can be
    placed in an SVG without escaping."""
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > SIGNATURE_MAX or not SIGNATURE_PATH.match(text):
        raise AttendanceError(_("Tanda tangan tidak terbaca. Silakan ulangi."))
    return text


def save_signature(event: Event, attendance: Attendance, signature: str, by: User | None) -> None:
    attendance.signature = signature
    audit.record(
        "attendance.signature",
        "registration",
        attendance.registration_id,
        region_code=event.region_code,
        changes={"session": attendance.session_id},
        actor=by,
    )
