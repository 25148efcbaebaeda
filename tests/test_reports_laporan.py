"""The laporan kegiatan of an event: the narrative (saved, audited, too long → 422), the facts
computed from a known dataset, documentation photos (cleaned, downscaled, typed by content,
size-limited, served only in scope), the PDF and DOCX read back, who may open what, the page
weight and a query count that does not grow with the number of people."""

from __future__ import annotations

import io
import os
import re

import pytest
import sqlalchemy as sa
from docx import Document
from PIL import Image
from pypdf import PdfReader

from kim_app.attendance.models import Presence
from kim_app.attendance.operations import mark_attendance
from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.events.models import Event, Source
from kim_app.events.operations import PersonData, register_person
from kim_app.extensions import db
from kim_app.reports.models import EventReport, ReportPhoto
from kim_app.reports.operations import event_facts
from tests.budget import PAGE_BUDGET, counted_queries, page_weight
from tests.conftest import PPU, html_of
from tests.helpers import MANAGERS, ROLE_SCOPES, SIGNER, jpeg_with_gps, multipart
from tests.scenes import laporan_scene

SCOPE_CHECKED = {
    "reports.laporan",
    "reports.photo_upload",
    "reports.photo_delete",
    "reports.photo",
    "reports.laporan_pdf",
    "reports.laporan_docx",
}
WEIGHED = {"reports.laporan"}
NOT_PAGES = {"reports.photo", "reports.laporan_pdf", "reports.laporan_docx"}

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NARRATIVE = {
    "background": "Banyak KIM belum menulis berita desa secara rutin.",
    "legal_basis": "1. UU Nomor 14 Tahun 2008\n2. Permenkominfo Nomor 8 Tahun 2010",
    "purpose": "Meningkatkan kemampuan menulis anggota KIM.",
    "material": "Menulis berita, memotret, memeriksa fakta.",
    "results": "Setiap KIM menulis satu berita.",
    "evaluation": "Sinyal di aula lemah.",
    "conclusion": "Pelatihan lanjutan tahun depan.",
}


@pytest.fixture
def scene(app, make_event, make_kim, make_user, login):
    data = laporan_scene(app, make_event, make_kim, make_user)
    login(data["operator"])
    return data


def url(event, tail: str = "") -> str:
    return f"/kegiatan/{event.id}/laporan{tail}"


def keep(name: str, data: bytes) -> None:
    """Write the file for a look when KIM_KEEP_PDF names a folder."""
    folder = os.environ.get("KIM_KEEP_PDF")
    if folder:
        with open(os.path.join(folder, name), "wb") as out:
            out.write(data)


def _pdf_text(client, event) -> str:
    response = client.get(url(event, ".pdf"))
    assert response.status_code == 200
    return " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.data)).pages
    )


def _docx(client, event):
    response = client.get(url(event, ".docx"))
    assert response.status_code == 200
    return Document(io.BytesIO(response.data))


def upload(client, event, data: bytes, caption="Peserta praktik", name="foto.jpg"):
    token = client.token(url(event))
    fields = {"csrf_token": token, "caption": caption, "foto": (data, name)}
    return client.post(url(event, "/foto"), **multipart(fields))


# --- facts -----------------------------------------------------------------------------------------


def test_facts_of_a_known_dataset(app, scene):
    """Invited, registered, waiting, cancelled, hadir per session with rates, the overall rate,
    gender and KIM/institution rows are exactly those of the dataset."""
    with app.test_request_context():
        facts = event_facts(db.session.get(Event, scene["event"].id))
    assert (facts.invited_kims, facts.invited_quota) == (3, 7)
    assert (facts.registered, facts.waiting, facts.cancelled) == (5, 1, 1)
    assert [(s.hadir, s.rate) for s in facts.sessions] == [(4, 80.0), (2, 40.0)]
    assert facts.overall_rate == 60.0 and facts.attended == 4
    assert [(r.label, r.registered, r.attended) for r in facts.genders] == [
        ("Laki-laki", 2, 2),
        ("Perempuan", 3, 2),
    ]
    assert [(r.label, r.registered, r.attended) for r in facts.groups] == [
        ("Dinas Sosial", 2, 1),
        ("KIM Alfa", 2, 2),
        ("KIM Beta", 1, 1),
    ]
    assert facts.group_count == 3


