"""First flow on a phone: the Penajam Paser Utara operator signs in, picks a village, signs out."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from kim_app.auth.models import Role
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PPU


def test_operator_picks_a_village_with_htmx(phone: Page, live_server, make_user):
    """With JavaScript, each select re-renders the picker in place until a village is chosen."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU, name="Operator PPU")
    sign_in(phone, live_server, operator.email)
    expect(phone.locator(".meta").first).to_contain_text("Kabupaten Penajam Paser Utara")
    phone.wait_for_function("() => window.htmx !== undefined")
    screenshot(phone, "beranda-operator")

    url_before = phone.url
    phone.get_by_label("Kecamatan", exact=True).select_option(label="Kec. Babulu")
    village = phone.get_by_label("Desa/Kelurahan", exact=True)
    expect(village).to_be_visible()
    assert phone.url == url_before  # the picker changed in place, no page load
    village.select_option(label="Desa Sebakung Jaya")
    expect(phone.get_by_label("Desa/Kelurahan", exact=True)).to_have_value("64.09.03.2006")
    screenshot(phone, "pemilih-wilayah")
    phone.get_by_role("button", name="Lihat wilayah").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Desa Sebakung Jaya")
    expect(phone.locator(".crumbs")).to_contain_text("Kec. Babulu")
    screenshot(phone, "halaman-desa")

    phone.get_by_role("button", name="Keluar").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Masuk")
    expect(phone.locator("#pesan")).to_contain_text("Anda sudah keluar.")


def test_operator_finds_a_village_by_name(phone: Page, live_server, make_user):
    """Typing part of a name lists villages with their district; choosing one fills every level."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    sign_in(phone, live_server, operator.email)
    phone.wait_for_function("() => window.htmx !== undefined")
    phone.get_by_label("Atau cari nama desa/kelurahan").fill("sebakung")
    result = phone.get_by_label("Desa Sebakung Jaya")
    expect(result).to_be_visible()
    expect(phone.locator(".results")).to_contain_text("Kec. Babulu")
    result.check()
    expect(phone.get_by_label("Kecamatan", exact=True)).to_have_value("64.09.03")
    expect(phone.get_by_label("Desa/Kelurahan", exact=True)).to_have_value("64.09.03.2006")


def test_operator_picks_a_village_without_javascript(phone_no_js: Page, live_server, make_user):
    """With JavaScript off, the refresh button walks down the levels; the flow still completes."""
    page = phone_no_js
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    sign_in(page, live_server, operator.email)
    page.get_by_label("Kecamatan", exact=True).select_option(label="Kec. Babulu")
    page.get_by_role("button", name="Perbarui pilihan wilayah").click()
    page.get_by_label("Desa/Kelurahan", exact=True).select_option(label="Desa Sebakung Jaya")
    page.get_by_role("button", name="Lihat wilayah").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Desa Sebakung Jaya")
    screenshot(page, "tanpa-js-halaman-desa")
    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Masuk")
