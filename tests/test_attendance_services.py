"""Attendance marks: one row per person and session, each client id applied once, the latest
mark wins when devices disagree, and the history keeps every mark — also under concurrency."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from kim_app.attendance.models import Attendance, AttendanceMark, Presence
from kim_app.attendance.operations import (
    AttendanceError,
    mark_attendance,
    mark_history,
    session_counts,
)
from kim_app.events.models import Event, Registration, Source
from kim_app.events.operations import PersonData, cancel_registration, register_person
from kim_app.extensions import db
from kim_app.timezones import utcnow
from tests.helpers import in_parallel


def _people(event_id: int, n: int) -> list[int]:
    event = db.session.get(Event, event_id)
    ids = [
        register_person(event, PersonData(f"Peserta {i}", f"0812{i:08d}"), Source.MANDIRI)[0].id
        for i in range(n)
    ]
    db.session.commit()
    return ids


def test_marks_undo_and_counts(ctx, make_event):
    """Hadir, then izin for another, then an undo: the counters follow and belum counts the rest."""
    event = db.session.get(Event, make_event().id)
    session = event.sessions[0]
    a, b, c = (db.session.get(Registration, i) for i in _people(event.id, 3))
    mark_attendance(a, session, Presence.HADIR, None, client_id="tap-a-0001")
    mark_attendance(b, session, Presence.IZIN, None, client_id="tap-b-0001")
    counts = session_counts(session)
    assert (counts[Presence.HADIR], counts[Presence.IZIN], counts[Presence.BELUM]) == (1, 1, 1)
    mark_attendance(a, session, Presence.BELUM, None, client_id="tap-a-0002")
    counts = session_counts(session)
    assert (counts[Presence.HADIR], counts[Presence.BELUM]) == (0, 2)
    assert [m.status for m in mark_history(a.id, session.id)] == [Presence.HADIR, Presence.BELUM]
    assert c.id  # untouched: counted as belum


def test_a_double_tap_or_replay_is_applied_once(ctx, make_event):
    """The same client id twice: one mark, one row, the second call reports it was not new."""
    event = db.session.get(Event, make_event().id)
    [reg] = (db.session.get(Registration, i) for i in _people(event.id, 1))
    _, new = mark_attendance(reg, event.sessions[0], Presence.HADIR, None, client_id="dobel-0001")
    _, again = mark_attendance(reg, event.sessions[0], Presence.HADIR, None, client_id="dobel-0001")
    assert new and not again
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceMark)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 1


def test_latest_mark_wins_and_the_conflict_stays_in_history(ctx, make_event):
    """Phone B's older mark arriving after phone A's newer one does not overwrite it."""
    event = db.session.get(Event, make_event().id)
    [reg] = (db.session.get(Registration, i) for i in _people(event.id, 1))
    session = event.sessions[0]
    now = utcnow()
    mark_attendance(reg, session, Presence.HADIR, None, client_id="hp-a-0001", marked_at=now)
    late, _ = mark_attendance(
        reg,
        session,
        Presence.IZIN,
        None,
        client_id="hp-b-0001",
        marked_at=now - timedelta(minutes=5),
    )
    assert late.status is Presence.HADIR
    history = mark_history(reg.id, session.id)
    assert [(m.status, m.applied) for m in history] == [
        (Presence.IZIN, False),
        (Presence.HADIR, True),
    ]
    future, _ = mark_attendance(
        reg, session, Presence.SAKIT, None, client_id="hp-c-0001", marked_at=now + timedelta(days=3)
    )
    assert future.status is Presence.SAKIT and future.marked_at <= utcnow() + timedelta(minutes=6)


@pytest.mark.parametrize(
    "client_id", ["pendek", "x" * 41, "ada spasi di sini", "<script>1</script>"]
)
def test_malformed_client_ids_are_refused(ctx, make_event, client_id):
    """Client ids are short tokens of letters, digits, - and _."""
    event = db.session.get(Event, make_event().id)
    [reg] = (db.session.get(Registration, i) for i in _people(event.id, 1))
    with pytest.raises(AttendanceError):
        mark_attendance(reg, event.sessions[0], Presence.HADIR, None, client_id=client_id)


def test_cancelled_or_foreign_registrations_are_refused(ctx, make_event):
    """A cancelled registration, or a session of another event, cannot be marked."""
    event = db.session.get(Event, make_event().id)
    other = db.session.get(Event, make_event().id)
    [reg] = (db.session.get(Registration, i) for i in _people(event.id, 1))
    with pytest.raises(AttendanceError):
        mark_attendance(reg, other.sessions[0], Presence.HADIR, None)
    cancel_registration(reg, None)
    with pytest.raises(AttendanceError):
        mark_attendance(reg, event.sessions[0], Presence.HADIR, None)


@pytest.mark.usefixtures("wide_pool")
def test_200_check_ins_and_200_replays_at_once_leave_200_rows(app, make_event):
    """50 devices at the same moment, each sending its 4 people and replaying 4 of another's:
    exactly 200 attendance rows, 200 marks, and counters that agree."""
    event_id = make_event(capacity=None).id
    with app.app_context():
        people = _people(event_id, 200)
        session_id = db.session.get(Event, event_id).sessions[0].id
    moment = datetime(2030, 1, 1, 9, 0)

    def device(i: int):
        def run():
            session = db.session.get(Event, event_id).sessions[0]
            mine = people[4 * i : 4 * i + 4]
            theirs = people[4 * ((i + 25) % 50) : 4 * ((i + 25) % 50) + 4]
            for reg_id in mine + theirs:  # originals first, then replays of another device's
                reg = db.session.get(Registration, reg_id)
                mark_attendance(
                    reg,
                    session,
                    Presence.HADIR,
                    None,
                    client_id=f"ci-{reg_id:06d}",
                    marked_at=moment,
                )
                db.session.commit()

        return run

    in_parallel(app, [device(i) for i in range(50)])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 200
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceMark)) == 200
        session = db.session.get(Event, event_id).sessions[0]
        assert session.id == session_id
        counts = session_counts(session)
        assert counts[Presence.HADIR] == 200 and counts[Presence.BELUM] == 0
