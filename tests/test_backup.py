"""Backup and restore (``flask kim backup`` / ``kim restore``): a round trip brings back every
row and every uploaded file, a snapshot taken while another connection writes agrees with its
manifest, and a crafted, damaged or foreign archive is refused before anything changes.

The archives are made from and restored into the run's own test database (SQLite, or the
PostgreSQL database of ``KIM_TEST_DATABASE_URL``), so each restore leaves it as the test left it
before the backup, regions included; the autouse cleanup then empties it as usual.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import tarfile
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from kim_app.attendance.models import Presence
from kim_app.attendance.operations import mark_attendance
from kim_app.audit import AuditEntry
from kim_app.auth.models import Role, User
from kim_app.backup import BackupError, backup, restore
from kim_app.backup.postgresql import check_client_version
from kim_app.events.models import Event, Source
from kim_app.events.operations import PersonData, register_person
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.uploads import upload_folder
from tests.conftest import PPU_VILLAGE

SK_BYTES = b"%PDF-1.4\n% SK Kepala Desa\n" + bytes(range(256)) * 4
PHOTO_BYTES = b"\x89PNG\r\n\x1a\n" + b"foto dokumentasi" * 50


def table_counts(app) -> dict[str, int]:
    """Rows of every table of the live test database."""
    with app.app_context(), db.engine.connect() as conn:
        return {
            name: conn.scalar(sa.select(sa.func.count()).select_from(sa.table(name)))
            for name in sa.inspect(conn).get_table_names()
        }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def members(archive: Path) -> dict[str, bytes]:
    """Every member of an archive, in order, by name."""
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def write_archive(path: Path, contents: dict[str, bytes], extra=()) -> Path:
    """A tar.gz of regular files ``contents`` (in order), after the raw TarInfos of ``extra``."""
    with tarfile.open(path, "w:gz") as tar:
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isreg() else None)
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def populated(app, make_user, make_kim, make_event):
    """Users, a verified KIM with its SK document in the upload folder, a report photo, and an
    event with three registrations and attendance marks."""
    make_user()
    make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    sk_name = secrets.token_hex(16) + ".pdf"
    with app.app_context():
        sk_file = upload_folder("sk") / sk_name
        sk_file.write_bytes(SK_BYTES)
        photo = upload_folder("laporan") / (secrets.token_hex(16) + ".png")
        photo.write_bytes(PHOTO_BYTES)
    kim = make_kim(sk_file=sk_name, sk_mime="application/pdf", name="KIM Sebakung Maju")
    event_id = make_event().id
    with app.app_context():
        event = db.session.get(Event, event_id)
        people = [
            register_person(event, PersonData(f"Peserta {i}", f"0812{i:08d}"), Source.MANDIRI)[0]
            for i in range(3)
        ]
        mark_attendance(people[0], event.sessions[0], Presence.HADIR, None)
        mark_attendance(people[1], event.sessions[0], Presence.IZIN, None)
        mark_attendance(people[0], event.sessions[1], Presence.HADIR, None)
        db.session.commit()
    return {"kim_id": kim.id, "sk": sk_file, "photo": photo}


def test_round_trip_brings_back_every_row_and_file(
    app, database_url, populated, make_user, tmp_path
):
    """Back up, then change rows, delete rows and replace, remove and add files; the restore
    gives back exactly the backed-up rows per table and the files byte for byte."""
    original = table_counts(app)
    assert original["attendance"] == 3 and original["registrations"] == 3
    assert original["regions"] > 90_000
    sk, photo = populated["sk"], populated["photo"]
    sk_sum, photo_sum = sha256(sk), sha256(photo)
    with app.app_context():
        summary = backup(tmp_path / "kim.tar.gz")
    archive = summary.path
    assert archive.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only
    manifest = json.loads(members(archive)["manifest.json"])
    assert manifest["database"] == sa.engine.make_url(database_url).get_backend_name()
    assert manifest["tables"] == original
    root = Path(app.config["KIM_UPLOAD_FOLDER"])
    sk_entry = manifest["files"]["uploads/" + sk.relative_to(root).as_posix()]
    assert sk_entry == {"sha256": sk_sum, "size": len(SK_BYTES)}
    assert summary.rows == sum(original.values()) and summary.tables == len(original)

    make_user(name="Dibuat Sesudah Cadangan")
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM attendance_marks"))
        db.session.execute(sa.text("DELETE FROM attendance"))
        db.session.execute(sa.text("UPDATE kims SET name = 'Nama Diubah'"))
        db.session.commit()
    sk.unlink()
    photo.write_bytes(b"\x89PNG\r\n\x1a\n tertimpa")
    stray = sk.parent / "tambahan.pdf"
    stray.write_bytes(b"%PDF-1.4 bukan dari cadangan")
    assert table_counts(app) != original

    with app.app_context():
        restored = restore(archive)
        assert db.session.get(Kim, populated["kim_id"]).name == "KIM Sebakung Maju"
    assert restored.rows == summary.rows
    assert table_counts(app) == original == manifest["tables"]
    assert sha256(sk) == sk_sum and sha256(photo) == photo_sum
    assert not stray.exists()


def test_snapshot_taken_while_another_connection_writes_matches_its_manifest(
    app, populated, tmp_path
):
    """A writer keeps inserting audit entries during the backup: the dump and the manifest
    describe the same moment, so the restore's checks before and after pass, and the restored
    log holds exactly the rows the manifest counted."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    writer_engine = sa.create_engine(uri, connect_args={"timeout": 30} if "sqlite" in uri else {})
    started, stop = threading.Event(), threading.Event()
    written = []

    def write() -> None:
        while not stop.is_set():
            with writer_engine.begin() as conn:
                conn.execute(
                    sa.insert(AuditEntry.__table__),
                    {"action": "uji.tulis", "object_type": "uji", "object_id": str(len(written))},
                )
            written.append(1)
            started.set()

    before = table_counts(app)["audit_log"]
    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert started.wait(30)
        with app.app_context():
            summary = backup(tmp_path / "sibuk.tar.gz")
    finally:
        stop.set()
        thread.join()
        writer_engine.dispose()
    manifest = json.loads(members(summary.path)["manifest.json"])
    assert 1 <= manifest["tables"]["audit_log"] - before <= len(written)
    with app.app_context():
        restore(summary.path)
    assert table_counts(app)["audit_log"] == manifest["tables"]["audit_log"]


