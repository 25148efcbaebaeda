"""On a phone at 360 px: the operator sets up attendance (live number example, random PIN, the
agency's logo and the official's signature), issues certificates, downloads one person's PDF, and
anyone checks one at /v/ — with JavaScript and without."""

from __future__ import annotations

import io
import re

from playwright.sync_api import expect
from pypdf import PdfReader

from kim_app.auth.models import Role
from tests.browser.conftest import SCREENSHOTS, new_phone, screenshot, sign_in
from tests.conftest import PPU
from tests.helpers import image_bytes
from tests.scenes import attending_people, cert_event, certs


def test_settings_certificates_and_verification(phone, app, live_server, make_user, make_event):
    """Settings save with the live example; the list issues certificates; /v/ says "Sah"."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    event = cert_event(
        app, make_event, certificate_min_percent=None, title="Pelatihan Jurnalistik Warga"
    )
    attending_people(app, event.id, [4, 2, 1])
    sign_in(phone, live_server, operator.email)

    phone.goto(f"{live_server}/absensi/kegiatan/{event.id}/pengaturan")
    number = phone.get_by_label("Format nomor sertifikat")
    number.fill("{no:03}/SERT/{nomor}")
    expect(phone.locator("#contoh-nomor")).to_contain_text("Kode {nomor} tidak dikenal")
    number.fill("{no:03}/DISKOMINFO/{bulan}/{tahun}")
    expect(phone.locator("#contoh-nomor")).to_contain_text(re.compile(r"Contoh: 001/DISKOMINFO/"))
    phone.get_by_role("button", name="Buat PIN acak").click()
    expect(phone.get_by_label("PIN lokasi")).to_have_value(re.compile(r"^\d{6}$"))
    phone.get_by_label("NIP (boleh kosong)").fill("1975 0101")
    phone.get_by_label("Terbitkan sertifikat bagi peserta yang cukup hadir").check()
    phone.get_by_label("Kehadiran minimal (persen dari jumlah sesi)").fill("50")
    phone.get_by_role("button", name="Simpan pengaturan").click()
    expect(phone.locator("#id_signer_nip-err, .error").first).to_contain_text("Hanya angka")
    screenshot(phone, "attendance-settings-error")
    phone.get_by_label("NIP (boleh kosong)").fill("197501012000032001")
    # the agency's logo and the official's signature, uploaded with the same form (htmx post)
    phone.get_by_label("Logo instansi (boleh kosong)").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": image_bytes("PNG")}]
    )
    phone.get_by_label("Gambar tanda tangan pejabat (boleh kosong)").set_input_files(
        files=[{"name": "ttd.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG")}]
    )
    phone.get_by_role("button", name="Simpan pengaturan").click()
    expect(phone.locator("#pesan")).to_contain_text("Pengaturan absensi disimpan.")
    expect(phone.get_by_role("img", name="Logo yang tersimpan")).to_be_visible()
    expect(phone.get_by_role("img", name="Tanda tangan yang tersimpan")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "attendance-settings")

    phone.goto(f"{live_server}/absensi/kegiatan/{event.id}/sertifikat")
    expect(phone.get_by_text("yaitu 2 dari 4 sesi")).to_be_visible()
    phone.get_by_role("button", name="Terbitkan sertifikat").click()
    expect(phone.locator("#pesan")).to_contain_text("2 sertifikat baru diterbitkan")
    expect(phone.get_by_text(re.compile(r"No\. 001/DISKOMINFO/"))).to_be_visible()
    # one PDF per person, beside the combined one
    links = phone.get_by_role("link", name=re.compile(r"^PDF sertifikat"))
    expect(links).to_have_count(2)
    with phone.expect_download() as download:
        links.first.click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF") and len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 2  # the logo and the signature
    (SCREENSHOTS / "certificate-one.pdf").write_bytes(pdf)
    screenshot(phone, "attendance-certificates")

    code = certs(app, event.id)[0].code
    visitor = new_phone(phone.context.browser, app).new_page()
    visitor.goto(f"{live_server}/v/")
    visitor.get_by_label("Kode sertifikat").fill(code.lower()[:5] + "-" + code[5:].lower())
    visitor.get_by_role("button", name="Periksa").click()
    expect(visitor.locator(".state")).to_have_text("✓ Sah")
    expect(visitor.get_by_text("Pelatihan Jurnalistik Warga")).to_be_visible()
    screenshot(visitor, "certificate-verify")
    visitor.goto(f"{live_server}/v/AAAA2222BB")
    expect(visitor.get_by_role("alert")).to_contain_text("Kode AAAA2222BB tidak ditemukan.")
    screenshot(visitor, "certificate-verify-missing")
    visitor.context.close()


def test_settings_without_javascript(phone_no_js, app, live_server, make_user, make_event):
    """Without JavaScript the PIN button and the save still work as plain form posts."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    event = make_event()
    page = phone_no_js
    sign_in_plain(page, live_server, operator.email)
    page.goto(f"{live_server}/absensi/kegiatan/{event.id}/pengaturan")
    page.get_by_role("button", name="Buat PIN acak").click()
    expect(page.get_by_label("PIN lokasi")).to_have_value(re.compile(r"^\d{6}$"))
    page.get_by_label("Format nomor sertifikat").fill("{no}/{kode}")
    page.get_by_role("button", name="Simpan pengaturan").click()
    expect(page.locator("#pesan")).to_contain_text("Pengaturan absensi disimpan.")
    expect(page.locator("#contoh-nomor")).to_contain_text(f"Contoh: 1/{event.code.upper()}")


def sign_in_plain(page, base: str, email: str) -> None:
    """The sign-in form without JavaScript (the same form, a full page load)."""
    sign_in(page, base, email)
