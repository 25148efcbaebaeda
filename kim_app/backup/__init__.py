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
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app

from kim_app.backup import postgresql, sqlite
from kim_app.backup.common import BackupError, live_counts
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
            revision, tables = sqlite.snapshot(sqlite.file_of(uri), dump)
        else:
            with postgresql.reaching_database():
                revision, tables = postgresql.snapshot(uri, dump)
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
        found = (
            sqlite.dump_counts(dump, manifest) if kind == "sqlite" else postgresql.dump_counts(dump)
        )
        _compare_counts(manifest["tables"], found, "The database copy in the archive")
        summary = _summary(manifest, path)
        if confirm is not None and not confirm(summary):
            return None
        db.session.remove()
        db.engine.dispose()
        if kind == "sqlite":
            sqlite.restore(dump, sqlite.file_of(uri))
        else:
            postgresql.restore(uri, dump)
        db.engine.dispose()
        try:
            _place_uploads(manifest, unpacked.files, _upload_root())
        except OSError as error:
            raise BackupError(
                f"The database was restored, but the upload folder could not be: {error}"
            ) from None
    with postgresql.reaching_database():
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


def _compare_counts(expected: dict[str, int], found: dict[str, int], where: str) -> None:
    for name in sorted(set(expected) | set(found)):
        if expected.get(name, 0) != found.get(name, 0):
            raise BackupError(
                f"{where} does not match the manifest: table {name} has "
                f"{found.get(name, 0)} rows, the manifest says {expected.get(name, 0)}."
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
        found = live_counts(conn, manifest["tables"])
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
