"""Issue 4's journey in one run, on phones at 360 px: the operator builds and publishes a two-day
pelatihan with four sessions, invites the KIM of two districts with quota 2, a pengurus names two
delegates, an outsider registers through the public link and is recognised when registering
again, the event fills, the next person waits, and a cancellation promotes them."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from kim_app.auth.models import Role
from kim_app.events.models import Event, Registration, RegistrationStatus
from kim_app.extensions import db
from tests.browser.conftest import new_phone, screenshot, sign_in
from tests.browser.helpers import AGENDA, fill_session, invitation_kims, register_on_page
from tests.conftest import PPU, PPU_VILLAGE


def test_operator_to_waiting_list_journey(browser, app, live_server, make_user, make_kim):
    """Every step through the interface; the database agrees with what the pages said."""
    kim = invitation_kims(make_kim)
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    pengurus = make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id)
    contexts = []

    def phone_page():
        context = new_phone(browser, app)
        contexts.append(context)
        return context.new_page()

    try:
        desk = phone_page()
        sign_in(desk, live_server, operator.email)
        desk.goto(live_server + "/kegiatan/baru")
        desk.get_by_label("Jenis kegiatan").select_option("pelatihan")
        desk.get_by_label("Judul kegiatan").fill("Pelatihan Jurnalistik Warga")
        desk.get_by_label("Nama tempat").fill("Aula Kantor Bupati")
        desk.get_by_label("Kapasitas peserta").fill("4")
        fill_session(desk, 1, *AGENDA[0])
        for number, session in enumerate(AGENDA[1:], start=2):
            desk.get_by_role("button", name="+ Tambah sesi").click()
            expect(desk.get_by_role("group", name=f"Sesi {number}")).to_be_visible()
            fill_session(desk, number, *session)
        desk.get_by_role("button", name="Simpan draf").click()
        desk.get_by_role("button", name="Terbitkan").click()
        expect(desk.locator(".tag").first).to_have_text("Terbit")
        event_url = desk.url
        public = desk.get_by_role("link", name=re.compile(r"\/e\/")).first.get_attribute("href")
        code = public.rstrip("/").rsplit("/", 1)[-1]

        desk.goto(event_url + "/undangan")
        desk.get_by_label("Babulu").check()
        desk.get_by_label("Penajam").check()
        expect(desk.locator("#jumlah-undang")).to_contain_text("3 KIM cocok")
        desk.get_by_role("button", name="Undang KIM yang cocok").click()
        expect(desk.locator("#pesan")).to_contain_text("3 KIM diundang, masing-masing 2 orang.")

        officer = phone_page()
        sign_in(officer, live_server, pengurus.email)
        officer.goto(live_server + "/kegiatan/")
        officer.get_by_role("link", name="Tunjuk delegasi").click()
        boxes = officer.locator("#delegasi input[name=anggota]")
        boxes.nth(0).check()
        boxes.nth(1).check()
        officer.get_by_role("button", name="Simpan delegasi").click()
        expect(officer.locator("#pesan")).to_contain_text("Delegasi disimpan: 2 ditunjuk.")

        outsider = phone_page()
        first_ticket = register_on_page(
            outsider, live_server, code, "Rina Jurnalis", "0813 5555 0101"
        )
        expect(outsider.locator("#status-tiket")).to_have_text("Terdaftar")
        again = register_on_page(outsider, live_server, code, "rina jurnalis", "+62 813-5555-0101")
        assert again == first_ticket  # recognised, not registered twice
        expect(outsider.locator("#pesan")).to_contain_text("Nomor ini sudah terdaftar")

        last_seat = phone_page()
        register_on_page(last_seat, live_server, code, "Dewi PKK", "0852 2222 3333")
        expect(last_seat.locator("#status-tiket")).to_have_text("Terdaftar")
        waiting = phone_page()
        register_on_page(waiting, live_server, code, "Agus Wartawan", "0857 4444 5555")
        expect(waiting.locator("#status-tiket")).to_have_text("Daftar tunggu, urutan ke-1")
        screenshot(waiting, "perjalanan-daftar-tunggu")

        outsider.goto(first_ticket)
        outsider.get_by_text("Batalkan pendaftaran", exact=True).click()
        outsider.get_by_role("button", name="Ya, batalkan pendaftaran saya").click()
        expect(outsider.locator("#status-tiket")).to_have_text("Dibatalkan")
        waiting.reload()
        expect(waiting.locator("#status-tiket")).to_have_text("Terdaftar")

        desk.goto(event_url + "/peserta")
        counts = desk.locator(".counts")
        expect(counts).to_contain_text("4 terdaftar dari 4 kursi")
        expect(counts).to_contain_text("0 daftar tunggu")
        expect(counts).to_contain_text("1 batal")
        screenshot(desk, "perjalanan-peserta")
    finally:
        for context in contexts:
            context.close()

    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.code == code))
        statuses = sorted(
            (r.name, r.status)
            for r in db.session.scalars(
                sa.select(Registration).where(Registration.event_id == event.id)
            )
        )
        assert event.registered_count == 4 and len(event.sessions) == 4
        assert [s for _n, s in statuses].count(RegistrationStatus.TERDAFTAR) == 4
        assert ("Rina Jurnalis", RegistrationStatus.BATAL) in statuses
        assert ("Agus Wartawan", RegistrationStatus.TERDAFTAR) in statuses
