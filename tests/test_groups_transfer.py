"""Import of KIM and members from XLSX/CSV (upload, mapping, preview, confirm) and export."""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import time
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from kim_app import importing, tables
from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.groups import import_values
from kim_app.groups.imports import KimImporter, MemberImporter
from kim_app.groups.models import Gender, Kim, KimStatus, KimStatusChange, Member, Position
from kim_app.importing.values import parse_date
from kim_app.regions.models import Region
from kim_app.tables import Table, TableRefused
from tests.budget import counted_queries, page_weight
from tests.conftest import JATIM, MAJALENGKA_VILLAGE, PPU, PPU_VILLAGE, html_of
from tests.helpers import (
    BAD_ROWS,
    KIM_HEADER,
    csv_bytes,
    kim_import_token,
    kim_rows,
    mapping_fields,
    run_jobs,
    upload_kims,
    xlsx_bytes,
)
from tests.scenes import ppu_villages

BUDGET = 14 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# --- building files -------------------------------------------------------------------------------


# --- driving the pages ---------------------------------------------------------------------------


def confirm(client, token: str, **changes):
    page = html_of(client.get(f"/kim/impor/{token}"))
    fields = mapping_fields(page) | changes | {"aksi": "impor"}
    return client.submit(f"/kim/impor/{token}", fields)


def invalid_rows(html: str) -> dict[int, str]:
    """Row number → reasons, from the preview's list of invalid rows."""
    section = html.split("Baris tidak valid</h2>", 1)
    if len(section) == 1:
        return {}
    listing = section[1].split("</ul>", 1)[0]
    return {
        int(n): reason
        for n, reason in re.findall(
            r"<strong>Baris (\d+)</strong>.*?<span class=\"error\">(.*?)</span>", listing
        )
    }


def counts(html: str) -> tuple[int, int, int, int, int]:
    """(valid, new, updated, unchanged, invalid) as the preview states them."""
    match = re.search(
        r"<strong>(\d+)</strong> baris valid akan diimpor:\s*(\d+) baru, (\d+) sudah ada dan "
        r"diperbarui, (\d+) sudah ada dan tidak berubah\.\s*</li>\s*<li><strong>(\d+)</strong>",
        html,
    )
    assert match, html[:3000]
    return tuple(int(g) for g in match.groups())


@contextmanager
def counted_selects(app):
    """Collect the SELECT statements run while the block runs."""
    with counted_queries(app) as statements:
        selects: list[str] = []
        yield selects
    selects.extend(s for s in statements if s.lstrip().upper().startswith("SELECT"))


def kim_count(app, prefix: str = PPU) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Kim).where(Kim.village_code.startswith(prefix))
        )


