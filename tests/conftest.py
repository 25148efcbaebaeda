"""Fixtures: the app on SQLite (default) or PostgreSQL (``KIM_TEST_DATABASE_URL``), clients,
users by role, and factories. Regions are the real Kemendagri data, imported once per run."""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from kim_app import ROOT, create_app
from kim_app.auth.models import Role, User
from kim_app.auth.operations import create_user
from kim_app.db import prepare_sqlite
from kim_app.events.models import Event, EventKind, EventSession, EventStatus, Speaker
from kim_app.extensions import db as _db
from kim_app.extensions import limiter
from kim_app.groups.models import (
    Bidang,
    Gender,
    Kim,
    KimField,
    KimStatus,
    Member,
    Position,
    SkSigner,
    name_key,
)
from kim_app.jobs import queue_of
from kim_app.regions.operations import import_regions
from kim_app.timezones import zone_name_for
from tests import slowest  # times every request of the run from its import on

# Flask-Limiter's limiter is one object, and each app made binds it to that app's store: the apps
# tests make for one check (an unreachable database, a fresh SQLite file) count in memory, so the
# suite's app never goes on counting in a store that is gone. The tests of the database store
# and the gunicorn measurement name their store themselves.
os.environ.setdefault("RATELIMIT_STORAGE_URI", "memory://")

REGION_DATA = ROOT / "node_modules" / "idn-area-data" / "data"
PASSWORD = "rahasia-uji-123"
# tables that keep their rows for the whole run (imported once), and the dashboard's tallies,
# which their triggers count down as the tables they count are emptied (emptied themselves
# first, they would be counted below zero); every other table of the models is emptied after
# each test (rate_limits, which no model maps, is cleared by limiter.reset())
KEPT = {
    "regions",
    "year_tallies",
    "year_origin_tallies",
    "year_event_tallies",
    "year_session_tallies",
    "year_kim_tallies",
    "kim_tallies",
    "village_tallies",
}


@functools.cache
def cleanup_statements() -> tuple[str, ...]:
    """What empties the database after a test: first the links that would stop a delete (the
    foreign keys drawn after their tables, and a table's links to itself) are set to NULL, then
    every table but KEPT is emptied, dependants first. Built once the app has loaded the models."""
    tables = [t for t in reversed(_db.metadata.sorted_tables) if t.name not in KEPT]
    loose = [
        f"UPDATE {t.name} SET {fk.parent.name} = NULL"
        for t in tables
        for fk in sorted(t.foreign_keys, key=lambda fk: fk.parent.name)
        if fk.constraint.use_alter or fk.column.table is t
    ]
    return (*loose, *(f"DELETE FROM {t.name}" for t in tables))


# Places the tests use: Penajam Paser Utara (Kalimantan Timur), Majalengka (Jawa Barat), Jawa Timur.
PPU = "64.09"
PPU_VILLAGE = "64.09.03.2006"  # Desa Sebakung Jaya, Kec. Babulu
PPU_OTHER_VILLAGE = "64.09.01.2020"  # Desa Giri Mukti, Kec. Penajam
MAJALENGKA_VILLAGE = "32.10.01.2001"
JATIM = "35"


def _reset_postgres(url: str) -> str:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def _worker_database(url: str, worker: str) -> str:
    """The database of one pytest-xdist worker beside the named one (``test`` → ``test_gw0``),
    created through the ``postgres`` maintenance database when missing."""
    base, name = url.rsplit("/", 1)
    name = f"{name}_{worker}"
    engine = sa.create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with engine.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """An empty database for this run: PostgreSQL when KIM_TEST_DATABASE_URL is set, else SQLite.
    Under pytest-xdist each worker gets its own (SQLite: its own tmp dir; PostgreSQL: a database
    named after the worker)."""
    url = os.environ.get("KIM_TEST_DATABASE_URL")
    if url:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        return _reset_postgres(_worker_database(url, worker) if worker else url)
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "kim-test.sqlite3")


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory) -> Iterator[Flask]:
    """The application, migrated from empty and loaded with all regions."""
    from flask_migrate import upgrade

    from kim_app.config import database_uri

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_uri(database_url, ""),
            "RATELIMIT_STORAGE_URI": "memory://",
            "KIM_UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads")),
            "KIM_QUEUE_URL": "sqlite:///" + str(tmp_path_factory.mktemp("jobs") / "jobs.sqlite3"),
        }
    )
    with app.app_context():
        upgrade()
        import_regions(REGION_DATA)
        _db.session.commit()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(request):
    """Each test starts with no users or audit entries, fresh rate limits and no job waiting on
    the queue (a job a test asked for and left is not the next test's to run)."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    queue_of(app).flush()
    with app.app_context():
        _db.session.rollback()
        for statement in cleanup_statements():
            _db.session.execute(sa.text(statement))
        _db.session.commit()
        limiter.reset()


@pytest.fixture
def ctx(app):
    """An application context for calling services and queries directly."""
    with app.test_request_context():
        yield
        _db.session.rollback()


class Client(FlaskClient):
    """Test client that can fetch a page's CSRF token and post with it, as a browser would."""

    def token(self, path: str = "/login") -> str:
        html = self.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def submit(self, path: str, data: dict | None = None, *, form_page: str | None = None, **kw):
        """POST ``data`` to ``path`` with a valid token taken from ``form_page`` (default: ``path``)."""
        data = dict(data or {})
        data["csrf_token"] = self.token(form_page or path)
        return self.post(path, data=data, **kw)


