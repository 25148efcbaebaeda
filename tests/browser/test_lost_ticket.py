"""On a phone, without an account: a participant who lost the ticket link opens "Tiket hilang?" on
the event page, and gets the ticket back with the number and the name typed a little differently,
or the organiser's WhatsApp when the name does not match — with JavaScript on and off."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.helpers import register_on_page


def _search(page: Page, phone: str, name: str) -> None:
    form = page.locator("#tiket-hilang form")
    form.get_by_label("Nomor WhatsApp").fill(phone)
    form.get_by_label("Nama").fill(name)
    form.get_by_role("button", name="Cari tiket").click()


def test_lost_ticket_opens_in_place_and_gives_the_ticket_back(phone: Page, live_server, make_event):
    """htmx loads the form into the event page; a wrong name shows the organiser's WhatsApp."""
    event = make_event(contact="WA panitia 0812-1111-2222", title="Bimtek Literasi Digital")
    ticket = register_on_page(phone, live_server, event.code, "Siti Rahmawati", "0813 5555 0101")
    phone.context.clear_cookies()  # the link is lost: a fresh visit
    phone.goto(f"{live_server}/e/{event.code}")
    phone.wait_for_function("() => window.htmx !== undefined")
    expect(phone.locator("dl.facts")).to_contain_text("WA panitia 0812-1111-2222")
    phone.evaluate("window.penanda = 'tetap'")  # gone if the page were loaded again
    phone.get_by_role("link", name="Tiket hilang?").click()
    expect(phone.locator("#tiket-hilang h2")).to_have_text("Cari tiket Anda")
    assert phone.url.endswith(f"/e/{event.code}")
    _search(phone, "0813-5555-0101", "Budi Santoso")
    expect(phone.locator("#tiket-hilang [role=alert]")).to_contain_text(
        "Tiket dengan nomor dan nama ini tidak ditemukan."
    )
    whatsapp = phone.get_by_role("link", name="Hubungi panitia lewat WhatsApp")
    assert whatsapp.get_attribute("href").startswith("https://wa.me/6281211112222?text=")
    assert phone.evaluate("window.penanda") == "tetap"
    screenshot(phone, "tiket-hilang-tidak-ditemukan")
    _search(phone, "+62 813 5555 0101", "siti rahmawti")
    expect(phone.locator("#status-tiket")).to_have_text("Terdaftar")
    expect(phone.locator("#pesan")).to_contain_text("Tiket Anda ditemukan.")
    assert phone.url == ticket
    screenshot(phone, "tiket-hilang-ditemukan")


def test_lost_ticket_without_javascript(phone_no_js: Page, live_server, make_event):
    """The link opens its own page; a bad number is explained; the first name finds the ticket."""
    page = phone_no_js
    event = make_event()
    ticket = register_on_page(page, live_server, event.code, "Ahmad Yani", "0852 1111 2222")
    page.goto(f"{live_server}/e/{event.code}")
    page.get_by_role("link", name="Tiket hilang?").click()
    assert page.url.endswith(f"/e/{event.code}/tiket-hilang")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tiket hilang?")
    _search(page, "12345", "Ahmad")
    expect(page.locator("#tiket-hilang .error")).to_have_text(
        "Nomor WhatsApp tidak valid. Contoh: 0812-3456-7890."
    )
    _search(page, "0852-1111-2222", "ahmad")
    expect(page.locator("#status-tiket")).to_have_text("Terdaftar")
    assert page.url == ticket
