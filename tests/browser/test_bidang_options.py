"""Issue 22 item 16 on a 360 px phone: Majalengka's operator opens Bidang kegiatan from the KIM
list, adds the regency's fields, renames one and retires another; the KIM form then offers the
national fields and the remaining regency ones."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from kim_app.auth.models import Role
from tests.browser.conftest import screenshot, sign_in

MAJALENGKA = "32.10"


def _add(page: Page, label: str) -> None:
    page.locator("#label").fill(label)  # the add form (each row has a "Nama bidang" too)
    page.get_by_role("button", name="Tambah bidang").click()
    expect(page.locator("#pesan")).to_contain_text(f"Bidang {label} ditambahkan.")


def test_a_regency_operator_keeps_its_fields_and_the_kim_form_offers_them(
    phone, live_server, make_user
):
    """Add, rename, retire on the phone; the KIM form shows what is offered, not what retired."""
    operator = make_user(Role.OPERATOR_KABKOTA, MAJALENGKA, name="Operator Majalengka")
    sign_in(phone, live_server, operator.email)
    phone.goto(live_server + "/kim/")
    phone.get_by_role("link", name="Bidang kegiatan").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Bidang kegiatan KIM")
    for label in ("Komunitas strategis", "Kelompok pertunjukan rakyat", "Sosial"):
        _add(phone, label)
    row = phone.locator("#bidang-wilayah li", has=phone.locator('input[value="Sosial"]'))
    row.get_by_label("Nama bidang").fill("Sosial kemasyarakatan")
    row.get_by_role("button", name="Simpan").click()
    expect(phone.locator("#pesan")).to_contain_text("Bidang Sosial kemasyarakatan disimpan.")
    row = phone.locator(
        "#bidang-wilayah li", has=phone.locator('input[value="Komunitas strategis"]')
    )
    row.get_by_role("button", name="Pensiunkan").click()
    expect(phone.locator("#pesan")).to_contain_text("tidak lagi ditawarkan")
    screenshot(phone, "bidang-majalengka")

    phone.goto(live_server + "/kim/baru?desa_kim_pilih=32.10.01.2001")
    fields = phone.get_by_role("group", name="Bidang kegiatan")
    expect(fields.get_by_label("Kelompok pertunjukan rakyat")).to_be_visible()
    expect(fields.get_by_label("Sosial kemasyarakatan")).to_be_visible()
    expect(fields.get_by_label("Informasi publik")).to_be_visible()
    expect(fields.get_by_label("Komunitas strategis")).to_have_count(0)
