"""On a phone: a village head keeps the KIM's members inline with htmx and with JavaScript off;
a visitor searches the public directory."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from kim_app.auth.models import Role
from tests.browser.conftest import new_phone, screenshot, sign_in
from tests.conftest import PPU_VILLAGE


def _navigations(page: Page) -> int:
    return page.evaluate("performance.getEntriesByType('navigation').length")


def test_village_head_keeps_members_inline_with_htmx(phone: Page, live_server, make_user, make_kim):
    """Add (number typed with spaces), edit and deactivate a member without one page load."""
    kim = make_kim(members=2)
    kades = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    sign_in(phone, live_server, kades.email)
    phone.goto(f"{live_server}/kim/{kim.id}/anggota")
    phone.wait_for_function("() => window.htmx !== undefined")
    phone.evaluate("window.penanda = 'tetap'")  # gone if the page were loaded again
    url = phone.url
    counter = phone.locator("#jumlah-anggota")
    expect(counter).to_contain_text("2 anggota aktif")
    expect(counter).to_contain_text("Kurang dari 3 anggota aktif")

    add = phone.locator("#tambah-anggota")
    add.get_by_label("Nama", exact=True).fill("Rina Wati")
    phone.locator("#tambah-anggota").get_by_label("Nomor WhatsApp").fill("0812 3456 7890")
    phone.locator("#tambah-anggota").get_by_role("button", name="Tambah").click()
    row = phone.locator("#daftar-anggota > li", has_text="Rina Wati")
    expect(row).to_contain_text("0812-3456-7890")
    expect(counter).to_have_text("3 anggota aktif")
    expect(phone.locator("#pesan")).to_contain_text("Rina Wati ditambahkan.")
    expect(phone.locator("#tambah-anggota").get_by_label("Nama", exact=True)).to_have_value("")
    screenshot(phone, "anggota-ditambah")

    row.get_by_role("link", name="Ubah Rina Wati").click()
    editing = phone.locator("#daftar-anggota > li.editing")
    expect(editing.get_by_label("Nama", exact=True)).to_be_focused()
    editing.get_by_role("link", name="Batal").click()
    expect(editing).to_have_count(0)
    row.get_by_role("link", name="Ubah Rina Wati").click()
    expect(editing.get_by_label("Nomor WhatsApp")).to_have_value("0812-3456-7890")
    screenshot(phone, "anggota-diubah")
    editing.get_by_label("Nomor WhatsApp").fill("+62 813-1111-2222")
    editing.get_by_label("Jabatan").select_option(label="Sekretaris")
    editing.get_by_role("button", name="Simpan").click()
    expect(editing).to_have_count(0)
    expect(row).to_contain_text("0813-1111-2222")
    expect(row).to_contain_text("Sekretaris")

    row.get_by_role("button", name="Nonaktifkan Rina Wati").click()
    expect(row.locator(".tag", has_text="nonaktif")).to_be_visible()
    expect(counter).to_contain_text("2 anggota aktif")
    expect(counter).to_contain_text("Kurang dari 3")
    expect(row.get_by_role("button", name="Aktifkan Rina Wati")).to_be_visible()
    screenshot(phone, "anggota-nonaktif")

    assert phone.url == url
    assert phone.evaluate("window.penanda") == "tetap"
    assert _navigations(phone) == 1


def test_wrong_number_is_explained_in_the_form_with_htmx(
    browser, app, live_server, make_user, make_kim
):
    """htmx swaps the 422 answer into the add form: the message sits on the number, values stay.

    Own browser context: Chromium reports every 4xx answer on the console, and this one is meant.
    """
    context = new_phone(browser, app)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    kim = make_kim(members=2)
    sign_in(page, live_server, make_user(Role.KEPALA_DESA, PPU_VILLAGE).email)
    page.goto(f"{live_server}/kim/{kim.id}/anggota")
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("window.penanda = 'tetap'")
    add = page.locator("#tambah-anggota")
    add.get_by_label("Nama", exact=True).fill("Rina Wati")
    add.get_by_label("Jenis kelamin").select_option(label="Perempuan")
    add.get_by_label("Nomor WhatsApp").fill("021 555 1234")
    add.get_by_role("button", name="Tambah").click()
    error = page.locator("#tambah-anggota .error")
    expect(error).to_have_text(
        "021 555 1234 bukan nomor HP Indonesia yang valid. Contoh: 0812-3456-7890."
    )
    expect(add.get_by_label("Nama", exact=True)).to_have_value("Rina Wati")
    expect(add.get_by_label("Jenis kelamin")).to_have_value("P")
    expect(add.get_by_label("Nomor WhatsApp")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#daftar-anggota > li")).to_have_count(2)
    screenshot(page, "anggota-nomor-salah")
    assert page.evaluate("window.penanda") == "tetap"
    context.close()
    assert [e for e in errors if "status of 422" not in e] == []


def test_village_head_adds_a_member_without_javascript(
    phone_no_js: Page, live_server, make_user, make_kim
):
    """With JavaScript off the same forms post, redirect back and show the member."""
    page = phone_no_js
    kim = make_kim(members=2)
    kades = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    sign_in(page, live_server, kades.email)
    page.goto(f"{live_server}/kim/{kim.id}/anggota")
    add = page.locator("#tambah-anggota")
    add.get_by_label("Nama", exact=True).fill("Rina Wati")
    add.get_by_label("Nomor WhatsApp").fill("0812 3456 7890")
    add.get_by_role("button", name="Tambah").click()
    expect(page.locator("#pesan")).to_contain_text("Rina Wati ditambahkan.")
    row = page.locator("#daftar-anggota > li", has_text="Rina Wati")
    expect(row).to_contain_text("0812-3456-7890")
    expect(page.locator("#jumlah-anggota")).to_have_text("3 anggota aktif")

    row.get_by_role("link", name="Ubah Rina Wati").click()
    editing = page.locator("#daftar-anggota > li.editing")
    editing.get_by_label("Nama", exact=True).fill("Rina Wati Lestari")
    editing.get_by_role("button", name="Simpan").click()
    row = page.locator("#daftar-anggota > li", has_text="Rina Wati Lestari")
    expect(row).to_contain_text("0812-3456-7890")
    row.get_by_role("button", name="Nonaktifkan Rina Wati Lestari").click()
    expect(page.locator("#pesan")).to_contain_text("dinonaktifkan")
    expect(row.locator(".tag", has_text="nonaktif")).to_be_visible()
    screenshot(page, "tanpa-js-anggota")


def test_visitor_searches_the_directory(phone: Page, live_server, make_kim):
    """Typing narrows the list in place and the address bar keeps the search (bookmarkable)."""
    make_kim(name="KIM Sebakung Maju")
    make_kim(name="KIM Giri Mukti", village="64.09.01.2020")
    phone.goto(f"{live_server}/direktori")
    phone.wait_for_function("() => window.htmx !== undefined")
    results = phone.locator("#hasil .list li")
    expect(results).to_have_count(2)
    phone.get_by_label("Cari nama KIM atau desa").fill("sebakung")
    expect(results).to_have_count(1)
    expect(results).to_contain_text("KIM Sebakung Maju")
    expect(phone).to_have_url(re.compile(r"/direktori\?q=sebakung(&|$)"))
    phone.get_by_label("Provinsi").select_option(label="Kalimantan Timur")
    expect(phone.get_by_label("Kabupaten/Kota")).to_be_enabled()
    expect(phone).to_have_url(re.compile(r"[?&]provinsi=64(&|$)"))
    assert "q=sebakung" in phone.url
    expect(results).to_have_count(1)
    screenshot(phone, "direktori-cari")
    phone.wait_for_load_state("networkidle")  # no swap of the list still on its way
    results.first.get_by_role("link").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("KIM Sebakung Maju")
    expect(phone.locator(".facts")).to_contain_text("Kec. Babulu")
    screenshot(phone, "direktori-profil")