def _bad_member(kind: str, tmp_path: Path) -> tarfile.TarInfo:
    outside = str(tmp_path / "escape.txt")
    info = tarfile.TarInfo(
        {
            "parent": "../escape.txt",
            "absolute": outside,
            "climb": "uploads/../../escape.txt",
            "backslash": "uploads\\..\\..\\escape.txt",
            "nested": "uploads/sk/../../../escape.txt",
        }.get(kind, f"uploads/sk/{kind}")
    )
    info.size = 4
    if kind == "symlink":
        info.type, info.linkname, info.size = tarfile.SYMTYPE, outside, 0
    elif kind == "hardlink":
        info.type, info.linkname, info.size = tarfile.LNKTYPE, "../../escape.txt", 0
    elif kind == "device":
        info.type, info.devmajor, info.devminor, info.size = tarfile.CHRTYPE, 1, 3, 0
    elif kind == "fifo":
        info.type, info.size = tarfile.FIFOTYPE, 0
    elif kind == "directory":
        info.type, info.size = tarfile.DIRTYPE, 0
    return info


@pytest.mark.parametrize(
    "kind",
    [
        "parent",
        "absolute",
        "climb",
        "backslash",
        "nested",
        "symlink",
        "hardlink",
        "device",
        "fifo",
        "directory",
    ],
)
def test_archive_members_that_point_elsewhere_are_refused(app, make_user, tmp_path, kind):
    """Absolute names, ``..``, backslashes, links, devices, FIFOs and folders inside the archive
    are refused before anything is written: nothing appears outside, nothing changes."""
    user = make_user()
    root = Path(app.config["KIM_UPLOAD_FOLDER"])
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    manifest = {
        "format": "kim-backup",
        "version": 1,
        "created_at": "2026-01-01T00:00:00+00:00",
        "revision": None,
        "database": "sqlite",
        "tables": {},
        "files": {},
    }
    archive = write_archive(
        tmp_path / "jahat.tar.gz",
        {"manifest.json": json.dumps(manifest).encode()},
        extra=[_bad_member(kind, tmp_path)],
    )
    with app.app_context(), pytest.raises(BackupError, match="refused"):
        restore(archive)
    candidates = [tmp_path / "escape.txt", root.parent / "escape.txt", root / "escape.txt"]
    assert not any(p.exists() or p.is_symlink() for p in candidates)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    with app.app_context():
        assert db.session.get(User, user.id) is not None


