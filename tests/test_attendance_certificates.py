"""Attendance settings, certificates (eligibility, issuing, revoking, numbers, PDFs) and the
public verification page; access, weight and queries."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from kim_app.attendance.certificates.operations import CertificateError, issue_certificates
from kim_app.attendance.certificates.queries import (
    attended_counts,
    eligible_registrations,
    format_certificate_number,
    number_format_problem,
)
from kim_app.attendance.models import Presence
from kim_app.attendance.operations import mark_attendance
from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.events.models import Event, Registration
from kim_app.events.operations import cancel_registration
from kim_app.extensions import db
from kim_app.timezones import utcnow
from tests.budget import FRAGMENT_BUDGET, PAGE_BUDGET, counted_queries, gzip_size, page_weight
from tests.conftest import JATIM, PPU, PPU_VILLAGE, html_of
from tests.helpers import certificate_text
from tests.scenes import (
    CERTIFICATE_SIGNER,
    attend,
    attending_people,
    bulk,
    cert_event,
    certs,
    issue,
    register_attendee,
)

SCOPE_CHECKED = {
    "attendance.settings",
    "attendance.certificates",
    "attendance.certificates_pdf",
}
PUBLIC = {"attendance.verify", "attendance.verify_form", "attendance.ticket_certificate"}
WEIGHED = {
    "attendance.settings",
    "attendance.certificates",
    "attendance.verify",
    "attendance.verify_form",
}
NOT_PAGES = {"attendance.certificates_pdf", "attendance.ticket_certificate"}


# --- helpers ---------------------------------------------------------------------------------------


def ticket_of(app, registration_id: int) -> str:
    with app.app_context():
        return db.session.get(Registration, registration_id).ticket


def weigh(response) -> int:
    assert "<html" in html_of(response)
    return page_weight(response)


# --- numbers -----------------------------------------------------------------------------------------


def test_number_format_placeholders(app, ctx, make_event):
    """{no}, {no:03}, {bulan} (Roman), {tahun} and {kode} fill in; other braces are refused."""
    event = make_event(code="ab12cd")
    on = date(2026, 11, 5)
    assert format_certificate_number("{no}/SERT-KIM/{bulan}/{tahun}", 7, event, on) == (
        "7/SERT-KIM/XI/2026"
    )
    assert format_certificate_number("{no:03}-{kode}", 7, event, on) == "007-AB12CD"
    assert number_format_problem("{no:03}/DKI/{bulan}/{tahun}/{kode}") is None
    assert "{nomor}" in number_format_problem("{nomor}/X")
    assert "{0.__class__}" in number_format_problem("{no}{0.__class__}")
    assert "berpasangan" in number_format_problem("{no}/X}")
    assert "{no}" in number_format_problem("SERT/{tahun}")


# --- settings -------------------------------------------------------------------------------------------


def test_settings_save_and_audit(app, client, operator, make_event):
    """The operator turns self check-in to 30 minutes, sets a PIN, signatures, the official and
    certificates at 75 %; the change is saved and audited with the changed fields (no PIN value)."""
    event = make_event()
    url = f"/absensi/kegiatan/{event.id}/pengaturan"
    page = html_of(client.get(url))
    assert "Contoh: 1/SERT-KIM/" in page and 'value="60"' in page
    data = {
        "checkin_on": "y",
        "checkin_opens_minutes": "30",
        "venue_pin": "482193",
        "signatures": "y",
        "certificates_on": "y",
        "certificate_min_percent": "75",
        "certificate_number_format": "{no:03}/SERT/{bulan}/{tahun}",
    } | CERTIFICATE_SIGNER
    response = client.submit(url, data)
    assert response.status_code == 303
    with app.app_context():
        saved = db.session.get(Event, event.id)
        assert (saved.checkin_opens_minutes, saved.venue_pin, saved.signatures) == (
            30,
            "482193",
            True,
        )
        assert (
            saved.signer_nip == CERTIFICATE_SIGNER["signer_nip"]
            and saved.certificate_min_percent == 75
        )
        assert saved.certificate_number_format == "{no:03}/SERT/{bulan}/{tahun}"
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "event.attendance_settings")
        ).one()
        assert entry.changes["checkin_opens_minutes"] == [60, 30]
        assert entry.changes["venue_pin"] == "diubah" and "482193" not in str(entry.changes)
    # turning both off stores None
    response = client.submit(url, {"certificate_number_format": "{no}"})
    assert response.status_code == 303
    with app.app_context():
        saved = db.session.get(Event, event.id)
        assert saved.checkin_opens_minutes is None and saved.certificate_min_percent is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("venue_pin", "12a4", "Hanya angka"),
        ("venue_pin", "1234", "6–8 angka"),
        ("venue_pin", "123456789", "6–8 angka"),
        ("certificate_number_format", "{nomor}/SERT/{tahun}", "Kode {nomor} tidak dikenal"),
        ("certificate_number_format", "SERT/{tahun}", "harus memuat {no}"),
        ("signer_nip", "19750101 2000", "Hanya angka"),
        ("signer_nip", "NIP1975", "Hanya angka"),
        ("checkin_opens_minutes", "300", "Antara 0 dan 240"),
        ("checkin_opens_minutes", "satu jam", "Tuliskan angka saja"),
        ("certificate_min_percent", "0", "Antara 1 dan 100"),
    ],
)
def test_settings_validation(app, client, operator, make_event, field, value, message):
    """A bad PIN, an unknown placeholder, a NIP with letters or spaces, minutes or a percentage
    out of range: 422 with the message beside the field, nothing saved."""
    event = make_event()
    url = f"/absensi/kegiatan/{event.id}/pengaturan"
    data = {
        "checkin_on": "y",
        "checkin_opens_minutes": "45",
        "certificates_on": "y",
        "certificate_min_percent": "80",
        "certificate_number_format": "{no}/SERT/{tahun}",
    } | {field: value}
    response = client.submit(url, data)
    assert response.status_code == 422
    assert message in html_of(response)
    with app.app_context():
        saved = db.session.get(Event, event.id)
        assert saved.checkin_opens_minutes == 60 and saved.certificate_min_percent is None


def test_settings_random_pin_and_live_example(app, client, operator, make_event, partial_headers):
    """ "Buat PIN acak" fills in six digits without saving; typing a format gets the example
    fragment (or the problem) over htmx; the form swaps itself on 422."""
    event = make_event(code="pkl2026")
    url = f"/absensi/kegiatan/{event.id}/pengaturan"
    response = client.submit(url, {"_pin": "1", "certificate_number_format": "{no}"})
    assert response.status_code == 200
    assert re.search(r'name="venue_pin"[^>]*value="\d{6}"', html_of(response))
    with app.app_context():
        assert db.session.get(Event, event.id).venue_pin == ""
    fragment = client.get(
        url,
        query_string={"contoh": "1", "certificate_number_format": "{no:03}/{kode}/{tahun}"},
        headers=partial_headers,
    )
    body = html_of(fragment)
    year = date.today().year
    assert body.startswith('<p id="contoh-nomor"') and "Contoh: 001/PKL2026/" in body
    assert str(year) in body or str(year + 1) in body
    assert gzip_size(fragment.data) <= FRAGMENT_BUDGET
    bad = html_of(
        client.get(
            url,
            query_string={"contoh": "1", "certificate_number_format": "{x}"},
            headers=partial_headers,
        )
    )
    assert "Kode {x} tidak dikenal" in bad
    token = client.token(url)
    swapped = client.post(
        url,
        data={"csrf_token": token, "venue_pin": "12", "certificate_number_format": "{no}"},
        headers=partial_headers,
    )
    assert swapped.status_code == 422
    assert html_of(swapped).startswith('<form id="pengaturan"')
    assert gzip_size(swapped.data) <= FRAGMENT_BUDGET


# --- eligibility and issuing ------------------------------------------------------------------------


def test_eligibility_half_of_four_sessions(app, make_event):
    """Four sessions at 50 %: people present in 1, 2 and 4 sessions — only 2 and 4 qualify; a
    cancelled registration never does; hadir is counted in one grouped query."""
    event = cert_event(app, make_event)
    one, two, four = attending_people(app, event.id, [1, 2, 4])
    gone = attending_people(app, event.id, [4])[0]
    izin = register_attendee(app, event.id, "Izin Semua", 9999)
    attend(app, izin, 4, Presence.IZIN)
    with app.test_request_context():
        cancel_registration(db.session.get(Registration, gone), None)
        db.session.commit()
        loaded = db.session.get(Event, event.id)
        counts = attended_counts(loaded)
        assert counts == {one: 1, two: 2, four: 4, gone: 4}
        loaded.sessions  # noqa: B018 (loaded before counting)
        with counted_queries(app) as queries:
            eligible = eligible_registrations(loaded)
        assert [r.id for r in eligible] == [two, four]
        assert len(queries) == 1


def test_issue_is_idempotent_and_numbers_run_on(app, make_event):
    """Issuing twice gives no duplicates; numbers follow the format in order; a person who
    becomes eligible later gets the next number; codes are 10 characters, all distinct."""
    event = cert_event(
        app, make_event, certificate_number_format="{no:03}/SERT-KIM/{bulan}/{tahun}"
    )
    ids = attending_people(app, event.id, [2, 4, 3, 1])
    first = issue(app, event.id)
    assert (first.issued, first.revoked, first.restored) == (3, 0, 0)
    again = issue(app, event.id)
    assert (again.issued, again.revoked, again.restored) == (0, 0, 0)
    rows = certs(app, event.id)
    assert [c.serial for c in rows] == [1, 2, 3]
    assert [c.registration_id for c in rows] == ids[:3]  # by name: Peserta 1, 2, 3
    with app.test_request_context():
        today = db.session.get(Event, event.id)
        from kim_app.events.operations import local_now

        on = local_now(today).date()
    roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"][on.month - 1]
    assert [c.number for c in rows] == [f"00{n}/SERT-KIM/{roman}/{on.year}" for n in (1, 2, 3)]
    assert len({c.code for c in rows}) == 3
    assert all(len(c.code) == 10 and c.code.isalnum() and c.code.isupper() for c in rows)
    attend(app, ids[3], 2)
    later = issue(app, event.id)
    assert later.issued == 1
    assert certs(app, event.id)[-1].serial == 4
    with app.app_context():
        audits = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "certificate.issue")
            .order_by(AuditEntry.id)
        ).all()
        assert [a.changes["issued"] for a in audits] == [3, 0, 1]


def test_revoke_after_attendance_changes_and_restore(app, client, make_event):
    """Undoing a mark (a later mark 'belum') and issuing again revokes the certificate; the
    verification page says so; marking hadir again and issuing restores the same number."""
    event = cert_event(app, make_event)
    (rid,) = attending_people(app, event.id, [2])
    issue(app, event.id)
    (cert,) = certs(app, event.id)
    assert "Sah" in html_of(client.get(f"/v/{cert.code}"))
    with app.test_request_context():
        registration = db.session.get(Registration, rid)
        mark_attendance(
            registration,
            registration.event.sessions[1],
            Presence.BELUM,
            None,
            marked_at=utcnow() + timedelta(seconds=30),
        )
        db.session.commit()
    result = issue(app, event.id)
    assert (result.issued, result.revoked) == (0, 1)
    (revoked,) = certs(app, event.id)
    assert revoked.revoked_at is not None and revoked.number == cert.number
    page = client.get(f"/v/{cert.code}")
    assert page.status_code == 200 and "Dicabut pada" in html_of(page)
    ticket = ticket_of(app, rid)
    assert client.get(f"/e/{event.code}/tiket/{ticket}/sertifikat.pdf").status_code == 404
    attend(app, rid, 2, later=60)
    result = issue(app, event.id)
    assert (result.issued, result.revoked, result.restored) == (0, 0, 1)
    (restored,) = certs(app, event.id)
    assert restored.revoked_at is None and restored.serial == 1 and restored.code == cert.code


def test_issue_refused_when_off_or_no_sessions(app, make_event):
    """Certificates off, or an event without sessions: issuing refuses with a message."""
    off = make_event()
    empty = make_event(days=0, certificate_min_percent=50)
    with app.test_request_context():
        for event_id, words in ((off.id, "belum diaktifkan"), (empty.id, "belum memiliki sesi")):
            with pytest.raises(CertificateError, match=words):
                issue_certificates(db.session.get(Event, event_id), None)


# --- pages ------------------------------------------------------------------------------------------


def test_certificates_page_and_issue_button(app, client, operator, make_event, partial_headers):
    """The list shows attended/total, eligible or not and numbers; the button issues and
    reports counts; with certificates off the page points to the settings and issuing refuses."""
    event = cert_event(app, make_event)
    attending_people(app, event.id, [1, 2, 4])
    url = f"/absensi/kegiatan/{event.id}/sertifikat"
    page = html_of(client.get(url))
    assert "hadir minimal 50% sesi, yaitu 2 dari 4 sesi" in page
    assert "4 dari 4 sesi sudah selesai" in page
    assert page.count("Memenuhi syarat") == 2 and "Hadir 1/4 sesi" in page
    response = client.submit(url, {})
    assert response.status_code == 303
    page = html_of(client.get(url))
    assert "2 sertifikat baru diterbitkan, 0 dicabut, 0 dipulihkan." in page
    assert "No. 1/SERT-KIM/" in page and "No. 2/SERT-KIM/" in page
    assert "2 sertifikat berlaku" in page and "sertifikat.pdf" in page
    rows = html_of(client.get(url, headers=partial_headers))
    assert rows.startswith('<section id="daftar-sertifikat"') and "<html" not in rows
    off = make_event()
    off_url = f"/absensi/kegiatan/{off.id}/sertifikat"
    assert "Sertifikat belum diaktifkan" in html_of(client.get(off_url))
    client.submit(off_url, {}, form_page=url)
    assert "belum diaktifkan di pengaturan" in html_of(client.get(off_url))


def test_certificates_pdf_text(app, client, operator, make_event):
    """The operator's PDF has one page per valid certificate with the name, number, event title,
    the signing official (position, name, NIP) and the verification code."""
    event = cert_event(app, make_event, title="Pelatihan Jurnalistik Warga 2026")
    attending_people(app, event.id, [4, 3, 1])
    assert client.get(f"/absensi/kegiatan/{event.id}/sertifikat.pdf").status_code == 303
    issue(app, event.id)
    response = client.get(f"/absensi/kegiatan/{event.id}/sertifikat.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    pages, text = certificate_text(response.data)
    assert pages == 2
    flat = " ".join(text.split())
    for words in ("SERTIFIKAT", "Peserta 1", "Peserta 2", "Pelatihan Jurnalistik Warga 2026"):
        assert words in flat
    for value in CERTIFICATE_SIGNER.values():
        assert value in flat
    for cert in certs(app, event.id):
        assert cert.number in flat and cert.code in flat
    assert "Peserta 3" not in flat


def test_ticket_certificate(app, client, make_event):
    """The holder downloads their own certificate by the ticket link (private, not cached); the
    ineligible, a wrong ticket and another event's code get 404."""
    event = cert_event(app, make_event)
    other = cert_event(app, make_event)
    good, weak = attending_people(app, event.id, [2, 1])
    issue(app, event.id)
    url = f"/e/{event.code}/tiket/{ticket_of(app, good)}/sertifikat.pdf"
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    pages, text = certificate_text(response.data)
    assert pages == 1 and "Peserta 1" in text and "Peserta 2" not in text
    assert (
        client.get(f"/e/{event.code}/tiket/{ticket_of(app, weak)}/sertifikat.pdf").status_code
        == 404
    )
    assert (
        client.get(f"/e/{event.code}/tiket/{secrets.token_urlsafe(18)}/sertifikat.pdf").status_code
        == 404
    )
    assert (
        client.get(f"/e/{other.code}/tiket/{ticket_of(app, good)}/sertifikat.pdf").status_code
        == 404
    )


