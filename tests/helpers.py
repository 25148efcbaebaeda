"""Plain helpers that several test modules share: request bodies, uploads, readers of pages and
documents, and the constants they go with. Fixtures live in conftest.py; records built straight
in the database in scenes.py; the real servers of the two-server tests in servers.py."""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from urllib.parse import urlsplit

import sqlalchemy as sa
from openpyxl import Workbook
from PIL import Image
from pypdf import PdfReader
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from kim_app.attendance.models import Attendance
from kim_app.auth.models import Role
from kim_app.events.models import (
    Registration,
)
from kim_app.extensions import db
from tests.budget import PAGE_BUDGET, page_weight
from tests.conftest import (
    JATIM,
    MAJALENGKA_VILLAGE,
    PPU,
    PPU_VILLAGE,
    html_of,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# what a file probe must send back when it is allowed
FILE_TYPES = {
    "pdf": "application/pdf",
    "file": "application/pdf",
    "xlsx": XLSX,
    "csv": "text/csv",
    "docx": DOCX,
    "zip": "application/zip",
    "ics": "text/calendar",
    "photo": "image/jpeg",
    "small": "image/jpeg",
    "script": "text/javascript",
}


BUDGET = PAGE_BUDGET


ROLE_SCOPES = {
    Role.ADMIN: None,
    Role.OPERATOR_PROVINSI: JATIM,
    Role.OPERATOR_KABKOTA: PPU,
    Role.KEPALA_DESA: PPU_VILLAGE,
    Role.PENGURUS_KIM: PPU_VILLAGE,
    Role.PETUGAS_ABSENSI: PPU,
}


MANAGERS = {Role.ADMIN, Role.OPERATOR_PROVINSI, Role.OPERATOR_KABKOTA}


SIGNER = {
    "signer_name": "Drs. Budi Santoso, M.Si.",
    "signer_position": "Kepala Dinas Komunikasi dan Informatika",
    "signer_nip": "19700101 199503 1 001",
}


SIGNATURE = "M10 60L40 20L70 80L100 25L130 75L160 30L190 70L220 35L250 65L290 40"


PERSON = {
    "name": "Siti Rahmawati",
    "phone": "0813-5555-0101",
    "institution": "KIM Sebakung Jaya",
    "position": "Sekretaris",
    "gender": "P",
    "consent": "y",
}


SESSIONS = [
    ("2030-05-15", "09:00", "12:00", "Menulis berita desa"),
    ("2030-05-15", "13:00", "16:00", "Foto jurnalistik dengan ponsel"),
    ("2030-05-16", "08:30", "12:00", "Melawan hoaks"),
    ("2030-05-16", "13:00", "15:30", "Rencana tindak lanjut"),
]


def event_form(sessions=SESSIONS, speakers: int = 1, **overrides) -> dict:
    """The editor's fields for a two-day pelatihan in PPU with ``sessions`` and ``speakers`` each."""
    data = {
        "kind": "pelatihan",
        "title": "Pelatihan Jurnalistik Warga",
        "description": "Dua hari belajar menulis berita desa.",
        "organiser": "Diskominfo Kabupaten Penajam Paser Utara",
        "contact": "diskominfo@ppu.example",
        "region": PPU,
        "venue_name": "Aula Kantor Bupati",
        "venue_address": "Jl. Provinsi Km 9, Nipah-Nipah, Penajam",
        "online_link": "https://meet.example/kim-ppu",
        "capacity": "100",
        "registration_mode": "keduanya",
        "registration_deadline": "2030-05-14T17:00",
    }
    for i, (day, start, end, topic) in enumerate(sessions):
        data |= {
            f"sessions-{i}-day": day,
            f"sessions-{i}-start": start,
            f"sessions-{i}-end": end,
            f"sessions-{i}-topic": topic,
        }
        for s in range(3):
            filled = s < speakers
            data |= {
                f"sessions-{i}-speakers-{s}-name": f"Narasumber {i + 1}.{s + 1}" if filled else "",
                f"sessions-{i}-speakers-{s}-position": "Kepala Bidang" if filled else "",
                f"sessions-{i}-speakers-{s}-institution": "Diskominfo PPU" if filled else "",
            }
    return data | overrides


def kim_registration_form(**overrides) -> dict:
    data = {
        "name": "KIM Sebakung Maju",
        "address": "Jl. Poros Babulu",
        "sk_number": "141/05/2026",
        "sk_date": "2026-01-05",
        "sk_signer": "kepala_desa",
        "bidang": ["informasi_publik", "literasi_digital"],
        "potensi": "Sawit dan padi",
        "pengurus-0-name": "Siti Aminah",
        "pengurus-0-position": "ketua",
        "pengurus-0-gender": "P",
        "pengurus-0-phone": "0812 3456 7890",
        "pengurus-1-name": "Budi",
        "pengurus-1-position": "sekretaris",
        "pengurus-1-gender": "L",
        "pengurus-1-phone": "+62 813-1111-2222",
        "pengurus-2-name": "Wati",
        "pengurus-2-position": "bendahara",
        "pengurus-2-gender": "P",
        "pengurus-2-phone": "",
    }
    data.update(overrides)
    return data


def multipart(fields: dict) -> dict:
    """A multipart body built in memory (the test client would spool big ones to an unclosed file)."""
    boundary, body = encode_multipart(
        {
            key: FileStorage(io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value
            for key, value in fields.items()
        }
    )
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def upload_sk(client, kim_id, data, name="sk.pdf"):
    token = client.token(f"/kim/{kim_id}")
    return client.post(f"/kim/{kim_id}/sk", **multipart({"csrf_token": token, "sk": (data, name)}))


def register_online(client, code: str, environ_base: dict | None = None, **overrides):
    return client.submit(f"/e/{code}", PERSON | overrides, environ_base=environ_base or {})


def ticket_path(response) -> str:
    location = response.headers.get("Location") or response.headers.get("HX-Redirect")
    assert location and "/tiket/" in location, location
    return urlsplit(location).path


KIM_HEADER = [
    "No",
    "Nama KIM",
    "Kode Desa",
    "Kecamatan",
    "No Registrasi",
    "Ketua",
    "No HP Ketua",
    "Sekretaris",
    "No HP Sekretaris",
    "Bendahara",
    "Alamat",
    "Bidang",
]


# data row index → what is wrong with it, and the reason the preview must give
BAD_ROWS = {
    17: ("unknown", "Kode desa 64.09.99.2999 tidak dikenal."),
    123: ("outside", f"Desa {MAJALENGKA_VILLAGE} di luar wilayah kerja Anda."),
    250: ("noname", "Nama KIM kosong."),
    377: ("noketua", "Nama ketua kosong."),
    500: ("phone", "No HP ketua tidak valid: 12345."),
    612: ("unknown", "Kode desa 64.09.99.2999 tidak dikenal."),
    733: ("outside", f"Desa {MAJALENGKA_VILLAGE} di luar wilayah kerja Anda."),
    845: ("noname", "Nama KIM kosong."),
    901: ("noketua", "Nama ketua kosong."),
    999: ("phone", "No HP ketua tidak valid: 12345."),
}


def kim_rows(villages, n: int = 1000, bad=BAD_ROWS) -> list[list]:
    """A registry as operators keep it: every 10th village by name, every 5th KIM numbered."""
    rows = []
    for i in range(n):
        code, name, district_name = villages[i % len(villages)]
        place, district_cell = (f"Desa {name}", district_name) if i % 10 == 3 else (code, "")
        rows.append(
            [
                i + 1,
                f"KIM Uji Impor {i}",
                place,
                district_cell,
                f"REG/PPU/{i:04d}" if i % 5 == 0 else "",
                f"Ketua {i}",
                f"0812{10000000 + i}",
                f"Sekretaris {i}",
                f"0813{10000000 + i}",
                f"Bendahara {i}" if i % 2 else "",
                f"Jl. Contoh {i}",
                "Informasi publik, Literasi digital & anti-hoaks",
            ]
        )
        kind = bad.get(i, ("", ""))[0]
        if kind == "unknown":
            rows[-1][2:4] = ["64.09.99.2999", ""]
        elif kind == "outside":
            rows[-1][2:4] = [MAJALENGKA_VILLAGE, ""]
        elif kind == "noname":
            rows[-1][1] = ""
        elif kind == "noketua":
            rows[-1][5] = ""
        elif kind == "phone":
            rows[-1][6] = "12345"
    return rows


def xlsx_bytes(header: list, rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(header: list, rows: list[list], delimiter: str = ";", bom: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def upload_kims(client, data: bytes, filename: str, kind: str = "kim"):
    """Post the upload form as a browser would; the body is built in memory (werkzeug's test
    client would spool a big body to a temporary file it never closes)."""
    boundary, body = encode_multipart(
        {
            "csrf_token": client.token("/kim/impor"),
            "jenis": kind,
            "berkas": FileStorage(io.BytesIO(data), filename=filename),
        }
    )
    return client.post(
        "/kim/impor", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def kim_import_token(response) -> str:
    assert response.status_code == 303, html_of(response)[:2000]
    match = re.fullmatch(r"/kim/impor/([A-Za-z0-9_-]{22})", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def mapping_fields(html: str) -> dict[str, str]:
    """The selected option of every ``kolom_*`` select, as the browser would post them."""
    fields = {}
    for name, body in re.findall(r'<select id="(kolom_\w+)" name="\1">(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="(\d*)" selected', body)
        fields[name] = chosen.group(1) if chosen else ""
    return fields


PARTICIPANT_HEADER = ["No", "Nama Peserta", "No. HP/WA", "Instansi", "Jabatan", "L/P", "Nama KIM"]


def upload_participants(client, event_id: int, data: bytes, filename: str):
    path = f"/kegiatan/{event_id}/peserta/impor"
    boundary, body = encode_multipart(
        {
            "csrf_token": client.token(path),
            "berkas": FileStorage(io.BytesIO(data), filename=filename),
        }
    )
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def participants_import_token(response, event_id: int) -> str:
    assert response.status_code == 303, html_of(response)[:2000]
    match = re.fullmatch(
        rf"/kegiatan/{event_id}/peserta/impor/([A-Za-z0-9_-]{{22}})", response.headers["Location"]
    )
    assert match, response.headers["Location"]
    return match.group(1)


def confirm_import(client, url: str):
    page = html_of(client.get(url))
    fields = {}
    for name, body in re.findall(r'<select id="(kolom_\w+)" name="\1">(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="(\d*)" selected', body)
        fields[name] = chosen.group(1) if chosen else ""
    response = client.submit(url, fields | {"aksi": "impor"})
    if response.status_code == 303 and response.headers["Location"].startswith("/berkas/"):
        # more than a page's worth of rows: the worker imports them; the answer leads to the
        # file's page, which then shows what the import did
        run_jobs(client.application)
    return response


def image_bytes(kind: str = "PNG", size=(120, 60), exif: bool = False) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (11, 92, 173))
    if exif:
        data = Image.Exif()
        data[0x010F] = "KameraRahasia"  # Make
        image.save(out, kind, exif=data)
    else:
        image.save(out, kind)
    return out.getvalue()


def jpeg_with_gps(size=(2400, 1200)) -> bytes:
    """A JPEG larger than 1600 px with EXIF GPS coordinates and a camera model."""
    image = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x0110] = "Kamera Uji"  # Model
    exif[0x8825] = {1: "S", 2: (1.0, 15.0, 30.0), 3: "E", 4: (116.0, 40.0, 10.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def phone_photo(side: tuple[int, int] = (4000, 3000)) -> bytes:
    """A 12-megapixel phone photo of about 6 MB, with the grain of a real one, its camera and its
    GPS position in EXIF (1°17'30" S, 116°50' E)."""
    light = Image.linear_gradient("L").resize(side)
    grain = Image.effect_noise(side, 40)
    picture = Image.merge(
        "RGB",
        (
            Image.blend(light, grain, 0.35),
            Image.blend(light.rotate(90).resize(side), grain, 0.3),
            grain,
        ),
    )
    exif = Image.Exif()
    exif[0x010F] = "KameraRahasia"  # Make
    exif[0x8825] = {1: "S", 2: (1.0, 17.0, 30.0), 3: "E", 4: (116.0, 50.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def table_rows(html: str, caption: str) -> list[list[str]]:
    """The rows (header row first) of the table with ``caption``, as shown, tags stripped."""
    match = re.search(rf"<caption>{re.escape(caption)}</caption>(.*?)</table>", html, re.S)
    assert match, caption
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S)
    ]


def weigh(response) -> int:
    html = html_of(response)
    assert "<html" in html
    return page_weight(response)


def registrations_of(app, event_id: int) -> list[Registration]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Registration)
            .where(Registration.event_id == event_id)
            .order_by(Registration.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def registrations_in_order(app, event_id: int) -> list[Registration]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Registration)
            .where(Registration.event_id == event_id)
            .order_by(Registration.created_at, Registration.id)
        ).all()
        db.session.expunge_all()
        return rows


def attendance_rows(app) -> list[Attendance]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Attendance).order_by(Attendance.id)).all()
        db.session.expunge_all()
        return rows


def pdf_pages(data: bytes) -> list:
    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
    return reader.pages


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in pdf_pages(data))


def strokes(data: bytes) -> int:
    """Stroked paths of at least 8 segments (``x y m``/``x y l`` … ``S``) in the page contents:
    the signatures, drawn as vectors (table borders are single lines)."""
    path = re.compile(r"(?:[-\d.]+ [-\d.]+ [ml]\s+){8,}S\b")
    return sum(
        len(path.findall(page.get_contents().get_data().decode("latin-1")))
        for page in pdf_pages(data)
    )


def certificate_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def in_parallel(app, jobs: list[Callable[[], object]]) -> list[object]:
    """Run every job at the same moment, each in its own thread and application context.

    Returns the results in order; any exception in a thread fails the test with it.
    """
    start = threading.Barrier(len(jobs))

    def run(job):
        with app.app_context():
            start.wait(timeout=60)
            try:
                result = job()
                db.session.commit()
                return result
            except BaseException:
                db.session.rollback()
                raise

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        return [future.result(timeout=120) for future in futures]


# --- prepared files (kim_app.files) ----------------------------------------------------------------


def run_jobs(app) -> int:
    """Run every job waiting on the app's queue, here, as the worker would (huey's own
    dequeue and execute); returns how many ran."""
    from kim_app.jobs import queue_of

    queue, ran = queue_of(app), 0
    while (task := queue.dequeue()) is not None:
        queue.execute(task)
        ran += 1
    return ran


def prepared(app, client, url: str):
    """Ask for the document at ``url`` through its "Siapkan berkas" button, run the worker's
    job, and download the file: the download response. The document must be one the app sends
    to the worker (bigger than it makes at once)."""
    offer = client.get(url)
    assert offer.status_code == 200 and "Siapkan berkas" in html_of(offer), offer.status_code
    asked = client.submit(url, {})
    assert asked.status_code == 303, asked.status_code
    status = asked.headers["Location"]
    assert run_jobs(app) >= 1
    page = client.get(status)
    assert page.status_code == 200 and "siap diunduh" in html_of(page).lower(), html_of(page)
    download = client.get(status + "/unduh")
    download.get_data()  # read whole, then let go of the file the app streamed
    download.close()
    return download
