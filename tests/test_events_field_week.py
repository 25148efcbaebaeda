"""Issue 22, items 8–11: what the events pages tripped over in a first week in the field — the
main button follows the event's time, the invitation form names the KIM it will invite and takes
several regencies at once, the share text and poster carry every day, the deadline and the
contact, and cancelled events leave "Akan datang"."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from kim_app import formatting
from kim_app.auth.models import Role
from kim_app.events import documents
from kim_app.events.models import Event, EventStatus, Invitation, RegistrationMode
from kim_app.events.operations import local_now
from kim_app.extensions import db
from kim_app.groups.models import KimStatus
from tests.conftest import PPU, PPU_OTHER_VILLAGE, html_of

PASER = "64.01"  # a regency of Kalimantan Timur beside PPU
PASER_VILLAGE = "64.01.01.2009"
BABULU = "64.09.03"


def move_event(app, event_id: int, first_start: datetime) -> None:
    """Shift an event's agenda so that its first session starts at ``first_start`` (local)."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        shift = first_start - event.sessions[0].starts_at
        for session in event.sessions:
            session.starts_at += shift
            session.ends_at += shift
        event.starts_on = event.sessions[0].starts_at
        db.session.commit()


def now_of(app, event_id: int) -> datetime:
    with app.app_context():
        return local_now(db.session.get(Event, event_id))


def manage_card(html: str) -> str:
    """The "Kelola kegiatan" card of the event page."""
    return html.split('id="kelola"', 1)[1].split("</section>", 1)[0]


def first_primary(html: str) -> str:
    """The label of the first primary button or link in the manage card."""
    match = re.search(r'class="button primary"[^>]*>([^<]+)<|class="primary">([^<]+)<', html)
    assert match, html[:3000]
    return match.group(1) or match.group(2)


# --- item 8: the main action follows the event's time -----------------------------------------------


def test_event_a_week_away_puts_inviting_and_sharing_first_not_starting(
    app, client, operator, make_event
):
    """A published event a week away offers "Undang KIM" and the WhatsApp share as its main
    buttons and says when it starts; "Mulai kegiatan" is not offered yet."""
    event = make_event()
    move_event(
        app, event.id, now_of(app, event.id).replace(second=0, microsecond=0) + timedelta(days=7)
    )
    card = manage_card(html_of(client.get(f"/kegiatan/{event.id}")))
    assert "Mulai kegiatan</button>" not in card and 'value="berlangsung"' not in card
    assert first_primary(card) == "Undang KIM"
    assert re.search(r'<a class="button primary" href="https://wa\.me/\?text=[^"]+"', card)
    assert "Kegiatan dimulai " in card and "muncul menjelang sesi pertama" in card


@pytest.mark.parametrize(
    ("mode", "main"),
    [(RegistrationMode.TERBUKA, "Bagikan ke WhatsApp"), (RegistrationMode.UNDANGAN, "Undang KIM")],
)
def test_the_share_or_invite_button_follows_the_registration_mode(
    app, client, operator, make_event, mode, main
):
    """An open-link event is shared, an invitation-only event is invited: one main button each."""
    event = make_event(registration_mode=mode)
    move_event(app, event.id, now_of(app, event.id) + timedelta(days=7))
    card = manage_card(html_of(client.get(f"/kegiatan/{event.id}")))
    assert first_primary(card) == main
    assert card.count('class="button primary"') == 1


def test_start_is_the_main_button_when_the_first_session_is_near(app, client, operator, make_event):
    """An hour before the first session "Mulai kegiatan" is the main (primary) button; once
    running, attendance is; after the last session, "Tandai selesai"."""
    event = make_event()
    move_event(app, event.id, now_of(app, event.id) + timedelta(hours=1))
    card = manage_card(html_of(client.get(f"/kegiatan/{event.id}")))
    assert first_primary(card) == "Mulai kegiatan"
    assert "muncul menjelang sesi pertama" not in card
    response = client.submit(
        f"/kegiatan/{event.id}/status", {"to": "berlangsung"}, form_page=f"/kegiatan/{event.id}"
    )
    assert response.status_code == 303
    card = manage_card(html_of(client.get(f"/kegiatan/{event.id}")))
    assert first_primary(card) == "Buka absensi"
    assert '<button type="submit" class="secondary">Tandai selesai</button>' in card
    move_event(app, event.id, now_of(app, event.id) - timedelta(days=3))
    card = manage_card(html_of(client.get(f"/kegiatan/{event.id}")))
    assert first_primary(card) == "Tandai selesai"


