"""Rate limits every gunicorn worker and app server shares, with no service of their own to run.

Flask-Limiter keeps its counts in a ``limits`` storage. ``memory://`` counts in each process, so
each of ``make run``'s workers let a limit's whole allowance through (issue 21). Unless
``RATELIMIT_STORAGE_URI`` names another store (Redis), the counts live in the app's database
(``database://``): a ``rate_limits`` table on PostgreSQL (migration 0014); with SQLite a file of
their own beside the database (``kim.sqlite3`` → ``kim-limits.sqlite3``), so a count never waits
behind a request holding the data's write lock. Each count is one upsert in a short transaction of
the storage's own connection, never part of the request's session.

Limits count before the work is done and are given back afterwards when the attempt should not
count (a right password, a right venue PIN): taking first keeps a burst of parallel attempts to
exactly the allowance, where counting only after the answer let every attempt in flight through.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from pathlib import Path
from typing import ClassVar

import sqlalchemy as sa
from flask import Flask, current_app
from limits import parse
from limits.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.exceptions import ServiceUnavailable

from kim_app.extensions import limiter

log = logging.getLogger(__name__)

metadata = sa.MetaData()
# the limiter's counts, not a record of the app: no model, and on PostgreSQL only the migration
# describes it (``extensions.DATABASE_ONLY_TABLES``)
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("key", sa.String(600), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.Double, nullable=False, index=True),  # seconds since the epoch
)

# expired counts are deleted at most this often per process, at most PRUNE_ROWS at a time
PRUNE_EVERY_SECONDS = 60
PRUNE_ROWS = 1000
BUSY_TIMEOUT_MS = 5000


def configure(app: Flask) -> None:
    """Count in the app's database unless ``RATELIMIT_STORAGE_URI`` names a store."""
    if app.config.get("RATELIMIT_STORAGE_URI"):
        return
    url = counts_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url is None:  # an in-memory SQLite database belongs to one process anyway
        app.config["RATELIMIT_STORAGE_URI"] = "memory://"
        return
    app.config["RATELIMIT_STORAGE_URI"] = "database://"
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {"url": url}


def counts_database_url(database_uri: str) -> str | None:
    """Where the counts go: the database itself, or for SQLite the file beside it."""
    url = sa.engine.make_url(database_uri)
    if url.get_backend_name() != "sqlite":
        return url.render_as_string(hide_password=False)
    if not url.database or url.database == ":memory:":
        return None
    path = Path(url.database)
    return url.set(database=str(path.with_name(f"{path.stem}-limits.sqlite3"))).render_as_string()


class DatabaseStorage(Storage):
    """A ``limits`` storage for the fixed-window strategy (Flask-Limiter's default) in a table.

    The engine is made on first use, so a process forked after ``create_app`` (gunicorn's
    workers) opens its own connections.
    """

    STORAGE_SCHEME: ClassVar[list[str]] = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.url = str(options["url"])
        self._engine: sa.Engine | None = None
        self._engine_lock = threading.Lock()
        self._next_prune = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sa.exc.SQLAlchemyError

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    self._engine = _counts_engine(self.url)
        return self._engine

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the key's count (a new window when the old one has ended); a
        negative amount gives attempts back, never below zero nor into a new window."""
        now = time.time()
        with self.engine.begin() as conn:
            if amount < 0:
                left = rate_limits.c.count + amount
                count = conn.execute(
                    rate_limits.update()
                    .where(rate_limits.c.key == key, rate_limits.c.expires_at > now)
                    .values(count=sa.case((left < 0, 0), else_=left))
                    .returning(rate_limits.c.count)
                ).scalar()
                return count or 0
            count = conn.execute(_upsert(conn, key, amount, now + expiry, now)).scalar_one()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_SECONDS
            self._prune(now)
        return count

    def get(self, key: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(_live(key, rate_limits.c.count)).scalar() or 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self.engine.begin() as conn:
            return conn.execute(_live(key, rate_limits.c.expires_at, now)).scalar() or now

    def check(self) -> bool:
        """Whether the database answers (Flask-Limiter asks while it counts in memory)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def reset(self) -> int:
        with self.engine.begin() as conn:
            return conn.execute(rate_limits.delete()).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(rate_limits.delete().where(rate_limits.c.key == key))

    def _prune(self, now: float) -> None:
        """Delete counts whose window has ended, in a transaction of their own (a failure here
        loses nothing: the rows are simply left for the next time)."""
        expired = sa.select(rate_limits.c.key).where(rate_limits.c.expires_at <= now)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    rate_limits.delete().where(
                        rate_limits.c.key.in_(expired.limit(PRUNE_ROWS).scalar_subquery())
                    )
                )
        except sa.exc.SQLAlchemyError as error:
            log.warning("expired rate-limit counts not pruned: %s", type(error).__name__)


