"""Personal data on the public side (issue 22 item 21, UU 27/2022): the registration form and self
check-in say in two lines why, for how long and who sees the data, with a link to the full notice
(/privasi, both languages); registering needs an explicit, unticked-by-default consent, kept with
the registration (time and notice version); registrations by anyone else keep none."""

from __future__ import annotations

import re

import sqlalchemy as sa

from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.events.models import PRIVACY_NOTICE_VERSION, Event, Registration, Source
from kim_app.events.operations import PersonData, register_person
from kim_app.extensions import db
from tests.budget import PAGE_BUDGET, page_weight
from tests.conftest import PPU, html_of

WEIGHED = {"main.privacy"}

PERSON = {
    "name": "Siti Rahmawati",
    "phone": "0813-5555-0101",
    "institution": "KIM Sebakung Jaya",
    "position": "Sekretaris",
    "gender": "P",
}
ORGANISER = "Diskominfo Kabupaten Penajam Paser Utara"
CONTACT = "diskominfo@ppu.example"


def _event(make_event, **values):
    return make_event(organiser=ORGANISER, contact=CONTACT, **values)


def _registrations(app) -> list[Registration]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Registration).order_by(Registration.id)).all()
        db.session.expunge_all()
        return rows


def _english(client) -> None:
    with client.session_transaction() as session:
        session["lang"] = "en"


def test_public_form_says_why_who_and_how_long_with_the_notice(client, make_event):
    """Above the button: what the data is for and who sees it (naming the organiser), how long it
    is kept and the rights, a link to the full notice for this event, and a required checkbox
    that is not ticked."""
    event = _event(make_event)
    page = html_of(client.get(f"/e/{event.code}"))
    lines = page[page.index('id="privasi-singkat"') :]
    lines = lines[: lines.index("</p>")]
    assert f"dipakai {ORGANISER} hanya untuk pendaftaran, presensi, sertifikat" in lines
    assert "panitia dan operator daerah asal Anda" in lines
    assert "Disimpan selama arsip kegiatan diperlukan" in lines and "penghapusannya" in lines
    assert f'href="/privasi?kegiatan={event.code}"' in lines
    box = re.search(r'<input[^>]*name="consent"[^>]*>', page).group(0)
    assert 'type="checkbox"' in box and "required" in box and "checked" not in box
    assert 'aria-describedby="privasi-singkat"' in box
    assert "Saya setuju data saya diproses seperti tertulis di atas." in page
    assert page.index('name="consent"') < page.index(">Daftar</button>")


def test_registration_without_consent_is_refused_keeping_what_was_typed(app, client, make_event):
    """No tick: 422 with a clear message, nothing stored, and the typed values still there."""
    event = _event(make_event)
    response = client.submit(f"/e/{event.code}", PERSON)
    assert response.status_code == 422
    page = html_of(response)
    assert "Centang persetujuan ini untuk mendaftar." in page
    assert 'value="Siti Rahmawati"' in page and 'value="KIM Sebakung Jaya"' in page
    assert _registrations(app) == []
    _english(client)
    response = client.submit(f"/e/{event.code}", PERSON | {"consent": ""})
    assert response.status_code == 422
    assert "Tick this consent to register." in html_of(response)
    assert _registrations(app) == []


def test_consent_is_recorded_with_the_registration(app, client, make_event):
    """With the tick: the registration carries when the person agreed and to which version of the
    notice, the audit log says so, the ticket shows it, and the person's data file holds it."""
    event = _event(make_event)
    response = client.submit(f"/e/{event.code}", PERSON | {"consent": "y"})
    assert response.status_code == 303
    [registration] = _registrations(app)
    assert registration.source is Source.MANDIRI
    assert registration.consent_version == PRIVACY_NOTICE_VERSION
    assert registration.consent_at is not None
    assert registration.consent_at >= registration.created_at
    with app.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "registration.consent")
        )
    assert entry.object_id == str(registration.id)
    assert entry.changes == {"version": PRIVACY_NOTICE_VERSION}
    ticket = html_of(client.get(response.location))
    assert "Anda menyetujui pemberitahuan privasi pada" in ticket
    assert f'href="/privasi?kegiatan={event.code}"' in ticket


def test_the_persons_data_file_holds_the_consent(app, client, make_user, login, make_event):
    """The operator's export of everything held about the person (UU 27/2022) includes the
    consent's time and version."""
    event = _event(make_event)
    client.submit(f"/e/{event.code}", PERSON | {"consent": "y"})
    [registration] = _registrations(app)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    data = client.get(f"/laporan/orang/{registration.id}/data.json").get_json()
    [entry] = data["pendaftaran"]
    assert entry["versi_pemberitahuan_privasi"] == PRIVACY_NOTICE_VERSION
    assert entry["persetujuan_utc"].startswith(registration.consent_at.isoformat()[:16])


