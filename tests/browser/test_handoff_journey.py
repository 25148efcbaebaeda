"""Issue 20's journey between people, from ONE operator account and nothing else, on 360 px
phones: every other account, the KIM, the event, the invitation and the registrations are made
through the pages.

The operator onboards the village heads of Kec. Babulu by invitation links → a kepala desa opens
the link, sets a password and registers the KIM → the operator verifies it and the kepala desa
sees the result on the home page → the operator gives the KIM's ketua a pengurus account from
the member list → the pengurus opens the link and sees the KIM → the operator creates an event
and invites the KIM → kepala desa and pengurus see the invitation on their home page and the
pengurus names delegates → the pengurus finds each delegate's ticket ready to send by WhatsApp
and marks one sent → the event is full, an outsider registers onto the waiting list, a delegate
withdraws, the outsider gets the seat and the operator finds the promotion's message ready.

``normal``: JavaScript on. ``no_js``: JavaScript off (every form a plain post).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import BrowserContext, Page, expect

from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.phones import MAX_HANDOFF_TEXT, normalise_phone
from kim_app.regions.models import Region
from tests.browser.conftest import (
    accept_invitation,
    new_phone,
    register_kim,
    screenshot,
    sign_in,
)
from tests.browser.helpers import register_on_page
from tests.conftest import PPU, PPU_VILLAGE

KIM_NAME = "KIM Sebakung Cerdas"
TITLE = "Bimtek Literasi Digital"
KETUA, SEKRETARIS, BENDAHARA = "Siti Aminah", "Budi Santoso", "Wati Lestari"
HEAD_NUMBER, KETUA_NUMBER = "0812-7000-1001", "0812 3456 7890"
OUTSIDER, OUTSIDER_NUMBER = "Rina Jurnalis", "0813 5555 0101"


def _handoff(link) -> tuple[str, str]:
    """The wa.me hand-off's number (``62…``) and message, checked as the issue asks."""
    href = link.get_attribute("href")
    parts = urlsplit(href)
    assert parts.netloc == "wa.me", href
    number = parts.path.lstrip("/")
    assert normalise_phone("+" + number) == "+" + number and number.startswith("62"), href
    text = parse_qs(parts.query)["text"][0]
    assert len(text) < MAX_HANDOFF_TEXT, len(text)
    return number, text


def _one_time_link(text: str, base: str) -> str:
    [link] = re.findall(re.escape(base) + r"/akun/[0-9]+-[0-9a-f]{32}", text)
    return link


