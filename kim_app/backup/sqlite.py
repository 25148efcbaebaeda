"""The SQLite side of a backup: a consistent copy through SQLite's online backup API, its
revision and row counts, and putting a copy back in place of the live file."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kim_app.backup.common import BackupError


def file_of(uri: str) -> Path:
    name = sa.engine.make_url(uri).database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError("The SQLite database is not a plain file; there is nothing to back up.")
    return Path(name)


def snapshot(source: Path, copy: Path) -> tuple[str | None, dict[str, int]]:
    """Copy ``source`` with SQLite's online backup API (one read transaction, so writers carry
    on and the copy is one consistent moment), as a self-contained file without a WAL."""
    if not source.is_file():
        raise BackupError(f"The SQLite database {source} does not exist.")
    try:
        with (
            closing(sqlite3.connect(source, timeout=30)) as src,
            closing(sqlite3.connect(copy)) as dst,
        ):
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            return facts(dst)
    except sqlite3.Error as error:
        raise BackupError(f"SQLite could not copy the database: {error}") from None


def facts(conn: sqlite3.Connection) -> tuple[str | None, dict[str, int]]:
    """The migration revision and the rows of every table of one SQLite database."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    counts = {
        name: conn.execute(
            f'SELECT count(*) FROM "{name.replace(chr(34), chr(34) * 2)}"'
        ).fetchone()[0]
        for name in names
    }
    revision = None
    if "alembic_version" in counts:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    return revision, counts


def dump_counts(copy: Path, manifest: dict[str, Any]) -> dict[str, int]:
    try:
        with closing(sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)) as conn:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError("The database copy in the archive is damaged.")
            revision, counts = facts(conn)
    except sqlite3.Error:
        raise BackupError(
            "The database copy in the archive is not a readable SQLite file."
        ) from None
    if revision != manifest["revision"]:
        raise BackupError("The database copy's migration revision differs from the manifest.")
    return counts


def restore(copy: Path, target: Path) -> None:
    """Copy the archive's database over the live one with the backup API: one write
    transaction, so other connections see either the old content or the new."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            closing(sqlite3.connect(copy)) as src,
            closing(sqlite3.connect(target, timeout=30)) as dst,
        ):
            src.backup(dst)
    except sqlite3.Error as error:
        raise BackupError(
            f"SQLite could not replace the database, nothing changed: {error}"
        ) from None
