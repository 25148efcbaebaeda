"""Backup and restore: the database and the upload folder in one archive, checked both ways.

An archive is a gzip-compressed tar holding nothing but

- ``database.sqlite3`` (a copy made with SQLite's online backup API) or ``database.dump``
  (``pg_dump --format=custom``): one consistent snapshot, taken while the app may be writing;
- ``uploads/<path>``: every file of ``KIM_UPLOAD_FOLDER``;
- ``manifest.json`` (last, since it holds the checksums of the others): when, which migration
  revision, which database, the rows of every table in that snapshot, size and sha256 of every
  other member.

Restore trusts nothing in the archive. Members must be regular files with one of the names
above (no absolute paths, no ``..``, no links or devices); they are unpacked under names of our
own, and every checksum and the dump's own row counts must match the manifest before the
database or the upload folder is touched. Afterwards the live row counts and files are checked
against the manifest once more. The checksums catch damage and mix-ups, not a forger: whoever
may run a restore already holds the database.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app

from kim_app.extensions import db

FORMAT = "kim-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
UPLOADS = "uploads/"
MANIFEST_MAX_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024
SHA256 = re.compile(r"[0-9a-f]{64}")
# a COPY header in pg_restore's plain output: ``COPY public.users (id, ...) FROM stdin;``
COPY_HEADER = re.compile(rb'^COPY (?:(?:"[^"]+"|\w+)\.)?("[^"]+"|\w+) ')


class BackupError(Exception):
    """A backup or restore that cannot go ahead, or did not check out; the message says why."""


@dataclass(frozen=True)
class Summary:
    """What an archive holds, for the command line (counts only, nothing personal)."""

    path: Path
    database: str
    revision: str | None
    created_at: str
    tables: int
    rows: int
    files: int
    size: int


# --- backup ---------------------------------------------------------------------------------------


def backup(path: Path) -> Summary:
    """Write the configured database and upload folder to one archive at ``path`` (a new file,
    or a folder to put ``kim-backup-<time>.tar.gz`` in). Nothing is left behind on failure."""
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    kind = database_kind(uri)
    target = _new_archive_path(Path(path))
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    with tempfile.TemporaryDirectory(prefix="kim-backup-") as tmp:
        dump = Path(tmp) / DUMP_NAMES[kind]
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        if kind == "sqlite":
            revision, tables = _sqlite_snapshot(_sqlite_file(uri), dump)
        else:
            with _reaching_database():
                revision, tables = _postgres_snapshot(uri, dump)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": created_at,
            "revision": revision,
            "database": kind,
            "tables": tables,
            "files": {},
        }
        try:
            with (
                _private_file(partial) as out,
                tarfile.open(fileobj=out, mode="w:gz", compresslevel=6) as tar,
            ):
                manifest["files"][dump.name] = _add_file(tar, dump.name, dump)
                if manifest["files"][dump.name] is None:
                    raise BackupError("The database copy vanished before it was archived.")
                for rel, file in upload_files(_upload_root()).items():
                    if not safe_relative_path(rel):
                        raise BackupError(f"The upload {rel!r} has a name a restore would refuse.")
                    facts = _add_file(tar, UPLOADS + rel, file)
                    if facts is not None:  # None: removed while the backup ran
                        manifest["files"][UPLOADS + rel] = facts
                body = json.dumps(manifest, indent=1, sort_keys=True).encode()
                _add_bytes(tar, MANIFEST, body)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return _summary(manifest, target)


def _new_archive_path(path: Path) -> Path:
    if path.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = path / f"kim-backup-{stamp}.tar.gz"
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new name.")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    if path.parent.resolve().is_relative_to(_upload_root().resolve()):
        raise BackupError("An archive inside the upload folder would hold itself; choose another.")
    return path


@contextmanager
def _private_file(path: Path) -> Iterator[IO[bytes]]:
    """A new file only its owner may read: the archive holds personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        yield handle


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(datetime.now(UTC).timestamp())
    return info


def _add_file(tar: tarfile.TarFile, name: str, file: Path) -> dict[str, Any] | None:
    """Add one file, hashing it as it is read; None when it disappeared before it was opened."""
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        return None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        reader = _HashingReader(handle)
        tar.addfile(_tar_info(name, size), reader)
    return {"sha256": reader.digest.hexdigest(), "size": size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_tar_info(name, len(data)), io.BytesIO(data))


