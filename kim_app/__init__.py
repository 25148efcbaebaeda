"""KIM: Komunitas Informasi Masyarakat registry, events and attendance."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from kim_app import config as cfg
from kim_app import ratelimits, transactions
from kim_app.extensions import (
    babel,
    csrf,
    db,
    described_by_models,
    limiter,
    login_manager,
    migrate,
)
from kim_app.security import MAX_RECORD_ID

ROOT = Path(__file__).resolve().parent.parent
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then instance/config.py, then environment, then ``config``."""
    app = transactions.TransactionalFlask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(cfg.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(cfg.from_environment())
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = cfg.instance_secret_key(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = cfg.database_uri(
            app.config.get("DATABASE_URL"), app.instance_path
        )
    ratelimits.configure(app)
    if app.config["KIM_SECURE_COOKIES"]:
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)

    if app.config["KIM_PROXY_COUNT"]:
        # behind N reverse proxies: trust their X-Forwarded-* for the address, scheme and host
        hops = app.config["KIM_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _init_extensions(app)
    app.url_map.converters["int"] = DatabaseInt
    _register_blueprints(app)

    from kim_app import compression, errors, jobs, security, uploads

    jobs.init_app(app)  # after the blueprints: their modules have declared their jobs

    transactions.init_app(app)
    errors.register(app)
    security.register(app)
    uploads.register(app)
    compression.register(app)
    _template_helpers(app)

    from kim_app.cli import kim_cli

    app.cli.add_command(kim_cli)
    return app


def _init_extensions(app: Flask) -> None:
    from kim_app.i18n import select_locale

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        include_object=described_by_models,
    )
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(ROOT / "kim_app" / "translations"),
    )
    limiter.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            prepare_sqlite(db.engine)


def prepare_sqlite(engine: sa.Engine) -> None:
    """Set up an SQLite engine to be shared by several workers: the pragmas on each new
    connection, and write requests' transactions begun with ``BEGIN IMMEDIATE``."""
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    sa.event.listen(engine, "begin", _sqlite_begin)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL and a busy timeout so several gunicorn workers can share the SQLite file."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    """``BEGIN IMMEDIATE`` at the start of a write request's transaction.

    In WAL mode a transaction that has read and then writes, while another writer committed in
    between, fails at once with "database is locked": its snapshot is stale, and the busy timeout
    cannot help. Taking the write lock first makes a write request wait its turn (up to the busy
    timeout) and then read the newest data. Anything else keeps the sqlite3 module's own deferred
    ``BEGIN`` before the first write (reads see the newest commits, as on PostgreSQL).
    """
    dbapi_connection = connection.connection.dbapi_connection
    if has_request_context() and request.method in WRITE_METHODS:
        dbapi_connection.isolation_level = None  # the module must not begin one as well
        _take_write_lock(connection)
    else:
        dbapi_connection.isolation_level = ""  # the module's default: deferred, before a write


SQLITE_BUSY_TIMEOUT_MS = 5000
WRITE_LOCK_POLL_SECONDS = 0.0005
# one thread of a process at a time polls for the write lock; the others wait on this lock,
# asleep (a threaded server's writers polling together would take turns at the GIL that the
# thread holding the write lock needs to finish: 50 of them once pushed taps past the timeout)
_write_lock_poller = threading.Lock()


def _take_write_lock(connection: sa.Connection) -> None:
    """``BEGIN IMMEDIATE``, waiting for another writer in steps of half a millisecond up to the
    busy timeout; past it, SQLAlchemy's error for a locked database (a 503, as any outage).
    SQLite's own busy handler sleeps in steps that grow to 100 ms (1, 2, 5, 10, 15, 20, 25 … ms),
    so a request queued behind one that held the lock for 10 ms waited 18, 33 or 53 ms: the
    regency's public registration at two connections took p50 9 ms but p95 55 ms."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    if not _write_lock_poller.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        raise _as_sqlalchemy(sqlite3.OperationalError("database is locked"))
    try:
        _poll_for_write_lock(connection.connection.dbapi_connection.cursor(), deadline)
    finally:
        _write_lock_poller.release()