def test_page_shows_form_facts_and_downloads(client, scene):
    """The page holds the seven sections in order, the facts and both download links."""
    response = client.get(url(scene["event"]))
    html = html_of(response)
    assert response.status_code == 200
    titles = [
        "Latar belakang",
        "Dasar hukum",
        "Maksud dan tujuan",
        "Materi",
        "Hasil",
        "Evaluasi",
        "Kesimpulan dan saran",
    ]
    positions = [html.index(f">{t}</label>") for t in titles]
    assert positions == sorted(positions)
    assert "3 KIM, kuota 7 orang" in html and "80,0 %" in html and "60,0 %" in html
    assert "Dinas Sosial" in html and "Narasumber" in html
    assert url(scene["event"], ".pdf") in html and url(scene["event"], ".docx") in html


def test_page_weight_and_queries_do_not_grow(app, client, make_event, make_kim, make_user, login):
    """The page is within the budget; 5 or 50 people cost the same number of queries."""
    counts = []
    for extra in (0, 45):
        data = laporan_scene(app, make_event, make_kim, make_user, extra=extra)
        login(data["operator"])
        path = url(data["event"])
        client.get(path)
        with counted_queries(app) as statements:
            response = client.get(path)
        assert response.status_code == 200
        assert page_weight(response) <= PAGE_BUDGET
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


# --- the narrative ---------------------------------------------------------------------------------


def test_narrative_is_saved_and_audited(app, client, scene):
    """The first save creates the report; texts come back in the form; the audit names the
    sections that changed."""
    event = scene["event"]
    response = client.submit(url(event), NARRATIVE)
    assert response.status_code == 303
    with app.app_context():
        report = db.session.scalar(sa.select(EventReport).where(EventReport.event_id == event.id))
        assert report.legal_basis == NARRATIVE["legal_basis"]
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "report.narrative")
        )
        assert entry.changes["sections"] == list(NARRATIVE)
    assert "Permenkominfo Nomor 8" in html_of(client.get(url(event)))


def test_too_long_narrative_is_422_and_keeps_the_text(app, client, scene, partial_headers):
    """Over 10,000 characters: 422, the message on the field, every typed text kept; nothing
    stored. Over htmx the form fragment alone comes back."""
    event = scene["event"]
    data = dict(NARRATIVE, results="x" * 10_001)
    response = client.submit(url(event), data)
    html = html_of(response)
    assert response.status_code == 422
    assert "Paling banyak 10000 karakter." in html and NARRATIVE["background"] in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EventReport)) == 0
    token = client.token(url(event))
    fragment = client.post(url(event), data=dict(data, csrf_token=token), headers=partial_headers)
    assert fragment.status_code == 422 and "<html" not in html_of(fragment)
    assert 'id="narasi"' in html_of(fragment)


# --- photos ----------------------------------------------------------------------------------------


def test_photo_is_cleaned_downscaled_and_served(app, client, scene):
    """EXIF (GPS, camera) is dropped, the long side is 1600 px; the photo is served as JPEG,
    private, after the scope check."""
    event = scene["event"]
    response = upload(client, event, jpeg_with_gps())
    assert response.status_code == 303
    with app.app_context():
        photo = db.session.scalars(sa.select(ReportPhoto).order_by(ReportPhoto.id)).one()
        assert (photo.width, photo.height, photo.caption) == (1600, 800, "Peserta praktik")
        photo_id = photo.id
    served = client.get(url(event, f"/foto/{photo_id}"))
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert "private" in served.headers["Cache-Control"]
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.size == (1600, 800)
        assert not image.getexif() and "exif" not in image.info
    assert b"Kamera Uji" not in served.data
    small = client.get(url(event, f"/foto/{photo_id}?ukuran=kecil"))
    assert small.status_code == 200 and small.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(small.data)) as image:
        assert image.size == (480, 240) and not image.getexif()
    assert len(small.data) < len(served.data) / 4
    page = html_of(client.get(url(event)))
    assert f"/foto/{photo_id}?ukuran=kecil" in page and "Peserta praktik" in page


def test_text_file_named_jpg_is_422(client, scene):
    """The type comes from the content: a text file called .jpg is refused with a message."""
    response = upload(client, scene["event"], b"hello, not an image\n" * 10, name="foto.jpg")
    assert response.status_code == 422
    assert "Foto harus berupa berkas JPEG atau PNG." in html_of(response)


