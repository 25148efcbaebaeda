"""On a phone at the venue, without an account: a participant opens the event's page during the
check-in window, confirms with their number and the venue PIN, signs on the pad and sees the
green verdict — and, with JavaScript off, checks in without the pad."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from kim_app.attendance.models import Attendance, Method
from kim_app.attendance.operations import clean_signature
from kim_app.extensions import db
from tests.browser.conftest import screenshot
from tests.browser.helpers import sign_pad
from tests.scenes import add_registration, open_now


def _rows(app) -> list[Attendance]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Attendance).order_by(Attendance.id)).all()
        db.session.expunge_all()
        return rows


def test_participant_checks_in_with_pin_and_signature(phone: Page, app, live_server, make_event):
    """At 360 px: public page → 'Presensi mandiri' → number, PIN, signature → green verdict."""
    event = make_event(title="Pelatihan Jurnalistik Warga")
    open_now(app, event.id, venue_pin="4821", signatures=True)
    add_registration(app, event.id)

    phone.goto(f"{live_server}/e/{event.code}")
    phone.wait_for_function("() => window.htmx !== undefined")
    phone.get_by_role("link", name="Presensi mandiri").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Presensi mandiri")
    expect(phone.get_by_text("Tanpa JavaScript: tanda tangani daftar hadir kertas.")).to_be_hidden()
    canvas = phone.locator("canvas.pad-canvas")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box and box["width"] >= 290 and abs(box["width"] / box["height"] - 3) < 0.1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # nothing overflows

    phone.get_by_label("Nomor WhatsApp atau kode tiket").fill("0812 3456 7001")
    phone.get_by_label("PIN di layar ruangan").fill("4821")
    screenshot(phone, "presensi-mandiri-form")

    # the pad asks for a signature before anything is sent
    phone.get_by_role("button", name="Konfirmasi hadir").click()
    expect(phone.get_by_text("Tanda tangani dulu di dalam kotak.")).to_be_visible()
    assert _rows(app) == []

    # "Ulangi" empties the pad
    sign_pad(phone)
    assert phone.locator("input[name=tanda_tangan]").input_value().startswith("M")
    phone.get_by_role("button", name="Ulangi").click()
    assert phone.locator("input[name=tanda_tangan]").input_value() == ""

    # a wrong PIN comes back in place (422), the signature kept and drawn again
    sign_pad(phone)
    drawn = phone.locator("input[name=tanda_tangan]").input_value()
    phone.get_by_label("PIN di layar ruangan").fill("1111")
    phone.get_by_role("button", name="Konfirmasi hadir").click()
    expect(phone.locator("#pin-err")).to_contain_text("PIN salah")
    assert phone.locator("input[name=tanda_tangan]").input_value() == drawn
    assert _rows(app) == []
    screenshot(phone, "presensi-mandiri-pin-salah")

    phone.get_by_label("PIN di layar ruangan").fill("4821")
    phone.get_by_role("button", name="Konfirmasi hadir").click()
    verdict = phone.locator(".hasil-checked_in")
    expect(verdict).to_contain_text("Hadir tercatat")
    expect(verdict).to_contain_text("S. R.")  # found by number: initials only
    expect(verdict).to_contain_text(re.compile(r"Tercatat pukul \d\d\.\d\d WITA"))
    screenshot(phone, "presensi-mandiri-hadir")

    [row] = _rows(app)
    assert row.method is Method.SELF
    assert row.signature == drawn and clean_signature(row.signature) == drawn
    assert len(row.signature) <= 8 * 1024 and row.signature.count("M") == 2


def test_check_in_with_javascript_off(phone_no_js: Page, app, live_server, make_event):
    """Without JavaScript the pad is not shown (a note says to sign the paper list) and the
    plain form checks the person in."""
    event = make_event()
    open_now(app, event.id, venue_pin="4821", signatures=True)
    registration = add_registration(app, event.id)
    page = phone_no_js
    page.goto(f"{live_server}/e/{event.code}/tiket/{registration.ticket}")
    code = registration.checkin_code
    expect(page.locator(".kode-hadir")).to_contain_text(f"{code[:4]} {code[4:]}")
    screenshot(page, "presensi-tiket-kode")
    page.get_by_role("link", name="Presensi mandiri").click()
    expect(page.get_by_text("Siti Rahmawati")).to_be_visible()  # named by the ticket link
    expect(page.locator("canvas.pad-canvas")).to_be_hidden()
    expect(page.get_by_text("Tanpa JavaScript: tanda tangani daftar hadir kertas.")).to_be_visible()
    page.get_by_label("PIN di layar ruangan").fill("4821")
    screenshot(page, "presensi-tanpa-js-form")
    page.get_by_role("button", name="Konfirmasi hadir").click()
    expect(page.locator(".hasil-checked_in")).to_contain_text("Hadir tercatat")
    screenshot(page, "presensi-tanpa-js-hadir")
    [row] = _rows(app)
    assert row.signature is None and row.method is Method.SELF