@pytest.fixture
def client(app) -> Client:
    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def make_user(app) -> Callable[..., User]:
    """Factory: ``make_user(role, scope, email=..., name=..., kim_id=..., event_id=...)`` creates
    an active account (``event_id``: the one event of a petugas absensi; a pengurus without
    ``kim_id`` gets a draft KIM of its village, as every pengurus account belongs to one)."""
    counter = iter(range(1, 10_000))

    def make(
        role: Role | str = Role.OPERATOR_KABKOTA, scope: str | None = PPU, **overrides
    ) -> User:
        role = Role(role)
        n = next(counter)
        with app.app_context():
            if role is Role.PENGURUS_KIM and overrides.get("kim_id") is None:
                # a pengurus account always belongs to a KIM: a draft one of its village
                kim = Kim(name=f"KIM Pengurus {n}", name_key=name_key(f"KIM Pengurus {n}"))
                kim.village_code, kim.status = scope, KimStatus.DRAFT
                _db.session.add(kim)
                _db.session.flush()
                overrides["kim_id"] = kim.id
            user = create_user(
                email=overrides.get("email", f"{role.value}{n}@uji.example"),
                phone=overrides.get("phone"),
                name=overrides.get("name", f"Pengguna Uji {n}"),
                role=role,
                scope_code=None if role is Role.ADMIN else scope,
                password=overrides.get("password", PASSWORD),
                kim_id=overrides.get("kim_id"),
                by=None,
            )
            user.event_id = overrides.get("event_id")
            _db.session.commit()
            _db.session.refresh(user)
            _db.session.expunge(user)
        return user

    return make


@pytest.fixture
def make_kim(app, make_user) -> Callable[..., Kim]:
    """Factory: ``make_kim(village=PPU_VILLAGE, status=KimStatus.TERVERIFIKASI, name=..., members=3)``.

    Builds the KIM directly (no workflow), with ketua, sekretaris and bendahara first and then
    plain anggota up to ``members``; verified ones get a registration number. Returns it detached.
    """
    counter = iter(range(1, 100_000))

    def make(
        village: str = PPU_VILLAGE,
        status: KimStatus = KimStatus.TERVERIFIKASI,
        members: int = 3,
        bidang: tuple[Bidang, ...] = (Bidang.INFORMASI_PUBLIK,),
        **overrides,
    ) -> Kim:
        n = next(counter)
        name = overrides.pop("name", f"KIM Uji {n}")
        positions = [Position.KETUA, Position.SEKRETARIS, Position.BENDAHARA]
        with app.app_context():
            kim = Kim(
                name=name,
                name_key=name_key(name),
                village_code=village,
                status=status,
                sk_number=f"{n}/SK/2026",
                sk_date=date(2026, 1, 5),
                sk_signer=SkSigner.KEPALA_DESA,
                address="Jl. Uji",
                **overrides,
            )
            kim.fields = [KimField(field=b.value) for b in bidang]
            kim.members = [
                Member(
                    name=f"Anggota {n}-{i}",
                    position=positions[i] if i < 3 else Position.ANGGOTA,
                    gender=Gender.P if i % 2 else Gender.L,
                    phone=f"+62812{n:04d}{i:04d}",
                )
                for i in range(members)
            ]
            if status is KimStatus.TERVERIFIKASI and not kim.registration_number:
                kim.registration_number = f"KIM-{village[:5]}-T{n:04d}"
            if status is not KimStatus.DRAFT:
                kim.submitted_at = datetime(2026, 1, 1) + timedelta(minutes=n)
            _db.session.add(kim)
            _db.session.commit()
            _db.session.refresh(kim)
            _db.session.expunge(kim)
        return kim

    return make


@pytest.fixture
def make_event(app) -> Callable[..., Event]:
    """Factory: ``make_event(region=PPU, status=EventStatus.TERBIT, capacity=None, days=2,
    sessions_per_day=2, **overrides)`` — a published two-day event by default, with sessions
    09:00–12:00 and 13:00–16:00 local time from tomorrow on. Returns it detached."""
    counter = iter(range(1, 100_000))

    def make(
        region: str = PPU,
        status: EventStatus = EventStatus.TERBIT,
        capacity: int | None = None,
        days: int = 2,
        sessions_per_day: int = 2,
        **overrides,
    ) -> Event:
        n = next(counter)
        first = datetime.combine(date.today() + timedelta(days=1), datetime.min.time())
        sessions = [
            EventSession(
                starts_at=first + timedelta(days=d, hours=9 + 4 * s),
                ends_at=first + timedelta(days=d, hours=12 + 4 * s),
                topic=f"Sesi {d + 1}.{s + 1}",
                speakers=[
                    Speaker(
                        name=f"Narasumber {n}-{d}-{s}",
                        position="Kepala Bidang",
                        institution="Diskominfo",
                    )
                ],
            )
            for d in range(days)
            for s in range(sessions_per_day)
        ]
        with app.app_context():
            event = Event(
                code=overrides.pop("code", f"uji{n:05d}"),
                kind=overrides.pop("kind", EventKind.PELATIHAN),
                title=overrides.pop("title", f"Pelatihan Uji {n}"),
                region_code=region,
                timezone=zone_name_for(region),
                status=status,
                capacity=capacity,
                registered_count=0,
                venue_name=overrides.pop("venue_name", "Aula Kantor Bupati"),
                sessions=sessions,
                starts_on=sessions[0].starts_at if sessions else None,
                **overrides,
            )
            _db.session.add(event)
            _db.session.commit()
            _db.session.refresh(event)
            _db.session.expunge(event)
        return event

    return make