def test_manifest_naming_a_path_outside_the_upload_folder_is_refused(app, tmp_path):
    """A manifest may not list a file outside ``uploads/`` either (``uploads/../x``)."""
    manifest = {
        "format": "kim-backup",
        "version": 1,
        "created_at": "2026-01-01T00:00:00+00:00",
        "revision": None,
        "database": "sqlite",
        "tables": {},
        "files": {"uploads/../escape.txt": {"sha256": "0" * 64, "size": 1}},
    }
    archive = write_archive(tmp_path / "m.tar.gz", {"manifest.json": json.dumps(manifest).encode()})
    with app.app_context(), pytest.raises(BackupError, match="manifest is damaged"):
        restore(archive)


def _tamperings(contents: dict[str, bytes], sk_member: str):
    """(what, archive contents or raw bytes, expected message) for each way to spoil a backup."""
    manifest = json.loads(contents["manifest.json"])
    dump_name = next(n for n in contents if n.startswith("database."))

    def with_manifest(change) -> dict[str, bytes]:
        spoiled = json.loads(contents["manifest.json"])
        change(spoiled)
        return {**contents, "manifest.json": json.dumps(spoiled).encode()}

    def flip(data: bytes) -> bytes:
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]

    other_kind = "postgresql" if manifest["database"] == "sqlite" else "sqlite"
    yield "upload bytes", {**contents, sk_member: flip(contents[sk_member])}, "damaged"
    yield "dump bytes", {**contents, dump_name: flip(contents[dump_name])}, "damaged"
    yield (
        "upload checksum",
        with_manifest(lambda m: m["files"][sk_member].update(sha256="a" * 64)),
        "damaged",
    )
    yield (
        "row count",
        with_manifest(lambda m: m["tables"].update(users=m["tables"]["users"] + 1)),
        "does not match the manifest",
    )
    yield "unlisted file", {**contents, "uploads/sk/lain.pdf": b"%PDF-1.4"}, "does not list"
    yield (
        "missing file",
        {n: d for n, d in contents.items() if n != sk_member},
        "lacks",
    )
    yield "no manifest", {n: d for n, d in contents.items() if n != "manifest.json"}, "no manifest"
    yield "not JSON", {**contents, "manifest.json": b"{rusak"}, "not JSON"
    yield "foreign", with_manifest(lambda m: m.update(format="lain")), "not a KIM backup"
    yield "newer format", with_manifest(lambda m: m.update(version=2)), "format version"
    yield "revision", with_manifest(lambda m: m.update(revision="0001")), "migration revision"
    yield "database kind", with_manifest(lambda m: m.update(database=other_kind)), "configured"
    yield "not an archive", secrets.token_bytes(4096), "could not be read"


