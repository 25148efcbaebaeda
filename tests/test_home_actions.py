"""'Perlu tindakan Anda' on the home page: what waits for each role, each with its link, in a
fixed number of statements."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from kim_app.auth.models import Role
from kim_app.events.models import Event, EventSession, Invitation, Source
from kim_app.events.operations import PersonData, local_now, register_person
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimStatus
from kim_app.groups.operations import change_status
from tests.budget import counted_queries
from tests.conftest import PPU, PPU_VILLAGE, html_of


def _invite(app, event_id: int, kim_id: int, quota: int = 2) -> None:
    with app.app_context():
        db.session.add(Invitation(event_id=event_id, kim_id=kim_id, quota=quota))
        db.session.commit()


def _start_now(app, event_id: int) -> None:
    """The event's first session runs now (local time of the event)."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        first: EventSession = event.sessions[0]
        now = local_now(event)
        first.starts_at, first.ends_at = now - timedelta(minutes=30), now + timedelta(hours=2)
        event.starts_on = first.starts_at
        db.session.commit()


def test_village_head_sees_the_invitation_and_the_returned_kim(
    app, client, make_user, make_kim, make_event, login
):
    """An invitation still short of delegates links to naming them; a KIM returned for fixes
    shows the operator's note and links to the form; the week's event of the KIM is listed."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    kim = make_kim(PPU_VILLAGE, name="KIM Sebakung Maju")
    returned = make_kim(PPU_VILLAGE, status=KimStatus.DIAJUKAN, name="KIM Kedua")
    event = make_event(title="Bimtek Literasi Digital")
    _invite(app, event.id, kim.id, quota=3)
    with app.test_request_context():
        change_status(
            db.session.get(Kim, returned.id),
            KimStatus.PERLU_PERBAIKAN,
            db.session.get(type(operator), operator.id),
            "SK belum ditandatangani",
        )
        loaded = db.session.get(Event, event.id)
        register_person(loaded, PersonData("Siti", "081234567111"), Source.UNDANGAN, kim_id=kim.id)
        db.session.commit()
    login(head)
    page = html_of(client.get("/"))
    assert "Perlu tindakan Anda" in page
    assert "Undangan untuk KIM Sebakung Maju: Bimtek Literasi Digital" in page
    assert "1 dari 3 delegasi sudah ditunjuk" in page
    assert f'href="/kegiatan/{event.id}/delegasi/{kim.id}"' in page
    assert "KIM Kedua dikembalikan Diskominfo untuk diperbaiki." in page
    assert "Catatan: SK belum ditandatangani" in page
    assert f'href="/kim/{returned.id}/ubah"' in page
    assert "1 orang dari KIM Anda" in page


def test_pengurus_sees_only_its_own_kim_invitations(
    app, client, make_user, make_kim, make_event, login
):
    """A pengurus sees its KIM's invitation, not the other KIM's of the same village; once the
    quota is filled the invitation leaves the list."""
    mine = make_kim(PPU_VILLAGE, name="KIM Milik")
    other = make_kim(PPU_VILLAGE, name="KIM Tetangga")
    event = make_event(title="Forum Kemitraan")
    _invite(app, event.id, mine.id, quota=1)
    _invite(app, event.id, other.id)
    login(make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=mine.id))
    page = html_of(client.get("/"))
    assert "Undangan untuk KIM Milik" in page and "KIM Tetangga" not in page
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        register_person(loaded, PersonData("Ani", "081234567222"), Source.UNDANGAN, kim_id=mine.id)
        db.session.commit()
    assert "Undangan untuk KIM Milik" not in html_of(client.get("/"))


def test_operator_sees_today_events_with_the_attendance_tools_and_the_queue(
    app, client, make_user, make_kim, make_event, login
):
    """Today's running event offers roll call, scan and PIN screen; the verification queue and
    a registration closing tomorrow are listed; another regency's event is not."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    make_kim(PPU_VILLAGE, status=KimStatus.DIAJUKAN)
    today = make_event(title="Pelatihan Hari Ini")
    _start_now(app, today.id)
    closing = make_event(title="Sosialisasi Segera Tutup", days=3)
    elsewhere = make_event(region="32.10", title="Kegiatan Majalengka")
    _start_now(app, elsewhere.id)
    with app.app_context():
        event = db.session.get(Event, closing.id)
        event.registration_deadline = local_now(event) + timedelta(days=1)
        db.session.commit()
    login(operator)
    page = html_of(client.get("/"))
    assert "1 KIM menunggu verifikasi" in page
    assert "Pelatihan Hari Ini" in page and f'href="/absensi/kegiatan/{today.id}"' in page
    assert f'href="/absensi/kegiatan/{today.id}/pindai"' in page
    assert f'href="/absensi/kegiatan/{today.id}/pengaturan"' in page
    assert "Pendaftaran segera ditutup" in page and "Sosialisasi Segera Tutup" in page
    assert "Kegiatan Majalengka" not in page


def test_nothing_waiting_says_so(client, make_user, make_kim, login):
    """A village head whose KIM is verified and has nothing to do reads that nothing waits."""
    make_kim(PPU_VILLAGE)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    assert "Tidak ada yang menunggu Anda saat ini." in html_of(client.get("/"))


def test_village_head_without_a_kim_is_asked_to_register_one(client, make_user, login):
    """A village with no KIM: the home page asks its head to register one, with the link."""
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    actions = html_of(client.get("/")).split('id="tindakan"')[1].split("</section>")[0]
    assert "Desa Anda belum punya KIM terdaftar." in actions and 'href="/kim/baru"' in actions


def test_home_statements_do_not_grow_with_the_data(
    app, client, make_user, make_kim, make_event, login
):
    """One invitation or six, one event today or five: the same number of statements."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    kim = make_kim(PPU_VILLAGE)

    def counts() -> tuple[int, int]:
        result = []
        for user in (head, operator):
            login(user)
            with counted_queries(app) as statements:
                assert client.get("/").status_code == 200
            result.append(len(statements))
        return tuple(result)

    event = make_event()
    _invite(app, event.id, kim.id)
    _start_now(app, event.id)
    before = counts()
    for _ in range(5):
        more = make_event()
        _invite(app, more.id, kim.id)
        _start_now(app, more.id)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 6
    assert counts() == before


def test_event_page_tells_a_village_head_that_the_kim_is_invited(
    app, client, make_user, make_kim, make_event, login
):
    """The event page shows the village's invited KIM with its quota and the delegates link;
    a village whose KIM is not invited sees no such block."""
    kim = make_kim(PPU_VILLAGE, name="KIM Sebakung Maju")
    event = make_event(title="Bimtek")
    _invite(app, event.id, kim.id, quota=4)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    page = html_of(client.get(f"/kegiatan/{event.id}"))
    assert "KIM Anda diundang" in page and "KIM Sebakung Maju boleh mengirim 4 orang." in page
    assert f'href="/kegiatan/{event.id}/delegasi/{kim.id}"' in page
    login(make_user(Role.KEPALA_DESA, "64.09.01.2020"))
    assert "KIM Anda diundang" not in html_of(client.get(f"/kegiatan/{event.id}"))
