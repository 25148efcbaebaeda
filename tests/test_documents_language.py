"""Official documents (daftar hadir, laporan kegiatan, certificates) are written in Indonesian
whatever language the operator browses in, and in another language only when the download asks
for it (``?bahasa=en``, the choice beside the download buttons) — issue 22 item 19."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from docx import Document
from pypdf import PdfReader

from tests.conftest import html_of
from tests.helpers import SIGNER
from tests.scenes import attendance_scene, laporan_scene


def pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages
    )


def browse_in(client, lang: str) -> None:
    """Switch the interface language as the language buttons do (kept in the session)."""
    with client.session_transaction() as session:
        session["lang"] = lang


@pytest.fixture
def attendance(app, make_event, make_kim, make_user, login, client):
    data = attendance_scene(app, make_event, make_kim, make_user, **SIGNER)
    login(data["operator"])
    browse_in(client, "en")
    return data


@pytest.fixture
def laporan(app, make_event, make_kim, make_user, login, client):
    data = laporan_scene(app, make_event, make_kim, make_user)
    login(data["operator"])
    browse_in(client, "en")
    return data


def test_daftar_hadir_is_indonesian_for_an_operator_browsing_in_english(client, attendance):
    """The interface is English (the page says so), yet the attendance sheet is the Indonesian
    government document: "DAFTAR HADIR", Indonesian dates and counts, the lang attribute "id"."""
    s1, _s2 = attendance["sessions"]
    overview = html_of(client.get(f"/absensi/kegiatan/{attendance['event'].id}"))
    assert '<html lang="en">' in overview
    response = client.get(f"/absensi/sesi/{s1}/daftar-hadir.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "DAFTAR HADIR" in text and "ATTENDANCE LIST" not in text
    assert "Hadir 2 · Izin 1 · Sakit 1 · Alpa 1 · Belum 2 dari 7 peserta" in text
    blank = pdf_text(client.get(f"/absensi/sesi/{s1}/daftar-hadir-kosong.pdf").data)
    assert "DAFTAR HADIR" in blank and "ATTENDANCE LIST" not in blank


def test_daftar_hadir_in_english_when_the_download_asks(client, attendance):
    """``?bahasa=en`` gives the English sheet; ``?bahasa=id`` the Indonesian one, whatever the
    interface language."""
    s1, _s2 = attendance["sessions"]
    english = pdf_text(client.get(f"/absensi/sesi/{s1}/daftar-hadir.pdf?bahasa=en").data)
    assert "ATTENDANCE LIST" in english and "DAFTAR HADIR" not in english
    browse_in(client, "id")
    english = pdf_text(client.get(f"/absensi/sesi/{s1}/daftar-hadir-kosong.pdf?bahasa=en").data)
    assert "ATTENDANCE LIST" in english
    browse_in(client, "en")
    indonesian = pdf_text(client.get(f"/absensi/sesi/{s1}/daftar-hadir.pdf?bahasa=id").data)
    assert "DAFTAR HADIR" in indonesian


@pytest.mark.parametrize("value", ["xx", "EN", "", "en-US", "id,en", "x" * 5000])
def test_unknown_language_gives_the_indonesian_document(client, attendance, value):
    """A language the site does not have (or a mangled one) is no error: the Indonesian sheet."""
    s1, _s2 = attendance["sessions"]
    response = client.get(f"/absensi/sesi/{s1}/daftar-hadir.pdf", query_string={"bahasa": value})
    assert response.status_code == 200
    assert "DAFTAR HADIR" in pdf_text(response.data)


def test_laporan_pdf_and_docx_follow_the_choice_not_the_interface(client, laporan):
    """The laporan kegiatan, with its daftar hadir appendix, is Indonesian for an English-browsing
    operator; English with ``?bahasa=en`` — numbers written the English way too."""
    event_id = laporan["event"].id
    text = pdf_text(client.get(f"/kegiatan/{event_id}/laporan.pdf").data)
    assert "LAPORAN KEGIATAN" in text and "ACTIVITY REPORT" not in text
    assert "DAFTAR HADIR" in text and "80,0 %" in text
    text = pdf_text(client.get(f"/kegiatan/{event_id}/laporan.pdf?bahasa=en").data)
    assert "ACTIVITY REPORT" in text and "LAPORAN KEGIATAN" not in text
    assert "ATTENDANCE LIST" in text and "80.0%" in text

    def paragraphs(query: str) -> list[str]:
        response = client.get(f"/kegiatan/{event_id}/laporan.docx{query}")
        assert response.status_code == 200
        return [p.text for p in Document(io.BytesIO(response.data)).paragraphs]

    assert "LAPORAN KEGIATAN" in paragraphs("")
    assert "ACTIVITY REPORT" in paragraphs("?bahasa=en")


def test_certificates_are_indonesian_unless_chosen(app, client, attendance):
    """The certificates of the event, printed by an operator browsing in English: Indonesian;
    with ``?bahasa=en``: English (the one mechanism the other documents use)."""
    event_id = attendance["event"].id
    with app.test_request_context():
        from kim_app.events.models import Event
        from kim_app.extensions import db

        event = db.session.get(Event, event_id)
        event.certificate_min_percent = 50
        for session in event.sessions:  # certificates wait until the event is over
            session.starts_at -= timedelta(days=3)
            session.ends_at -= timedelta(days=3)
        db.session.commit()
    client.submit(f"/absensi/kegiatan/{event_id}/sertifikat")
    indonesian = client.get(f"/absensi/kegiatan/{event_id}/sertifikat.pdf")
    assert indonesian.mimetype == "application/pdf"
    english = client.get(f"/absensi/kegiatan/{event_id}/sertifikat.pdf?bahasa=en")
    with app.test_request_context():
        from flask_babel import force_locale, gettext

        with force_locale("en"):
            certificate_en = gettext("SERTIFIKAT")
    assert certificate_en != "SERTIFIKAT"
    assert "SERTIFIKAT" in pdf_text(indonesian.data)
    assert certificate_en in pdf_text(english.data)
    assert "SERTIFIKAT" not in pdf_text(english.data)


def test_download_pages_offer_the_language_indonesian_first(client, attendance, laporan):
    """The attendance overview and the laporan page carry one "document language" choice whose
    preselected value is Indonesian, also in the English interface; every download submits it."""
    for path in (
        f"/absensi/kegiatan/{attendance['event'].id}",
        f"/kegiatan/{laporan['event'].id}/laporan",
    ):
        html = html_of(client.get(path))
        select = re.search(r'<select[^>]*name="bahasa"[^>]*>(.*?)</select>', html, re.S)
        assert select, path
        assert re.search(r'<option value="id"[^>]*selected', select.group(1)), path
        assert '<option value="en"' in select.group(1), path
        assert "Document language" in html, path
