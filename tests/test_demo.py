"""The demo data of ``flask kim load-demo``: accounts, one running event with 30 people and a
petugas absensi assigned to it, created once however often the command runs."""

from __future__ import annotations

import sqlalchemy as sa

from kim_app.auth.models import User
from kim_app.demo import DEMO_EVENT_TITLE, DEMO_USERS
from kim_app.events.models import Event, EventStatus, Registration, RegistrationStatus
from kim_app.extensions import db


def test_load_demo_twice_creates_everything_once(app):
    """Two runs: five accounts, one running event with four sessions and 30 seated people, the
    demo petugas bound to it."""
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["kim", "load-demo"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        emails = set(db.session.scalars(sa.select(User.email)))
        assert {email for email, *_ in DEMO_USERS} <= emails
        [event] = db.session.scalars(sa.select(Event).where(Event.title == DEMO_EVENT_TITLE))
        assert event.status is EventStatus.BERLANGSUNG and len(event.sessions) == 4
        seated = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.TERDAFTAR,
            )
        )
        assert seated == event.registered_count == 30
        petugas = db.session.scalar(sa.select(User).where(User.email == "petugas@kim.example"))
        assert petugas.event_id == event.id
