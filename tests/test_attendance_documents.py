"""The daftar hadir PDF of a session (filled and blank) and the attendance export (XLSX): what is
printed and what is not, masked numbers, the signer block and page numbers, signatures drawn as
vectors, rows in one query whatever their number, and who may fetch them."""

from __future__ import annotations

import io
import os
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from kim_app.attendance.models import Attendance, Method, Presence
from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.events.models import Event, EventStatus, Registration, Source
from kim_app.extensions import db
from kim_app.timezones import utcnow
from tests.budget import counted_queries
from tests.conftest import PPU
from tests.helpers import (
    MANAGERS,
    ROLE_SCOPES,
    SIGNATURE,
    SIGNER,
    pdf_pages,
    pdf_text,
    prepared,
    strokes,
)
from tests.scenes import attendance_scene, phone_number

SCOPE_CHECKED = {"attendance.list_pdf", "attendance.blank_pdf", "attendance.export"}
NOT_PAGES = {"attendance.list_pdf", "attendance.blank_pdf", "attendance.export"}

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def masked(i: int) -> str:
    return f"0812-****-{i:04d}"


@pytest.fixture
def scene(app, make_event, make_kim, make_user, login):
    data = attendance_scene(app, make_event, make_kim, make_user, **SIGNER)
    login(data["operator"])
    return data


def keep(name: str, data: bytes) -> None:
    """Write the file for a look when KIM_KEEP_PDF names a folder."""
    folder = os.environ.get("KIM_KEEP_PDF")
    if folder:
        with open(os.path.join(folder, name), "wb") as out:
            out.write(data)


# --- the filled list ------------------------------------------------------------------------------