# --- the big KIM imports ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_1000_kim_with_10_bad_rows_import_once(app, client, make_user, login, fmt):
    """A 1,000-row registry: the preview names exactly the 10 bad rows with their reasons, confirm
    imports the 990 others (numbered ones verified), and importing the same file again adds nothing."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(operator)
    rows = kim_rows(ppu_villages(app))
    data = xlsx_bytes(KIM_HEADER, rows) if fmt == "xlsx" else csv_bytes(KIM_HEADER, rows)
    token = kim_import_token(upload_kims(client, data, f"registri.{fmt}"))

    started = time.perf_counter()
    with counted_selects(app) as selects:
        response = client.get(f"/kim/impor/{token}")
    print(
        f"preview of 1000 rows ({fmt}): {len(selects)} SELECTs, {time.perf_counter() - started:.2f} s"
    )
    assert response.status_code == 200
    page = html_of(response)
    assert len(selects) <= 12, selects  # constant: no query per row
    assert counts(page) == (990, 990, 0, 0, 10)
    expected = {i + 2: reason for i, (_kind, reason) in BAD_ROWS.items()}  # row 1 is the header
    assert invalid_rows(page) == expected
    weight = page_weight(response)
    print(f"page weight preview of 1000 rows ({fmt}): {weight} bytes gzip")
    assert weight <= BUDGET

    # more than a page's worth of rows: the request hands the import to the worker
    with counted_selects(app) as selects:
        response = confirm(client, token)
    assert response.status_code == 303 and response.headers["Location"].startswith("/berkas/")
    assert len(selects) <= 30, len(selects)
    assert kim_count(app) == 0  # nothing written yet
    status = response.headers["Location"]
    waiting = html_of(client.get(status))
    assert f"<h1>Impor KIM: registri.{fmt}</h1>" in waiting and "Menunggu giliran" in waiting
    assert run_jobs(app) == 1
    done = html_of(client.get(status))
    assert "990 baru, 0 diperbarui, 0 tidak berubah, 10 baris tidak valid" in done
    outcome = client.get(status + "/unduh")
    book = load_workbook(io.BytesIO(outcome.get_data()), read_only=True)
    lines = list(book.active.iter_rows(values_only=True))
    assert lines[0] == ("Baris", "Data", "Tempat", "Hasil", "Keterangan")
    assert len(lines) == 1001
    skipped = {
        line: reason for line, _label, _place, what, reason in lines[1:] if what == "dilewati"
    }
    assert skipped == expected
    assert {what for *_rest, what, _reason in lines[1:]} == {"baru", "dilewati"}
    with app.app_context():
        kims = db.session.scalars(sa.select(Kim).where(Kim.village_code.startswith(PPU))).all()
        assert len(kims) == 990
        numbered = [k for k in kims if k.registration_number]
        assert {k.status for k in numbered} == {KimStatus.TERVERIFIKASI}
        assert {k.status for k in kims if not k.registration_number} == {KimStatus.DRAFT}
        assert len(numbered) == sum(1 for i in range(0, 1000, 5) if i not in BAD_ROWS)
        sample = next(k for k in kims if k.name == "KIM Uji Impor 13")  # given by village name
        assert sample.village.name and sample.address == "Jl. Contoh 13"
        assert [f.field for f in sample.fields] == ["informasi_publik", "literasi_digital"]
        officers = {m.position: m for m in sample.members}
        assert officers[Position.KETUA].phone == "+6281210000013"
        assert officers[Position.BENDAHARA].name == "Bendahara 13"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(KimStatusChange)) == 990
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "kim.import")
        ).one()
        assert entry.changes["created"] == 990 and entry.changes["skipped"] == 10
        assert entry.actor_id == operator.id and entry.region_code == PPU

    again = kim_import_token(upload_kims(client, data, f"registri.{fmt}"))
    page = html_of(client.get(f"/kim/impor/{again}"))
    assert counts(page) == (990, 0, 0, 990, 10)
    assert "sudah ada, tidak berubah" in page
    status = confirm(client, again).headers["Location"]
    assert run_jobs(app) == 1
    assert "0 baru, 0 diperbarui, 990 tidak berubah" in html_of(client.get(status))
    assert kim_count(app) == 990
    with app.app_context():
        bendahara = sum(1 for i in range(1, 1000, 2) if i not in BAD_ROWS)
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(Member)) == 990 * 2 + bendahara
        )


def test_preview_of_the_worst_file_stays_inside_the_budget(app, client, make_user, login):
    """60 columns with long names and 1,000 rows of long random values, every row invalid:
    the preview still fits in 14 KB (values quoted back are cut short, errors are paged)."""
    import random

    chance = random.Random(7)

    def noise(n: int) -> str:
        return "".join(chance.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=n))

    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    known = ["Nama KIM", "Desa", "Kecamatan", "Ketua", "No HP Ketua", "Sekretaris", "WhatsApp"]
    known += ["No HP Sekretaris", "Bendahara", "No HP Bendahara", "Tanggal SK", "Bidang", "Email"]
    header = [f"{name} {noise(40 - len(name))}" for name in known]
    header += [noise(40) for _ in range(60 - len(header))]
    rows = [[noise(110) for _ in known] for _ in range(1000)]
    token = kim_import_token(upload_kims(client, csv_bytes(header, rows), "terburuk.csv"))
    response = client.get(f"/kim/impor/{token}")
    assert counts(html_of(response))[-1] == 1000
    weight = page_weight(response)
    print(f"page weight worst preview: {weight} bytes gzip")
    assert weight <= BUDGET


def test_changed_rows_are_updated_not_duplicated(app, client, make_user, login, make_kim):
    """A KIM already registered (same village, same name) is updated with what the file adds."""
    existing = make_kim(PPU_VILLAGE, status=KimStatus.DRAFT, name="KIM Sebakung Maju", members=0)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    header = ["Nama KIM", "Desa", "Ketua", "WhatsApp", "Alamat"]
    rows = [["kim sebakung  MAJU", PPU_VILLAGE, "Bu Ani", "0812-1111-2222", "Jl. Baru 1"]]
    token = kim_import_token(upload_kims(client, csv_bytes(header, rows, ","), "ubah.csv"))
    assert counts(html_of(client.get(f"/kim/impor/{token}"))) == (1, 0, 1, 0, 0)
    assert confirm(client, token).status_code == 303
    with app.app_context():
        kim = db.session.get(Kim, existing.id)
        assert kim.name == "KIM Sebakung Maju"  # matched by name key, not renamed
        assert (kim.whatsapp, kim.address) == ("+6281211112222", "Jl. Baru 1")
        assert [(m.name, m.position) for m in kim.members] == [("Bu Ani", Position.KETUA)]
        assert kim_count(app) == 1


def test_number_conflicts_and_duplicates_in_the_file(app, client, make_user, login, make_kim):
    """A number used by another KIM, a KIM registered under another number and a repeated row
    are refused with a reason; nothing else is refused."""
    taken = make_kim(MAJALENGKA_VILLAGE, registration_number="REG-LAIN")
    mine = make_kim(PPU_VILLAGE, name="KIM Bernomor", registration_number="REG-1")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    header = ["Nama KIM", "Kode Desa", "No Registrasi", "Ketua"]
    rows = [
        ["KIM Baru Satu", PPU_VILLAGE, taken.registration_number, "A"],
        ["KIM Bernomor", PPU_VILLAGE, "REG-2", "B"],
        ["KIM Baru Dua", PPU_VILLAGE, "", "C"],
        ["KIM  baru dua", PPU_VILLAGE, "", "D"],
        ["KIM", PPU_VILLAGE, "", "E"],
        ["KIM Bernomor Ganti Nama", PPU_VILLAGE, mine.registration_number, "Ketua Lama"],
    ]
    token = kim_import_token(upload_kims(client, csv_bytes(header, rows), "konflik.csv"))
    page = html_of(client.get(f"/kim/impor/{token}"))
    assert invalid_rows(page) == {
        2: "Nomor registrasi REG-LAIN sudah dipakai KIM lain.",
        3: "KIM ini sudah terdaftar dengan nomor REG-1.",
        5: "Sama dengan baris 4.",
        6: "Nama KIM harus memuat nama selain kata KIM.",
    }
    assert counts(page) == (2, 1, 1, 0, 4)
    assert confirm(client, token).status_code == 303
    with app.app_context():
        assert db.session.get(Kim, mine.id).name == "KIM Bernomor Ganti Nama"  # by number
        assert db.session.get(Kim, taken.id).village_code == MAJALENGKA_VILLAGE


def test_village_by_name_needs_the_district_when_ambiguous(app, client, make_user, login):
    """A village name found in several districts is refused until the district is given."""
    login(make_user(Role.ADMIN))
    with app.app_context():
        district = sa.orm.aliased(Region)
        code, district_name = db.session.execute(
            sa.select(Region.code, district.name)
            .join(district, district.code == Region.parent_code)
            .where(Region.name == "Sukamaju")
            .order_by(Region.code)
            .limit(1)
        ).one()
        same_name = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Region)
            .join(district, district.code == Region.parent_code)
            .where(Region.name == "Sukamaju", district.name == district_name)
        )
    header = ["Nama KIM", "Desa", "Kecamatan", "Ketua"]
    rows = [
        ["KIM Sukamaju", "Desa Sukamaju", "", "A"],
        ["KIM Sukamaju", "SUKAMAJU", f"Kec. {district_name}", "B"],
        ["KIM Entah", "Desa Tidak Ada Namanya", "", "C"],
    ]
    token = kim_import_token(upload_kims(client, csv_bytes(header, rows), "nama.csv"))
    errors = invalid_rows(html_of(client.get(f"/kim/impor/{token}")))
    assert errors[2].startswith("Nama desa “Desa Sukamaju” ada di 65 tempat.")
    assert (
        errors[4]
        == "Desa/kelurahan “Desa Tidak Ada Namanya” tidak ditemukan di wilayah kerja Anda."
    )
    if same_name == 1:
        assert 3 not in errors
        assert confirm(client, token).status_code == 303
        with app.app_context():
            assert db.session.scalar(sa.select(Kim.village_code)) == code


def test_missing_required_column_blocks_the_import(app, client, make_user, login):
    """Without a column for a required field the preview asks for it and offers no import."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    token = kim_import_token(
        upload_kims(client, csv_bytes(["Nama KIM", "Catatan"], [["KIM A", "x"]]), "a.csv")
    )
    page = html_of(client.get(f"/kim/impor/{token}"))
    assert "Pilih kolom berkas untuk: Desa/kelurahan (kode atau nama), Nama ketua." in page
    assert 'value="impor"' not in page
    response = client.submit(f"/kim/impor/{token}", mapping_fields(page) | {"aksi": "impor"})
    assert response.status_code == 422
    assert "Tidak ada baris valid yang dapat diimpor" in html_of(response)
    assert client.get(f"/kim/impor/{token}").status_code == 200  # the upload is still there