def test_verify_pages(app, client, make_event):
    """/v/<code> shows name, institution, event, dates, organiser, number and "Sah", never a
    phone number; a typed code is normalised and redirected; an unknown code is a 404 page
    that says so; the form page works alone."""
    event = cert_event(app, make_event, title="Bimtek Pengelolaan Media Sosial")
    attending_people(app, event.id, [4])
    issue(app, event.id)
    (cert,) = certs(app, event.id)
    page = client.get(f"/v/{cert.code}")
    body = html_of(page)
    assert page.status_code == 200 and "✓ Sah" in body
    for words in (
        "Peserta 1",
        "KIM Uji",
        "Bimtek Pengelolaan Media Sosial",
        cert.number,
        "Diskominfo Kabupaten PPU",
    ):
        assert words in body
    assert "0813" not in body and "+62" not in body
    assert page.headers["X-Robots-Tag"] == "noindex, nofollow"
    typed = client.get("/v/", query_string={"kode": f" {cert.code[:5].lower()}-{cert.code[5:]} "})
    assert typed.status_code == 303 and typed.headers["Location"].endswith(f"/v/{cert.code}")
    missing = client.get("/v/ZZZZZZZZZZ")
    assert missing.status_code == 404
    assert "Kode ZZZZZZZZZZ tidak ditemukan." in html_of(missing)
    assert 'id="kode"' in html_of(missing)
    form = client.get("/v/")
    assert form.status_code == 200 and "Kode sertifikat" in html_of(form)