def test_damaged_tampered_or_foreign_archives_change_nothing(app, populated, make_user, tmp_path):
    """Changed bytes, a changed checksum or row count, an unlisted or missing file, no or a
    broken or foreign manifest, another migration revision or database, random bytes, a cut-off
    archive: each is refused with a clear message and the data and files stay as they are."""
    with app.app_context():
        good = backup(tmp_path / "asli.tar.gz").path
    contents = members(good)
    root = Path(app.config["KIM_UPLOAD_FOLDER"])
    sk_member = "uploads/" + populated["sk"].relative_to(root).as_posix()
    later = make_user(name="Dibuat Sesudah Cadangan")
    populated["sk"].write_bytes(b"%PDF-1.4 versi baru")
    counts, files = table_counts(app), {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    cases = list(_tamperings(contents, sk_member))
    raw = good.read_bytes()
    cases.append(("cut off", raw[: len(raw) // 2], "could not be read"))
    for what, spoiled, message in cases:
        archive = tmp_path / f"{what.replace(' ', '-')}.tar.gz"
        if isinstance(spoiled, bytes):
            archive.write_bytes(spoiled)
        else:
            write_archive(archive, spoiled)
        with app.app_context(), pytest.raises(BackupError, match=message):
            restore(archive)
        assert table_counts(app) == counts, what
        assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == files, what
    with app.app_context():
        assert db.session.get(User, later.id) is not None


def test_cli_backup_and_restore(app, populated, make_user, tmp_path):
    """``kim backup DIR`` writes a new archive and prints counts only; ``kim restore`` asks
    first (no: nothing changes), ``--yes`` restores; a bad path or archive exits with 2."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["kim", "backup", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [archive] = tmp_path.glob("kim-backup-*.tar.gz")
    assert f"Backup written to {archive}" in result.output
    assert "tables" in result.output and "uploaded files" in result.output
    for personal in ("Pengguna Uji", "@uji.example", "Peserta", "+62812", "KIM Sebakung"):
        assert personal not in result.output

    again = runner.invoke(args=["kim", "backup", str(archive)])
    assert again.exit_code == 2 and "already exists" in again.output

    later = make_user(name="Dibuat Sesudah Cadangan")
    declined = runner.invoke(args=["kim", "restore", str(archive)], input="n\n")
    assert declined.exit_code == 1 and "Nothing changed" in declined.output
    assert "Backup checked" in declined.output
    with app.app_context():
        assert db.session.get(User, later.id) is not None

    done = runner.invoke(args=["kim", "restore", "--yes", str(archive)])
    assert done.exit_code == 0, done.output
    assert "row counts and file checksums match" in done.output
    with app.app_context():
        assert db.session.get(User, later.id) is None

    junk = tmp_path / "bukan.tar.gz"
    junk.write_bytes(b"bukan arsip")
    stopped = runner.invoke(args=["kim", "restore", "--yes", str(junk)])
    assert stopped.exit_code == 2 and "Restore stopped" in stopped.output


def test_backup_refuses_a_missing_folder_or_the_upload_folder(app, tmp_path):
    """A target in a folder that does not exist, or inside the upload folder (the archive
    would take itself in), is refused; no file is left behind."""
    root = Path(app.config["KIM_UPLOAD_FOLDER"])
    before = sorted(root.rglob("*"))
    with app.app_context():
        with pytest.raises(BackupError, match="does not exist"):
            backup(tmp_path / "tidak-ada" / "kim.tar.gz")
        with pytest.raises(BackupError, match="inside the upload folder"):
            backup(root)
    assert list(tmp_path.iterdir()) == []
    assert sorted(root.rglob("*")) == before


def test_pg_dump_older_than_the_server_is_named_clearly():
    """A server newer than the installed pg_dump is refused with both versions named; the same
    or an older server passes."""
    debian15 = "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
    with pytest.raises(BackupError, match="server is version 17 but pg_dump is version 15"):
        check_client_version(170002, debian15)
    check_client_version(150020, debian15)
    check_client_version(140011, debian15)
