"""On a phone at 360 px: an operator who browses in English prints the daftar hadir — the
government sheet comes out in Indonesian; choosing English for the document gives the English one
(issue 22 item 19)."""

from __future__ import annotations

import io

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser.conftest import screenshot, sign_in
from tests.helpers import SIGNER
from tests.scenes import attendance_scene


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def _download(page: Page, button) -> str:
    """Tap a download button and read the PDF at the address the browser asked for (Chromium's
    PDF viewer, which the tap opens, gives Playwright no body to read: the same address is fetched
    again with the phone's own cookies)."""
    with page.expect_request(lambda r: r.url.split("?")[0].endswith(".pdf")) as asked:
        button.click()
    response = page.request.get(asked.value.url)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    return _pdf_text(response.body())


def test_english_interface_prints_indonesian_unless_english_is_chosen(
    phone: Page, app, live_server, make_event, make_kim, make_user
):
    """Interface in English: the "Document language" choice shows Indonesian; the sheet reads
    DAFTAR HADIR. Choosing English for the document: ATTENDANCE LIST."""
    data = attendance_scene(app, make_event, make_kim, make_user, **SIGNER)
    sign_in(phone, live_server, data["operator"].email)
    phone.get_by_role("button", name="English").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    overview = f"{live_server}/absensi/kegiatan/{data['event'].id}"
    phone.goto(overview)
    choice = phone.get_by_label("Document language")
    expect(choice).to_have_value("id")
    expect(phone.get_by_text("Official documents are printed in Indonesian")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "dokumen-bahasa-en")

    text = _download(phone, phone.get_by_role("button", name="Attendance list PDF").first)
    assert "DAFTAR HADIR" in text and "ATTENDANCE LIST" not in text

    phone.goto(overview)
    phone.get_by_label("Document language").select_option("en")
    text = _download(phone, phone.get_by_role("button", name="Attendance list PDF").first)
    assert "ATTENDANCE LIST" in text and "DAFTAR HADIR" not in text
