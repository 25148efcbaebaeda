"""The roll-call tap under a crowd, over HTTP: phones tap at the same moment, each sending its
people and replaying the marks of another phone (a queue flushed twice). Exactly one attendance
row per person, one mark per client id, and counters that agree.

50 phones hit the app at once, on PostgreSQL and on SQLite. SQLite serialises writers: a write
request begins with ``BEGIN IMMEDIATE`` and waits for the file's write lock (the busy timeout)
instead of failing with "database is locked" when its read snapshot turned stale."""

from __future__ import annotations

import re
import sqlite3
import time

import pytest
import sqlalchemy as sa

from kim_app.attendance.models import Attendance, AttendanceMark, Presence
from kim_app.attendance.operations import session_counts
from kim_app.auth.models import Role
from kim_app.events.models import EventSession
from kim_app.extensions import db
from tests.conftest import PASSWORD, PPU, html_of
from tests.helpers import in_parallel
from tests.scenes import first_session, people, run_now

PEOPLE = 200
DEVICES = 50


@pytest.mark.usefixtures("wide_pool")
def test_200_taps_and_200_replays_over_http_leave_200_rows(
    app, make_user, make_event, login, partial_headers
):
    """400 tap requests at once (200 new, 200 replays): every answer 200, 200 rows, 200 marks,
    and the counters in the database and on the roll-call page both say 200 hadir."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    event_id = make_event().id
    ids = people(app, event_id, PEOPLE)
    devices = DEVICES
    each = PEOPLE // devices
    session_id = first_session(app, event_id)
    run_now(app, session_id)  # taps are taken inside the session's attendance window
    tapped_at = str(int(time.time() * 1000))
    roll_call = f"/absensi/sesi/{session_id}"
    clients = []
    for _ in range(devices):
        client = login(operator, on=app.test_client())
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html_of(client.get(roll_call)))
        clients.append((client, token.group(1)))

    def device(i: int):
        client, token = clients[i]
        other = (i + devices // 2) % devices

        def run() -> list[int]:
            statuses = []
            for rid in ids[each * i : each * (i + 1)] + ids[each * other : each * (other + 1)]:
                response = client.post(
                    f"{roll_call}/tandai",
                    data={
                        "csrf_token": token,
                        "registration": rid,
                        "status": "hadir",
                        "client_id": f"tap-{rid:08d}",
                        "marked_at": tapped_at,
                    },
                    headers=partial_headers,
                )
                statuses.append(response.status_code)
            return statuses

        return run

    answers = in_parallel(app, [device(i) for i in range(devices)])
    assert {status for statuses in answers for status in statuses} == {200}
    with app.app_context():
        rows = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Attendance)
            .where(Attendance.session_id == session_id)
        )
        marks = db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceMark))
        counts = session_counts(db.session.get(EventSession, session_id))
    assert rows == 200 and marks == 200
    assert counts[Presence.HADIR] == 200 and counts[Presence.BELUM] == 0
    page = html_of(clients[0][0].get(roll_call))
    assert '<span class="p-hadir"><strong>200</strong> Hadir</span>' in page
    assert '<span class="p-belum"><strong>0</strong> Belum</span>' in page


def test_a_write_lock_held_past_the_timeout_is_a_friendly_503(app, client, make_user, monkeypatch):
    """SQLite only (PostgreSQL has no file lock): while another process keeps the write lock past
    the wait, a write request gets the translated 503 with Retry-After, not an error page, and
    the same app writes again once the lock is let go."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's file write lock; PostgreSQL locks rows")
    import kim_app.db

    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    form = {"email": operator.email, "password": PASSWORD}
    monkeypatch.setattr(kim_app.db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    other = sqlite3.connect(engine.url.database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        response = client.submit("/login", form)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "10"
        assert "Basis data tidak dapat dihubungi" in html_of(response)
        other.execute("ROLLBACK")
        assert client.submit("/login", form).status_code == 303
    finally:
        other.close()
        engine.dispose()  # its connections' busy timeout was set to this test's 200 ms
