"""Issue 26's journey on 360 px phones, from ONE operator account: the operator invites a village
head, who registers the KIM; the operator verifies it and gives its ketua a pengurus account.
The operator sends an urgent hoax clarification; the pengurus finds it on top of the home page,
shares it through the WhatsApp hand-off and records the relay. The pengurus reports two
activities with photos — with JavaScript, the second written without signal and sent once when
it returns. The operator accepts one and asks for a fix on the other; the KIM's people are told;
the public profile shows only the accepted one, and the operator sees the relay and its reach.

``normal``: JavaScript on (the offline report). ``no_js``: every form a plain post. ``slow``:
JavaScript on over slow 3G.
"""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
import sqlalchemy as sa
from playwright.sync_api import BrowserContext, Page, expect

from kim_app.activity.models import ActivityPhoto, ActivityReport, ReportStatus
from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.regions.models import Region
from tests.browser.conftest import (
    accept_invitation,
    invite_account,
    new_phone,
    register_kim,
    screenshot,
    sign_in,
)
from tests.browser.helpers import wait_until
from tests.browser.test_field_journey import SLOW_3G
from tests.conftest import PPU, PPU_VILLAGE
from tests.helpers import phone_photo

KIM_NAME = "KIM Sebakung Sigap"
KETUA, KETUA_NUMBER = "Rahmat Hidayat", "0812 3456 7001"
HOAX = "Klarifikasi: pesan berantai bantuan tunai palsu"
FIRST = "Sosialisasi cek fakta di balai desa bersama karang taruna."
SECOND = "Video profil kerajinan anyaman rotan desa diunggah ke media sosial."
FIX_NOTE = "Tambahkan tautan unggahan videonya."


def _reports(app) -> list[ActivityReport]:
    with app.app_context():
        return list(db.session.scalars(sa.select(ActivityReport).order_by(ActivityReport.id)))


def _report(page: Page, kind: str, text: str, photo, link: str = "") -> None:
    """The pengurus fills the report form, as on a phone: kind, text, channels, reach, a photo."""
    page.get_by_label(kind).check()
    page.get_by_label("Apa yang dilakukan").fill(text)
    page.get_by_label("Grup WhatsApp").check()
    if link:
        page.get_by_label("Media sosial").check()
        page.get_by_label("Tautan unggahan (bila ada)").fill(link)
    page.get_by_label("Perkiraan jumlah orang yang dijangkau").fill("45")
    page.get_by_label("Foto (paling banyak 3)").set_input_files(str(photo))