@pytest.fixture
def login(app, client) -> Callable[[User], Client]:
    """Sign ``user`` in on the test client (as Flask-Login documents for tests), with the
    account's current session version (a sign-out elsewhere retires older ones)."""

    def sign_in(user: User, on: Client | None = None) -> Client:
        target = on or client
        with app.app_context():
            version = _db.session.scalar(sa.select(User.session_version).where(User.id == user.id))
        with target.session_transaction() as session:
            session["_user_id"] = f"{user.id}:{version}"
            session["_fresh"] = True
        return target

    return sign_in


@pytest.fixture
def partial_headers() -> dict[str, str]:
    """The headers htmx 4 sends for a request that swaps part of the page."""
    return {"HX-Request": "true", "HX-Request-Type": "partial"}


# a CSRF token as pages carry it: signed with the second it was made, so two answers compared
# byte for byte set it aside
CSRF_TOKEN = re.compile(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}")


def html_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture(scope="session")
def region_data_dir() -> Path:
    return REGION_DATA


@pytest.fixture
def operator(client, make_user, login) -> User:
    """A signed-in regency operator of Penajam Paser Utara."""
    user = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(user)
    return user


# The fixtures below build what tests/helpers.py, scenes.py and fuzzing.py describe; those modules
# import this one's constants, so each fixture imports them when it runs.


@pytest.fixture
def opened(app, make_event):
    """A published event whose first session takes self check-ins now, with one registration."""

    from tests.scenes import add_registration, open_now

    def make(**values):
        event = make_event()
        session_id = open_now(app, event.id, **values)
        return event, session_id, add_registration(app, event.id)

    return make


# the crowd of the concurrency tests: wide_pool holds a connection for each of them at once
THREADS = 50


@pytest.fixture
def wide_pool(app, monkeypatch) -> Iterator[None]:
    """Give the app a connection pool as wide as the crowd, so every thread really holds its own
    connection at once (the default pool would queue all but 15 of them)."""
    with app.app_context():
        default, engines = _db.engine, _db.engines
    engine = sa.create_engine(
        default.url.render_as_string(hide_password=False),
        pool_size=THREADS + 5,
        max_overflow=0,
        pool_timeout=60,
    )
    if engine.dialect.name == "sqlite":
        prepare_sqlite(engine)  # as the app sets up its own engine
    monkeypatch.setitem(engines, None, engine)
    peak, lock = {"now": 0, "max": 0}, threading.Lock()

    def checkout(*_args):
        with lock:
            peak["now"] += 1
            peak["max"] = max(peak["max"], peak["now"])

    def checkin(*_args):
        with lock:
            peak["now"] -= 1

    sa.event.listen(engine, "checkout", checkout)
    sa.event.listen(engine, "checkin", checkin)
    yield
    print(f"{engine.dialect.name}: up to {peak['max']} connections in use at once")
    monkeypatch.undo()
    engine.dispose()


@pytest.fixture
def dashboard_data(app, make_kim, make_event) -> dict:
    """The known dataset of the reports dashboard (tests.scenes.dashboard_scene)."""
    from tests.scenes import dashboard_scene

    return dashboard_scene(app, make_kim, make_event)


@pytest.fixture
def history_dataset(app, make_kim, make_event) -> dict:
    """The known dataset of the KIM and person histories (tests.scenes.history_scene)."""
    from tests.scenes import history_scene

    return history_scene(app, make_kim, make_event)


@pytest.fixture(scope="module")
def password_hash() -> str:
    """One hash for every fuzzing account of the module (hashing is slow on purpose)."""
    from tests.fuzzing import make_password_hash

    return make_password_hash()


@pytest.fixture
def world(app, make_kim, make_event, password_hash) -> dict:
    """The records every fuzzing actor can reach (tests.fuzzing.build_world)."""
    from tests.fuzzing import build_world

    return build_world(app, make_kim, make_event, password_hash)


# --- the slowest request of the run, against gunicorn's timeout (tests.slowest) -----------------


def pytest_testnodedown(node, error) -> None:
    slowest.record(getattr(node, "workeroutput", {}).get("slowest_request"))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session) -> None:
    slowest.finish(session)
