"""On a phone, without an account: register for an event through its public link, get the ticket
with its QR code, be recognised when registering again, land on the waiting list when it is
full, and be promoted when someone cancels — with JavaScript on and off."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import new_phone, screenshot
from tests.browser.helpers import fill_registration, register_on_page


def test_outsider_registers_is_recognised_waits_and_is_promoted(
    phone: Page, browser, app, live_server, make_event
):
    """The whole public flow at 360 px, one phone per person."""
    event = make_event(capacity=2, title="Pelatihan Jurnalistik Warga")
    phone.goto(f"{live_server}/e/{event.code}")
    phone.wait_for_function("() => window.htmx !== undefined")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Pelatihan Jurnalistik Warga")
    expect(phone.locator(".agenda li").first).to_contain_text("09.00–12.00 WITA")
    expect(phone.locator("#kursi")).to_have_text("2 dari 2 tersisa")
    screenshot(phone, "kegiatan-publik")

    # a wrong number is explained in place (htmx swaps the 422 section), values kept
    phone.evaluate("window.penanda = 'tetap'")  # gone if the page were loaded again
    fill_registration(phone, "Siti Rahmawati", "021 555 1234")
    phone.get_by_role("button", name="Daftar", exact=True).click()
    expect(phone.locator("#daftar .error")).to_have_text(
        "Nomor WhatsApp tidak valid. Contoh: 0812-3456-7890."
    )
    expect(phone.get_by_label("Nama lengkap")).to_have_value("Siti Rahmawati")
    expect(phone.get_by_label("Perempuan")).to_be_checked()
    assert phone.evaluate("window.penanda") == "tetap"
    screenshot(phone, "kegiatan-nomor-salah")

    phone.get_by_label("Nomor WhatsApp").fill("0813 5555 0101")
    phone.get_by_role("button", name="Daftar", exact=True).click()
    expect(phone.locator("#status-tiket")).to_have_text("Terdaftar")
    expect(phone.locator("#pesan")).to_contain_text("Pendaftaran berhasil")
    expect(phone.locator("svg.qr")).to_be_visible()
    box = phone.locator("svg.qr").bounding_box()
    assert box and 200 <= box["width"] <= 240 and box["width"] == box["height"]
    first_ticket = phone.url
    screenshot(phone, "tiket-terdaftar")

    # the same number again, written the international way: the same ticket, no duplicate
    again = register_on_page(phone, live_server, event.code, "siti rahmawati", "+62 813-5555-0101")
    assert again == first_ticket
    expect(phone.locator("#pesan")).to_contain_text("Nomor ini sudah terdaftar")
    expect(phone.locator(".ticket")).to_contain_text("Siti Rahmawati")

    # two more people on their own phones: the second fills the last seat, the third waits
    others = []
    for name, number in (("Budi Santoso", "0813 5555 0202"), ("Rina Wati", "0813 5555 0303")):
        context = new_phone(browser, app)
        page = context.new_page()
        register_on_page(page, live_server, event.code, name, number)
        others.append((context, page))
    expect(others[0][1].locator("#status-tiket")).to_have_text("Terdaftar")
    waiting = others[1][1]
    expect(waiting.locator("#status-tiket")).to_have_text("Daftar tunggu, urutan ke-1")
    expect(waiting.locator("#pesan")).to_contain_text("Anda masuk daftar tunggu")
    screenshot(waiting, "tiket-daftar-tunggu")

    # the first person cancels: the waiting person gets the seat
    phone.goto(first_ticket)
    phone.get_by_text("Batalkan pendaftaran", exact=True).click()
    phone.get_by_role("button", name="Ya, batalkan pendaftaran saya").click()
    expect(phone.locator("#pesan")).to_contain_text("Pendaftaran Anda dibatalkan.")
    expect(phone.locator("#status-tiket")).to_have_text("Dibatalkan")
    expect(phone.locator("svg.qr")).to_have_count(0)
    waiting.reload()
    expect(waiting.locator("#status-tiket")).to_have_text("Terdaftar")
    screenshot(waiting, "tiket-naik-dari-daftar-tunggu")
    for context, _page in others:
        context.close()


def test_registration_without_javascript(phone_no_js: Page, live_server, make_event):
    """With JavaScript off the same form posts, the ticket opens, and cancelling works."""
    page = phone_no_js
    event = make_event(capacity=10)
    page.goto(f"{live_server}/e/{event.code}")
    fill_registration(page, "Ahmad Yani", "0852 1111 2222")
    page.get_by_label("Nama lengkap").fill("")  # the browser asks for the name first
    page.get_by_role("button", name="Daftar", exact=True).click()
    assert page.url.endswith(f"/e/{event.code}")
    page.get_by_label("Nama lengkap").fill("Ahmad Yani")
    page.get_by_label("Nomor WhatsApp").fill("12345")
    page.get_by_role("button", name="Daftar", exact=True).click()
    expect(page.locator("#daftar .error")).to_contain_text("Nomor WhatsApp tidak valid")
    expect(page.get_by_label("KIM atau instansi")).to_have_value("KIM Sebakung Jaya")
    page.get_by_label("Nomor WhatsApp").fill("0852 1111 2222")
    page.get_by_role("button", name="Daftar", exact=True).click()
    expect(page.locator("#status-tiket")).to_have_text("Terdaftar")
    expect(page.locator("svg.qr")).to_be_visible()
    expect(page.get_by_role("link", name="Simpan ke kalender")).to_be_visible()
    screenshot(page, "tiket-tanpa-js")
    page.get_by_text("Batalkan pendaftaran", exact=True).click()
    page.get_by_role("button", name="Ya, batalkan pendaftaran saya").click()
    expect(page.locator("#status-tiket")).to_have_text("Dibatalkan")