def test_broken_jpeg_is_422(client, scene):
    """A file that starts like a JPEG but cannot be decoded is refused, not a 500."""
    response = upload(client, scene["event"], b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    assert response.status_code == 422
    assert "Foto tidak dapat dibaca" in html_of(response)


def test_six_megabytes_is_413(client, scene):
    """Over the 5 MB limit: the translated 413 page, before anything is read."""
    response = upload(client, scene["event"], b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024))
    assert response.status_code == 413
    assert "5 MB" in html_of(response)


def test_photo_limit_and_delete(app, client, scene):
    """Twelve photos at most; deleting one frees a place and removes the file."""
    event = scene["event"]
    small = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(small, "PNG")
    for _ in range(12):
        assert upload(client, event, small.getvalue(), name="x.png").status_code == 303
    refused = upload(client, event, small.getvalue(), name="x.png")
    assert refused.status_code == 422 and "Paling banyak 12 foto" in html_of(refused)
    with app.app_context():
        first = db.session.scalars(sa.select(ReportPhoto).order_by(ReportPhoto.id)).first()
        first_id = first.id
    response = client.submit(url(event, f"/foto/{first_id}/hapus"), {}, form_page=url(event))
    assert response.status_code == 303
    assert client.get(url(event, f"/foto/{first_id}")).status_code == 404
    assert upload(client, event, small.getvalue(), name="x.png").status_code == 303


def test_photo_of_another_event_or_regency_is_404(app, client, make_user, make_event, login, scene):
    """A photo is reached only through its own event, by someone who manages that event."""
    event = scene["event"]
    upload(client, event, jpeg_with_gps((300, 200)))
    with app.app_context():
        photo_id = db.session.scalars(sa.select(ReportPhoto.id)).one()
    other = make_event()
    assert client.get(f"/kegiatan/{other.id}/laporan/foto/{photo_id}").status_code == 404
    login(make_user(Role.OPERATOR_KABKOTA, "32.10"))
    assert client.get(url(event, f"/foto/{photo_id}")).status_code == 404


# --- documents -------------------------------------------------------------------------------------


def _with_everything(client, event):
    client.submit(url(event), NARRATIVE)
    upload(client, event, jpeg_with_gps(), caption="Suasana pelatihan")