@pytest.mark.parametrize("variant", ["normal", "no_js", "slow"])
def test_activity_journey(browser, app, live_server, make_user, tmp_path, variant):
    """From one operator: a KIM registered and verified through the pages, an urgent item relayed
    through the WhatsApp hand-off, two reports (one written offline, sent once), one accepted
    and one returned, and a public profile that shows only the accepted one."""
    javascript = variant != "no_js"
    operator = make_user(Role.OPERATOR_KABKOTA, PPU, name="Bu Operator")  # the only fixture
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def phone(slow: bool = False) -> Page:
        context = new_phone(browser, app, javascript=javascript)
        context.set_default_timeout(30_000 if slow else 10_000)
        contexts.append(context)
        page = context.new_page()
        if slow:
            page.context.new_cdp_session(page).send("Network.emulateNetworkConditions", SLOW_3G)
        page.on(
            "console",
            lambda m: (
                m.type == "error"
                and "status of 422" not in m.text
                and "ERR_INTERNET_DISCONNECTED" not in m.text
                and errors.append(m.text)
            ),
        )
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    wait = 90_000 if variant == "slow" else 10_000  # an upload over slow 3G takes a while
    photo = tmp_path / "foto-kegiatan.jpg"
    photo.write_bytes(phone_photo())
    with app.app_context():
        village_name = db.session.get(Region, PPU_VILLAGE).display_name
        district = db.session.get(Region, PPU_VILLAGE.rsplit(".", 1)[0]).display_name
    try:
        # -- the operator invites the village head, who registers the KIM ----------------------
        desk = phone()
        sign_in(desk, live_server, operator.email)
        link = invite_account(
            desk,
            live_server,
            name="Kades Sebakung",
            phone="0812-7000-2001",
            role="kepala_desa",
            district=district,
            village=village_name,
        )
        village = phone()
        accept_invitation(village, link, "sandi-kades-2026")
        register_kim(
            village,
            tmp_path,
            KIM_NAME,
            [(KETUA, KETUA_NUMBER), ("Sari Wulandari", "0813-2222-3333"), ("Dedi", "")],
        )
        # -- verified, and the ketua gets a pengurus account from the member list --------------
        desk.goto(live_server + "/")
        desk.locator("#tindakan").get_by_role("link", name="1 KIM menunggu verifikasi").click()
        desk.get_by_role("link", name=KIM_NAME).click()
        desk.get_by_role("button", name="Verifikasi").click()
        expect(desk.locator(".tag").first).to_have_text("Terverifikasi")
        kim_id = int(re.search(r"/kim/(\d+)", desk.url)[1])
        desk.get_by_role("link", name="Kelola anggota").click()
        row = desk.locator("li", has_text=KETUA).filter(has=desk.locator("strong"))
        row.get_by_role("button", name=re.compile("Buat akun")).click()
        pengurus_link = desk.locator("#alamat-tautan").input_value()
        officer = phone(slow=variant == "slow")
        accept_invitation(officer, pengurus_link, "sandi-pengurus-2026")

        # -- the operator sends an urgent hoax clarification -----------------------------------
        desk.goto(live_server + "/")
        desk.get_by_role("link", name="Informasi untuk KIM").click()
        desk.get_by_role("link", name="Kirim informasi").click()
        desk.get_by_label("Judul").fill(HOAX)
        desk.get_by_label("Isi informasi").fill(
            "Pesan berantai tentang bantuan tunai Rp2 juta lewat tautan adalah hoaks."
        )
        desk.get_by_label("Tautan sumber (bila ada)").fill("https://diskominfo.example/cek-fakta")
        desk.get_by_label(re.compile("^Mendesak")).check()
        desk.get_by_role("button", name="Kirim ke KIM").click()
        expect(desk.locator("#pesan")).to_contain_text("Informasi dikirim ke 1 KIM.")
        screenshot(desk, f"aktivitas-{variant}-1-informasi")

        # -- the pengurus finds it on top, shares it, records the relay ------------------------
        officer.goto(live_server + "/")
        first = officer.locator("#tindakan li").first
        expect(first).to_contain_text("Mendesak")
        expect(first).to_contain_text(HOAX)
        screenshot(officer, f"aktivitas-{variant}-2-beranda-mendesak")
        first.get_by_role("link", name="Buka dan sebarkan").click()
        share = officer.get_by_role("link", name="Bagikan lewat WhatsApp")
        parts = urlsplit(share.get_attribute("href"))
        assert parts.netloc == "wa.me"
        text = parse_qs(parts.query)["text"][0]
        assert HOAX in text and "https://diskominfo.example/cek-fakta" in text
        officer.get_by_label("Perkiraan jumlah orang yang dijangkau").fill("150")
        officer.get_by_role("button", name="Catat penyebaran").click()
        expect(officer.locator("#pesan")).to_contain_text(
            "Penyebaran informasi ini tercatat.", timeout=wait
        )
        officer.goto(live_server + "/")
        expect(officer.locator("#tindakan")).not_to_contain_text(HOAX)

        # -- two reports: the second, with JavaScript, written without signal ------------------
        officer.get_by_role("link", name="Laporkan kegiatan").first.click()
        _report(officer, "Klarifikasi hoaks", FIRST, photo)
        officer.get_by_role("button", name="Kirim laporan").click()
        expect(officer.locator("#pesan")).to_contain_text("Laporan terkirim.", timeout=wait)
        officer.get_by_role("link", name="‹ Kegiatan KIM").click()
        officer.get_by_role("link", name="Laporkan kegiatan").click()
        _report(officer, "Promosi potensi desa", SECOND, photo)
        if variant == "normal":
            officer.context.set_offline(True)
            officer.get_by_role("button", name="Kirim laporan").click()
            expect(officer.locator("#pesan")).to_contain_text("Tanpa sinyal")
            expect(officer.locator("#kotak-keluar")).to_contain_text("1 laporan menunggu sinyal")
            screenshot(officer, f"aktivitas-{variant}-3-tanpa-sinyal")
            assert len(_reports(app)) == 1
            officer.context.set_offline(False)
            officer.evaluate("window.dispatchEvent(new Event('online'))")
            wait_until(lambda: len(_reports(app)) == 2, 30)
            expect(officer.locator("#kotak-keluar")).to_be_hidden()
        else:
            officer.get_by_role("button", name="Kirim laporan").click()
            expect(officer.locator("#pesan")).to_contain_text("Laporan terkirim.", timeout=wait)
        reports = _reports(app)
        assert [r.text for r in reports] == [FIRST, SECOND]  # each once
        with app.app_context():
            photos = db.session.scalars(sa.select(ActivityPhoto)).all()
            assert len(photos) == 2 and all(p.size <= 200 * 1024 for p in photos)

        # -- the operator accepts one and asks for a fix on the other --------------------------
        desk.goto(live_server + "/")
        desk.locator("#tindakan").get_by_role(
            "link", name="2 laporan kegiatan KIM menunggu tinjauan"
        ).click()
        screenshot(desk, f"aktivitas-{variant}-4-tinjau")
        desk.get_by_role("link", name=re.compile("Klarifikasi hoaks")).click()
        desk.get_by_role("button", name="Terima").click()
        expect(desk.locator("#pesan")).to_contain_text("Laporan kini: Diterima.")
        desk.get_by_role("link", name=re.compile("Promosi potensi desa")).click()
        desk.get_by_label("Catatan untuk KIM").fill(FIX_NOTE)
        desk.get_by_role("button", name="Minta perbaikan").click()
        expect(desk.locator("#pesan")).to_contain_text("Laporan kini: Perlu perbaikan.")
        assert [r.status for r in _reports(app)] == [
            ReportStatus.DITERIMA,
            ReportStatus.PERLU_PERBAIKAN,
        ]
        officer.goto(live_server + "/")
        expect(officer.locator("#tindakan")).to_contain_text(FIX_NOTE)

        # -- the public profile shows the accepted report only ---------------------------------
        visitor = phone()
        visitor.goto(live_server + "/")
        visitor.get_by_role("link", name="Direktori KIM").click()
        visitor.get_by_role("link", name=KIM_NAME).click()
        section = visitor.locator("#kegiatan")
        expect(section).to_contain_text(FIRST)
        expect(visitor.locator("main")).not_to_contain_text(SECOND)
        expect(visitor.locator("main")).not_to_contain_text(KETUA_NUMBER.replace(" ", ""))
        screenshot(visitor, f"aktivitas-{variant}-5-profil")

        # -- the operator reads the relay ------------------------------------------------------
        desk.goto(live_server + "/")
        desk.get_by_role("link", name="Informasi untuk KIM").click()
        expect(desk.locator("main")).to_contain_text("1 dari 1 KIM menyebarkan")
        desk.get_by_role("link", name=HOAX).click()
        expect(desk.locator("#penyebaran")).to_contain_text("±150 orang dijangkau")
        expect(desk.locator("#penyebaran")).to_contain_text(KIM_NAME)

        # -- the monev page and its export state the same counts -------------------------------
        desk.goto(live_server + "/")
        desk.get_by_role("link", name="Monev keaktifan KIM").click()
        summary = desk.locator("#ringkasan")
        for label, value in (
            ("KIM terverifikasi", "1"),
            ("Laporan kegiatan diterima", "1"),
            ("Informasi disebarkan", "1"),
            ("Orang dijangkau", "195"),
        ):
            row = summary.get_by_role("row", name=re.compile(f"^{label}"))
            expect(row.get_by_role("cell")).to_have_text(value)
        screenshot(desk, f"aktivitas-{variant}-6-monev")
        with desk.expect_download() as download:
            desk.get_by_role("button", name="XLSX").click()
        assert download.value.suggested_filename.endswith(".xlsx")
        sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
        header, *rows = list(sheet.iter_rows(values_only=True))
        [row] = [dict(zip(header, r, strict=True)) for r in rows]
        assert row["KIM"] == KIM_NAME and row["Laporan kegiatan diterima"] == 1
        assert row["Informasi disebarkan"] == 1 and row["Orang dijangkau"] == 45 + 150
        assert f"{KIM_NAME}</a> · " in desk.content()
        assert str(row["Skor"]).replace(".", ",") in desk.locator("#teraktif").inner_text()
        assert kim_id
    finally:
        for context in contexts:
            context.close()
    assert errors == [], errors