def test_verify_is_rate_limited(app, client, make_event):
    """Guessing codes from one address runs into the limit (429)."""
    default, app.config["KIM_RATELIMIT_VERIFY"] = app.config["KIM_RATELIMIT_VERIFY"], "3 per minute"
    try:
        statuses = [client.get(f"/v/AAAAAAAAA{i}").status_code for i in range(4)]
    finally:
        app.config["KIM_RATELIMIT_VERIFY"] = default
    assert statuses == [404, 404, 404, 429]


# --- access, weight, queries --------------------------------------------------------------------------

ROLES = [
    ("admin", Role.ADMIN, None, 200),
    ("kabkota_in", Role.OPERATOR_KABKOTA, PPU, 200),
    ("kabkota_out", Role.OPERATOR_KABKOTA, "32.10", 404),
    ("provinsi_out", Role.OPERATOR_PROVINSI, JATIM, 404),
    ("provinsi_in", Role.OPERATOR_PROVINSI, "64", 200),
    ("kepala_desa", Role.KEPALA_DESA, PPU_VILLAGE, 403),
    ("pengurus", Role.PENGURUS_KIM, PPU_VILLAGE, 403),
    ("petugas_this", Role.PETUGAS_ABSENSI, PPU, 403),
    ("petugas_other", Role.PETUGAS_ABSENSI, PPU, 403),
    ("anonymous", None, None, 302),
]