def test_changing_the_mapping_rerenders_the_result_both_ways(
    app, client, make_user, login, partial_headers
):
    """htmx gets only #hasil; a plain post gets the whole page; the choice is remembered."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    header = ["Nama", "Desa", "Ketua", "Ketua cadangan"]
    rows = [["KIM A", PPU_VILLAGE, "", "Pak B"]]
    token = kim_import_token(upload_kims(client, csv_bytes(header, rows), "a.csv"))
    page = html_of(client.get(f"/kim/impor/{token}"))
    assert mapping_fields(page)["kolom_ketua_name"] == "2"
    assert "Nama ketua kosong." in page
    fields = mapping_fields(page) | {"kolom_ketua_name": "3"}
    token_value = client.token(f"/kim/impor/{token}")
    fragment = client.post(
        f"/kim/impor/{token}", data=fields | {"csrf_token": token_value}, headers=partial_headers
    )
    assert fragment.status_code == 200
    body = html_of(fragment)
    assert "<html" not in body and body.lstrip().startswith('<section id="hasil"')
    assert "Nama ketua kosong." not in body and "Impor 1 baris valid" in body
    assert len(gzip.compress(fragment.data)) <= 2048
    full = client.post(
        f"/kim/impor/{token}",
        data=fields | {"csrf_token": token_value, "aksi": "pratinjau"},
    )
    assert full.status_code == 200 and "<html" in html_of(full)
    assert mapping_fields(html_of(client.get(f"/kim/impor/{token}")))["kolom_ketua_name"] == "3"


def test_errors_are_paged(app, client, make_user, login, partial_headers):
    """More than 25 invalid rows: 25 per page, a later page as a fragment for htmx."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    rows = [[f"KIM {i}", "64.09.99.2999", "Ketua"] for i in range(60)]
    token = kim_import_token(
        upload_kims(client, csv_bytes(["Nama KIM", "Desa", "Ketua"], rows), "a.csv")
    )
    first = html_of(client.get(f"/kim/impor/{token}"))
    assert len(invalid_rows(first)) == 25 and "Halaman 1 dari 3" in first
    third = client.get(f"/kim/impor/{token}?halaman=3", headers=partial_headers)
    assert "<html" not in html_of(third)
    assert sorted(invalid_rows(html_of(third))) == list(range(52, 62))