def test_pdf_holds_outline_facts_photo_and_daftar_hadir(client, scene):
    """A4; section headings in order with the narrative and the facts; one photo drawn as an
    image; the signing official; the daftar hadir of both sessions with the names."""
    event = scene["event"]
    _with_everything(client, event)
    response = client.get(url(event, ".pdf"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    keep("laporan.pdf", response.data)
    reader = PdfReader(io.BytesIO(response.data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    headings = [
        "I. Latar belakang",
        "II. Dasar hukum",
        "III. Maksud dan tujuan",
        "IV. Waktu dan tempat",
        "V. Peserta",
        "VI. Materi",
        "VII. Narasumber",
        "VIII. Hasil",
        "IX. Evaluasi",
        "X. Kesimpulan dan saran",
        "XI. Dokumentasi",
    ]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)
    assert "LAPORAN KEGIATAN" in text and "Diskominfo PPU" in text
    assert NARRATIVE["evaluation"] in text and "Permenkominfo Nomor 8" in text
    assert "Diundang: 3 KIM dengan kuota 7 orang." in text
    assert "Terdaftar: 5 orang; daftar tunggu: 1; batal: 1." in text
    assert "80,0 %" in text and "40,0 %" in text and "60,0 %" in text
    assert "Dinas Sosial 2 1" in text and "Perempuan 3 2" in text
    assert "Suasana pelatihan" in text and SIGNER["signer_name"] in text
    # one image, drawn on the page that carries its caption (pages share one resource list)
    assert len({image.name for page in reader.pages for image in page.images}) == 1
    photo_page = next(p for p in reader.pages if "Suasana pelatihan" in p.extract_text())
    assert b" Do" in photo_page.get_contents().get_data()
    assert text.count("DAFTAR HADIR") == 2
    for name in ("Ani Lestari", "Budi Santoso", "Citra Dewi", "Dedi Kurnia"):
        assert name in text.split("DAFTAR HADIR", 1)[1]


def test_pdf_leaves_out_empty_sections(client, scene):
    """Without a narrative only the sections filled from the data are printed, numbered I–IV
    (the material from the agenda's topics); no documentation without photos."""
    text = _pdf_text(client, scene["event"]).split("DAFTAR HADIR", 1)[0]
    assert "I. Waktu dan tempat" in text and "II. Peserta" in text
    assert "III. Materi" in text and "IV. Narasumber" in text
    assert "Latar belakang" not in text and "Hasil" not in text and "Dokumentasi" not in text


def test_docx_holds_outline_tables_picture_and_daftar_hadir(client, scene):
    """Headings in order, the narrative, the facts tables, an inline picture with its caption,
    and a daftar hadir table per session with the digital-signature mark."""
    event = scene["event"]
    _with_everything(client, event)
    response = client.get(url(event, ".docx"))
    assert response.status_code == 200 and response.mimetype == DOCX_TYPE
    assert response.headers["Content-Disposition"].startswith("attachment;")
    keep("laporan.docx", response.data)
    doc = Document(io.BytesIO(response.data))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[:11] == [
        "I. Latar belakang",
        "II. Dasar hukum",
        "III. Maksud dan tujuan",
        "IV. Waktu dan tempat",
        "V. Peserta",
        "VI. Materi",
        "VII. Narasumber",
        "VIII. Hasil",
        "IX. Evaluasi",
        "X. Kesimpulan dan saran",
        "XI. Dokumentasi",
    ]
    assert headings[11:] == [
        "Lampiran 1: Daftar hadir sesi 1",
        "Lampiran 2: Daftar hadir sesi 2",
    ]
    texts = [p.text for p in doc.paragraphs]
    assert NARRATIVE["results"] in texts and "Suasana pelatihan" in texts
    assert "2. Permenkominfo Nomor 8 Tahun 2010" in texts
    assert len(doc.inline_shapes) == 1
    cells = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    assert ["1", doc.tables[0].rows[1].cells[1].text, "4", "80,0 %"] in cells
    assert ["Dinas Sosial", "2", "1"] in cells and ["Perempuan", "3", "2"] in cells
    daftar = [t for t in doc.tables if t.rows[0].cells[-1].text == "Tanda tangan"]
    assert len(daftar) == 2
    first = [[c.text for c in row.cells] for row in daftar[0].rows[1:]]
    assert [r[1] for r in first] == ["Ani Lestari", "Budi Santoso", "Citra Dewi", "Dedi Kurnia"]
    assert first[0][-1] == "✓ (tanda tangan digital)" and first[1][-1] == ""
    second = [[c.text for c in row.cells] for row in daftar[1].rows[1:]]
    assert [r[1] for r in second] == ["Ani Lestari", "Citra Dewi"]


# --- issue 22 item 18: what a government activity report prints ---------------------------------------


@pytest.fixture
def plain_event(app, make_event, make_user, login):
    """An open event nobody was invited to, whose sessions name no speaker, with one person
    registered (and hadir in session 1)."""
    event = make_event(days=1, sessions_per_day=2, organiser="Diskominfo PPU")
    with app.test_request_context():
        ev = db.session.get(Event, event.id)
        for session in ev.sessions:
            session.speakers.clear()
        reg, _new = register_person(
            ev, PersonData("Ani Lestari", "0812-2222-0001", "Desa Sebakung"), Source.MANDIRI
        )
        mark_attendance(reg, ev.sessions[0], Presence.HADIR, None)
        db.session.commit()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    return event


def test_no_invitations_and_no_speakers_are_not_printed(client, plain_event):
    """Nobody invited: no "Diundang: 0 KIM dengan kuota 0 orang"; no speaker recorded: no
    Narasumber heading (nor "none recorded") — in the PDF, the DOCX and the page's facts."""
    text = _pdf_text(client, plain_event)
    assert "Diundang" not in text and "kuota" not in text
    assert "Narasumber" not in text
    assert "Terdaftar: 1 orang." in text and "daftar tunggu" not in text
    doc = _docx(client, plain_event)
    paragraphs = [p.text for p in doc.paragraphs]
    assert not any("Diundang" in p or "Narasumber" in p for p in paragraphs)
    page = html_of(client.get(url(plain_event)))
    assert "Diundang" not in page and ">Narasumber</h3>" not in page


def test_materi_is_filled_from_the_agendas_topics(app, client, scene):
    """Without a narrative the Materi section lists the sessions' topics with their speakers (a
    topic over two sessions written once); the operator's text follows the list when written."""
    event = scene["event"]
    with app.test_request_context():
        ev = db.session.get(Event, event.id)
        for session in ev.sessions:
            session.topic = "Menulis berita desa"
        ev.sessions[0].speakers[0].name = "Dr. Rahmat Hidayat"
        ev.sessions[1].speakers[0].name = "Sri Wahyuni, S.Sos."
        db.session.commit()
    text = _pdf_text(client, event)
    section = text.split("Materi", 1)[1].split("Narasumber", 1)[0]
    assert (
        "Menulis berita desa (sesi 1, 2), oleh Dr. Rahmat Hidayat, Sri Wahyuni, S.Sos." in section
    )
    assert section.count("Menulis berita desa") == 1
    docx = [p.text for p in _docx(client, event).paragraphs]
    materi = docx.index(next(p for p in docx if p.endswith(". Materi")))
    assert docx[materi + 1] == (
        "1. Menulis berita desa (sesi 1, 2), oleh Dr. Rahmat Hidayat, Sri Wahyuni, S.Sos."
    )
    page = html_of(client.get(url(event)))
    assert ">Materi</h3>" in page and "Menulis berita desa (sesi 1, 2)" in page
    client.submit(url(event), {**dict.fromkeys(NARRATIVE, ""), "material": "Lima unsur berita."})
    text = _pdf_text(client, event)
    assert text.index("Menulis berita desa (sesi 1, 2)") < text.index("Lima unsur berita.")


def test_outline_follows_the_order_of_a_government_report(client, scene):
    """Basis and purpose, then when and where, who took part, the material, who presented it, the
    results, the conclusion, the documentation — never the results straight after the times."""
    event = scene["event"]
    _with_everything(client, event)
    order = [
        "Dasar hukum",
        "Maksud dan tujuan",
        "Waktu dan tempat",
        "Peserta",
        "Materi",
        "Narasumber",
        "Hasil",
        "Kesimpulan dan saran",
        "Dokumentasi",
    ]
    headings = [
        p.text.split(". ", 1)[1]
        for p in _docx(client, event).paragraphs
        if p.style.name == "Heading 1" and not p.text.startswith("Lampiran")
    ]
    assert [h for h in headings if h in order] == order
    text = _pdf_text(client, event)
    numbered = re.findall(r"\b([IVX]+)\. (" + "|".join(map(re.escape, headings)) + ")", text)
    assert [title for _n, title in numbered][: len(headings)] == headings


# --- who may open what ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(ROLE_SCOPES), ids=lambda r: r.value)
def test_laporan_scope_matrix(app, client, make_user, make_event, login, role):
    """Managers of the event reach every laporan endpoint (404 outside their scope); village
    heads, pengurus and petugas absensi get 403."""
    inside = make_event(region="35.14" if role is Role.OPERATOR_PROVINSI else PPU)
    outside = make_event(region="32.10")
    photos = {}
    with app.app_context():
        for event in (inside, outside):
            photo = ReportPhoto(event_id=event.id, file="tidak-ada.jpg", width=1, height=1)
            db.session.add(photo)
            db.session.flush()
            photos[event.id] = photo.id
        db.session.commit()
    actor = make_user(
        role, ROLE_SCOPES[role], event_id=inside.id if role is Role.PETUGAS_ABSENSI else None
    )
    token = client.token("/login")  # before signing in: a petugas absensi sees no other form
    login(actor)
    for event, is_inside in ((inside, True), (outside, False)):
        if role not in MANAGERS:
            expected = 403
        elif is_inside or role is Role.ADMIN:
            expected = 200
        else:
            expected = 404
        for tail in ("", ".pdf", ".docx"):
            assert client.get(url(event, tail)).status_code == expected, (role, tail, is_inside)
        # the photo row has no file: a manager in scope gets past the check to a 404
        photo = client.get(url(event, f"/foto/{photos[event.id]}")).status_code
        assert photo == (404 if expected == 200 else expected), (role, is_inside)
        posts = {
            url(event): 303,
            url(event, "/foto"): 422,
            url(event, f"/foto/{photos[event.id]}/hapus"): 303,
        }
        for path, ok in posts.items():
            got = client.post(path, data={"csrf_token": token}).status_code
            assert got == (ok if expected == 200 else expected), (role, path, is_inside)


def test_visitors_sign_in_first(client, make_event):
    """Without an account every laporan URL leads to the sign-in page."""
    event = make_event()
    for tail in ("", ".pdf", ".docx", "/foto/1"):
        response = client.get(url(event, tail))
        assert response.status_code == 302 and "/login" in response.headers["Location"]
