"""On a phone: a regency operator reads the dashboard, narrows the dates (htmx swaps the figures
and pushes the URL; without JavaScript the form reloads the page) and drills down to a district."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from kim_app.auth.models import Role
from tests.browser.conftest import new_phone, screenshot, sign_in
from tests.conftest import PPU

YEAR = "dari=2025-01-01&sampai=2025-12-31"


def _fits_the_screen(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_dashboard_on_a_phone(phone: Page, live_server, make_user, dashboard_data):
    """Figures and charts fit 360 px; a narrower range is swapped in place, then a drill-down."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    sign_in(phone, live_server, operator.email)
    phone.goto(f"{live_server}/laporan/?{YEAR}")
    phone.wait_for_function("() => window.htmx !== undefined")
    expect(phone.locator(".angka:not(#di-luar)")).to_contain_text("53,8%")
    expect(phone.locator("svg#grafik-cakupan")).to_be_visible()
    screenshot(phone, "laporan-dasbor")
    _fits_the_screen(phone)

    phone.evaluate("window.penanda = 'tetap'")  # gone if the page were loaded again
    phone.get_by_label("Dari tanggal").fill("2025-03-01")
    phone.get_by_label("Sampai tanggal").fill("2025-03-31")
    phone.get_by_role("button", name="Tampilkan").click()
    expect(phone.locator("#laporan")).to_contain_text("Periode 01/03/2025 – 31/03/2025.")
    expect(phone.locator(".angka:not(#di-luar) dt:text-is('Kegiatan') + dd")).to_have_text("2")
    assert phone.evaluate("window.penanda") == "tetap"
    assert "dari=2025-03-01" in phone.url and "sampai=2025-03-31" in phone.url

    phone.locator("#laporan table").nth(1).get_by_role("link", name="Babulu").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Kec. Babulu")
    expect(phone.locator(".crumbs")).to_contain_text("Penajam Paser Utara")
    _fits_the_screen(phone)
    screenshot(phone, "laporan-kecamatan")


def test_dashboard_without_javascript(browser, app, live_server, make_user, dashboard_data):
    """The date form is a plain GET form: submitting it loads the page for the new range."""
    context = new_phone(browser, app, javascript=False)
    page = context.new_page()
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill(operator.email)
    page.get_by_label("Kata sandi").fill("rahasia-uji-123")
    page.get_by_role("button", name="Masuk").click()
    page.goto(f"{live_server}/laporan/?{YEAR}")
    page.get_by_label("Dari tanggal").fill("2025-05-01")
    page.get_by_role("button", name="Tampilkan").click()
    expect(page).to_have_url(re.compile(r"dari=2025-05-01"))
    expect(page.locator(".angka:not(#di-luar) dt:text-is('Kegiatan') + dd")).to_have_text("1")
    context.close()