def test_cancel_deletes_the_upload(app, client, make_user, login):
    """ "Batalkan" removes the waiting file; its page then answers 404."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    token = kim_import_token(upload_kims(client, csv_bytes(["Nama KIM"], [["A"]]), "a.csv"))
    response = client.submit(f"/kim/impor/{token}", {"aksi": "batal"})
    assert response.status_code == 303
    assert client.get(f"/kim/impor/{token}").status_code == 404
    folder = app.config["KIM_UPLOAD_FOLDER"]
    assert not [p for p in os.listdir(os.path.join(folder, "impor")) if p.startswith(token)]


def test_uploads_of_others_expired_or_malformed_tokens_are_404(app, client, make_user, login):
    """Only the uploader sees an upload, only for 24 hours; odd tokens never touch the disk."""
    owner = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(owner)
    token = kim_import_token(upload_kims(client, csv_bytes(["Nama KIM"], [["A"]]), "a.csv"))
    other = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(other)
    response = client.get(f"/kim/impor/{token}")
    assert response.status_code == 404 and "diunggah oleh akun lain" in html_of(response)
    for odd in ("..%2F..%2Fsecret_key", "a" * 21, "x" * 22 + ".json"):
        assert client.get(f"/kim/impor/{odd}").status_code == 404
    login(owner)
    path = os.path.join(app.config["KIM_UPLOAD_FOLDER"], "impor", f"{token}.json")
    old = time.time() - 25 * 3600
    os.utime(path, (old, old))
    assert client.get(f"/kim/impor/{token}").status_code == 404
    assert not os.path.exists(path)


# --- members ------------------------------------------------------------------------------------------


def test_members_import(app, client, make_user, login, make_kim):
    """Members by KIM number or KIM name + village; bad rows explained; known members updated,
    not duplicated; a second import changes nothing."""
    kim = make_kim(PPU_VILLAGE, name="KIM Sebakung", registration_number="REG-A", members=1)
    draft = make_kim(PPU_VILLAGE, status=KimStatus.DRAFT, name="KIM Draf Desa", members=0)
    far = make_kim(MAJALENGKA_VILLAGE, registration_number="REG-JAUH")
    with app.app_context():
        known_phone = db.session.scalar(sa.select(Member.phone).where(Member.kim_id == kim.id))
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    header = ["No Registrasi KIM", "Nama KIM", "Desa", "Nama", "Jabatan", "JK", "No HP", "Email"]
    rows = [
        ["REG-A", "", "", "Siti", "Anggota", "P", "0812-5555-0001", "siti@contoh.id"],
        ["REG-A", "", "", "Budi", "wakil ketua", "L", "", ""],
        ["", "KIM Draf Desa", "Desa Sebakung Jaya", "Rina", "", "perempuan", "", ""],
        ["REG-A", "", "", "Nama Baru", "Sekretaris", "", known_phone, ""],
        ["REG-A", "", "", "Tono", "Juru masak", "X", "123", "bukan-email"],
        [far.registration_number, "", "", "Jauh", "", "", "", ""],
        ["", "KIM Tidak Ada", PPU_VILLAGE, "Ujang", "", "", "", ""],
        ["REG-A", "", "", "Siti Lagi", "", "", "081255550001", ""],
        ["", "", "", "Tanpa KIM", "", "", "", ""],
    ]
    token = kim_import_token(
        upload_kims(client, xlsx_bytes(header, rows), "anggota.xlsx", "anggota")
    )
    page = html_of(client.get(f"/kim/impor/{token}"))
    assert invalid_rows(page) == {
        6: "Jabatan tidak dikenal: Juru masak. Jenis kelamin tidak dikenal: X (isi L atau P). "
        "Email tidak valid: bukan-email. No HP tidak valid: 123.",
        7: "KIM nomor REG-JAUH tidak ditemukan di wilayah kerja Anda.",
        8: "KIM “KIM Tidak Ada” tidak ditemukan di desa itu.",
        9: "Sama dengan baris 2.",
        10: "Isi nomor registrasi KIM, atau nama KIM dan desanya.",
    }
    assert counts(page) == (4, 3, 1, 0, 5)
    assert confirm(client, token).status_code == 303
    with app.app_context():
        members = {
            m.name: m for m in db.session.scalars(sa.select(Member).where(Member.kim_id == kim.id))
        }
        assert set(members) == {"Siti", "Budi", "Nama Baru"}
        assert members["Nama Baru"].position is Position.SEKRETARIS  # matched by phone
        assert members["Budi"].position is Position.WAKIL_KETUA
        assert members["Siti"].gender is Gender.P and members["Siti"].email == "siti@contoh.id"
        rina = db.session.scalars(sa.select(Member).where(Member.kim_id == draft.id)).one()
        assert (rina.name, rina.position, rina.gender) == ("Rina", Position.ANGGOTA, Gender.P)
        assert db.session.scalars(
            sa.select(AuditEntry.changes).where(AuditEntry.action == "member.import")
        ).one() == {
            "file": "anggota.xlsx",
            "created": 3,
            "updated": 1,
            "unchanged": 0,
            "skipped": 5,
        }
    again = kim_import_token(
        upload_kims(client, xlsx_bytes(header, rows), "anggota.xlsx", "anggota")
    )
    assert counts(html_of(client.get(f"/kim/impor/{again}"))) == (4, 0, 0, 4, 5)


# --- bad files --------------------------------------------------------------------------------------


def test_oversize_upload_gets_the_413_page_stating_5_mb(client, make_user, login):
    """A body over 5 MB is refused before it is read, with the limit on the page."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = upload_kims(client, b"a;b\n" * (5 * 1024 * 1024 // 4 + 8000), "besar.csv")
    assert response.status_code == 413
    assert "melebihi batas 5 MB" in html_of(response)


