"""On a phone, without an account (issue 22 item 21): the public form says in two lines what the
data is for, who sees it and how long it is kept, links the full notice, and registers only with
the person's own tick — in Indonesian and in English, with JavaScript on and off."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from kim_app.events.models import PRIVACY_NOTICE_VERSION, Registration
from kim_app.extensions import db
from tests.browser.conftest import screenshot

ORGANISER = "Diskominfo Kabupaten Penajam Paser Utara"


def _fill(page: Page, name: str, phone: str, labels: dict[str, str]) -> None:
    form = page.locator("#daftar form")
    form.get_by_label(labels["name"]).fill(name)
    form.get_by_label(labels["phone"]).fill(phone)
    form.get_by_label(labels["institution"]).fill("PKK Kecamatan Babulu")
    form.get_by_label(labels["gender"], exact=True).check()


INDONESIAN = {
    "name": "Nama lengkap",
    "phone": "Nomor WhatsApp",
    "institution": "KIM atau instansi",
    "gender": "Perempuan",
}
ENGLISH = {
    "name": "Full name",
    "phone": "WhatsApp number",
    "institution": "KIM or institution",
    "gender": "Female",
}


def _consents(app) -> list[tuple[str, str | None]]:
    with app.app_context():
        return [
            (r.name, r.consent_version)
            for r in db.session.scalars(sa.select(Registration).order_by(Registration.id))
        ]


def test_register_with_consent_in_both_languages(phone: Page, app, live_server, make_event):
    """Read the two lines, open the full notice, be stopped without the tick (nothing lost), then
    register; the same in English after switching the language."""
    event = make_event(organiser=ORGANISER, contact="0542-123456", capacity=50)
    phone.goto(f"{live_server}/e/{event.code}")
    phone.wait_for_function("() => window.htmx !== undefined")
    lines = phone.locator("#privasi-singkat")
    expect(lines).to_contain_text(f"Data ini dipakai {ORGANISER} hanya untuk pendaftaran")
    expect(lines).to_contain_text("Disimpan selama arsip kegiatan diperlukan")
    box = phone.get_by_label("Saya setuju data saya diproses seperti tertulis di atas.")
    expect(box).not_to_be_checked()
    lines.scroll_into_view_if_needed()
    screenshot(phone, "privasi-formulir")

    phone.get_by_role("link", name="Pemberitahuan privasi lengkap").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Pemberitahuan privasi")
    expect(phone.locator("main")).to_contain_text(f"{ORGANISER}.")
    expect(phone.locator("main")).to_contain_text(
        "Sampaikan permintaan kepada panitia: 0542-123456."
    )
    screenshot(phone, "privasi-pemberitahuan")
    phone.go_back()

    # without the tick the browser asks for it; with the attribute gone (an old browser), the
    # server refuses in place, values kept
    _fill(phone, "Siti Rahmawati", "0813 5555 0101", INDONESIAN)
    phone.get_by_role("button", name="Daftar", exact=True).click()
    assert phone.url.endswith(f"/e/{event.code}")
    assert _consents(app) == []
    phone.locator("input[name=consent]").evaluate("box => box.removeAttribute('required')")
    phone.get_by_role("button", name="Daftar", exact=True).click()
    expect(phone.locator("#daftar .error")).to_have_text(
        "Centang persetujuan ini untuk mendaftar. Tanpa itu tidak ada data yang disimpan."
    )
    expect(phone.get_by_label("Nama lengkap")).to_have_value("Siti Rahmawati")
    assert _consents(app) == []
    screenshot(phone, "privasi-tanpa-centang")

    phone.get_by_label("Saya setuju data saya diproses seperti tertulis di atas.").check()
    phone.get_by_role("button", name="Daftar", exact=True).click()
    expect(phone.locator("#status-tiket")).to_have_text("Terdaftar")
    expect(phone.locator("main")).to_contain_text("Anda menyetujui pemberitahuan privasi pada")
    assert _consents(app) == [("Siti Rahmawati", PRIVACY_NOTICE_VERSION)]

    # English: the same form, every option and line in English
    phone.goto(f"{live_server}/e/{event.code}")
    phone.get_by_role("button", name="English").click()
    expect(phone.locator("#privasi-singkat")).to_contain_text(
        f"This data is used by {ORGANISER} only for this event's registration"
    )
    expect(phone.locator("#daftar")).to_contain_text("Male")
    expect(phone.locator("#daftar")).not_to_contain_text("Perempuan")
    _fill(phone, "Budi Santoso", "0813 5555 0202", ENGLISH | {"gender": "Male"})
    phone.get_by_label("I agree to my data being processed as written above.").check()
    phone.locator("#privasi-singkat").scroll_into_view_if_needed()
    screenshot(phone, "privacy-form-english")
    phone.get_by_role("button", name="Register", exact=True).click()
    expect(phone.locator("main")).to_contain_text("You agreed to the privacy notice on")
    phone.get_by_role("link", name="How your data is used, and your rights").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Privacy notice")
    screenshot(phone, "privacy-notice-english")
    assert _consents(app)[-1] == ("Budi Santoso", PRIVACY_NOTICE_VERSION)


def test_consent_without_javascript(phone_no_js: Page, app, live_server, make_event):
    """With JavaScript off the tick is asked for the same way and recorded."""
    page = phone_no_js
    event = make_event(organiser=ORGANISER)
    page.goto(f"{live_server}/e/{event.code}")
    _fill(page, "Ahmad Yani", "0852 1111 2222", INDONESIAN)
    page.locator("input[name=consent]").evaluate("box => box.removeAttribute('required')")
    page.get_by_role("button", name="Daftar", exact=True).click()
    expect(page.locator("#daftar .error")).to_contain_text("Centang persetujuan ini")
    expect(page.get_by_label("KIM atau instansi")).to_have_value("PKK Kecamatan Babulu")
    page.get_by_label("Saya setuju data saya diproses seperti tertulis di atas.").check()
    page.get_by_role("button", name="Daftar", exact=True).click()
    expect(page.locator("#status-tiket")).to_have_text("Terdaftar")
    assert _consents(app) == [("Ahmad Yani", PRIVACY_NOTICE_VERSION)]