def _upsert(conn: sa.Connection, key: str, amount: int, expires_at: float, now: float):
    """``INSERT … ON CONFLICT DO UPDATE … RETURNING count``: one atomic statement on both
    databases, so parallel hits on one key each see their own count."""
    insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(rate_limits)
    live = rate_limits.c.expires_at > now
    return (
        insert.values(key=key, count=amount, expires_at=expires_at)
        .on_conflict_do_update(
            index_elements=[rate_limits.c.key],
            set_={
                "count": sa.case((live, rate_limits.c.count + amount), else_=amount),
                "expires_at": sa.case((live, rate_limits.c.expires_at), else_=expires_at),
            },
        )
        .returning(rate_limits.c.count)
    )


def _live(key: str, column: sa.Column, now: float | None = None) -> sa.Select:
    now = time.time() if now is None else now
    return sa.select(column).where(rate_limits.c.key == key, rate_limits.c.expires_at > now)


def _counts_engine(url: str) -> sa.Engine:
    if sa.engine.make_url(url).get_backend_name() != "sqlite":
        return sa.create_engine(
            url.replace("postgresql://", "postgresql+psycopg://", 1),
            pool_size=2,
            max_overflow=4,
            pool_timeout=BUSY_TIMEOUT_MS / 1000,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5},
        )
    engine = sa.create_engine(url)
    sa.event.listen(engine, "connect", _sqlite_connect)
    # every transaction takes the (file's own) write lock at once: a read-then-write in WAL mode
    # would otherwise fail when another worker wrote in between
    sa.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    metadata.create_all(engine)
    return engine


def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # the "begin" listener starts transactions
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")  # counts need not outlive a power cut
    cursor.close()


# --- attempts the views count themselves ---------------------------------------------------------


def take(limit: str, *identifiers: str) -> bool:
    """Count one attempt against ``limit`` (``"10 per 10 minutes"``) for ``identifiers``;
    False when the allowance is used up. A store that cannot be reached is a 503, as any outage."""
    try:
        return limiter.limiter.hit(parse(limit), *identifiers)
    except Exception as error:
        log.error("rate-limit store unavailable: %s", type(error).__name__)
        raise ServiceUnavailable() from error


def left(limit: str, *identifiers: str) -> bool:
    """Whether ``limit`` still allows an attempt for ``identifiers`` (nothing is counted)."""
    try:
        return limiter.limiter.test(parse(limit), *identifiers)
    except Exception as error:
        log.error("rate-limit store unavailable: %s", type(error).__name__)
        raise ServiceUnavailable() from error


def give_back(limit: str, *identifiers: str) -> None:
    """Return an attempt ``take`` counted (it turned out not to be one that counts)."""
    item = parse(limit)
    _give_back(item.key_for(*identifiers), item.get_expiry())


def seconds_left(limit: str, *identifiers: str) -> int:
    """Seconds until the window of ``limit`` for ``identifiers`` ends."""
    item = parse(limit)
    reset = limiter.limiter.get_window_stats(item, *identifiers).reset_time
    return max(1, int(reset - time.time()))


def give_back_request() -> None:
    """Return this request's attempt to every limit the decorators counted it against (a
    sign-in that succeeded: only failures count)."""
    for counted in limiter.current_limits:
        if not counted.breached:
            _give_back(counted.key, counted.limit.get_expiry())


def _give_back(key: str, expiry: int) -> None:
    try:
        limiter.limiter.storage.incr(key, expiry, amount=-1)
    except Exception as error:  # the attempt stays counted: the person loses one try, no more
        log.warning("rate-limit attempt not given back: %s", type(error).__name__)


def secret_tag(value: str) -> str:
    """A short keyed digest of ``value``, to name a count after a secret without storing it."""
    return hmac.new(current_app.secret_key.encode(), value.encode(), "sha256").hexdigest()[:16]