def test_file_just_over_5_mb_inside_the_request_limit_is_refused(client, make_user, login):
    """The file itself may not pass 5 MB even when the whole request does not reach the limit."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = upload_kims(client, b"a" * (5 * 1024 * 1024 + 10), "besar.csv")
    assert response.status_code == 422
    assert "Berkas paling besar 5 MB." in html_of(response)


OTHER_FILES = {
    "program.xlsx": (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4, "bukan workbook Excel"),
    "surat.xlsx": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "bukan workbook Excel"),
    "dokumen.xlsx": (None, "bukan workbook Excel"),  # a zip without a workbook (like .docx)
    "lama.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "Format Excel lama (.xls)"),
    "ansi.csv": ("Nama KIM;Desa\nKIM Désa;x\n".encode("cp1252"), "encoding UTF-8"),
    "rusak.xlsx": (b"PK\x03\x04" + b"\x00" * 100, "bukan workbook Excel"),
    "kosong.csv": (b"", "Berkas kosong."),
    "judul.csv": (b"Nama KIM;Desa\n", "tidak berisi baris data"),
}


@pytest.mark.parametrize("name", list(OTHER_FILES))
def test_files_that_are_not_xlsx_or_csv_get_a_clear_422(client, make_user, login, name):
    """The type comes from the content: renamed programs, PDFs, .docx, .xls, ANSI CSV → 422."""
    data, message = OTHER_FILES[name]
    if data is None:
        out = io.BytesIO()
        import zipfile

        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("word/document.xml", "<w:document/>")
        data = out.getvalue()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = upload_kims(client, data, name)
    assert response.status_code == 422
    assert message in html_of(response)


def test_upload_page_both_ways_and_weight(client, make_user, login, partial_headers):
    """The upload page is a full page for any request and stays inside the budget."""
    login(make_user(Role.OPERATOR_PROVINSI, JATIM))
    response = client.get("/kim/impor")
    assert response.status_code == 200
    page = html_of(response)
    assert 'enctype="multipart/form-data"' in page and 'name="jenis"' in page
    weight = page_weight(response)
    print(f"page weight /kim/impor: {weight} bytes gzip")
    assert weight <= BUDGET
    assert "<html" in html_of(client.get("/kim/impor", headers=partial_headers))


# --- reading, guessing, parsing ---------------------------------------------------------------------


def test_read_table_csv_separators_bom_and_blank_rows(ctx):
    """Comma or semicolon, with or without BOM; blank rows skipped, row numbers kept."""
    for data in (
        "\ufeffNama KIM;Desa\n\nKIM A;1\n".encode(),
        b"Nama KIM,Desa\n,\nKIM A,1\n",
        b'"Nama KIM"\t"Desa"\r\n\r\n"KIM A"\t1\r\n',
    ):
        table = tables.read_table(data)
        assert table.headers == ["Nama KIM", "Desa"]
        assert table.rows == [["KIM A", "1"]] and table.lines == [3]


def test_read_table_xlsx_cells_become_text(ctx):
    """Numbers typed as numbers lose no digits, dates become ISO, empty headers get a letter."""
    from datetime import date

    data = xlsx_bytes(["Nama", None, "HP"], [["A", date(2026, 1, 5), 81234567890]])
    table = tables.read_table(data)
    assert table.headers == ["Nama", "Kolom B", "HP"]
    assert table.rows == [["A", "2026-01-05", "81234567890"]]


def test_read_table_limits(ctx):
    """More than 5,000 data rows, or no header, is refused with a reason."""
    with pytest.raises(TableRefused, match=r"lebih dari 5\.000 baris"):
        tables.read_table(("h\n" + "x\n" * 5001).encode())
    with pytest.raises(TableRefused, match="judul kolom"):
        tables.read_table(xlsx_bytes([None, None], []))


def test_guess_mapping_reads_indonesian_and_english_headers(ctx):
    """Header names in either language find their field; the first fitting column wins."""
    headers = [
        "No.",
        "Nama KIM",
        "Kode Desa",
        "Desa/Kelurahan",
        "Kecamatan",
        "No. HP (WA) Ketua",
        "Nama Ketua",
        "Sekertaris",
        "WhatsApp",
        "E-mail",
        "Tgl SK",
        "Nomor SK",
        "Nomor Registrasi",
        "Bidang Kegiatan",
    ]
    assert importing.guess_mapping(KimImporter(), headers) == {
        "name": 1,
        "village": 2,
        "district": 4,
        "ketua_phone": 5,
        "ketua_name": 6,
        "sekretaris_name": 7,
        "whatsapp": 8,
        "email": 9,
        "sk_date": 10,
        "sk_number": 11,
        "registration_number": 12,
        "bidang": 13,
    }
    english = ["Name", "Position", "Gender", "Phone", "KIM", "Village", "Registration number"]
    assert importing.guess_mapping(MemberImporter(), english) == {
        "name": 0,
        "position": 1,
        "gender": 2,
        "phone": 3,
        "kim_name": 4,
        "village": 5,
        "registration_number": 6,
    }


def test_value_parsers(ctx):
    """Positions, genders, dates, fields of activity and village codes as people write them."""
    assert import_values.parse_position("Wakil Ketua") is Position.WAKIL_KETUA
    assert import_values.parse_position("SEKERTARIS") is Position.SEKRETARIS
    assert import_values.parse_position("") is Position.ANGGOTA
    assert import_values.parse_position("Juru masak") is None
    assert import_values.parse_gender("Laki-laki") is Gender.L
    assert import_values.parse_gender("wanita") is Gender.P
    assert import_values.parse_gender("") is None and import_values.parse_gender("X") is False
    from datetime import date

    for text in ("2026-01-05", "05/01/2026", "5-1-2026", "5 Januari 2026", "05.01.26"):
        assert parse_date(text) == date(2026, 1, 5), text
    assert parse_date("31/02/2026") is None
    assert import_values.parse_bidang("Pertanian/perikanan; Kesehatan, Sulap") == (
        ["kesehatan", "pertanian"],
        ["Sulap"],
    )
    assert import_values.village_code("6409032006") == PPU_VILLAGE
    assert import_values.village_code("64.09.03") is None


# --- export ------------------------------------------------------------------------------------------


def _exported_csv(response) -> list[list[str]]:
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_export_xlsx_and_csv_hold_the_registry_in_scope(app, client, make_user, login, make_kim):
    """Both formats: headers, one row per KIM in scope with its pengurus, nothing from outside,
    a dated attachment name, and an audit entry per export."""
    inside = make_kim(PPU_VILLAGE, name="KIM Dalam")
    make_kim(PPU_VILLAGE, status=KimStatus.DRAFT, name="=HYPERLINK(1)")
    make_kim(MAJALENGKA_VILLAGE, name="KIM Luar")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))

    response = client.get("/kim/ekspor.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX_TYPE
    assert re.fullmatch(
        r'attachment; filename="kim-\d{4}-\d{2}-\d{2}\.xlsx"',
        response.headers["Content-Disposition"],
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = [list(r) for r in sheet.values]
    assert rows[0][:3] == ["No Registrasi", "Nama KIM", "Status"]
    assert [r[1] for r in rows[1:]] == ["=HYPERLINK(1)", "KIM Dalam"]
    assert sheet["B2"].data_type == "s"  # text, never run as a formula
    row = rows[2]
    assert row[0] == inside.registration_number and row[2] == "Terverifikasi"
    assert row[3:7] == [PPU_VILLAGE, "Sebakung Jaya", "Babulu", "Kabupaten Penajam Paser Utara"]
    assert row[13].startswith("Anggota ") and row[14].startswith("0812-")
    assert row[19] == 3

    response = client.get("/kim/ekspor.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].endswith('.csv"')
    rows = _exported_csv(response)
    assert rows[0] == sheet_header()
    assert [r[1] for r in rows[1:]] == ["'=HYPERLINK(1)", "KIM Dalam"]
    assert "KIM Luar" not in response.data.decode()

    assert client.get("/kim/ekspor.pdf").status_code == 404
    with app.app_context():
        exports = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "kim.export").order_by(AuditEntry.id)
        ).all()
        assert [(e.object_id, e.changes["rows"], e.region_code) for e in exports] == [
            ("xlsx", 2, PPU),
            ("csv", 2, PPU),
        ]


def sheet_header() -> list[str]:
    return [
        "No Registrasi", "Nama KIM", "Status", "Kode Desa", "Desa/Kelurahan", "Kecamatan",
        "Kabupaten/Kota", "Alamat", "WhatsApp", "Email", "No SK", "Tanggal SK", "Bidang", "Ketua",
        "No HP Ketua", "Sekretaris", "No HP Sekretaris", "Bendahara", "No HP Bendahara",
        "Jumlah Anggota Aktif",
    ]  # fmt: skip


def test_export_uses_the_registry_filters(app, client, make_user, login, make_kim):
    """q, status, bidang and the area selects narrow the export as they narrow the list."""
    from kim_app.groups.models import Bidang

    make_kim(PPU_VILLAGE, name="KIM Alpha", bidang=(Bidang.PERTANIAN,))
    make_kim(PPU_VILLAGE, status=KimStatus.DRAFT, name="KIM Beta")
    make_kim("64.09.01.2020", name="KIM Gamma")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))

    def names(query: str) -> list[str]:
        return [r[1] for r in _exported_csv(client.get("/kim/ekspor.csv?" + query))[1:]]

    assert names("") == ["KIM Alpha", "KIM Beta", "KIM Gamma"]
    assert names("status=draft") == ["KIM Beta"]
    assert names("bidang=pertanian") == ["KIM Alpha"]
    assert names("q=gamma") == ["KIM Gamma"]
    assert names("wilayah_kecamatan=64.09.03") == ["KIM Alpha", "KIM Beta"]
    assert names("wilayah_kecamatan=32.10.01") == ["KIM Alpha", "KIM Beta", "KIM Gamma"]


def test_export_query_count_does_not_grow_with_rows(app, client, make_user, login, make_kim):
    """The same number of queries for 3 KIM and for 30 (no query per row)."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    measured = []
    for total in (3, 30):
        while kim_count(app) < total:
            make_kim(PPU_VILLAGE)
        for path in ("/kim/ekspor.xlsx", "/kim/anggota/ekspor.csv"):
            with counted_selects(app) as selects:
                assert client.get(path).status_code == 200
            measured.append(len(selects))
    assert measured[:2] == measured[2:], measured