def test_draft_offers_publishing_first(client, operator, make_event):
    """A draft's main button is "Terbitkan", whatever its date."""
    event = make_event(status=EventStatus.DRAFT)
    card = manage_card(html_of(client.get(f"/kegiatan/{event.id}")))
    assert first_primary(card) == "Terbitkan"


# --- item 9: the invitation form names the KIM, offers invitable statuses, several regencies ---------


def _count_fragment(client, event, partial_headers, **args):
    args["bagian"] = "jumlah"
    response = client.get(
        f"/kegiatan/{event.id}/undangan", query_string=args, headers=partial_headers
    )
    assert response.status_code == 200
    return html_of(response)


def test_invitation_form_names_the_kim_it_will_invite(
    client, operator, make_event, make_kim, partial_headers
):
    """The count comes with the KIM it will invite, by name with their village and district;
    those already invited are counted, not listed again."""
    event = make_event()
    make_kim(name="KIM Sebakung Maju")
    make_kim(village=PPU_OTHER_VILLAGE, name="KIM Giri Mukti")
    page = html_of(client.get(f"/kegiatan/{event.id}/undangan"))
    preview = page.split('id="jumlah-undang"', 1)[1].split("</div>", 1)[0]
    assert "<strong>KIM Sebakung Maju</strong>" in preview
    assert "<strong>KIM Giri Mukti</strong>" in preview
    assert re.search(r"KIM Giri Mukti</strong> · <small>(Desa|Kel\.) [^,]+, Kec\. Penajam", preview)
    fragment = _count_fragment(client, event, partial_headers, kecamatan=BABULU)
    assert "KIM Sebakung Maju" in fragment and "KIM Giri Mukti" not in fragment
    client.submit(
        f"/kegiatan/{event.id}/undangan", {"kecamatan": BABULU, "aksi": "undang", "kuota": "2"}
    )
    fragment = _count_fragment(client, event, partial_headers)
    assert "KIM Giri Mukti" in fragment and "KIM Sebakung Maju" not in fragment


def test_invitation_preview_is_bounded_and_says_how_many_more(
    app, client, operator, make_event, make_kim, partial_headers
):
    """With more matching KIM than the preview shows, it names the first 30 and says how many
    more will be invited."""
    event = make_event()
    for n in range(33):
        make_kim(name=f"KIM Uji {n:02d}")
    fragment = _count_fragment(client, event, partial_headers)
    assert fragment.count("<li>") == 30
    assert "dan 3 KIM lainnya" in fragment


def test_status_filter_offers_only_invitable_statuses_and_never_invites_the_others(
    app, client, operator, make_event, make_kim
):
    """Draf, Ditolak and Nonaktif are not offered; even asked for by hand, such KIM are never
    invited."""
    event = make_event()
    ok = make_kim(name="KIM Aktif")
    submitted = make_kim(name="KIM Diajukan", status=KimStatus.DIAJUKAN)
    refused = [
        make_kim(name=f"KIM {status.value}", status=status)
        for status in (KimStatus.DRAFT, KimStatus.DITOLAK, KimStatus.NONAKTIF)
    ]
    page = html_of(client.get(f"/kegiatan/{event.id}/undangan"))
    select = page.split('<select id="status"', 1)[1].split("</select>", 1)[0]
    offered = re.findall(r'<option value="([a-z_]+)"', select)
    assert set(offered) == {"terverifikasi", "diajukan", "perlu_perbaikan", "semua"}
    for status in ("draft", "ditolak", "nonaktif", "semua"):
        response = client.submit(
            f"/kegiatan/{event.id}/undangan", {"status": status, "aksi": "undang", "kuota": "1"}
        )
        assert response.status_code == 303
    with app.app_context():
        invited = set(
            db.session.scalars(sa.select(Invitation.kim_id).where(Invitation.event_id == event.id))
        )
    assert invited == {ok.id, submitted.id}
    assert not invited & {kim.id for kim in refused}


