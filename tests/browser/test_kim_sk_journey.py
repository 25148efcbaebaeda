"""Issue 22 item 14 as people do it on a 360 px phone: the operator invites the kepala desa, who
registers the village's KIM from the home page, follows the checklist's "dokumen SK" link to the
upload, uploads a photo of the SK and submits it; the operator opens it from the queue and sees
the data and the SK itself before the decision, then verifies."""

from __future__ import annotations

import io
import re

from PIL import Image, ImageDraw
from playwright.sync_api import expect

from kim_app.auth.models import Role
from tests.browser.conftest import (
    accept_invitation,
    invite_account,
    new_phone,
    screenshot,
    sign_in,
)
from tests.conftest import PPU

KIM_NAME = "KIM Sebakung Terang"


def _sk_photo() -> bytes:
    """A phone photo of a decree: a white page with lines of text."""
    image = Image.new("RGB", (600, 840), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    draw.text((40, 40), "KEPUTUSAN KEPALA DESA SEBAKUNG JAYA", fill=(0, 0, 0))
    draw.text((40, 70), "NOMOR 141/07/2026", fill=(0, 0, 0))
    for n in range(20):
        draw.line((40, 120 + n * 30, 560, 120 + n * 30), fill=(120, 120, 120), width=2)
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def test_kepala_desa_registers_uploads_the_sk_from_the_checklist_and_the_operator_sees_it(
    browser, app, live_server, make_user, tmp_path
):
    """Register → the checklist's "dokumen SK" link reaches the upload → upload → Ajukan; the
    operator's page shows data, SK (the image itself, loaded) and pengurus above "Verifikasi"."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU, name="Bu Operator")
    desk_ctx, village_ctx = new_phone(browser, app), new_phone(browser, app)
    try:
        desk = desk_ctx.new_page()
        sign_in(desk, live_server, operator.email)
        link = invite_account(
            desk,
            live_server,
            name="Pak Kades",
            phone="0812-7000-2001",
            role="kepala_desa",
            district="Kec. Babulu",
            village="Desa Sebakung Jaya",
        )

        page = village_ctx.new_page()
        accept_invitation(page, link)
        page.get_by_role("link", name="Daftarkan KIM").first.click()
        page.get_by_label("Nama KIM").fill(KIM_NAME)
        page.get_by_label("Nomor SK").fill("141/07/2026")
        page.get_by_label("Tanggal SK").fill("2026-02-01")
        page.get_by_label("SK ditandatangani oleh").select_option("kepala_desa")
        page.get_by_label("Informasi publik").check()
        for row, (person, number) in enumerate(
            [("Siti Aminah", "0812 3456 7890"), ("Budi Santoso", "0813-1111-2222"), ("Wati", "")],
            start=1,
        ):
            group = page.get_by_role("group", name=f"Pengurus {row}")
            group.get_by_label("Nama", exact=True).fill(person)
            group.get_by_label("Nomor WhatsApp").fill(number)
        page.get_by_role("button", name="Simpan draf").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(KIM_NAME)

        checklist = page.locator("#lengkapi")
        expect(checklist).to_contain_text("Sebelum diajukan, lengkapi:")
        screenshot(page, "kim-sk-1-checklist")
        checklist.get_by_role("link", name="dokumen SK").click()
        expect(page).to_have_url(re.compile(r"/kim/\d+#sk$"))
        upload = page.get_by_label("Unggah dokumen SK")
        expect(upload).to_be_in_viewport()
        sk = tmp_path / "sk.jpg"
        sk.write_bytes(_sk_photo())
        upload.set_input_files(str(sk))
        page.get_by_role("button", name="Unggah", exact=True).click()
        expect(page.locator("#lengkapi")).to_contain_text("Siap diajukan")
        submit = page.get_by_role("button", name="Ajukan ke Diskominfo")
        # the upload and the submit button are one short scroll apart, not 1,000 px (measured
        # once the SK image has loaded and the page stopped moving)
        page.wait_for_function("document.querySelector('.sk-image').complete")
        upload_box = page.get_by_label("Ganti dokumen SK").bounding_box()
        submit_box = submit.bounding_box()
        assert 0 < submit_box["y"] - upload_box["y"] < 400
        screenshot(page, "kim-sk-2-siap-diajukan")
        submit.click()
        expect(page.locator(".tag").first).to_have_text("Diajukan")

        desk.goto(live_server + "/")
        desk.get_by_role("link", name="Antrean verifikasi").click()
        desk.get_by_role("link", name=KIM_NAME).click()
        image = desk.get_by_role("img", name=f"Dokumen SK {KIM_NAME}")
        expect(image).to_be_visible()
        assert desk.evaluate("(img) => img.complete && img.naturalWidth", image.element_handle())
        verify = desk.get_by_role("button", name="Verifikasi")
        order = [
            desk.get_by_role("heading", name="Data KIM").bounding_box()["y"],
            image.bounding_box()["y"],
            desk.get_by_role("heading", name="Pengurus").bounding_box()["y"],
            verify.bounding_box()["y"],
        ]
        assert order == sorted(order), order
        href = desk.get_by_role("link", name="Lihat dokumen SK").get_attribute("href")
        shown = desk.request.get(live_server + href)
        assert shown.headers["content-disposition"].startswith("inline")
        screenshot(desk, "kim-sk-3-verifikasi")
        verify.click()
        expect(desk.locator(".tag").first).to_have_text("Terverifikasi")
    finally:
        desk_ctx.close()
        village_ctx.close()
