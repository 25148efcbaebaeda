"""The hall's projector screen: the operator opens it from the attendance page, puts it on the
projector (1280×720); a participant registered through the public link checks in on a phone with
the PIN from the screen, and the screen's count goes up by itself (htmx polling). The same screen
on a 360 px phone, and without JavaScript (a meta refresh)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from kim_app.auth.models import Role
from tests.browser.conftest import HTMX_FILE, new_phone, screenshot, sign_in
from tests.browser.helpers import register_on_page
from tests.conftest import PPU
from tests.scenes import open_now


def test_projector_counts_a_self_check_in(phone, browser, app, live_server, make_user, make_event):
    """Overview → "Layar proyektor": QR, link, PIN 482 913, 0 present; a participant registers,
    checks in with the PIN; within one poll the screen shows 1."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    event = make_event(title="Pelatihan Literasi Digital", venue_name="Aula Kantor Bupati PPU")
    open_now(app, event.id, venue_pin="482913")

    hall = browser.new_context(viewport={"width": 1280, "height": 720}, locale="id-ID")
    hall.route(
        app.config["KIM_HTMX_URL"],
        lambda route: route.fulfill(
            path=str(HTMX_FILE),
            content_type="text/javascript",
            headers={"Access-Control-Allow-Origin": "*"},
        ),
    )
    hall.set_default_timeout(10_000)
    screen = hall.new_page()
    sign_in(screen, live_server, operator.email)
    screen.goto(f"{live_server}/absensi/kegiatan/{event.id}")
    screen.get_by_role("link", name="Layar proyektor").click()
    expect(screen.locator(".pj-pin")).to_have_text("482 913")
    expect(screen.locator(".pj-jumlah strong")).to_have_text("0")
    expect(screen.get_by_text(f"/e/{event.code}/hadir")).to_be_visible()
    qr = screen.locator(".pj-qr svg").bounding_box()
    assert qr and qr["width"] >= 300 and qr["y"] + qr["height"] <= 720  # big, and on screen
    pin = screen.locator(".pj-pin").bounding_box()
    assert pin and pin["height"] >= 90 and pin["x"] > qr["x"] + qr["width"]  # beside the QR
    assert pin["height"] < 200  # one line
    assert screen.evaluate("document.documentElement.scrollWidth") <= 1280
    screen.wait_for_function("() => window.htmx !== undefined")
    screenshot(screen, "projector-1280")

    register_on_page(phone, live_server, event.code, "Siti Rahmawati", "0813 5555 0101")
    phone.goto(f"{live_server}/e/{event.code}/hadir")
    phone.get_by_label("Nomor WhatsApp atau kode tiket").fill("0813 5555 0101")
    phone.get_by_label("PIN di layar ruangan").fill("482913")
    phone.get_by_role("button", name="Konfirmasi hadir").click()
    expect(phone.locator(".hasil")).to_contain_text("S. R.")

    expect(screen.locator(".pj-jumlah strong")).to_have_text("1", timeout=15_000)
    expect(screen.locator(".pj-jumlah")).to_contain_text("dari 1 peserta sudah hadir")
    hall.close()

    sign_in(phone, live_server, operator.email)
    phone.goto(f"{live_server}/absensi/kegiatan/{event.id}/layar")
    expect(phone.locator(".pj-pin")).to_have_text("482 913")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "projector-360")


def test_projector_without_javascript_refreshes_itself(
    browser, app, live_server, make_user, make_event
):
    """With JavaScript off the page carries a meta refresh and shows the same screen."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    event = make_event(title="Sosialisasi Keterbukaan Informasi")
    open_now(app, event.id, venue_pin="731604")
    context = new_phone(browser, app, javascript=False)
    page = context.new_page()
    sign_in(page, live_server, operator.email)
    page.goto(f"{live_server}/absensi/kegiatan/{event.id}/layar")
    expect(page.locator(".pj-pin")).to_have_text("731 604")
    refresh = page.locator('meta[http-equiv="refresh"]')
    expect(refresh).to_have_attribute("content", re.compile(r"^\d+$"))
    screenshot(page, "projector-360-no-js")
    context.close()
