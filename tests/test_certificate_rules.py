"""Certificates by what has happened (issue 22 item 3) and as an agency would print them (item 20):
only ended sessions count and issuing waits for the last one; the every-day rule; wording without
a repeated word; one PDF per person; the agency's logo and the official's signature image, within
the upload bounds."""

from __future__ import annotations

import io
import itertools
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image
from pypdf import PdfReader

from kim_app.attendance.models import Certificate, Presence
from kim_app.attendance.operations import mark_attendance
from kim_app.events.models import Event, EventKind, Source
from kim_app.events.operations import PersonData, local_now, register_person
from kim_app.extensions import db
from tests.conftest import html_of
from tests.helpers import image_bytes, multipart

MAJALENGKA = "32.10"
SCOPE_CHECKED = {"attendance.participant_certificate", "attendance.certificate_image"}
NOT_PAGES = {"attendance.participant_certificate", "attendance.certificate_image"}

SIGNER = {
    "signer_name": "Dr. Hj. Siti Rahmawati, M.Si.",
    "signer_position": "Kepala Dinas Komunikasi dan Informatika",
    "signer_nip": "197501012000032001",
}


# --- helpers ---------------------------------------------------------------------------------------

PHONES = itertools.count(1)


def event_at(app, make_event, ended: int, **overrides) -> Event:
    """Two days × two sessions, certificates for 50 %; the first ``ended`` sessions are over
    (held in the days before today), the others are still ahead (tomorrow on)."""
    values = {"certificate_min_percent": 50, "organiser": "Diskominfo Kabupaten PPU"} | SIGNER
    event = make_event(days=2, sessions_per_day=2, **(values | overrides))
    with app.app_context():
        loaded = db.session.get(Event, event.id)
        today = local_now(loaded).replace(hour=0, minute=0, second=0, microsecond=0)
        for i, session in enumerate(loaded.sessions[:ended]):
            start = today - timedelta(days=3 - i // 2, hours=-(9 + 4 * (i % 2)))
            session.starts_at, session.ends_at = start, start + timedelta(hours=3)
        loaded.starts_on = loaded.sessions[0].starts_at
        db.session.commit()
    return event


def person(app, event_id: int, name: str, present_in: list[int]) -> int:
    """A registration present (hadir) in the sessions at these positions."""
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        phone = f"0813{event_id:04d}{next(PHONES):04d}"
        registration, _new = register_person(
            event, PersonData(name, phone, institution="KIM Uji"), Source.MANDIRI
        )
        for position in present_in:
            mark_attendance(registration, event.sessions[position], Presence.HADIR, None)
        db.session.commit()
        return registration.id


def holders(app, event_id: int) -> set[int]:
    """Registrations holding a valid certificate."""
    with app.app_context():
        return set(
            db.session.scalars(
                sa.select(Certificate.registration_id).where(
                    Certificate.event_id == event_id, Certificate.revoked_at.is_(None)
                )
            )
        )


def pdf_of(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def flat_text(reader: PdfReader) -> str:
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def settings_data(**extra) -> dict:
    return {
        "certificates_on": "y",
        "certificate_rule": "persen",
        "certificate_min_percent": "50",
        "certificate_number_format": "{no}/SERT/{tahun}",
        **SIGNER,
        **extra,
    }


def post_settings(client, event_id: int, fields: dict):
    url = f"/absensi/kegiatan/{event_id}/pengaturan"
    return client.post(url, **multipart({"csrf_token": client.token(url), **fields}))


# --- item 3: only ended sessions count; issuing waits; every day ---------------------------------


def test_issuing_waits_until_the_last_session_has_ended(app, client, operator, make_event):
    """With 2 of 4 sessions over, the page says so and when issuing opens, shows no issue button,
    and a POST issues nothing (the reason flashed); once every session is over the same marks
    earn the certificate."""
    event = event_at(app, make_event, ended=2)
    full = person(app, event.id, "Peserta Penuh", [0, 1])
    url = f"/absensi/kegiatan/{event.id}/sertifikat"
    page = html_of(client.get(url))
    assert "2 dari 4 sesi sudah selesai" in page
    assert "setelah sesi terakhir selesai" in page and "Hanya sesi yang sudah selesai" in page
    assert ">Terbitkan sertifikat</button>" not in page
    assert "Hadir 2 dari 2 sesi yang sudah selesai" in page
    assert client.submit(url, {}).status_code == 303
    assert "setelah sesi terakhir selesai" in html_of(client.get(url))
    assert holders(app, event.id) == set()

    done = event_at(app, make_event, ended=4)
    earned = person(app, done.id, "Peserta Lulus", [0, 1])
    done_url = f"/absensi/kegiatan/{done.id}/sertifikat"
    page = html_of(client.get(done_url))
    assert "4 dari 4 sesi sudah selesai" in page and ">Terbitkan sertifikat</button>" in page
    client.submit(done_url, {})
    assert holders(app, done.id) == {earned}
    assert full not in holders(app, done.id)


def test_marks_in_sessions_not_ended_do_not_count(app, client, operator, make_event):
    """Someone marked hadir only in the session running now has attended nothing that counts:
    the list says "Belum memenuhi" and nobody is counted as eligible so far."""
    event = event_at(app, make_event, ended=2)
    with app.app_context():  # the third session is running now
        running = db.session.get(Event, event.id).sessions[2]
        running.starts_at = local_now(running.event) - timedelta(hours=1)
        running.ends_at = running.starts_at + timedelta(hours=3)
        db.session.commit()
    person(app, event.id, "Peserta Awal", [2])
    page = html_of(client.get(f"/absensi/kegiatan/{event.id}/sertifikat"))
    assert "Hadir 0 dari 2 sesi yang sudah selesai" in page
    assert "0 memenuhi syarat sejauh ini" in page and "Belum memenuhi" in page


def test_every_day_rule(app, client, operator, make_event):
    """The operator picks "Hadir setiap hari": whoever attended a session on each of the two
    days earns a certificate; two sessions on the first day only (50 % of the sessions) do not."""
    event = event_at(app, make_event, ended=4)
    both_days = person(app, event.id, "Peserta Dua Hari", [1, 2])
    first_day = person(app, event.id, "Peserta Hari Pertama", [0, 1])
    response = post_settings(client, event.id, settings_data(certificate_rule="setiap_hari"))
    assert response.status_code == 303
    url = f"/absensi/kegiatan/{event.id}/sertifikat"
    page = html_of(client.get(url))
    assert "hadir setiap hari, minimal satu sesi tiap hari (2 hari)" in page
    assert "Hadir 2 dari 2 hari" in page and "Hadir 1 dari 2 hari" in page
    client.submit(url, {})
    assert holders(app, event.id) == {both_days}
    assert first_day not in holders(app, event.id)
    settings = html_of(client.get(f"/absensi/kegiatan/{event.id}/pengaturan"))
    assert re.search(r'value="setiap_hari"[^>]*checked|checked[^>]*value="setiap_hari"', settings)


# --- item 20: wording, one PDF per person, logo and signature ------------------------------------


def test_wording_names_the_kind_once(app, client, operator, make_event):
    """ "Pelatihan Literasi Digital" is printed once: the line above it does not repeat the kind."""
    event = event_at(
        app, make_event, ended=4, kind=EventKind.PELATIHAN, title="Pelatihan Literasi Digital"
    )
    person(app, event.id, "Peserta Satu", [0, 1])
    url = f"/absensi/kegiatan/{event.id}/sertifikat"
    client.submit(url, {})
    text = flat_text(pdf_of(client.get(f"/absensi/kegiatan/{event.id}/sertifikat.pdf").data))
    assert "Pelatihan Literasi Digital" in text
    assert text.count("Pelatihan") == 1, text
    assert "sebagai Peserta dalam kegiatan" in text


def test_one_pdf_per_person(app, client, operator, make_event):
    """Each valid certificate in the list links its own PDF (one page, that person only); someone
    without one, a registration of another event and an event out of scope give 404."""
    event = event_at(app, make_event, ended=4)
    first = person(app, event.id, "Ani Lestari", [0, 1])
    second = person(app, event.id, "Budi Santoso", [2, 3])
    weak = person(app, event.id, "Citra Dewi", [0])
    url = f"/absensi/kegiatan/{event.id}/sertifikat"
    client.submit(url, {})
    page = html_of(client.get(url))
    for rid in (first, second):
        assert f'href="/absensi/kegiatan/{event.id}/sertifikat/{rid}.pdf"' in page
    assert f"/sertifikat/{weak}.pdf" not in page
    response = client.get(f"/absensi/kegiatan/{event.id}/sertifikat/{second}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    reader = pdf_of(response.data)
    assert len(reader.pages) == 1
    assert "Budi Santoso" in flat_text(reader) and "Ani Lestari" not in flat_text(reader)
    assert client.get(f"/absensi/kegiatan/{event.id}/sertifikat/{weak}.pdf").status_code == 404
    other = event_at(app, make_event, ended=4)
    stranger = person(app, other.id, "Dedi Orang Lain", [0, 1, 2, 3])
    client.submit(f"/absensi/kegiatan/{other.id}/sertifikat", {})
    assert client.get(f"/absensi/kegiatan/{event.id}/sertifikat/{stranger}.pdf").status_code == 404
    away = event_at(app, make_event, ended=4, region=MAJALENGKA)
    assert client.get(f"/absensi/kegiatan/{away.id}/sertifikat/{first}.pdf").status_code == 404
    huge = f"/absensi/kegiatan/{event.id}/sertifikat/{2**40}.pdf"
    assert client.get(huge).status_code == 404


def test_logo_signature_name_and_nip_on_the_certificate(app, client, operator, make_event):
    """The operator uploads the agency's logo (PNG) and the official's signature (a JPEG with
    camera EXIF): both are kept cleaned (no EXIF), previewed on the settings page, and drawn on
    every certificate with the official's name, position and NIP; "Hapus" removes them."""
    event = event_at(app, make_event, ended=4)
    person(app, event.id, "Peserta Satu", [0, 1])
    response = post_settings(
        client,
        event.id,
        settings_data(
            certificate_logo=(image_bytes("PNG"), "logo.png"),
            signer_signature=(image_bytes("JPEG", (400, 150), exif=True), "ttd.jpg"),
        ),
    )
    assert response.status_code == 303
    settings = html_of(client.get(f"/absensi/kegiatan/{event.id}/pengaturan"))
    assert f'src="/absensi/kegiatan/{event.id}/sertifikat/logo"' in settings
    assert f'src="/absensi/kegiatan/{event.id}/sertifikat/tanda-tangan"' in settings
    logo = client.get(f"/absensi/kegiatan/{event.id}/sertifikat/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    signature = client.get(f"/absensi/kegiatan/{event.id}/sertifikat/tanda-tangan")
    assert signature.mimetype == "image/jpeg"
    assert b"KameraRahasia" not in signature.data
    assert not Image.open(io.BytesIO(signature.data)).getexif()
    client.submit(f"/absensi/kegiatan/{event.id}/sertifikat", {})
    reader = pdf_of(client.get(f"/absensi/kegiatan/{event.id}/sertifikat.pdf").data)
    assert len(reader.pages[0].images) == 2
    text = flat_text(reader)
    for value in SIGNER.values():
        assert value in text
    response = post_settings(
        client,
        event.id,
        settings_data(remove_certificate_logo="y", remove_signer_signature="y"),
    )
    assert response.status_code == 303
    assert client.get(f"/absensi/kegiatan/{event.id}/sertifikat/logo").status_code == 404
    reader = pdf_of(client.get(f"/absensi/kegiatan/{event.id}/sertifikat.pdf").data)
    assert len(reader.pages[0].images) == 0


def huge_png() -> bytes:
    """A PNG whose header declares 20 000 × 20 000 pixels (400 megapixels) in a few hundred
    bytes: refused from the header, never decoded."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        ((b"%PDF-1.4 bukan gambar", "logo.pdf"), "PNG atau JPEG"),
        ((b"\x89PNG\r\n\x1a\n" + b"rusak" * 20, "logo.png"), "tidak dapat dibaca"),
        ("HUGE", "megapiksel"),
    ],
    ids=["not-an-image", "broken-png", "too-many-pixels"],
)
def test_bad_images_are_refused_and_nothing_is_lost(
    app, client, operator, make_event, upload, message
):
    """A file that is no image, a broken one or one over the pixel limit: 422 with the reason by
    the field, the typed fields kept, nothing saved."""
    event = event_at(app, make_event, ended=0)
    if upload == "HUGE":
        upload = (huge_png(), "besar.png")
    fields = settings_data(certificate_logo=upload)
    fields["signer_name"] = "Nama Baru Diketik"
    response = post_settings(client, event.id, fields)
    assert response.status_code == 422
    page = html_of(response)
    assert message in page and "Pilih berkasnya lagi" in page
    assert 'value="Nama Baru Diketik"' in page
    with app.app_context():
        saved = db.session.get(Event, event.id)
        assert saved.certificate_logo == "" and saved.signer_name == SIGNER["signer_name"]


def test_upload_over_the_limit_is_refused_before_it_is_read(app, client, operator, make_event):
    """A body over the settings page's limit (two 2 MB images and the fields) gets 413."""
    event = event_at(app, make_event, ended=0)
    response = post_settings(
        client, event.id, settings_data(certificate_logo=(b"\x89PNG" + b"0" * 5_000_000, "a.png"))
    )
    assert response.status_code == 413