def _poll_for_write_lock(cursor: sqlite3.Cursor, deadline: float) -> None:
    cursor.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise _as_sqlalchemy(error) from error
            time.sleep(WRITE_LOCK_POLL_SECONDS)
    finally:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()


def _as_sqlalchemy(error: sqlite3.OperationalError) -> sa.exc.OperationalError:
    """The error as SQLAlchemy would have raised it, so the outage handler answers 503."""
    return sa.exc.OperationalError("BEGIN IMMEDIATE", None, error)


class DatabaseInt(IntegerConverter):
    """``<int:…>`` capped at the largest database integer, so a huge id is a 404, not an error."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_RECORD_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _template_helpers(app: Flask) -> None:
    """``current_lang`` and ``static_url`` (a content-hashed URL, cached for a year)."""
    from flask_babel import get_locale

    # static files are linked with a content hash (static_url), so a copy is good for a year;
    # Flask's own default (None) would make the browser ask again on every page
    if app.config.get("SEND_FILE_MAX_AGE_DEFAULT") is None:
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 365 * 24 * 3600
    versions: dict[str, str] = {}

    def static_url(filename: str) -> str:
        if filename not in versions:
            data = (Path(app.static_folder) / filename).read_bytes()
            versions[filename] = hashlib.sha256(data).hexdigest()[:10]
        return url_for("static", filename=filename, v=versions[filename])

    def _badges() -> tuple[int, int]:
        """The navigation's counts (one statement, once per request)."""
        from flask_login import current_user

        from kim_app.notices.queries import badges

        return badges(current_user)

    def kim_unread_count() -> int:
        return _badges()[0]

    def kim_queue_count() -> int:
        """KIM waiting for verification (operators; the navigation's badge and the home page)."""
        return _badges()[1]

    @app.template_filter("in_zone")
    def in_zone(moment, code: str, width: str = "medium") -> str:
        """A stored (UTC) timestamp shown in the time zone of region ``code``: ``… 07.29 WITA``."""
        from flask_babel import format_datetime

        from kim_app.timezones import local_time, zone_label, zone_name_for

        if moment is None:
            return ""
        shown = format_datetime(local_time(moment, code), width, rebase=False)
        return f"{shown} {zone_label(zone_name_for(code))}"

    @app.template_filter("day")
    def day_filter(moment) -> str:
        """``Rabu, 1 Mei 2024``, in the reader's language."""
        from kim_app.events.documents import day

        return day(moment) if moment is not None else ""

    @app.template_filter("clock")
    def clock_filter(moment) -> str:
        """``09.00``: a stored local time as it stands."""
        from kim_app.events.documents import clock

        return clock(moment) if moment is not None else ""

    @app.template_global()
    def claim_focus(wanted) -> bool:
        """True for the first field of a response that wants the focus (autofocus must be
        unique): the one asked for, or the first with an error, so a form sent back with
        errors — by htmx or as a page — puts the focus where the first fix is needed."""
        if not wanted or g.get("focus_claimed"):
            return False
        g.focus_claimed = True
        return True

    from kim_app.phones import display_phone

    app.add_template_global(display_phone)  # numbers as people read them, on every page

    @app.context_processor
    def helpers():
        return {
            "current_lang": str(get_locale() or "id"),
            "static_url": static_url,
            "kim_queue_count": kim_queue_count,
            "kim_unread_count": kim_unread_count,
        }


def _register_blueprints(app: Flask) -> None:
    from kim_app.attendance import bp as attendance_bp
    from kim_app.auth import bp as auth_bp
    from kim_app.events import bp as events_bp
    from kim_app.groups import bp as groups_bp
    from kim_app.main import bp as main_bp
    from kim_app.notices import bp as notices_bp
    from kim_app.regions import bp as regions_bp
    from kim_app.reports import bp as reports_bp
    from kim_app.reports import models as _report_models  # noqa: F401

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(regions_bp, url_prefix="/wilayah")
    app.register_blueprint(groups_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(notices_bp)