def test_member_export_and_one_kim(app, client, make_user, login, make_kim):
    """Members of the KIM in scope with full numbers; ``kim=`` narrows to one KIM (404 outside)."""
    one = make_kim(PPU_VILLAGE, name="KIM Satu", members=2)
    make_kim(PPU_VILLAGE, name="KIM Dua", members=1)
    far = make_kim(MAJALENGKA_VILLAGE, name="KIM Luar", members=2)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.get("/kim/anggota/ekspor.xlsx")
    assert re.search(
        r'filename="anggota-kim-\d{4}-\d{2}-\d{2}\.xlsx"', response.headers["Content-Disposition"]
    )
    rows = [list(r) for r in load_workbook(io.BytesIO(response.data)).worksheets[0].values]
    assert rows[0] == [
        "No Registrasi KIM", "Nama KIM", "Kode Desa", "Desa/Kelurahan", "Kecamatan", "Nama",
        "Jabatan", "Jenis Kelamin", "No HP", "Email", "Aktif",
    ]  # fmt: skip
    assert [(r[1], r[6]) for r in rows[1:]] == [
        ("KIM Dua", "Ketua"),
        ("KIM Satu", "Ketua"),
        ("KIM Satu", "Sekretaris"),
    ]
    assert all(re.fullmatch(r"0812-\d{4}-\d{4}", r[8]) for r in rows[1:])
    rows = _exported_csv(client.get(f"/kim/anggota/ekspor.csv?kim={one.id}"))
    assert [r[1] for r in rows[1:]] == ["KIM Satu", "KIM Satu"]
    assert client.get(f"/kim/anggota/ekspor.csv?kim={far.id}").status_code == 404
    assert client.get("/kim/anggota/ekspor.csv?kim=99999999999999").status_code == 404
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "member.export")
            .order_by(AuditEntry.id)
        ).all()[-1]
        assert entry.changes == {"rows": 2, "filters": {"kim": one.id}}