def test_province_invites_several_regencies_at_once(
    app, client, make_user, login, make_event, make_kim, partial_headers
):
    """A province operator ticks two regencies (one narrowed to a district) and invites their
    KIM in one go; the districts of every ticked regency are offered, grouped by regency."""
    login(make_user(Role.OPERATOR_PROVINSI, "64"))
    event = make_event(region="64")
    babulu = make_kim(name="KIM Babulu")
    make_kim(village=PPU_OTHER_VILLAGE, name="KIM Penajam")
    paser = make_kim(village=PASER_VILLAGE, name="KIM Paser")
    make_kim(village="64.72.01.1001", name="KIM Samarinda")
    url = f"/kegiatan/{event.id}/undangan"
    page = html_of(client.get(url))
    assert page.count('type="checkbox" name="kabupaten"') >= 3
    both = html_of(
        client.get(
            url,
            query_string={"kabupaten": [PPU, PASER], "bagian": "saring"},
            headers=partial_headers,
        )
    )
    assert f'value="{BABULU}"' in both and 'value="64.01.01"' in both
    assert both.count("<legend>Kecamatan di ") == 2
    chosen = {"kabupaten": [PPU, PASER], "kecamatan": [BABULU]}
    fragment = _count_fragment(client, event, partial_headers, **chosen)
    assert "KIM Babulu" in fragment and "KIM Paser" in fragment
    assert "KIM Penajam" not in fragment and "KIM Samarinda" not in fragment
    response = client.submit(url, chosen | {"aksi": "undang", "kuota": "2"})
    assert response.status_code == 303
    with app.app_context():
        invited = set(
            db.session.scalars(sa.select(Invitation.kim_id).where(Invitation.event_id == event.id))
        )
    assert invited == {babulu.id, paser.id}


# --- item 10: the share text and the poster ---------------------------------------------------------


def test_share_text_has_every_day_the_deadline_and_the_contact(app, make_event):
    """A three-day event's WhatsApp text names each day with its hours, the venue, when
    registration closes and whom to ask, then the link."""
    event = make_event(
        days=3,
        venue_name="Aula Kantor Bupati",
        contact="WA 0812-1111-2222",
        registration_deadline=datetime(2030, 5, 14, 17, 0),
    )
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        link = documents.share_links(loaded)["whatsapp"]
        days = [formatting.day(s.starts_at) for s in loaded.sessions[::2]]
        deadline = formatting.when(loaded.registration_deadline, loaded)
    lines = parse_qs(urlsplit(link).query)["text"][0].splitlines()
    assert lines[1:4] == [f"{d} 09.00–16.00 WITA" for d in days]
    assert f"Pendaftaran ditutup {deadline}" in lines
    assert deadline == "Selasa, 14 Mei 2030 17.00 WITA"
    assert "Info: WA 0812-1111-2222" in lines
    assert lines[-1] == f"Daftar di sini: http://localhost/e/{event.code}"


def test_share_text_of_a_long_event_gives_its_date_range(app, make_event):
    """Beyond four days the text gives the first and the last day, not one line per day."""
    event = make_event(days=6)
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        text = documents.share_text(loaded)
        first, last = (
            formatting.day(loaded.sessions[0].starts_at),
            formatting.day(loaded.sessions[-1].starts_at),
        )
    assert text.splitlines()[1] == f"{first} – {last}"


def _poster_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


