"""On a phone: the operator invites the KIM of two districts with quota 2 (with htmx and with
JavaScript off), then the pengurus of an invited KIM signs in and names two delegates."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from kim_app.auth.models import Role
from tests.browser.conftest import screenshot, sign_in
from tests.browser.helpers import invitation_kims
from tests.conftest import PPU, PPU_VILLAGE


def test_operator_invites_two_districts_and_pengurus_names_two_delegates(
    phone: Page, live_server, make_user, make_kim, make_event
):
    """The count follows the ticked districts; "Undang" invites the three matching KIM with
    quota 2; the pengurus ticks two members, a third is refused, the delegates are listed."""
    kim = invitation_kims(make_kim)
    event = make_event(title="Pelatihan Jurnalistik Warga")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    pengurus = make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id)

    sign_in(phone, live_server, operator.email)
    phone.goto(f"{live_server}/kegiatan/{event.id}/undangan")
    phone.wait_for_function("() => window.htmx !== undefined")
    count = phone.locator("#jumlah-undang")
    expect(count).to_contain_text("4 KIM cocok")
    phone.get_by_label("Babulu").check()
    expect(count).to_contain_text("2 KIM cocok")
    phone.get_by_label("Penajam").check()
    expect(count).to_contain_text("3 KIM cocok")
    expect(count).to_contain_text("3 akan diundang")
    expect(phone.get_by_label("Kuota per KIM (orang)")).to_have_value("2")
    screenshot(phone, "undangan-saring")
    phone.get_by_role("button", name="Undang KIM yang cocok").click()
    expect(phone.locator("#pesan")).to_contain_text("3 KIM diundang, masing-masing 2 orang.")
    invited = phone.locator("#diundang li")
    expect(invited).to_have_count(3)
    expect(invited.filter(has_text="KIM Sebakung Maju")).to_contain_text("0/2 delegasi")
    expect(phone.locator("#diundang")).not_to_contain_text("KIM Sepaku")
    screenshot(phone, "undangan-terkirim")
    phone.get_by_role("button", name="Keluar").click()

    sign_in(phone, live_server, pengurus.email)
    phone.goto(f"{live_server}/kegiatan/{event.id}/delegasi/{kim.id}")
    phone.wait_for_function("() => window.htmx !== undefined")
    boxes = phone.locator("#delegasi input[name=anggota]")
    expect(boxes).to_have_count(4)
    boxes.nth(0).check()
    boxes.nth(1).check()
    phone.get_by_role("button", name="Simpan delegasi").click()
    expect(phone.locator("#pesan")).to_contain_text("Delegasi disimpan: 2 ditunjuk.")
    expect(phone.locator("#kuota-delegasi")).to_contain_text("2 sudah ditunjuk")
    expect(phone.locator("#delegasi .tag", has_text="Terdaftar")).to_have_count(2)
    screenshot(phone, "delegasi-ditunjuk")
    boxes.nth(2).check()
    phone.get_by_role("button", name="Simpan delegasi").click()
    expect(phone.locator("#delegasi")).to_contain_text("Pilih paling banyak 2 anggota.")
    expect(phone.locator("#kuota-delegasi")).to_contain_text("2 sudah ditunjuk")
    screenshot(phone, "delegasi-kuota-penuh")


def test_inviting_works_with_javascript_off(
    phone_no_js: Page, live_server, make_user, make_kim, make_event
):
    """Without JavaScript "Hitung" re-renders the page with the count, "Undang" invites."""
    invitation_kims(make_kim)
    event = make_event()
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    page = phone_no_js
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill(operator.email)
    page.get_by_label("Kata sandi").fill("rahasia-uji-123")
    page.get_by_role("button", name="Masuk").click()
    page.goto(f"{live_server}/kegiatan/{event.id}/undangan")
    page.get_by_label("Babulu").check()
    page.get_by_label("Penajam").check()
    page.get_by_role("button", name="Hitung").click()
    expect(page.locator("#jumlah-undang")).to_contain_text("3 KIM cocok")
    expect(page.get_by_label("Babulu")).to_be_checked()
    page.get_by_label("Kuota per KIM (orang)").fill("3")
    page.get_by_role("button", name="Undang KIM yang cocok").click()
    expect(page.locator("#pesan")).to_contain_text("3 KIM diundang, masing-masing 3 orang.")
    expect(page.locator("#diundang li")).to_have_count(3)
    screenshot(page, "undangan-tanpa-js")