def test_exported_registry_imports_back_unchanged(app, client, make_user, login, make_kim):
    """An export opened and imported again is recognised row by row: nothing new, nothing changed."""
    from kim_app.groups.models import Bidang

    make_kim(PPU_VILLAGE, name="KIM Pulang", bidang=(Bidang.PERTANIAN, Bidang.KESEHATAN))
    make_kim(PPU_VILLAGE, status=KimStatus.DRAFT, name="KIM Pergi", whatsapp="+6281299990000")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    for path, kind in (("/kim/ekspor.xlsx", "kim"), ("/kim/anggota/ekspor.csv", "anggota")):
        data = client.get(path).data
        token = kim_import_token(upload_kims(client, data, path.rsplit("/", 1)[1], kind))
        page = html_of(client.get(f"/kim/impor/{token}"))
        valid, new, updated, same, invalid = counts(page)
        assert (new, updated, invalid) == (0, 0, 0), invalid_rows(page)
        assert same == valid > 0


# --- access ------------------------------------------------------------------------------------------

ACTORS = {
    Role.ADMIN: (None, PPU_VILLAGE),
    Role.OPERATOR_PROVINSI: (JATIM, "35.14.01.2001"),
    Role.OPERATOR_KABKOTA: (PPU, PPU_VILLAGE),
    Role.KEPALA_DESA: (PPU_VILLAGE, PPU_VILLAGE),
    Role.PENGURUS_KIM: (PPU_VILLAGE, PPU_VILLAGE),
    Role.PETUGAS_ABSENSI: (PPU, PPU_VILLAGE),
}
OPERATORS = {Role.ADMIN, Role.OPERATOR_PROVINSI, Role.OPERATOR_KABKOTA}
ENDPOINTS = ("import_upload", "import_preview", "export", "export_members")