def test_poster_shows_the_deadline_and_the_contact(client, make_user, login, make_event):
    """The poster says until when one may register and whom to ask, on its one A4 page."""
    event = make_event(
        contact="humas@ppu.example · WA 0812-1111-2222",
        registration_deadline=datetime(2030, 5, 14, 17, 0),
    )
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    text = _poster_text(client.get(f"/kegiatan/{event.id}/poster.pdf").data)
    assert "Pendaftaran ditutup Selasa, 14 Mei 2030 17.00 WITA" in text
    assert "Info: humas@ppu.example · WA 0812-1111-2222" in text


@pytest.mark.parametrize("days", [3, 5])
def test_poster_with_every_text_at_its_longest_stays_one_page(
    client, make_user, login, make_event, days
):
    """The longest title, venue, organiser and contact with a deadline still fit one A4 page."""
    event = make_event(
        days=days,
        title=("Bimbingan Teknis Pengelolaan Informasi " * 6)[:200],
        venue_name="Gedung Serbaguna " * 11,
        venue_address="Jl. Propinsi Km 9 " * 16,
        organiser="Dinas Komunikasi dan Informatika " * 6,
        contact=("humas@diskominfo.example WA 0812-1111-2222 " * 5)[:200],
        registration_deadline=datetime(2030, 5, 14, 17, 0),
    )
    login(make_user(Role.ADMIN))
    text = _poster_text(client.get(f"/kegiatan/{event.id}/poster.pdf").data)
    assert f"localhost/e/{event.code}" in text
    assert "Pendaftaran ditutup" in text and "Info: humas@diskominfo.example" in text


# --- item 11: cancelled events leave "Akan datang" --------------------------------------------------


def _titles(html: str) -> list[str]:
    return re.findall(r"<strong>([^<]+)</strong></a> <span", html)


def test_cancelled_events_have_their_own_tab_not_akan_datang(client, operator, make_event):
    """A cancelled coming event is not under "Akan datang" nor "Sudah lewat", but under
    "Dibatalkan", with the reason it was called off."""
    make_event(title="Besok jadi")
    make_event(
        title="Batal karena banjir",
        status=EventStatus.DIBATALKAN,
        cancel_reason="Aula dipakai untuk pengungsi.",
    )
    coming = html_of(client.get("/kegiatan/"))
    assert _titles(coming) == ["Besok jadi"]
    assert 'href="/kegiatan/?waktu=batal"' in coming
    assert "Batal karena banjir" not in html_of(client.get("/kegiatan/?waktu=lampau"))
    cancelled = html_of(client.get("/kegiatan/?waktu=batal"))
    assert _titles(cancelled) == ["Batal karena banjir"]
    assert 'aria-current="page">Dibatalkan' in cancelled
    assert "Alasan: Aula dipakai untuk pengungsi." in cancelled


def test_a_finished_event_is_never_under_akan_datang(app, client, operator, make_event):
    """An event marked finished early (its dates still ahead) is listed under "Sudah lewat"."""
    make_event(title="Sudah selesai", status=EventStatus.SELESAI)
    assert _titles(html_of(client.get("/kegiatan/"))) == []
    assert _titles(html_of(client.get("/kegiatan/?waktu=lampau"))) == ["Sudah selesai"]


def test_pengurus_invitations_leave_out_cancelled_events(
    app, client, make_user, login, make_kim, make_event
):
    """A KIM's pengurus is not asked to name delegates for an event that was cancelled."""
    kim = make_kim()
    kept = make_event(title="Tetap jalan")
    called_off = make_event(title="Dibatalkan panitia", status=EventStatus.DIBATALKAN)
    with app.app_context():
        for event in (kept, called_off):
            db.session.add(Invitation(event_id=event.id, kim_id=kim.id, quota=2))
        db.session.commit()
    login(make_user(Role.PENGURUS_KIM, kim.village_code, kim_id=kim.id))
    html = html_of(client.get("/kegiatan/"))
    invitations = html.split('id="undangan"', 1)[1].split("</section>", 1)[0]
    assert "Tetap jalan" in invitations and "Dibatalkan panitia" not in invitations
