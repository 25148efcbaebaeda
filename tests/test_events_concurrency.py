"""Seats under concurrency: many people registering at the same moment, each in their own
thread, application context and database connection — as separate requests would.

The suite runs this on SQLite by default (SQLite serialises writers; WAL and the busy timeout let
them queue) and on PostgreSQL with ``KIM_TEST_DATABASE_URL`` (real parallel transactions, row
locks and the unique constraint). The result must be exact on both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa

from kim_app.events.models import Event, Registration, RegistrationStatus, Source
from kim_app.events.operations import PersonData, cancel_registration, register_person
from kim_app.extensions import db
from tests.conftest import THREADS
from tests.helpers import in_parallel


def _register(event_id: int, name: str, phone: str) -> Callable[[], tuple[int, bool]]:
    def job() -> tuple[int, bool]:
        event = db.session.get(Event, event_id)
        registration, new = register_person(
            event, PersonData(name=name, phone=phone, institution="Uji"), Source.MANDIRI
        )
        return registration.id, new

    return job


def _cancel(registration_id: int) -> Callable[[], int | None]:
    def job() -> int | None:
        promoted = cancel_registration(db.session.get(Registration, registration_id), None)
        return promoted.id if promoted else None

    return job


def _state(app, event_id: int) -> tuple[int, list[Registration]]:
    with app.app_context():
        count = db.session.scalar(sa.select(Event.registered_count).where(Event.id == event_id))
        rows = db.session.scalars(
            sa.select(Registration)
            .where(Registration.event_id == event_id)
            .order_by(Registration.created_at, Registration.id)
        ).all()
        db.session.expunge_all()
    return count, rows


def test_fifty_people_race_for_forty_seats(app, make_event, wide_pool):
    """50 at once for 40 seats: exactly 40 seated and 10 waiting, the count is 40, no duplicates;
    cancellations hand each freed seat to the longest-waiting person, in order."""
    event = make_event(capacity=40)
    jobs = [_register(event.id, f"Peserta {n}", f"0812{n:08d}") for n in range(THREADS)]
    results = in_parallel(app, jobs)
    assert all(new for _id, new in results)
    assert len({rid for rid, _new in results}) == THREADS

    count, rows = _state(app, event.id)
    statuses = Counter(r.status for r in rows)
    assert statuses == {RegistrationStatus.TERDAFTAR: 40, RegistrationStatus.DAFTAR_TUNGGU: 10}
    assert count == 40
    assert len(rows) == THREADS
    assert len({r.phone for r in rows}) == THREADS and len({r.ticket for r in rows}) == THREADS

    waiting = [r.id for r in rows if r.status is RegistrationStatus.DAFTAR_TUNGGU]
    seated = [r.id for r in rows if r.status is RegistrationStatus.TERDAFTAR]
    # three cancellations one after another: each promotes the next in line
    promoted = [in_parallel(app, [_cancel(rid)])[0] for rid in seated[:3]]
    assert promoted == waiting[:3]
    count, rows = _state(app, event.id)
    assert count == 40
    by_id = {r.id: r for r in rows}
    assert [by_id[rid].status for rid in waiting[:3]] == [RegistrationStatus.TERDAFTAR] * 3
    assert [by_id[rid].promoted_at for rid in waiting[:3]] == sorted(
        by_id[rid].promoted_at for rid in waiting[:3]
    )
    assert Counter(r.status for r in rows) == {
        RegistrationStatus.TERDAFTAR: 40,
        RegistrationStatus.DAFTAR_TUNGGU: 7,
        RegistrationStatus.BATAL: 3,
    }

    # three more at the same moment: the next three waiting get the seats, none twice
    promoted = in_parallel(app, [_cancel(rid) for rid in seated[3:6]])
    assert sorted(promoted) == sorted(waiting[3:6])
    count, rows = _state(app, event.id)
    assert count == 40
    assert Counter(r.status for r in rows) == {
        RegistrationStatus.TERDAFTAR: 40,
        RegistrationStatus.DAFTAR_TUNGGU: 4,
        RegistrationStatus.BATAL: 6,
    }


def test_twenty_submissions_of_the_same_number_make_one_registration(app, make_event, wide_pool):
    """The same number sent 20 times at once (a double-tapping crowd): one row, one seat, and
    every request answers with that same registration."""
    event = make_event(capacity=40)
    spellings = ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "081234567890"]
    jobs = [_register(event.id, f"Siti {n}", spellings[n % 4]) for n in range(20)]
    results = in_parallel(app, jobs)
    assert len({rid for rid, _new in results}) == 1
    assert sum(new for _rid, new in results) == 1
    count, rows = _state(app, event.id)
    assert len(rows) == 1 and rows[0].phone == "+6281234567890"
    assert rows[0].status is RegistrationStatus.TERDAFTAR
    assert count == 1


def test_last_seat_goes_to_exactly_one_of_many(app, make_event, wide_pool):
    """One seat left and 30 people at once: one is seated, 29 wait, the count is exactly full."""
    event = make_event(capacity=1)
    results = in_parallel(
        app, [_register(event.id, f"Orang {n}", f"0813{n:08d}") for n in range(30)]
    )
    assert all(new for _rid, new in results)
    count, rows = _state(app, event.id)
    assert count == 1
    assert Counter(r.status for r in rows) == {
        RegistrationStatus.TERDAFTAR: 1,
        RegistrationStatus.DAFTAR_TUNGGU: 29,
    }
