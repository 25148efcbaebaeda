"""The registration journey on phones: the village head registers, the operator returns it,
the head fixes and resubmits, the operator verifies, and the KIM appears in the public directory.
Run twice: with JavaScript (htmx) and with JavaScript off."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kim_app.auth.models import Role
from tests.browser.conftest import new_phone, screenshot, sign_in
from tests.conftest import PPU, PPU_VILLAGE

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _fill_officer(page: Page, row: int, name: str, phone: str) -> None:
    group = page.get_by_role("group", name=f"Pengurus {row}")
    group.get_by_label("Nama", exact=True).fill(name)
    group.get_by_label("Nomor WhatsApp").fill(phone)


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "tanpa-js"])
def test_registration_return_fix_verify_publish(
    browser, app, live_server, make_user, tmp_path, javascript
):
    """The whole registration round trip works on a 360 px phone, with and without JavaScript."""
    suffix = "js" if javascript else "nojs"
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE, name="Pak Kades")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU, name="Bu Operator")
    sk = tmp_path / "sk.pdf"
    sk.write_bytes(PDF)
    head_ctx, operator_ctx = (
        new_phone(browser, app, javascript=javascript),
        new_phone(browser, app, javascript=javascript),
    )
    try:
        page = head_ctx.new_page()
        sign_in(page, live_server, head.email)
        page.goto(live_server + "/kim/baru")
        page.get_by_label("Nama KIM").fill(f"KIM Sebakung Cerdas {suffix}")
        page.get_by_label("Nomor SK").fill("141/07/2026")
        page.get_by_label("Tanggal SK").fill("2026-02-01")
        page.get_by_label("SK ditandatangani oleh").select_option("kepala_desa")
        page.get_by_label("Informasi publik").check()
        _fill_officer(page, 1, "Siti Aminah", "0812 3456 7890")
        _fill_officer(page, 2, "Budi Santoso", "0813-1111-2222")
        # a fourth row added and removed again, without losing what was typed
        page.get_by_role("button", name="+ Tambah pengurus").click()
        expect(page.get_by_role("group", name="Pengurus 4")).to_be_visible()
        page.get_by_role("group", name="Pengurus 4").get_by_role(
            "button", name="Hapus baris ini"
        ).click()
        expect(page.get_by_role("group", name="Pengurus 4")).to_have_count(0)
        expect(
            page.get_by_role("group", name="Pengurus 1").get_by_label("Nama", exact=True)
        ).to_have_value("Siti Aminah")
        _fill_officer(page, 3, "Wati", "")
        screenshot(page, f"kim-daftar-{suffix}")
        page.get_by_role("button", name="Simpan draf").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"KIM Sebakung Cerdas {suffix}")
        expect(page.locator("main")).to_contain_text("dokumen SK")  # still missing
        page.get_by_label("Unggah dokumen SK").set_input_files(str(sk))
        page.get_by_role("button", name="Unggah", exact=True).click()
        expect(page.get_by_role("link", name="Unduh dokumen SK")).to_be_visible()
        page.get_by_role("button", name="Ajukan ke Diskominfo").click()
        expect(page.locator(".tag").first).to_have_text("Diajukan")
        kim_url = page.url

        desk = operator_ctx.new_page()
        sign_in(desk, live_server, operator.email)
        desk.goto(live_server + "/kim/verifikasi")
        desk.get_by_role("link", name=f"KIM Sebakung Cerdas {suffix}").click()
        desk.get_by_label("Catatan untuk desa").fill("Tanggal SK tidak sesuai dokumen.")
        desk.get_by_role("button", name="Kembalikan untuk perbaikan").click()
        expect(desk.locator(".tag").first).to_have_text("Perlu perbaikan")

        page.goto(kim_url)
        expect(page.get_by_role("alert")).to_contain_text("Tanggal SK tidak sesuai dokumen.")
        screenshot(page, f"kim-perlu-perbaikan-{suffix}")
        page.get_by_role("link", name="Ubah", exact=True).click()
        page.get_by_label("Tanggal SK").fill("2026-02-03")
        page.get_by_role("button", name="Simpan perubahan").click()
        page.get_by_role("button", name="Ajukan ke Diskominfo").click()
        expect(page.locator(".tag").first).to_have_text("Diajukan")

        desk.goto(kim_url)
        desk.get_by_role("button", name="Verifikasi").click()
        expect(desk.locator(".tag").first).to_have_text("Terverifikasi")
        expect(desk.locator("main")).to_contain_text("KIM-64.09-")
        screenshot(desk, f"kim-terverifikasi-{suffix}")

        visitor = new_phone(browser, app, javascript=javascript).new_page()
        visitor.goto(live_server + "/direktori")
        visitor.get_by_role("searchbox").fill(f"Sebakung Cerdas {suffix}")
        visitor.get_by_role("searchbox").press("Enter")
        # with htmx the list is swapped as one types: let the last search land before clicking
        visitor.wait_for_load_state("networkidle")
        result = visitor.get_by_role("link", name=f"KIM Sebakung Cerdas {suffix}")
        expect(result).to_have_count(1)
        result.click()
        expect(visitor.get_by_role("heading", level=1)).to_have_text(
            f"KIM Sebakung Cerdas {suffix}"
        )
        expect(visitor.locator("main")).not_to_contain_text("0812")
        expect(visitor.locator("main")).not_to_contain_text("Budi Santoso")
        visitor.context.close()
    finally:
        head_ctx.close()
        operator_ctx.close()