@pytest.mark.parametrize(("who", "role", "scope", "expected"), ROLES, ids=[r[0] for r in ROLES])
def test_scope_matrix(app, client, make_user, make_event, login, who, role, scope, expected):
    """Settings, the certificate list and its PDF: operators managing the event only; out of
    scope 404; other roles (the event's own petugas absensi too) 403; anonymous to sign-in."""
    event = cert_event(app, make_event)
    other = make_event()
    attending_people(app, event.id, [4])
    issue(app, event.id)
    if role is not None:
        event_id = (
            event.id if who == "petugas_this" else other.id if who == "petugas_other" else None
        )
        login(make_user(role, scope, event_id=event_id))
    base = f"/absensi/kegiatan/{event.id}"
    for path in ("/pengaturan", "/sertifikat", "/sertifikat.pdf"):
        assert client.get(base + path).status_code == expected, path
    token = client.token("/v/")
    for path, data in (
        ("/pengaturan", {"certificate_number_format": "{no}"}),
        ("/sertifikat", {}),
    ):
        status = client.post(base + path, data=data | {"csrf_token": token}).status_code
        assert status == (303 if expected == 200 else expected), path


def test_weights(app, client, operator, make_event):
    """Settings, the certificate list with 60 participants, verification and its form stay in
    the page budget."""
    event = cert_event(app, make_event)
    attending_people(app, event.id, [4] * 3)
    bulk(app, event.id, 60)
    issue(app, event.id)
    (first, *_rest) = certs(app, event.id)
    weights = {
        "settings": weigh(client.get(f"/absensi/kegiatan/{event.id}/pengaturan")),
        "certificates": weigh(client.get(f"/absensi/kegiatan/{event.id}/sertifikat")),
        "verify": weigh(client.get(f"/v/{first.code}")),
        "verify_form": weigh(client.get("/v/")),
    }
    print(f"page weights (gzip): {weights}")
    assert max(weights.values()) <= PAGE_BUDGET
    rows = client.get(
        f"/absensi/kegiatan/{event.id}/sertifikat",
        query_string={"halaman": 2},
        headers={"HX-Request": "true", "HX-Request-Type": "partial"},
    )
    print(f"certificate rows fragment, 13 rows (gzip): {gzip_size(rows.data)}")
    assert "<html" not in html_of(rows) and gzip_size(rows.data) <= FRAGMENT_BUDGET