class _HashingReader:
    """A file wrapper that feeds every byte read into a sha256."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def upload_files(root: Path) -> dict[str, Path]:
    """Every regular file under ``root`` by its relative path (``sk/ab12.pdf``); links skipped."""
    found: dict[str, Path] = {}
    if not root.is_dir():
        return found
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(folder, d)))
        for name in sorted(names):
            file = Path(folder) / name
            if file.is_file() and not file.is_symlink():
                found[file.relative_to(root).as_posix()] = file
    return found


def _upload_root() -> Path:
    return Path(current_app.config["KIM_UPLOAD_FOLDER"])


# --- the databases --------------------------------------------------------------------------------


def database_kind(uri: str) -> str:
    kind = sa.engine.make_url(uri).get_backend_name()
    if kind not in DUMP_NAMES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {kind}.")
    return kind


def _sqlite_file(uri: str) -> Path:
    name = sa.engine.make_url(uri).database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError("The SQLite database is not a plain file; there is nothing to back up.")
    return Path(name)


def _sqlite_snapshot(source: Path, copy: Path) -> tuple[str | None, dict[str, int]]:
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
            return _sqlite_facts(dst)
    except sqlite3.Error as error:
        raise BackupError(f"SQLite could not copy the database: {error}") from None


def _sqlite_facts(conn: sqlite3.Connection) -> tuple[str | None, dict[str, int]]:
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


def _live_counts(conn: sa.Connection, tables) -> dict[str, int]:
    return {
        name: conn.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) for name in tables
    }


def _postgres_snapshot(uri: str, dump: Path) -> tuple[str | None, dict[str, int]]:
    """``pg_dump`` inside a snapshot exported from a read-only transaction, so the row counts
    written to the manifest are those of the very moment the dump holds."""
    pg_dump = _pg_tool("pg_dump")
    client = _client_version(pg_dump)
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with db.engine.connect().execution_options(**options) as conn:
        check_client_version(int(conn.scalar(sa.text("SHOW server_version_num"))), client)
        snapshot = conn.scalar(sa.text("SELECT pg_export_snapshot()"))
        tables = sorted(sa.inspect(conn).get_table_names())
        counts = _live_counts(conn, tables)
        revision = None
        if "alembic_version" in counts:
            revision = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
        _run(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={dump}",
                f"--dbname={_conninfo(uri)}",
            ],
            uri,
            "pg_dump failed",
        )
    return revision, counts


@contextmanager
def _reaching_database() -> Iterator[None]:
    """A database that cannot be reached is a clear message, not a traceback."""
    try:
        yield
    except sa.exc.OperationalError as error:
        raise BackupError(f"Cannot use the database: {error.orig}") from None


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found; install Debian's postgresql-client.")
    return found


def _client_version(tool: str) -> str:
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


def _conninfo(uri: str) -> str:
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


# --- restore --------------------------------------------------------------------------------------


@dataclass
class _Unpacked:
    manifest: dict[str, Any]
    files: dict[str, Path]


def restore(path: Path, confirm: Callable[[Summary], bool] | None = None) -> Summary | None:
    """Check the archive at ``path`` through and through, then (when ``confirm`` agrees, given
    the summary) replace the database content and the upload folder with it and check the
    result. Returns the summary, or None when ``confirm`` declined and nothing changed."""
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    kind = database_kind(uri)
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="kim-restore-") as tmp:
        unpacked = _unpack(path, Path(tmp))
        manifest = unpacked.manifest
        _check_fits(manifest, kind)
        _check_checksums(manifest, unpacked.files)
        dump = unpacked.files[DUMP_NAMES[kind]]
        found = _sqlite_dump_counts(dump, manifest) if kind == "sqlite" else _pg_dump_counts(dump)
        _compare_counts(manifest["tables"], found, "The database copy in the archive")
        summary = _summary(manifest, path)
        if confirm is not None and not confirm(summary):
            return None
        db.session.remove()
        db.engine.dispose()
        if kind == "sqlite":
            _sqlite_restore(dump, _sqlite_file(uri))
        else:
            _pg_restore(uri, dump)
        db.engine.dispose()
        try:
            _place_uploads(manifest, unpacked.files, _upload_root())
        except OSError as error:
            raise BackupError(
                f"The database was restored, but the upload folder could not be: {error}"
            ) from None
    with _reaching_database():
        _verify_live(manifest)
    return summary


def _unpack(path: Path, into: Path) -> _Unpacked:
    """Read every member once, in order: refuse any that is not a regular file with an expected
    name, store the rest under our own names in ``into``, and parse the manifest."""
    files: dict[str, Path] = {}
    manifest = None
    try:
        with tarfile.open(path, mode="r|*") as tar:
            for index, member in enumerate(tar):
                _check_member(member)
                if member.name == MANIFEST:
                    if manifest is not None:
                        raise BackupError("The archive holds two manifests.")
                    if member.size > MANIFEST_MAX_BYTES:
                        raise BackupError("The manifest is implausibly large.")
                    manifest = _parse_manifest(tar.extractfile(member).read())
                    continue
                if member.name in files:
                    raise BackupError(f"The archive holds {member.name!r} twice.")
                staged = into / f"{index:07d}"
                with tar.extractfile(member) as src, staged.open("xb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
                files[member.name] = staged
    except FileNotFoundError:
        raise BackupError(f"{path} does not exist.") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise BackupError(f"{path} could not be read as a KIM backup ({error}).") from None
    if manifest is None:
        raise BackupError(f"{path} is not a KIM backup: it has no {MANIFEST}.")
    return _Unpacked(manifest, files)


def _check_member(member: tarfile.TarInfo) -> None:
    """Member names and types are never trusted: regular files with expected names only."""
    shown = repr(member.name[:120])
    if not member.isreg():
        raise BackupError(f"The archive member {shown} is not a regular file; refused.")
    if not safe_member_name(member.name):
        raise BackupError(f"The archive member {shown} has a name a backup never has; refused.")


def safe_member_name(name: str) -> bool:
    """``manifest.json``, a database file, or ``uploads/`` + a plain relative path."""
    if name == MANIFEST or name in DUMP_NAMES.values():
        return True
    return name.startswith(UPLOADS) and safe_relative_path(name[len(UPLOADS) :])


def safe_relative_path(rel: str) -> bool:
    """A relative path that stays where it is put: no root, no ``..``, no empty or odd parts."""
    if not rel or len(rel) > 1024 or rel.startswith("/"):
        return False
    if any(ch in rel for ch in "\\\x00") or any(ord(ch) < 32 for ch in rel):
        return False
    return all(part not in ("", ".", "..") for part in rel.split("/"))


def _parse_manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BackupError("The manifest is damaged (not JSON).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("This archive is not a KIM backup (its manifest is of another kind).")
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"The backup has format version {manifest.get('version')!r}; "
            f"this KIM reads version {FORMAT_VERSION}."
        )
    tables, files = manifest.get("tables"), manifest.get("files")
    well_formed = (
        manifest.get("database") in DUMP_NAMES
        and isinstance(manifest.get("created_at"), str)
        and isinstance(manifest.get("revision"), str | None)
        and isinstance(tables, dict)
        and all(isinstance(n, str) and _count(c) for n, c in tables.items())
        and isinstance(files, dict)
        and all(safe_member_name(n) and n != MANIFEST and _file_facts(f) for n, f in files.items())
    )
    if not well_formed:
        raise BackupError("The manifest is damaged (fields missing or of the wrong kind).")
    return manifest


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _file_facts(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("sha256"), str)
        and SHA256.fullmatch(value["sha256"]) is not None
        and _count(value.get("size"))
    )


def code_revision() -> str | None:
    """The migration head of this version of the app."""
    from alembic.script import ScriptDirectory

    migrate = current_app.extensions["migrate"]
    config = migrate.migrate.get_config(migrate.directory)
    return ScriptDirectory.from_config(config).get_current_head()


def _check_fits(manifest: dict[str, Any], kind: str) -> None:
    if manifest["database"] != kind:
        raise BackupError(
            f"This backup holds a {manifest['database']} database; this app is configured for "
            f"{kind}. Restore it into a {manifest['database']} database."
        )
    head = code_revision()
    if manifest["revision"] != head:
        raise BackupError(
            f"This backup is at migration revision {manifest['revision']}; this version of KIM "
            f"is at {head}. Restore it with the KIM version that made it, then upgrade."
        )


def _check_checksums(manifest: dict[str, Any], files: dict[str, Path]) -> None:
    listed = manifest["files"]
    if DUMP_NAMES[manifest["database"]] not in listed:
        raise BackupError("The manifest lists no database copy.")
    extra = sorted(set(files) - set(listed))
    missing = sorted(set(listed) - set(files))
    if extra:
        raise BackupError(f"The archive holds {extra[0]!r}, which the manifest does not list.")
    if missing:
        raise BackupError(f"The archive lacks {missing[0]!r}, which the manifest lists.")
    for name, facts in listed.items():
        if _facts_of(files[name]) != facts:
            raise BackupError(f"{name!r} is damaged: its size or sha256 differs from the manifest.")


def _facts_of(file: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return {"sha256": digest.hexdigest(), "size": file.stat().st_size}


def _sqlite_dump_counts(copy: Path, manifest: dict[str, Any]) -> dict[str, int]:
    try:
        with closing(sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)) as conn:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError("The database copy in the archive is damaged.")
            revision, counts = _sqlite_facts(conn)
    except sqlite3.Error:
        raise BackupError(
            "The database copy in the archive is not a readable SQLite file."
        ) from None
    if revision != manifest["revision"]:
        raise BackupError("The database copy's migration revision differs from the manifest.")
    return counts


def _pg_dump_counts(dump: Path) -> dict[str, int]:
    """Rows per table in a custom-format dump, counted from pg_restore's COPY output (one line
    per row; the COPY text format escapes newlines inside values)."""
    pg_restore = _pg_tool("pg_restore")
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


def _compare_counts(expected: dict[str, int], found: dict[str, int], where: str) -> None:
    for name in sorted(set(expected) | set(found)):
        if expected.get(name, 0) != found.get(name, 0):
            raise BackupError(
                f"{where} does not match the manifest: table {name} has "
                f"{found.get(name, 0)} rows, the manifest says {expected.get(name, 0)}."
            )


def _sqlite_restore(copy: Path, target: Path) -> None:
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


def _pg_restore(uri: str, dump: Path) -> None:
    """``pg_restore`` in one transaction: if anything fails, the database is as it was."""
    _run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={_conninfo(uri)}",
            str(dump),
        ],
        uri,
        "pg_restore failed, the database is unchanged",
    )


def _place_uploads(manifest: dict[str, Any], files: dict[str, Path], root: Path) -> None:
    """Make the upload folder hold exactly the archive's files: each written beside its place
    and renamed over it; files the archive does not have are removed."""
    root.mkdir(parents=True, exist_ok=True)
    real_root = root.resolve()
    wanted = {name[len(UPLOADS) :] for name in manifest["files"] if name.startswith(UPLOADS)}
    for rel in sorted(wanted):
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.resolve().is_relative_to(real_root):
            raise BackupError(f"The upload folder has a link at {rel!r}; refused to follow it.")
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.restoring")
        shutil.copyfile(files[UPLOADS + rel], temporary)
        os.replace(temporary, target)
    for rel, file in upload_files(root).items():
        if rel not in wanted:
            file.unlink(missing_ok=True)


def _verify_live(manifest: dict[str, Any]) -> None:
    """After the restore: the live tables and upload files must equal the manifest."""
    with db.engine.connect() as conn:
        found = _live_counts(conn, manifest["tables"])
    _compare_counts(manifest["tables"], found, "The restored database")
    root = _upload_root()
    on_disk = upload_files(root)
    for name, facts in manifest["files"].items():
        if not name.startswith(UPLOADS):
            continue
        file = on_disk.get(name[len(UPLOADS) :])
        if file is None or _facts_of(file) != facts:
            raise BackupError(f"The restored upload {name!r} differs from the manifest.")


def _summary(manifest: dict[str, Any], path: Path) -> Summary:
    return Summary(
        path=path,
        database=manifest["database"],
        revision=manifest["revision"],
        created_at=manifest["created_at"],
        tables=len(manifest["tables"]),
        rows=sum(manifest["tables"].values()),
        files=sum(1 for name in manifest["files"] if name.startswith(UPLOADS)),
        size=path.stat().st_size,
    )