def test_filled_list_prints_hadir_with_signature_and_reasons(client, scene):
    """Hadir (sorted), then izin/sakit with their reason; alpa, belum and cancelled absent;
    masked numbers only; the counts line, signer block and page numbers; one signature drawn."""
    s1, _s2 = scene["sessions"]
    event = scene["event"]
    response = client.get(f"/absensi/sesi/{s1}/daftar-hadir.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="daftar-hadir-{event.code}-sesi-1.pdf"'
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    keep("daftar-hadir.pdf", response.data)
    text = pdf_text(response.data)
    assert "DAFTAR HADIR" in text and event.title in text and "Sesi 1.1" in text
    assert "WITA" in text and "Aula Kantor Bupati" in text and "Diskominfo PPU" in text
    assert (
        "Hadir 2 · Izin 1 · Sakit 1 · Alpa 1 · Belum 2 dari 7 peserta terdaftar" in text
    )  # Gita's registration is cancelled: not counted
    assert text.index("Ani Lestari") < text.index("Budi Lestari")
    assert "KIM Sebakung Maju" in text
    assert "Tidak hadir dengan keterangan" in text
    excused = text[text.index("Tidak hadir dengan keterangan") :]
    assert "Citra Lestari" in excused and "Izin" in excused
    assert "Dedi Lestari" in excused and "Sakit" in excused
    for absent in ("Eko Lestari", "Fajar Lestari", "Gita Lestari", "Hana Lestari"):
        assert absent not in text
    assert "alpa atau belum ditandai tidak dicantumkan" in text
    assert masked(1) in text and masked(2) in text
    assert phone_number(1) not in text and "081211110001" not in text
    assert "Penajam Paser Utara," in text
    for value in SIGNER.values():
        assert value in text
    assert "Halaman 1 dari 1" in text
    assert strokes(response.data) == 1  # Ani's signature; Budi signs by hand


def test_without_signer_the_block_leaves_lines_and_no_signature_means_no_drawing(
    app, client, make_event, make_kim, make_user, login
):
    """No official set: dotted lines to fill by hand; a list without captured signatures has
    no signature drawing at all."""
    data = attendance_scene(app, make_event, make_kim, make_user)
    with app.app_context():
        db.session.execute(sa.update(Attendance).values(signature=None))
        db.session.commit()
    login(data["operator"])
    response = client.get(f"/absensi/sesi/{data['sessions'][0]}/daftar-hadir.pdf")
    text = pdf_text(response.data)
    assert "NIP. ……" in text and "Drs." not in text
    assert strokes(response.data) == 0


def test_many_people_span_pages_with_the_header_repeated(app, client, scene):
    """120 hadir: several pages numbered "Halaman X dari Y", the table header on every page
    (over 100 people, the list is made by the worker)."""
    s1, _s2 = scene["sessions"]
    add_people(app, scene["event"].id, 120, mark_session=s1)
    response = prepared(app, client, f"/absensi/sesi/{s1}/daftar-hadir.pdf")
    keep("daftar-hadir-120.pdf", response.data)
    pages = pdf_pages(response.data)
    assert len(pages) >= 4
    for n, page in enumerate(pages, 1):
        text = " ".join(page.extract_text().split())
        assert f"Halaman {n} dari {len(pages)}" in text
        if "Tidak hadir dengan keterangan" not in text or n == 1:
            assert "No. Nama KIM/Instansi Jabatan L/P No. HP Tanda tangan" in text


def add_people(app, event_id: int, n: int, *, mark_session: int | None = None) -> None:
    """``n`` more registered people in bulk, each marked hadir in ``mark_session`` if given."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        start = db.session.scalar(sa.select(sa.func.count()).select_from(Registration))
        rows = [
            {
                "event_id": event_id,
                "name": f"Peserta Massal {i:03d}",
                "institution": "Desa Uji",
                "position": "Anggota",
                "phone": f"+62813{i:08d}",
                "source": Source.MANDIRI,
                "status": "terdaftar",
                "ticket": f"tiketmassal{event_id:04d}{i:06d}",
                "checkin_code": f"{i:08d}".translate(str.maketrans("01", "XY")),
            }
            for i in range(start, start + n)
        ]
        db.session.execute(sa.insert(Registration), rows)
        if mark_session:
            ids = db.session.scalars(
                sa.select(Registration.id).where(Registration.name.in_([r["name"] for r in rows]))
            ).all()
            db.session.execute(
                sa.insert(Attendance),
                [
                    {
                        "registration_id": rid,
                        "session_id": mark_session,
                        "status": Presence.HADIR,
                        "method": Method.ROLL_CALL,
                        "marked_at": utcnow(),
                        "signature": SIGNATURE,
                    }
                    for rid in ids
                ],
            )
        event.registered_count += n
        db.session.commit()


def test_rows_come_in_one_query_whatever_their_number(app, client, scene):
    """5 or 90 more people (both made at once): the same statements, one of them reading the
    registrations (beside the count that decides whether the list is made at once)."""
    s1, _s2 = scene["sessions"]
    counts = []
    for n in (5, 85):
        add_people(app, scene["event"].id, n, mark_session=s1)
        for path in (
            f"/absensi/sesi/{s1}/daftar-hadir.pdf",
            f"/absensi/sesi/{s1}/daftar-hadir-kosong.pdf",
        ):
            with counted_queries(app) as statements:
                assert client.get(path).status_code == 200
            reading = [
                s for s in statements if "FROM registrations" in s and "count(*)" not in s.lower()
            ]
            assert len(reading) == 1, reading
            counts.append(len(statements))
        with app.app_context():
            db.session.execute(sa.delete(Attendance).where(Attendance.signature == SIGNATURE))
            db.session.execute(
                sa.delete(Registration).where(Registration.name.like("Peserta Massal%"))
            )
            db.session.commit()
    print(f"daftar hadir / blank queries for 5 and 90: {counts}")
    assert counts[0] == counts[2] and counts[1] == counts[3]


# --- the blank list ---------------------------------------------------------------------------------


def test_blank_list_has_every_registered_person_and_empty_rows(client, scene):
    """Every terdaftar person (cancelled not) with masked numbers, no statuses or signatures,
    then 15 numbered empty rows."""
    _s1, s2 = scene["sessions"]
    event = scene["event"]
    response = client.get(f"/absensi/sesi/{s2}/daftar-hadir-kosong.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="daftar-hadir-kosong-{event.code}-sesi-2.pdf"'
    )
    keep("daftar-hadir-kosong.pdf", response.data)
    text = pdf_text(response.data)
    names = ["Ani", "Budi", "Citra", "Dedi", "Eko", "Fajar", "Hana"]
    positions = [text.index(f"{name} Lestari") for name in names]
    assert positions == sorted(positions)
    assert "Gita Lestari" not in text
    for i in (1, 2, 3, 4, 5, 6, 8):
        assert masked(i) in text and phone_number(i) not in text
    assert "Sesi 1.2" in text and "Hadir" not in text and "Izin" not in text
    for n in range(8, 23):  # 7 people, then rows 8–22
        assert re.search(rf"\b{n}\b", text)
    rows = text.split("Tanda tangan", 1)[1].split("Halaman")[0].split("Dicetak")[0]
    assert not re.search(r"\b23\b", rows)  # (the printing time, e.g. 12.23, is not a row)
    assert strokes(response.data) == 0
    assert "Halaman 1 dari" in text


# --- the export -------------------------------------------------------------------------------------


def test_export_has_a_row_per_person_and_session_and_every_mark(app, client, scene):
    """Kehadiran: 7 people × 2 sessions with status, method and recorder; Riwayat: every mark,
    the one that lost marked as overridden; no phone number anywhere; the export is audited."""
    event = scene["event"]
    response = client.get(f"/absensi/kegiatan/{event.id}/kehadiran.xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX_TYPE
    assert re.fullmatch(
        rf'attachment; filename="kehadiran-{event.code}-\d{{4}}-\d\d-\d\d\.xlsx"',
        response.headers["Content-Disposition"],
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    keep("kehadiran.xlsx", response.data)
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Kehadiran", "Riwayat"]
    rows = list(book["Kehadiran"].iter_rows(values_only=True))
    assert rows[0] == (
        "Nama",
        "KIM/Instansi",
        "Jabatan",
        "L/P",
        "Sesi",
        "Status",
        "Waktu",
        "Cara",
        "Dicatat oleh",
        "Tanda tangan",
    )
    body = rows[1:]
    assert len(body) == 14
    by_key = {(r[0], r[4].split(":")[0]): r for r in body}
    ani1, ani2 = by_key[("Ani Lestari", "Sesi 1")], by_key[("Ani Lestari", "Sesi 2")]
    assert ani1[1:4] == ("KIM Sebakung Maju", "Ketua", "P")
    assert ani1[5:] == ("Hadir", ani1[6], "Daftar panggil", "Rina Operator", "ada")
    assert ani1[6].endswith("WITA")
    assert ani2[5:6] + ani2[7:] == ("Hadir", "Pindai tiket", "Tono Petugas", "tidak")
    assert by_key[("Budi Lestari", "Sesi 1")][5] == "Hadir"
    assert by_key[("Budi Lestari", "Sesi 1")][8] == "Tono Petugas"
    citra2 = by_key[("Citra Lestari", "Sesi 2")]
    assert citra2[5:] == ("Hadir", citra2[6], "Presensi mandiri", "Peserta sendiri", "tidak")
    assert [
        by_key[(f"{n} Lestari", "Sesi 1")][5] for n in ("Citra", "Dedi", "Eko", "Fajar", "Hana")
    ] == [
        "Izin",
        "Sakit",
        "Alpa",
        "Belum",
        "Belum",
    ]
    assert by_key[("Fajar Lestari", "Sesi 1")][6:9] == (None, None, None)  # empty cells
    assert not any(r[0] == "Gita Lestari" for r in body)
    history = list(book["Riwayat"].iter_rows(values_only=True))
    assert history[0] == ("Waktu", "Nama", "Sesi", "Status", "Cara", "Dicatat oleh", "Diterapkan")
    assert len(history) - 1 == 11  # every mark, Gita's and the undone ones included
    lost = [r for r in history[1:] if r[6] != "ya"]
    assert [(r[1], r[3], r[6]) for r in lost] == [
        ("Budi Lestari", "Alpa", "tidak — ditimpa tanda yang lebih baru")
    ]
    cells = " ".join(
        str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row
    )
    assert "0812" not in cells and "+62" not in cells
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "attendance.export")
        ).one()
        assert entry.object_id == str(event.id) and entry.changes == {"rows": 14, "marks": 11}


def test_export_queries_do_not_grow_with_people(app, client, scene):
    """5 or 120 more people: the same number of statements."""
    event = scene["event"]
    counts = []
    for n in (5, 115):
        add_people(app, event.id, n, mark_session=scene["sessions"][0])
        with counted_queries(app) as statements:
            assert client.get(f"/absensi/kegiatan/{event.id}/kehadiran.xlsx").status_code == 200
        counts.append(len(statements))
    print(f"export queries for 5 and 120: {counts}")
    assert counts[0] == counts[1]


# --- access -----------------------------------------------------------------------------------------


def first_session(app, event_id: int) -> int:
    with app.app_context():
        return db.session.get(Event, event_id).sessions[0].id


def paths(event_id: int, session_id: int) -> list[str]:
    return [
        f"/absensi/sesi/{session_id}/daftar-hadir.pdf",
        f"/absensi/sesi/{session_id}/daftar-hadir-kosong.pdf",
        f"/absensi/kegiatan/{event_id}/kehadiran.xlsx",
    ]


@pytest.mark.parametrize("role", list(ROLE_SCOPES), ids=lambda r: r.value)
def test_documents_scope_matrix(app, client, make_user, login, make_event, role):
    """Managers of the event get the files (404 outside their scope); village heads, pengurus
    and the event's own petugas absensi get 403."""
    inside = make_event(region="35.14" if role is Role.OPERATOR_PROVINSI else PPU)
    outside = make_event(region="32.10")
    actor = make_user(
        role,
        ROLE_SCOPES[role],
        event_id=inside.id if role is Role.PETUGAS_ABSENSI else None,
    )
    login(actor)
    for event, is_inside in ((inside, True), (outside, False)):
        for path in paths(event.id, first_session(app, event.id)):
            if role not in MANAGERS:
                expected = 403
            elif is_inside or role is Role.ADMIN:
                expected = 200
            else:
                expected = 404
            assert client.get(path).status_code == expected, (role, path, is_inside)


def test_unknown_ids_are_404_and_visitors_sign_in(app, client, make_user, login, make_event):
    """A session or event that does not exist is a 404; a visitor is sent to sign in."""
    event = make_event(status=EventStatus.DRAFT)
    session_id = first_session(app, event.id)
    for path in paths(event.id, session_id):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(make_user(Role.ADMIN))
    for path in paths(987654321, 987654321) + paths(2**63 + 5, 2**63 + 5):
        assert client.get(path).status_code == 404
    for path in paths(event.id, session_id):  # a draft can be printed too
        assert client.get(path).status_code == 200
