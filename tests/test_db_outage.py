"""A database outage under load, for real: a private PostgreSQL 15 cluster (its own port and
directory, never the shared server) is restarted, then stopped and started again, while a crowd
reads the public event page and registers through it.

Every answer is a page (200), a registration (303) or the friendly, translated 503 with
``Retry-After`` — never a 500. The same app object serves again once the server is back (pool
pre-ping and the invalidated pool), and the rows agree afterwards: no registration without its
audit entry, and the seat counter equals the seated rows.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from kim_app import create_app
from kim_app.audit import AuditEntry
from kim_app.errors import RETRY_AFTER_SECONDS
from kim_app.events.models import (
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from kim_app.extensions import db
from kim_app.regions.models import Region, RegionLevel
from kim_app.timezones import zone_name_for
from tests.conftest import html_of

PG_BIN = Path("/usr/lib/postgresql/15/bin")
CROWD = 8
CODE = "padam01"
TITLE_ID = "Layanan sedang tidak tersedia"
MESSAGE_ID = "Basis data tidak dapat dihubungi. Coba lagi beberapa saat lagi."
TITLE_EN = "Service unavailable"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
    pytest.skip(f"PostgreSQL 15 server binaries not found in {PG_BIN}", allow_module_level=True)


class Cluster:
    """A throw-away PostgreSQL cluster in a temp directory, trusting 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root, self.data = root, root / "data"
        with socket.socket() as probe:  # a free port, asked of the kernel
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/kim"

    def _run(self, *args: str) -> None:
        # initdb refuses to run as root: the cluster belongs to the postgres OS user then
        as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_owner, *args], check=True, capture_output=True, timeout=60)

    def pg_ctl(self, mode: str, *args: str) -> None:
        """``pg_ctl`` and wait; a (re)start always gets this cluster's port, socket directory and
        log file (without one the server would write to our pipes and never let them close)."""
        if mode in ("start", "restart"):
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
                " -c full_page_writes=off"
            )
            args = (*args, "-l", str(self.root / "server.log"), "-o", options)
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "30", *args, mode)

    def init(self) -> None:
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "--no-instructions",
        )
        self.pg_ctl("start")

    def create_database(self) -> None:
        engine = sa.create_engine(
            self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
        )
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE kim"))
        engine.dispose()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="kim-outage-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = Cluster(root)
    try:
        server.init()
        server.create_database()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            server.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def outage_app(cluster, tmp_path_factory) -> Iterator[Flask]:
    """The app on the private cluster, migrated, with one open event; not in testing mode, so an
    unhandled error would be the real 500 page rather than an exception in the test."""
    from flask_migrate import upgrade

    app = create_app(
        {
            "SECRET_KEY": "outage-test",
            "SQLALCHEMY_DATABASE_URI": cluster.url,
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "connect_args": {"connect_timeout": 5},
            },
            # the limiter is one object shared by every app of the run: raise the limit for this
            # crowd from one address rather than switching it off (that would switch it off for
            # the other tests' app too)
            "RATELIMIT_STORAGE_URI": "memory://",
            "KIM_RATELIMIT_REGISTER": "1000000 per hour",
            "KIM_UPLOAD_FOLDER": str(tmp_path_factory.mktemp("outage-uploads")),
        }
    )
    with app.app_context():
        upgrade()
        db.session.add_all(
            [
                Region(code="64", name="KALIMANTAN TIMUR", level=RegionLevel.PROVINSI),
                Region(
                    code="64.09",
                    name="KAB. PENAJAM PASER UTARA",
                    level=RegionLevel.KABUPATEN,
                    parent_code="64",
                ),
            ]
        )
        # tomorrow on the event's own clock (WITA runs 8 hours ahead of the machine's UTC)
        today = datetime.now(ZoneInfo(zone_name_for("64.09"))).date()
        first = datetime.combine(today + timedelta(days=1), datetime.min.time())
        sessions = [EventSession(starts_at=first, ends_at=first + timedelta(hours=3), topic="Sesi")]
        db.session.add(
            Event(
                code=CODE,
                kind=EventKind.PELATIHAN,
                title="Pelatihan saat padam",
                region_code="64.09",
                timezone=zone_name_for("64.09"),
                status=EventStatus.TERBIT,
                capacity=150,
                registered_count=0,
                venue_name="Aula",
                sessions=sessions,
                starts_on=sessions[0].starts_at,
            )
        )
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _friendly_503(response, title: str = TITLE_ID) -> bool:
    page = html_of(response)
    return (
        response.status_code == 503
        and title in page
        and "Traceback" not in page
        and response.headers.get("Retry-After") == str(RETRY_AFTER_SECONDS)
    )


