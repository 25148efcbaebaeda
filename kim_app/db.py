"""Database helpers every package may use: the few dialect checks, the one search condition,
the key lookup each database answers best, and the SQLite engine's set-up for several workers
(pragmas and the write lock taken at the start of a write request)."""

from __future__ import annotations

import sqlite3
import threading
import time

import sqlalchemy as sa
from flask import has_request_context, request

from kim_app.extensions import db

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def on_postgresql() -> bool:
    """True when the app's database is PostgreSQL (the few dialect branches ask this)."""
    return db.engine.dialect.name == "postgresql"


def contains_text(column: sa.ColumnElement, word: str) -> sa.ColumnElement[bool]:
    """``column`` contains ``word``, case ignored and ``%``/``_`` taken literally: what every
    search box of the app means by a word. ``lower(column) LIKE``, as the trigram index on
    ``lower(regions.name)`` (migration 0008) is written; SQLAlchemy's ``icontains`` would be
    ``ILIKE`` on PostgreSQL, which that index does not serve."""
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.func.lower(column).like(f"%{escaped}%", escape="\\")


def keyed_by(column: sa.ColumnElement, key: sa.ColumnElement, condition) -> sa.ColumnElement[bool]:
    """``column IN (SELECT key … WHERE condition)``, written the way each database answers it
    best when ``condition`` has an index of its own (a name search) and ``key`` is a primary key.

    PostgreSQL: ``column = ANY(ARRAY(…))`` — the keys are found first, then looked up in
    ``column``'s index; as ``IN`` it would hash them and scan the whole table (and, beside
    another indexed condition under ``OR``, scan for both). SQLite, which serves one regency's
    rows against the whole country's regions: ``EXISTS`` with ``key = column``, a primary-key
    lookup per row, instead of reading every region to test ``condition``."""
    keys = sa.select(key).where(condition)
    if on_postgresql():
        return column == sa.any_(sa.func.array(keys.scalar_subquery()))
    return keys.where(key == column).exists()


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


def hold_write_lock() -> None:
    """SQLite: make the session's transaction hold the database's write lock from here on, for
    work outside a write request that reads and then writes what it read (a job's recount):
    another writer in between would otherwise make it write stale figures. Nothing on
    PostgreSQL, nor when the transaction holds the lock already (a write request's ``BEGIN
    IMMEDIATE``, or a write made)."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:
        _take_write_lock(connection)


def _take_write_lock(connection: sa.Connection) -> None:
    """``BEGIN IMMEDIATE``, waiting for another writer in steps of half a millisecond up to the
    busy timeout; past it, SQLAlchemy's error for a locked database (a 503, as any outage).
    SQLite's own busy handler sleeps in steps that grow to 100 ms, far longer than a write
    holds the lock (docs/benchmarks.md, "Measurements behind the code")."""
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
