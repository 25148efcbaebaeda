"""On a phone at 360 px: the operator writes the laporan kegiatan and adds a photo."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.helpers import jpeg_with_gps
from tests.scenes import laporan_scene


def test_write_report_and_add_photo(
    phone, app, live_server, make_event, make_kim, make_user, tmp_path
):
    """Save the narrative (over htmx), upload a photo, see it with its caption."""
    data = laporan_scene(app, make_event, make_kim, make_user)
    sign_in(phone, live_server, data["operator"].email)
    phone.goto(f"{live_server}/kegiatan/{data['event'].id}/laporan")
    phone.get_by_label("Latar belakang").fill("Banyak KIM belum menulis berita desa.")
    # the browser stops at 10,000 characters (the server says so too: 422, tested elsewhere)
    expect(phone.get_by_label("Hasil")).to_have_attribute("maxlength", "10000")
    phone.get_by_label("Hasil").fill("Setiap KIM menulis satu berita.")
    phone.get_by_role("button", name="Simpan laporan").click()
    expect(phone.locator(".flash.success")).to_contain_text("Laporan disimpan.")
    photo = tmp_path / "foto.jpg"
    photo.write_bytes(jpeg_with_gps())
    phone.locator("#foto-berkas").set_input_files(str(photo))
    phone.get_by_label("Keterangan foto").fill("Suasana pelatihan")
    phone.get_by_role("button", name="Unggah foto").click()
    expect(phone.locator(".foto-list figcaption")).to_have_text("Suasana pelatihan")
    screenshot(phone, "reports-laporan")