class Visitor:
    """One person's browser: opens the event page, then registers with a fresh number."""

    def __init__(self, app: Flask, n: int) -> None:
        self.client, self.n, self.tries = app.test_client(), n, 0
        self.answers: list[tuple[str, int, bool]] = []  # (kind, status, friendly 503?)
        self.tickets: list[str] = []

    def step(self) -> None:
        page = self.client.get(f"/e/{CODE}")
        self._keep("page", page)
        token = CSRF.search(html_of(page)) if page.status_code == 200 else None
        if token is None:
            return
        self.tries += 1
        answer = self.client.post(
            f"/e/{CODE}",
            data={
                "csrf_token": token.group(1),
                "name": f"Peserta {self.n} {self.tries}",
                "phone": f"0812{self.n:03d}{self.tries:05d}",
                "institution": "KIM Uji",
                "gender": "P",
                "consent": "y",
            },
        )
        self._keep("register", answer)
        if answer.status_code == 303:
            self.tickets.append(answer.headers["Location"].rsplit("/", 1)[1])

    def _keep(self, kind: str, response) -> None:
        self.answers.append((kind, response.status_code, _friendly_503(response)))


def _crowd(app: Flask, stop: threading.Event) -> tuple[ThreadPoolExecutor, list[Visitor], list]:
    visitors = [Visitor(app, n) for n in range(CROWD)]

    def walk(visitor: Visitor) -> None:
        while not stop.is_set():
            visitor.step()
            time.sleep(0.01)

    pool = ThreadPoolExecutor(max_workers=CROWD)
    return pool, visitors, [pool.submit(walk, v) for v in visitors]


def _until(check, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_restart_and_stop_under_load_give_friendly_503_and_recover(outage_app, cluster):
    """While the server restarts and then stays down for a while, every answer is 200, 303 or the
    friendly 503 — never a 500; the same app serves again afterwards; no partial writes."""
    stop = threading.Event()
    pool, visitors, walks = _crowd(outage_app, stop)
    try:
        assert _until(lambda: sum(len(v.tickets) for v in visitors) >= CROWD)
        cluster.pg_ctl("restart", "-m", "fast")
        time.sleep(1.0)
        cluster.pg_ctl("stop", "-m", "fast")
        time.sleep(1.5)
        cluster.pg_ctl("start")
        after = sum(len(v.tickets) for v in visitors)
        assert _until(lambda: sum(len(v.tickets) for v in visitors) >= after + CROWD)
    finally:
        stop.set()
        for walk in walks:
            walk.result(timeout=60)
        pool.shutdown()

    answers = Counter(answer for v in visitors for answer in v.answers)
    print(f"answers during the outage run: {dict(answers)}")
    assert {status for _kind, status, _ok in answers} <= {200, 303, 503}
    assert all(ok for _kind, status, ok in answers if status == 503)
    assert sum(n for (_kind, status, _ok), n in answers.items() if status == 503) > 0

    tickets = [ticket for v in visitors for ticket in v.tickets]
    with outage_app.app_context():
        rows = db.session.execute(
            sa.select(Registration.id, Registration.ticket, Registration.status)
        ).all()
        audited = set(
            db.session.scalars(
                sa.select(AuditEntry.object_id).where(AuditEntry.action == "registration.create")
            )
        )
        seated = db.session.scalar(sa.select(Event.registered_count).where(Event.code == CODE))
    assert {r.ticket for r in rows} >= set(tickets)  # every confirmed registration is kept
    assert {str(r.id) for r in rows} == audited  # each with its audit entry, and nothing else
    assert seated == sum(r.status is RegistrationStatus.TERDAFTAR for r in rows)


def test_pages_while_down_are_friendly_and_translated_then_the_same_app_serves(
    outage_app, cluster, partial_headers
):
    """With the server stopped: the full page, the htmx fragment and the English page are the
    friendly 503 with Retry-After; after a start the same app answers 200 without a restart."""
    client = outage_app.test_client()
    assert client.get(f"/e/{CODE}").status_code == 200
    cluster.pg_ctl("stop", "-m", "fast")
    try:
        page = client.get(f"/e/{CODE}")
        assert _friendly_503(page)
        assert MESSAGE_ID in html_of(page) and "<html" in html_of(page)

        fragment = client.get(f"/e/{CODE}", headers=partial_headers)
        assert _friendly_503(fragment)
        assert "<html" not in html_of(fragment)
        assert fragment.headers["HX-Retarget"] == "#pesan"

        english = outage_app.test_client()
        with english.session_transaction() as session:
            session["lang"] = "en"
        assert _friendly_503(english.get(f"/e/{CODE}"), TITLE_EN)

        assert client.get("/healthz").status_code == 503
    finally:
        cluster.pg_ctl("start")
    assert client.get("/healthz").status_code == 200
    assert client.get(f"/e/{CODE}").status_code == 200


def test_a_connection_cut_before_the_session_closes_is_discarded(outage_app, cluster):
    """A restart that cuts the connection of a request still in its transaction (the response is
    made, the session not yet closed) does not raise at teardown; the next request is served."""
    with outage_app.app_context():
        assert db.session.execute(sa.text("SELECT 1")).scalar() == 1  # a transaction is open
        cluster.pg_ctl("restart", "-m", "fast")
    assert outage_app.test_client().get(f"/e/{CODE}").status_code == 200