@pytest.mark.parametrize("variant", ["normal", "no_js"])
def test_handoff_journey(browser, app, live_server, make_user, tmp_path, variant):
    """From one operator: accounts by invitation links, a KIM, its verification, a pengurus
    account from the member list, an invitation seen on both home pages, delegates named."""
    javascript = variant == "normal"
    operator = make_user(Role.OPERATOR_KABKOTA, PPU, name="Bu Operator")  # the only fixture
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def phone() -> Page:
        context = new_phone(browser, app, javascript=javascript)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda m: m.type == "error" and "status of 422" not in m.text and errors.append(m.text),
        )
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    with app.app_context():
        village_name = db.session.scalar(sa.select(Region.name).where(Region.code == PPU_VILLAGE))
    try:
        # -- the operator onboards the village heads of Babulu --------------------------------
        desk = phone()
        sign_in(desk, live_server, operator.email)
        desk.get_by_role("link", name="Pengguna").click()
        desk.get_by_role("link", name="Akun kepala desa sekaligus").click()
        desk.get_by_label("Kecamatan").select_option(label="Kec. Babulu")
        desk.get_by_role("button", name="Tampilkan desa yang belum punya akun").click()
        heading = desk.get_by_role("heading", name=re.compile("belum punya akun kepala desa"))
        expect(heading).to_be_visible()
        count = int(heading.inner_text().split()[0])
        assert count >= 10  # every village of the district
        desk.get_by_label(f"Desa {village_name}").fill(HEAD_NUMBER)
        screenshot(desk, f"serah-terima-{variant}-1-onboarding")
        desk.get_by_role("button", name=f"Buat {count} akun").click()
        expect(desk.get_by_role("heading", level=1)).to_have_text("Undangan akun tertunda")
        expect(desk.locator("#pesan")).to_contain_text(f"{count} akun kepala desa dibuat.")
        row = desk.locator("#daftar-undangan li", has_text=f"Kepala Desa {village_name}")
        number, text = _handoff(row.get_by_role("link", name=re.compile("Kirim lewat WhatsApp")))
        assert number == "6281270001001"
        assert "Anda diundang memakai aplikasi KIM sebagai Kepala desa/lurah" in text
        head_link = _one_time_link(text, live_server)
        screenshot(desk, f"serah-terima-{variant}-2-undangan")

        # -- the kepala desa sets a password and registers the KIM ----------------------------
        village = phone()
        accept_invitation(village, head_link, "sandi-kades-2026")
        expect(village.locator("#tindakan")).to_contain_text("Desa Anda belum punya KIM terdaftar.")
        register_kim(
            village,
            tmp_path,
            KIM_NAME,
            [(KETUA, KETUA_NUMBER), (SEKRETARIS, "0813-1111-2222"), (BENDAHARA, "")],
        )

        # -- the operator verifies; the kepala desa sees the result at home --------------------
        desk.get_by_role("link", name="KIM", exact=True).first.click()
        desk.goto(live_server + "/")
        desk.locator("#tindakan").get_by_role("link", name="1 KIM menunggu verifikasi").click()
        desk.get_by_role("link", name=KIM_NAME).click()
        desk.get_by_role("button", name="Verifikasi").click()
        expect(desk.locator(".tag").first).to_have_text("Terverifikasi")
        village.get_by_role("link", name="KIM", exact=True).first.click()
        village.goto(live_server + "/")
        expect(village.locator("main")).to_contain_text(KIM_NAME)
        expect(village.locator("main .tag", has_text="Terverifikasi")).to_be_visible()

        # -- a pengurus account from the member list -------------------------------------------
        desk.get_by_role("link", name="Anggota").first.click()
        ketua_row = desk.locator("li", has_text=KETUA).filter(has=desk.locator("strong"))
        ketua_row.get_by_role("button", name=re.compile("Buat akun")).click()
        expect(desk.get_by_role("heading", level=1)).to_have_text(KETUA)
        expect(desk.locator("main")).to_contain_text("Pengurus KIM")
        number, text = _handoff(desk.get_by_role("link", name="Kirim lewat WhatsApp"))
        assert number == "6281234567890"
        pengurus_link = _one_time_link(text, live_server)
        screenshot(desk, f"serah-terima-{variant}-3-akun-pengurus")
        officer = phone()
        accept_invitation(officer, pengurus_link, "sandi-pengurus-2026")
        expect(officer.locator("main")).to_contain_text(KIM_NAME)
        expect(officer.locator("main")).not_to_contain_text("belum mendaftarkan KIM")

        # -- an event, and the KIM invited ------------------------------------------------------
        desk.goto(live_server + "/")
        desk.get_by_role("link", name="Kegiatan").first.click()
        desk.get_by_role("link", name="Buat kegiatan").click()
        desk.get_by_label("Jenis kegiatan").select_option("bimtek")
        desk.get_by_label("Judul kegiatan").fill(TITLE)
        desk.get_by_label("Nama tempat").fill("Aula Kantor Bupati")
        desk.get_by_label("Kapasitas peserta").fill("2")
        day = date.today() + timedelta(days=3)
        session = desk.get_by_role("group", name="Sesi 1")
        session.get_by_label("Tanggal", exact=True).fill(day.isoformat())
        session.get_by_label("Jam mulai", exact=True).fill("09:00")
        session.get_by_label("Jam selesai", exact=True).fill("12:00")
        desk.get_by_role("button", name="Simpan draf").click()
        desk.get_by_role("button", name="Terbitkan").click()
        expect(desk.locator(".tag").first).to_have_text("Terbit")
        desk.get_by_role("link", name="Undangan").click()
        desk.get_by_label("Babulu").check()
        desk.get_by_role("button", name="Undang KIM yang cocok").click()
        expect(desk.locator("#diundang")).to_contain_text(KIM_NAME)

        # -- both see it at home; the pengurus names the delegates -----------------------------
        for page in (village, officer):
            page.goto(live_server + "/")
            actions = page.locator("#tindakan")
            expect(actions).to_contain_text(f"Undangan untuk {KIM_NAME}: {TITLE}")
            expect(actions).to_contain_text("0 dari 2 delegasi sudah ditunjuk")
        screenshot(officer, f"serah-terima-{variant}-4-beranda-pengurus")
        officer.locator("#tindakan").get_by_role("link", name="Tunjuk delegasi").click()
        officer.get_by_label(KETUA).check()
        officer.get_by_label(SEKRETARIS).check()
        officer.get_by_role("button", name="Simpan delegasi").click()
        expect(officer.locator("#pesan")).to_contain_text("Delegasi disimpan: 2 ditunjuk.")
        village.goto(live_server + "/")
        expect(village.locator("#tindakan")).not_to_contain_text("Undangan untuk")
        expect(village.locator("#tindakan")).to_contain_text("2 orang dari KIM Anda")

        # -- each delegate's ticket is ready to send by WhatsApp --------------------------------
        officer.get_by_role("link", name="Pesan WhatsApp untuk dikirim").click()
        expect(officer.get_by_role("heading", level=1)).to_contain_text("Kirim pesan WhatsApp")
        tickets = {}
        for name, expected in ((KETUA, "6281234567890"), (SEKRETARIS, "6281311112222")):
            row = officer.locator("ul.outbox li", has_text=name).filter(has_text="Tiket:")
            number, text = _handoff(row.get_by_role("link", name="Kirim lewat WhatsApp"))
            assert number == expected and TITLE in text
            [tickets[name]] = re.findall(re.escape(live_server) + r"/e/\S+/tiket/\S+", text)
        screenshot(officer, f"serah-terima-{variant}-5-tiket-delegasi")
        ketua_ticket = officer.locator("ul.outbox li", has_text=KETUA).filter(has_text="Tiket:")
        ketua_ticket.get_by_role("button", name="Sudah dikirim").click()
        if javascript:  # the row is replaced by its sent version
            expect(ketua_ticket).to_contain_text("Sudah dikirim")
        else:  # the list again, without the sent one
            expect(officer.locator("ul.outbox")).not_to_contain_text(f"Tiket: {TITLE}\n{KETUA}")
        delegate = phone()
        delegate.goto(tickets[KETUA])
        expect(delegate.locator("main")).to_contain_text(KETUA)

        # -- the event is full: an outsider waits, a delegate withdraws, the outsider is told ---
        outsider = phone()
        code = re.search(r"/e/([^/]+)/tiket/", tickets[KETUA]).group(1)
        register_on_page(outsider, live_server, code, OUTSIDER, OUTSIDER_NUMBER)
        expect(outsider.locator("#status-tiket")).to_contain_text("Daftar tunggu")
        officer.goto(live_server + "/")
        officer.locator("#tindakan").get_by_role("link", name=TITLE).click()
        officer.locator("#undangan-kim").get_by_role("link", name="Tunjuk delegasi").click()
        officer.get_by_label(SEKRETARIS).uncheck()
        officer.get_by_role("button", name="Simpan delegasi").click()
        expect(officer.locator("#pesan")).to_contain_text("Delegasi disimpan")
        outsider.reload()
        expect(outsider.locator("#status-tiket")).to_contain_text("Terdaftar")
        desk.goto(live_server + "/")
        desk.locator("#tindakan").get_by_role(
            "link", name=re.compile("pesan WhatsApp menunggu dikirim")
        ).click()
        promotion = desk.locator("ul.outbox li", has_text=OUTSIDER)
        expect(promotion).to_contain_text("Anda mendapat kursi")
        number, text = _handoff(promotion.get_by_role("link", name="Kirim lewat WhatsApp"))
        assert number == "6281355550101" and "ada kursi kosong" in text
        screenshot(desk, f"serah-terima-{variant}-6-promosi")
        assert not errors, errors
    finally:
        for context in contexts:
            context.close()