def test_registrations_by_others_keep_no_consent(app, client, make_user, login, make_event):
    """An operator's guest, an invitation and an import are not the person's consent: their source
    says who registered them and no consent is recorded; the ticket still links the notice."""
    event = _event(make_event)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.submit(
        f"/kegiatan/{event.id}/undangan",
        {"aksi": "tambah", "name": "Tamu Operator", "phone": "0813-5555-0202", "gender": "L"},
    )
    assert response.status_code == 303
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        for source, phone in (
            (Source.UNDANGAN, "0813-5555-0303"),
            (Source.IMPOR, "0813-5555-0404"),
        ):
            register_person(loaded, PersonData(f"Orang {source.value}", phone), source)
        db.session.commit()
    rows = _registrations(app)
    assert [r.source for r in rows] == [Source.OPERATOR, Source.UNDANGAN, Source.IMPOR]
    assert [(r.consent_at, r.consent_version) for r in rows] == [(None, None)] * 3
    client.get("/logout")
    ticket = html_of(client.get(f"/e/{event.code}/tiket/{rows[0].ticket}"))
    assert "Anda menyetujui" not in ticket
    assert f'href="/privasi?kegiatan={event.code}"' in ticket


def test_the_person_registered_by_an_operator_consents_on_the_public_form(app, client, make_event):
    """The person an operator registered fills the public form themself with the same number and
    name: their ticket opens and their consent is recorded (the source stays honest). Someone
    else typing that number with another name records nothing."""
    event = _event(make_event)
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        register_person(loaded, PersonData("Siti Rahmawati", PERSON["phone"]), Source.OPERATOR)
        db.session.commit()
    stranger = client.submit(
        f"/e/{event.code}", PERSON | {"name": "Orang Lain Sekali", "consent": "y"}
    )
    assert stranger.status_code == 422
    [registration] = _registrations(app)
    assert registration.consent_at is None
    response = client.submit(f"/e/{event.code}", PERSON | {"consent": "y"})
    assert response.status_code == 303
    [registration] = _registrations(app)
    assert registration.source is Source.OPERATOR
    assert registration.consent_version == PRIVACY_NOTICE_VERSION


def test_privacy_notice_page_in_both_languages(client, make_event):
    """/privasi: controller, data, purposes, who sees it, how long, rights (erasure included) and
    contact; opened from an event, it names that event's organiser and contact."""
    event = _event(make_event, title="Pelatihan Jurnalistik Warga")
    page = html_of(client.get("/privasi"))
    for heading in (
        "Pengendali data",
        "Data yang dikumpulkan",
        "Untuk apa",
        "Siapa yang melihat",
        "Berapa lama disimpan",
        "Hak Anda",
        "Kontak",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert "Undang-Undang Nomor 27 Tahun 2022" in page and "meminta data Anda dihapus" in page
    assert f"Versi pemberitahuan: {PRIVACY_NOTICE_VERSION}." in page
    page = html_of(client.get(f"/privasi?kegiatan={event.code}"))
    assert f"Untuk kegiatan “Pelatihan Jurnalistik Warga”: {ORGANISER}." in page
    assert f"Sampaikan permintaan kepada panitia: {CONTACT}." in page
    _english(client)
    page = html_of(client.get(f"/privasi?kegiatan={event.code}"))
    assert '<html lang="en"' in page
    for heading in ("Data controller", "Data collected", "Who sees it", "How long it is kept"):
        assert f"<h2>{heading}</h2>" in page
    assert "Your rights" in page and "erased" in page
    assert f"For the event “Pelatihan Jurnalistik Warga”: {ORGANISER}." in page


def test_privacy_notice_ignores_unknown_and_draft_events(client, make_event):
    """A code of no event, of a draft, or a malformed one gives the general notice, not an error."""
    from kim_app.events.models import EventStatus

    draft = _event(make_event, status=EventStatus.DRAFT, title="Rahasia Draf")
    for query in (f"?kegiatan={draft.code}", "?kegiatan=tidakada", "?kegiatan=" + "x" * 5000):
        response = client.get("/privasi" + query)
        assert response.status_code == 200
        page = html_of(response)
        assert "Rahasia Draf" not in page and "Untuk kegiatan" not in page
        assert "namanya tertulis sebagai penyelenggara di halaman kegiatan" in page


def test_self_check_in_says_how_attendance_is_recorded(app, client, opened):
    """The self check-in form says who records the attendance (and signature) and what the number
    is for, with the link to the notice, in both languages."""
    event, _sid, _registration = opened(signatures=True, organiser=ORGANISER)
    page = html_of(client.get(f"/e/{event.code}/hadir"))
    assert (
        f"Kehadiran dan tanda tangan Anda dicatat di daftar hadir kegiatan ini oleh {ORGANISER}"
        in page
    )
    assert "nomor hanya dipakai untuk menemukan pendaftaran Anda" in page
    assert f'href="/privasi?kegiatan={event.code}"' in page
    _english(client)
    page = html_of(client.get(f"/e/{event.code}/hadir"))
    assert f"Your attendance and signature are recorded by {ORGANISER}" in page


def test_pages_stay_within_the_budget(app, client, make_event):
    """The public event page with its notice and form, and the notice itself, fit 14 KB gzip in
    both languages (a long organiser name, a full origin list)."""
    event = _event(make_event, region="64", capacity=100, description="Uraian kegiatan. " * 40)
    for lang in ("id", "en"):
        with client.session_transaction() as session:
            session["lang"] = lang
        for path in (f"/e/{event.code}", "/privasi", f"/privasi?kegiatan={event.code}"):
            response = client.get(path)
            assert response.status_code == 200
            size = page_weight(response)
            print(f"page weight {lang} {path}: {size} bytes gzip")
            assert size <= PAGE_BUDGET, path
