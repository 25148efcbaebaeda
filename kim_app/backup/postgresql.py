"""The PostgreSQL side of a backup: ``pg_dump``/``pg_restore`` of the matching version with
the connection taken from the app's URI, and the row counts read from a dump."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kim_app.backup.common import BackupError, live_counts
from kim_app.extensions import db

COPY_HEADER = re.compile(rb'^COPY (?:(?:"[^"]+"|\w+)\.)?("[^"]+"|\w+) ')


def snapshot(uri: str, dump: Path) -> tuple[str | None, dict[str, int]]:
    """``pg_dump`` inside a snapshot exported from a read-only transaction, so the row counts
    written to the manifest are those of the very moment the dump holds."""
    pg_dump = tool("pg_dump")
    client = client_version(pg_dump)
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with db.engine.connect().execution_options(**options) as conn:
        check_client_version(int(conn.scalar(sa.text("SHOW server_version_num"))), client)
        snapshot = conn.scalar(sa.text("SELECT pg_export_snapshot()"))
        tables = sorted(sa.inspect(conn).get_table_names())
        counts = live_counts(conn, tables)
        revision = None
        if "alembic_version" in counts:
            revision = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
        _run(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={dump}",
                f"--dbname={conninfo(uri)}",
            ],
            uri,
            "pg_dump failed",
        )
    return revision, counts


@contextmanager
def reaching_database() -> Iterator[None]:
    """A database that cannot be reached is a clear message, not a traceback."""
    try:
        yield
    except sa.exc.OperationalError as error:
        raise BackupError(f"Cannot use the database: {error.orig}") from None


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found; install Debian's postgresql-client.")
    return found


def client_version(tool: str) -> str:
    return subprocess.run(
        [tool, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()


def check_client_version(server_version_num: int, client_version: str) -> None:
    """Refuse, clearly, when the server is newer than ``pg_dump`` (which cannot dump it)."""
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", client_version)
    if not match:
        raise BackupError(f"Cannot tell the version of the PostgreSQL client: {client_version!r}")
    server, client = server_version_num // 10000, int(match.group(1))
    if server > client:
        raise BackupError(
            f"The PostgreSQL server is version {server} but pg_dump is version {client}, "
            "which cannot dump a newer server. Install the postgresql-client package of "
            f"version {server} (or newer) and run the backup again."
        )


def conninfo(uri: str) -> str:
    """A libpq connection string for the URI, without the password (that goes in PGPASSWORD,
    out of sight of ``ps``)."""
    url = sa.engine.make_url(uri)
    params: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "dbname": url.database,
    }
    for key, value in url.query.items():
        params[key] = value[-1] if isinstance(value, tuple) else value
    return " ".join(
        f"{key}={_quote(str(value))}" for key, value in params.items() if value not in (None, "")
    )


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _tool_env(uri: str) -> dict[str, str]:
    env = dict(os.environ)
    password = sa.engine.make_url(uri).password
    if password:
        env["PGPASSWORD"] = str(password)
    return env


def _run(command: list[str], uri: str, failure: str) -> None:
    result = subprocess.run(
        command, env=_tool_env(uri), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = " ".join(result.stderr.strip().splitlines()[-3:])
        raise BackupError(f"{failure}: {detail or 'exit status ' + str(result.returncode)}")


def dump_counts(dump: Path) -> dict[str, int]:
    """Rows per table in a custom-format dump, counted from pg_restore's COPY output (one line
    per row; the COPY text format escapes newlines inside values)."""
    pg_restore = tool("pg_restore")
    counts: dict[str, int] = {}
    current = None
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(
            [pg_restore, "--data-only", "--file=-", str(dump)],
            stdout=subprocess.PIPE,
            stderr=errors,
        ) as proc:
            for line in proc.stdout:
                if current is None:
                    header = COPY_HEADER.match(line)
                    if header:
                        current = header.group(1).strip(b'"').decode()
                        counts[current] = 0
                elif line == b"\\.\n":
                    current = None
                else:
                    counts[current] += 1
        if proc.returncode != 0:
            errors.seek(0)
            detail = " ".join(errors.read().decode(errors="replace").strip().splitlines()[-3:])
            raise BackupError(f"The database dump in the archive is unreadable: {detail}")
    return counts


def restore(uri: str, dump: Path) -> None:
    """``pg_restore`` in one transaction: if anything fails, the database is as it was."""
    _run(
        [
            tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={conninfo(uri)}",
            str(dump),
        ],
        uri,
        "pg_restore failed, the database is unchanged",
    )