def _expected(role: Role, endpoint: str, inside: bool) -> int:
    if role not in OPERATORS:
        return 403
    if inside or endpoint in ("import_upload", "export"):
        return 200
    if endpoint == "export_members" and role is Role.ADMIN:
        return 200  # the admin's scope has no outside
    return 404


@pytest.mark.parametrize(
    ("role", "endpoint", "inside"),
    [(r, e, i) for r in ACTORS for e in ENDPOINTS for i in (True, False)],
    ids=lambda v: getattr(v, "value", str(v)),
)
def test_scope_matrix(app, client, make_user, make_kim, login, role, endpoint, inside):
    """Operators import and export inside their wilayah (404 for others' uploads and KIM outside);
    every other role gets 403."""
    scope, village_inside = ACTORS[role]
    kim = make_kim(village_inside if inside else MAJALENGKA_VILLAGE, name="KIM Matriks")
    outsider = make_kim(MAJALENGKA_VILLAGE, name="KIM Majalengka")
    # a pengurus belongs to a KIM of its own village (outside: the factory's draft KIM)
    own_kim = role is Role.PENGURUS_KIM and inside
    actor = make_user(role, scope, kim_id=kim.id if own_kim else None)
    login(actor)
    if endpoint == "import_upload":
        response = client.get("/kim/impor")
    elif endpoint == "import_preview":
        owner = actor if inside else make_user(Role.OPERATOR_KABKOTA, "32.10")
        with app.test_request_context():
            token = importing.save_upload(
                KimImporter(), Table(["Nama KIM"], [["A"]], [2]), "a.csv", owner
            )
        response = client.get(f"/kim/impor/{token}")
    elif endpoint == "export":
        query = "" if inside else "?wilayah_kabupaten=32.10"
        response = client.get("/kim/ekspor.csv" + query)
        if response.status_code == 200:
            body = response.data.decode()
            assert ("KIM Majalengka" in body) is (role is Role.ADMIN)
    else:
        response = client.get(f"/kim/anggota/ekspor.csv?kim={kim.id}")
    assert response.status_code == _expected(role, endpoint, inside)
    assert outsider.id


@pytest.mark.parametrize(
    "path", ["/kim/impor", "/kim/impor/" + "a" * 22, "/kim/ekspor.xlsx", "/kim/anggota/ekspor.csv"]
)
def test_visitors_are_sent_to_sign_in(client, path):
    """Import and export pages ask visitors to sign in first."""
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


SCOPE_CHECKED = {
    "groups.import_upload",
    "groups.import_preview",
    "groups.export",
    "groups.export_members",
}
WEIGHED = {"groups.import_upload", "groups.import_preview"}
NOT_PAGES = {"groups.export", "groups.export_members"}
