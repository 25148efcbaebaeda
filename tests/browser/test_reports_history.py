"""On a phone: a KIM's pengurus scrolls to the participation history on the KIM page (loaded
over htmx), and with JavaScript off follows the link; an operator finds a person by a number
typed in another spelling and opens their history."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from kim_app.auth.models import Role
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PPU, PPU_VILLAGE


def test_pengurus_sees_history_on_kim_page(phone: Page, live_server, make_user, history_dataset):
    """Scrolling to the section loads the history in place, without another page load."""
    kim = history_dataset["a"]
    user = make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id)
    sign_in(phone, live_server, user.email)
    phone.goto(f"{live_server}/kim/{kim.id}")
    phone.wait_for_function("() => window.htmx !== undefined")
    section = phone.locator("#riwayat-kim")
    section.scroll_into_view_if_needed()
    expect(section.locator(".riwayat > li")).to_have_count(4)
    expect(section).to_contain_text("kehadiran 50%")
    assert phone.url == f"{live_server}/kim/{kim.id}"
    section.scroll_into_view_if_needed()
    screenshot(phone, "riwayat-kim-di-halaman-kim")


def test_history_link_without_javascript(
    phone_no_js: Page, live_server, make_user, history_dataset
):
    """Without JavaScript the link opens the history page."""
    kim = history_dataset["a"]
    user = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    sign_in(phone_no_js, live_server, user.email)
    phone_no_js.goto(f"{live_server}/kim/{kim.id}")
    phone_no_js.get_by_role("link", name="Lihat kegiatan yang diikuti KIM ini").click()
    expect(phone_no_js.locator("h1")).to_contain_text("Riwayat keikutsertaan")
    expect(phone_no_js.locator(".riwayat > li").first).to_contain_text("75%")
    screenshot(phone_no_js, "riwayat-kim-halaman")


def test_operator_finds_person_by_phone(phone: Page, live_server, make_user, history_dataset):
    """Typing ``+62 812 3456 7890`` shows Siti Aminah once; her page lists both events."""
    user = make_user(Role.OPERATOR_KABKOTA, PPU)
    sign_in(phone, live_server, user.email)
    phone.goto(f"{live_server}/laporan/orang")
    phone.wait_for_function("() => window.htmx !== undefined")
    phone.get_by_label("Nama atau nomor WhatsApp").fill("+62 812 3456 7890")
    results = phone.locator("#hasil-orang")
    expect(results).to_contain_text("1 orang ditemukan")
    screenshot(phone, "cari-orang")
    results.get_by_role("link", name="Siti Aminah").click()
    expect(phone.locator("h1")).to_have_text("Siti Aminah")
    expect(phone.locator("main .list > li")).to_have_count(2)
    screenshot(phone, "riwayat-orang")
