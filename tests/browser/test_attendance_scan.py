"""The petugas absensi on a 360 px phone: signs in, lands on the scan page of its event, checks
people in by typed ticket codes (with and without JavaScript) and by a ticket's QR code in front
of a (fake) camera, and cannot open anything else."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import sqlalchemy as sa
from playwright.sync_api import expect

from kim_app.attendance.models import Attendance
from kim_app.auth.models import Role
from kim_app.events.models import Event, Registration, Source
from kim_app.events.operations import PersonData, local_now, register_person
from kim_app.extensions import db
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, new_phone, screenshot
from tests.browser.helpers import qr_video, sign_in_by_form
from tests.conftest import PASSWORD, PPU


def _event_running_now(app, make_event, names) -> tuple[int, int, list[str]]:
    """An event whose first session runs now; returns its id, that session's id and the people's
    check-in codes."""
    event_id = make_event(title="Pelatihan Jurnalistik Warga").id
    with app.app_context():
        event = db.session.get(Event, event_id)
        now = local_now(event)
        first = event.sessions[0]
        first.starts_at, first.ends_at = now - timedelta(minutes=30), now + timedelta(hours=2)
        first.topic = "Menulis berita desa"
        codes = [
            register_person(event, PersonData(name, f"0813{i + 1:08d}"), Source.MANDIRI)[0]
            for i, name in enumerate(names)
        ]
        db.session.commit()
        return event.id, first.id, [r.checkin_code for r in codes]


def _type_code(page, code: str) -> None:
    page.get_by_label("Kode tiket").fill(code)
    page.get_by_role("button", name="Catat hadir").click()


def _hadir(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Attendance))


def test_petugas_scans_by_typed_code(browser, app, live_server, make_user, make_event):
    """Signed in, the petugas is on the scan page; a valid code is checked in, the same code again
    says when, an unknown one is refused — each with its words and colour; /kegiatan/ is forbidden."""
    event_id, session_id, (ani, _budi) = _event_running_now(
        app, make_event, ("Ani Lestari", "Budi Santoso")
    )
    petugas = make_user(Role.PETUGAS_ABSENSI, PPU, event_id=event_id)
    context = new_phone(browser, app)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and "status of 403" not in m.text else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_in_by_form(page, live_server, petugas.email)
        expect(page).to_have_url(re.compile(rf"/absensi/sesi/{session_id}/pindai$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Pindai tiket")
        expect(page.get_by_role("button", name="Mulai kamera")).to_be_visible()
        expect(page.locator("#jumlah-hadir")).to_have_text("0 hadir")
        screenshot(page, "scan-page")

        _type_code(page, f"{ani[:4].lower()}-{ani[4:].lower()}")
        verdict = page.locator("#hasil .vonis")
        expect(verdict).to_contain_text("Hadir tercatat")
        expect(verdict).to_contain_text("Ani Lestari")
        expect(verdict).to_have_class(re.compile("vonis-ok"))
        expect(page.locator("#jumlah-hadir")).to_have_text("1 hadir")
        expect(page.get_by_label("Kode tiket")).to_have_value("")
        screenshot(page, "scan-verdict-checked-in")

        _type_code(page, ani)
        expect(verdict).to_contain_text(re.compile(r"Sudah tercatat hadir pukul \d\d\.\d\d WITA"))
        expect(verdict).to_have_class(re.compile("vonis-lagi"))
        screenshot(page, "scan-verdict-already")

        _type_code(page, "ZZZZ-ZZZZ")
        expect(verdict).to_contain_text("Tidak terdaftar")
        expect(verdict).to_have_class(re.compile("vonis-tolak"))
        expect(page.locator("#jumlah-hadir")).to_have_text("1 hadir")
        expect(page.locator("#antrean")).to_be_hidden()
        screenshot(page, "scan-verdict-unknown")
        assert _hadir(app) == 1

        response = page.goto(live_server + "/kegiatan/")
        assert response.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text("Akses ditolak")
        page.goto(live_server + f"/absensi/kegiatan/{event_id}")
        expect(page.get_by_role("heading", level=1)).not_to_have_text("Kehadiran")
        screenshot(page, "scan-petugas-forbidden")
        assert errors == [], errors
    finally:
        context.close()


def test_scan_without_javascript(browser, app, live_server, make_user, make_event):
    """With JavaScript off the camera button stays hidden and a typed code still checks in; a
    reload shows the page without repeating the verdict."""
    event_id, session_id, (ani,) = _event_running_now(app, make_event, ("Ani Lestari",))
    petugas = make_user(Role.PETUGAS_ABSENSI, PPU, event_id=event_id)
    context = new_phone(browser, app, javascript=False)
    page = context.new_page()
    try:
        sign_in_by_form(page, live_server, petugas.email)
        expect(page).to_have_url(re.compile(rf"/absensi/sesi/{session_id}/pindai$"))
        expect(page.get_by_role("button", name="Mulai kamera")).to_be_hidden()
        _type_code(page, ani)
        expect(page.locator("#hasil")).to_contain_text("Hadir tercatat")
        expect(page.locator("#jumlah-hadir")).to_have_text("1 hadir")
        screenshot(page, "scan-no-js")
        page.reload()
        expect(page.locator("#hasil .vonis")).to_have_count(0)
        assert _hadir(app) == 1
    finally:
        context.close()


def test_camera_reads_a_ticket_qr_code(browser, app, live_server, make_user, make_event, tmp_path):
    """A fake camera showing a ticket's QR code: the page decodes it (jsQR from the CDN copy, as
    Chromium on Linux has no BarcodeDetector) and checks the person in once, though the code stays
    in view."""
    event_id, session_id, _codes = _event_running_now(app, make_event, ("Citra Dewi",))
    with app.app_context():
        event = db.session.get(Event, event_id)
        ticket = db.session.scalar(sa.select(Registration.ticket))
        link = f"{live_server}/e/{event.code}/tiket/{ticket}"
    petugas = make_user(Role.PETUGAS_ABSENSI, PPU, event_id=event_id)
    video = tmp_path / "qr.y4m"
    qr_video(video, link)
    camera_browser = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_FLAGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = new_phone(camera_browser, app)
        context.grant_permissions(["camera"])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in_by_form(page, live_server, petugas.email)
        expect(page).to_have_url(re.compile(rf"/absensi/sesi/{session_id}/pindai$"))
        page.get_by_role("button", name="Mulai kamera").click()
        expect(page.locator("#layar")).to_be_visible()
        verdict = page.locator("#hasil .vonis")
        expect(verdict).to_contain_text("Hadir tercatat", timeout=15_000)
        expect(verdict).to_contain_text("Citra Dewi")
        expect(page.get_by_role("button", name="Hentikan kamera")).to_be_visible()
        screenshot(page, "scan-camera")
        page.wait_for_timeout(2500)  # the code is still in view: no second scan
        expect(verdict).to_contain_text("Hadir tercatat")
        page.get_by_role("button", name="Hentikan kamera").click()
        expect(page.locator("#layar")).to_be_hidden()
        assert _hadir(app) == 1 and errors == []
    finally:
        camera_browser.close()


def test_operator_creates_a_petugas(browser, app, live_server, make_user, make_event):
    """The operator creates a petugas account on the event's petugas page with a name and a
    WhatsApp number; the row offers its invitation by WhatsApp, and the petugas, opening the
    link on their own phone, sets a password and lands on the scan page."""
    event = make_event(title="Forum KIM Kabupaten")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    context = new_phone(browser, app)
    page = context.new_page()
    try:
        sign_in_by_form(page, live_server, operator.email)
        page.goto(live_server + f"/absensi/kegiatan/{event.id}/petugas")
        page.get_by_label("Nama lengkap").fill("Rina Petugas")
        page.get_by_label("Nomor WhatsApp").fill("0813-5555-0101")
        page.get_by_role("button", name="Buat dan tugaskan").click()
        expect(page.locator("#pesan")).to_contain_text("Akun petugas Rina Petugas dibuat")
        row = page.locator(".list li", has_text="Rina Petugas")
        expect(row).to_contain_text("0813-5555-0101")
        handoff = row.get_by_role("link", name="Kirim lewat WhatsApp").get_attribute("href")
        assert handoff.startswith("https://wa.me/6281355550101?text=")
        link = row.get_by_label("Atau salin tautannya").input_value()
        assert quote(link, safe="") in handoff
        screenshot(page, "scan-officers")
    finally:
        context.close()
    own = new_phone(browser, app)  # the petugas's own phone
    try:
        mine = own.new_page()
        mine.goto(link)
        expect(mine.get_by_text("Anda masuk dengan: 0813-5555-0101")).to_be_visible()
        mine.get_by_label("Kata sandi baru", exact=True).fill(PASSWORD)
        mine.get_by_label("Ulangi kata sandi baru").fill(PASSWORD)
        mine.get_by_role("button", name="Simpan kata sandi dan masuk").click()
        expect(mine).to_have_url(re.compile(r"/pindai$"))
    finally:
        own.close()
