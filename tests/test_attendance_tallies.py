"""The tallies (``attendance_tallies``: marks per session, KIM and status, read by the dashboard
and the roll call's counters) stay equal to a recount of the marks through every kind of change:
marks, undo, replays, cancelling, a person moved to another KIM, a person erased, a session
removed, and rows written by plain SQL — on both databases, since the triggers that keep them are
the database's own."""

from __future__ import annotations

import sqlalchemy as sa

from kim_app.attendance import tallies
from kim_app.attendance.models import Attendance, AttendanceTally, Presence
from kim_app.attendance.operations import mark_attendance, session_counts
from kim_app.auth.models import Role
from kim_app.events.models import Event, EventSession, Registration, RegistrationStatus, Source
from kim_app.events.operations import PersonData, cancel_registration, register_person
from kim_app.extensions import db
from kim_app.reports.privacy.operations import erase_person
from tests.conftest import PPU, PPU_OTHER_VILLAGE, PPU_VILLAGE

H, IZIN, B = Presence.HADIR, Presence.IZIN, Presence.BELUM


def _kept_equals_recount() -> dict[tuple[int, int], tuple[int, ...]]:
    """The tallies, checked against a recount: {(session, KIM or 0): (hadir, izin, sakit, alpa)}."""
    conn = db.session.connection()
    kept = tallies.kept(conn)
    assert kept == tallies.counted(conn)
    return kept


def test_tallies_follow_every_change(app, ctx, make_kim, make_event, make_user):
    alfa = make_kim(village=PPU_VILLAGE, name="KIM Alfa")
    bravo = make_kim(village=PPU_OTHER_VILLAGE, name="KIM Bravo")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    event = db.session.get(Event, make_event(capacity=4, days=1, sessions_per_day=2).id)
    first, second = sorted(event.sessions, key=lambda s: s.id)

    def person(n: int, kim) -> Registration:
        reg, _new = register_person(
            event,
            PersonData(name=f"Orang {n}", phone=f"+6281200001{n:03d}"),
            Source.MANDIRI,
            kim_id=kim.id if kim else None,
        )
        return reg

    a1, a2, b1, lone = person(1, alfa), person(2, alfa), person(3, bravo), person(4, None)
    waiting = person(5, alfa)
    assert waiting.status is RegistrationStatus.DAFTAR_TUNGGU
    for reg, session, status in [
        (a1, first, H),
        (a2, first, H),
        (b1, first, IZIN),
        (lone, first, H),
        (a1, second, H),
    ]:
        mark_attendance(reg, session, status, operator)
    db.session.commit()
    assert _kept_equals_recount() == {
        (first.id, alfa.id): (2, 0, 0, 0),
        (first.id, bravo.id): (0, 1, 0, 0),
        (first.id, 0): (1, 0, 0, 0),  # people from no KIM
        (second.id, alfa.id): (1, 0, 0, 0),
    }
    counts = session_counts(first)
    assert (counts[H], counts[IZIN], counts[B]) == (3, 1, 0)  # four registered, all marked
    assert session_counts(second)[B] == 3

    mark_attendance(b1, first, H, operator)  # izin → hadir
    mark_attendance(a2, first, B, operator)  # undo
    mark_attendance(a1, first, H, operator)  # hadir again: no change
    db.session.commit()
    kept = _kept_equals_recount()
    assert kept[(first.id, alfa.id)] == (1, 0, 0, 0) and kept[(first.id, bravo.id)] == (1, 0, 0, 0)
    counts = session_counts(first)
    assert (counts[H], counts[IZIN], counts[B]) == (3, 0, 1)

    promoted = cancel_registration(a1, operator)  # a hadir person cancelled; the waiting one seated
    assert promoted is not None and promoted.id == waiting.id
    mark_attendance(waiting, second, H, operator)
    db.session.commit()
    kept = _kept_equals_recount()
    assert (first.id, alfa.id) not in kept and kept[(second.id, alfa.id)] == (1, 0, 0, 0)
    counts = session_counts(first)  # the seated person from the waiting list: not marked yet
    assert (counts[H], counts[B]) == (2, 2)

    b1.kim_id = alfa.id  # the person moved to another KIM
    db.session.commit()
    kept = _kept_equals_recount()
    assert kept[(first.id, alfa.id)] == (1, 0, 0, 0) and (first.id, bravo.id) not in kept

    erase_person(lone, operator)  # anonymised, still counted
    db.session.commit()
    assert _kept_equals_recount()[(first.id, 0)] == (1, 0, 0, 0)

    db.session.execute(  # plain SQL, as an import or a repair would write
        sa.update(Attendance).where(Attendance.registration_id == lone.id).values(status=IZIN)
    )
    db.session.execute(sa.delete(Attendance).where(Attendance.registration_id == waiting.id))
    db.session.commit()
    kept = _kept_equals_recount()
    assert kept[(first.id, 0)] == (0, 1, 0, 0) and (second.id, alfa.id) not in kept

    event.sessions.remove(db.session.get(EventSession, first.id))  # a session removed
    db.session.commit()
    assert _kept_equals_recount() == {}
    left = db.session.scalars(sa.select(AttendanceTally.session_id).distinct()).all()
    assert first.id not in left  # the removed session's rows went with it


def test_recount_rebuilds_what_the_triggers_keep(app, ctx, make_kim, make_event, make_user):
    """A bulk load that bypasses the triggers recounts; the result equals what they kept."""
    alfa = make_kim(village=PPU_VILLAGE)
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    event = db.session.get(Event, make_event(days=1, sessions_per_day=2).id)
    for n, session in enumerate(sorted(event.sessions, key=lambda s: s.id) * 2):
        reg, _new = register_person(
            event,
            PersonData(name=f"Orang {n}", phone=f"+6281200002{n:03d}"),
            Source.MANDIRI,
            kim_id=alfa.id if n % 2 else None,
        )
        mark_attendance(reg, session, H, operator)
    db.session.commit()
    conn = db.session.connection()
    kept = tallies.kept(conn)
    assert sum(hadir for hadir, *_rest in kept.values()) == 4
    assert tallies.recount(conn) == len(kept)
    assert tallies.kept(conn) == kept
