"""The operator's event editor on a phone: a two-day pelatihan with four sessions typed into the
form (rows added with the button), saved as a draft, published, and its public link shown.
Run twice: with JavaScript (htmx swaps the form) and with JavaScript off (the page re-renders)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kim_app.auth.models import Role
from tests.browser.conftest import new_phone, screenshot, sign_in
from tests.browser.helpers import AGENDA, fill_session
from tests.conftest import PPU


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "tanpa-js"])
def test_operator_creates_and_publishes_a_two_day_training(
    browser, app, live_server, make_user, javascript
):
    """Four sessions over two days through the form, published, with the public link on the page."""
    suffix = "js" if javascript else "nojs"
    operator = make_user(Role.OPERATOR_KABKOTA, PPU, name="Bu Operator")
    context = new_phone(browser, app, javascript=javascript)
    try:
        page = context.new_page()
        sign_in(page, live_server, operator.email)
        page.goto(live_server + "/kegiatan/")
        page.get_by_role("link", name="Buat kegiatan").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Buat kegiatan")
        expect(page.locator("#zona")).to_contain_text("Waktu dalam WITA")
        page.get_by_label("Jenis kegiatan").select_option("pelatihan")
        page.get_by_label("Judul kegiatan").fill(f"Pelatihan Jurnalistik Warga {suffix}")
        page.get_by_label("Nama tempat").fill("Aula Kantor Bupati")
        page.get_by_label("Alamat tempat").fill("Jl. Provinsi Km 9, Penajam")
        page.get_by_label("Kapasitas peserta").fill("100")
        fill_session(page, 1, *AGENDA[0])
        for number, session in enumerate(AGENDA[1:], start=2):
            page.get_by_role("button", name="+ Tambah sesi").click()
            row = page.get_by_role("group", name=f"Sesi {number}")
            expect(row).to_be_visible()
            # the new row starts on the day of the last one, when it ended
            expect(row.get_by_label("Tanggal", exact=True)).to_have_value(AGENDA[number - 2][0])
            expect(row.get_by_label("Jam mulai", exact=True)).to_have_value(AGENDA[number - 2][2])
            fill_session(page, number, *session)
        # what was typed before the rows were added is still there
        expect(page.get_by_label("Judul kegiatan")).to_have_value(
            f"Pelatihan Jurnalistik Warga {suffix}"
        )
        expect(
            page.get_by_role("group", name="Sesi 1").get_by_label("Topik atau acara")
        ).to_have_value("Menulis berita desa")
        screenshot(page, f"kegiatan-form-{suffix}")
        page.get_by_role("button", name="Simpan draf").click()

        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Pelatihan Jurnalistik Warga {suffix}"
        )
        expect(page.locator(".tag").first).to_have_text("Draf")
        main = page.locator("main")
        expect(main).to_contain_text("09.00–12.00 WITA")
        expect(main).to_contain_text("13.00–15.30 WITA")
        expect(main).to_contain_text("Rina Wulandari (Diskominfo PPU)")
        expect(page.locator("main h3")).to_have_count(2)  # two days on the agenda
        page.get_by_role("button", name="Terbitkan").click()

        expect(page.locator(".tag").first).to_have_text("Terbit")
        expect(page.locator("#pesan")).to_contain_text("Status kegiatan sekarang: Terbit.")
        public = page.get_by_role("link", name=re.compile(r"^http:\/\/127\.0\.0\.1:\d+\/e\/"))
        expect(public).to_be_visible()
        screenshot(page, f"kegiatan-terbit-{suffix}")
        page.get_by_role("link", name="‹ Kegiatan").click()
        expect(
            page.get_by_role("link", name=f"Pelatihan Jurnalistik Warga {suffix}")
        ).to_be_visible()
        expect(page.locator("main .list")).to_contain_text("Rabu, 15 Mei 2030 09.00 WITA")
        screenshot(page, f"kegiatan-daftar-{suffix}")
        page.go_back()
        public.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Pelatihan Jurnalistik Warga {suffix}"
        )
    finally:
        context.close()


def test_admin_picks_a_papua_regency_and_the_zone_hint_says_wit(phone, live_server, make_user):
    """With htmx the picker opens the regencies and the zone hint follows the province at once."""
    admin = make_user(Role.ADMIN)
    sign_in(phone, live_server, admin.email)
    phone.goto(live_server + "/kegiatan/baru")
    expect(phone.locator("#zona")).to_contain_text("pilih wilayahnya dulu")
    phone.get_by_label("Provinsi", exact=True).select_option("64")
    expect(phone.locator("#zona")).to_contain_text("Waktu dalam WITA")
    phone.get_by_label("Provinsi", exact=True).select_option("91")
    expect(phone.locator("#zona")).to_contain_text("Waktu dalam WIT,")
    phone.get_by_label("Kabupaten/Kota", exact=True).select_option("91.03")
    expect(phone.locator("#zona")).to_contain_text("Waktu dalam WIT,")
