"""On a phone, issue 22 items 8, 9 and 11 as an operator meets them: an event a week away puts
inviting and sharing first; a province operator ticks several regencies, sees which KIM will be
invited and invites them at once; a cancelled event leaves "Akan datang" for its own tab."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from kim_app.auth.models import Role
from kim_app.events.models import Event
from kim_app.events.operations import local_now
from kim_app.extensions import db
from kim_app.groups.models import KimStatus
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PPU, PPU_OTHER_VILLAGE

PASER_VILLAGE = "64.01.01.2009"
SAMARINDA_VILLAGE = "64.72.01.1001"


def _a_week_away(app, event_id: int) -> None:
    with app.app_context():
        event = db.session.get(Event, event_id)
        shift = local_now(event) + timedelta(days=7) - event.sessions[0].starts_at
        for session in event.sessions:
            session.starts_at += shift
            session.ends_at += shift
        event.starts_on = event.sessions[0].starts_at
        db.session.commit()


def test_province_operator_invites_two_regencies_seeing_the_kim_first(
    phone: Page, live_server, app, make_user, make_kim, make_event
):
    """The event page of an event a week away leads to "Undang KIM"; there two regencies are
    ticked, their districts appear, the KIM to be invited are named, and one tap invites them."""
    event = make_event(region="64", title="Forum KIM Kalimantan Timur")
    _a_week_away(app, event.id)
    make_kim(name="KIM Sebakung Maju")
    make_kim(village=PPU_OTHER_VILLAGE, name="KIM Giri Mukti")
    make_kim(village=PASER_VILLAGE, name="KIM Samurangau")
    make_kim(village=SAMARINDA_VILLAGE, name="KIM Rawa Makmur")
    make_kim(village=PASER_VILLAGE, name="KIM Ditolak", status=KimStatus.DITOLAK)
    operator = make_user(Role.OPERATOR_PROVINSI, "64")

    sign_in(phone, live_server, operator.email)
    phone.goto(f"{live_server}/kegiatan/{event.id}")
    manage = phone.locator("#kelola")
    expect(manage.get_by_role("button", name="Mulai kegiatan")).to_have_count(0)
    expect(manage).to_contain_text("muncul menjelang sesi pertama")
    screenshot(phone, "kegiatan-sepekan-lagi")
    manage.get_by_role("link", name="Undang KIM").click()

    phone.wait_for_function("() => window.htmx !== undefined")
    count = phone.locator("#jumlah-undang")
    expect(count).to_contain_text("4 KIM cocok")  # the whole province, verified
    expect(phone.locator("#status option")).to_have_text(
        ["Terverifikasi", "Diajukan", "Perlu perbaikan", "Semua yang dapat diundang"]
    )
    phone.get_by_label("Kabupaten Penajam Paser Utara").check()
    expect(
        phone.get_by_role("group", name="Kecamatan di Kabupaten Penajam Paser Utara")
    ).to_be_visible()
    phone.get_by_label("Kabupaten Paser", exact=True).check()
    expect(phone.get_by_role("group", name="Kecamatan di Kabupaten Paser")).to_be_visible()
    expect(count).to_contain_text("3 KIM cocok")
    expect(count.locator("li")).to_have_text(
        [
            "KIM Sebakung Maju · Desa Sebakung Jaya, Kec. Babulu",
            "KIM Samurangau · Desa Samurangau, Kec. Batu Sopang",
            "KIM Giri Mukti · Desa Giri Mukti, Kec. Penajam",
        ]
    )
    phone.get_by_label("Babulu").check()
    expect(count).to_contain_text("2 KIM cocok")
    expect(count).not_to_contain_text("KIM Giri Mukti")
    expect(count).not_to_contain_text("KIM Rawa Makmur")
    screenshot(phone, "undangan-dua-kabupaten")
    phone.get_by_role("button", name="Undang KIM yang cocok").click()
    expect(phone.locator("#pesan")).to_contain_text("2 KIM diundang, masing-masing 2 orang.")
    expect(phone.locator("#diundang li")).to_have_count(2)
    screenshot(phone, "undangan-dua-kabupaten-terkirim")


def test_cancelled_event_moves_to_its_own_tab(phone: Page, live_server, make_user, make_event):
    """After an event is cancelled, "Akan datang" no longer lists it; "Dibatalkan" does, with
    the reason."""
    event = make_event(title="Sosialisasi Literasi Digital")
    make_event(title="Pelatihan Konten Positif")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    sign_in(phone, live_server, operator.email)
    phone.goto(f"{live_server}/kegiatan/{event.id}")
    phone.get_by_text("Batalkan kegiatan", exact=True).click()
    phone.get_by_label("Alasan pembatalan").fill("Aula dipakai untuk posko banjir.")
    phone.get_by_role("button", name="Batalkan kegiatan ini").click()
    expect(phone.locator(".flash.error")).to_contain_text("Kegiatan ini dibatalkan.")
    phone.goto(f"{live_server}/kegiatan/")
    phone.wait_for_function("() => window.htmx !== undefined")
    listing = phone.locator("#kegiatan")
    expect(listing).to_contain_text("Pelatihan Konten Positif")
    expect(listing).not_to_contain_text("Sosialisasi Literasi Digital")
    phone.get_by_role("link", name="Dibatalkan").click()
    expect(phone).to_have_url(f"{live_server}/kegiatan/?waktu=batal")
    expect(listing).to_contain_text("Sosialisasi Literasi Digital")
    expect(listing).to_contain_text("Alasan: Aula dipakai untuk posko banjir.")
    expect(listing).not_to_contain_text("Pelatihan Konten Positif")
    screenshot(phone, "kegiatan-dibatalkan")