def test_certificates_page_queries_constant(app, client, operator, make_event):
    """The certificate list runs the same number of statements for 5 and for 60 participants."""
    counts = []
    for n in (5, 60):
        event = cert_event(app, make_event)
        bulk(app, event.id, n)
        issue(app, event.id)
        with counted_queries(app) as queries:
            response = client.get(f"/absensi/kegiatan/{event.id}/sertifikat")
        assert response.status_code == 200
        counts.append(len(queries))
    print(f"certificate list queries (5 vs 60): {counts}")
    assert counts[0] == counts[1]


def test_a_page_past_the_last_shows_the_last(app, client, operator, make_event):
    """From the trial: ``?halaman=9999`` of a list of 63 people shows the last page (the 13
    after the first 50), not "Belum ada peserta terdaftar." under "63 peserta terdaftar"."""
    event = cert_event(app, make_event)
    attending_people(app, event.id, [4] * 3)
    bulk(app, event.id, 60)
    last = html_of(client.get(f"/absensi/kegiatan/{event.id}/sertifikat?halaman=9999"))
    second = html_of(client.get(f"/absensi/kegiatan/{event.id}/sertifikat?halaman=2"))
    assert "Belum ada peserta terdaftar." not in last
    rows = re.compile(r"<li[ >]")
    assert len(rows.findall(last)) == len(rows.findall(second)) > 0
