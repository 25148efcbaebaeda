"""Notices: the list and its unread count, the WhatsApp hand-offs of every message kind, the
outbox marked sent, and emails that arrive at a real SMTP server from a real huey worker."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import unquote

import phonenumbers
import pytest
import sqlalchemy as sa

from kim_app.auth.models import Role, User
from kim_app.events.models import Event, EventStatus, Registration
from kim_app.events.operations import local_now
from kim_app.extensions import db
from kim_app.groups.models import KimStatus, Member, Position
from kim_app.notices.models import Notice, NoticeKind
from kim_app.phones import MAX_HANDOFF_TEXT
from tests.budget import FRAGMENT_BUDGET, PAGE_BUDGET, counted_queries, gzip_size, page_weight
from tests.conftest import MAJALENGKA_VILLAGE, PPU, PPU_VILLAGE, html_of
from tests.helpers import event_form

WEIGHED = {"notices.index", "notices.show", "notices.outbox"}
HANDOFF = re.compile(r'href="(https://wa\.me/[^"]*)"')


def _notices(app, **where) -> list[Notice]:
    with app.app_context():
        query = sa.select(Notice).filter_by(**where).order_by(Notice.id)
        return list(db.session.scalars(query))


def _badge(html: str) -> str | None:
    match = re.search(r'href="/pesan">Pesan(?: <span class="badge">(\d+))?', html)
    assert match, "no Pesan link in the navigation"
    return match.group(1)


def _check_handoff(link: str) -> str:
    """A wa.me link to a valid Indonesian mobile number as 62…, with a text under 1,000
    characters; the text is returned."""
    match = re.fullmatch(r"https://wa\.me/(62\d{8,13})\?text=([^\s\"&]+)", link)
    assert match, link
    number = phonenumbers.parse("+" + match.group(1))
    assert phonenumbers.is_valid_number(number) and number.country_code == 62
    text = unquote(match.group(2))
    assert 0 < len(text) < MAX_HANDOFF_TEXT
    return text


def _outbox_links(client, **args) -> list[str]:
    """Every hand-off on every page of the outbox."""
    links, page = [], 1
    while True:
        html = html_of(client.get("/pesan/kirim", query_string={**args, "halaman": page}))
        links += HANDOFF.findall(html)
        if f"halaman={page + 1}" not in html:
            return links
        page += 1


@pytest.fixture
def people(make_user, make_kim):
    """An operator of PPU, a KIM waiting for verification in Sebakung Jaya, its village head
    and one pengurus account."""
    kim = make_kim(status=KimStatus.DIAJUKAN)
    return {
        "operator": make_user(Role.OPERATOR_KABKOTA, PPU),
        "head": make_user(Role.KEPALA_DESA, PPU_VILLAGE),
        "pengurus": make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id),
        "kim": kim,
    }


def _set_status(client, kim_id: int, to: str, note: str = ""):
    return client.submit(
        f"/kim/{kim_id}/status", {"to": to, "note": note}, form_page=f"/kim/{kim_id}"
    )


def test_verification_reaches_the_village_head_pengurus_and_ketua(app, client, login, people):
    """Verifying a KIM puts a notice in the head's and the pengurus's lists (badge 1), and a
    hand-off to the ketua's WhatsApp in the operator's outbox; opening a notice marks it read."""
    kim = people["kim"]
    login(people["operator"])
    assert _set_status(client, kim.id, "terverifikasi").status_code == 303
    for who in ("head", "pengurus"):
        [notice] = _notices(app, user_id=people[who].id)
        assert notice.kind is NoticeKind.KIM_TERVERIFIKASI and notice.phone is None
        assert notice.subject == f"{kim.name} terverifikasi"
    login(people["head"])
    assert _badge(html_of(client.get("/"))) == "1"
    listing = html_of(client.get("/pesan"))
    [notice] = _notices(app, user_id=people["head"].id)
    assert f'href="/pesan/{notice.id}"><span class="tag">baru</span> {kim.name} terverifikasi' in (
        listing
    )
    opened = html_of(client.get(f"/pesan/{notice.id}"))
    with app.app_context():
        number = db.session.scalar(sa.select(Notice.text).where(Notice.id == notice.id))
    assert "nomor registrasi KIM-64.09-" in number and "kini aktif" in opened
    assert f'href="http://localhost/kim/{kim.id}"' in opened
    assert _badge(html_of(client.get("/"))) is None
    assert _notices(app, user_id=people["head"].id)[0].read_at is not None
    # the pengurus's copy is still unread, and nobody else may open the head's
    login(people["pengurus"])
    assert _badge(html_of(client.get("/pesan"))) == "1"
    assert client.get(f"/pesan/{notice.id}").status_code == 404
    # the ketua has no account: the operator sends it by WhatsApp
    login(people["operator"])
    [link] = _outbox_links(client)
    text = _check_handoff(link)
    with app.app_context():
        ketua = db.session.scalar(
            sa.select(Member).where(Member.kim_id == kim.id, Member.position == Position.KETUA)
        )
    assert link.startswith(f"https://wa.me/{ketua.phone[1:]}?")
    assert text.startswith(f"Yth. {ketua.name},") and "telah diverifikasi" in text


def test_returned_and_rejected_carry_the_operators_note(app, client, login, people, make_kim):
    """Returned for fixes and rejected: the notes reach the village head as written."""
    login(people["operator"])
    assert _set_status(client, people["kim"].id, "perlu_perbaikan", "SK belum ditandatangani.")
    other = make_kim(status=KimStatus.DIAJUKAN)
    _set_status(client, other.id, "ditolak", "Sudah ada KIM aktif di desa ini.")
    kinds = {n.kind: n for n in _notices(app, user_id=people["head"].id)}
    returned = kinds[NoticeKind.KIM_PERLU_PERBAIKAN]
    assert "Catatan: SK belum ditandatangani." in returned.text
    assert returned.subject == f"{people['kim'].name} perlu perbaikan"
    assert "Alasan: Sudah ada KIM aktif di desa ini." in kinds[NoticeKind.KIM_DITOLAK].text
    # each ketua gets the same by WhatsApp, the note included
    texts = [_check_handoff(link) for link in _outbox_links(client)]
    assert len(texts) == 2
    assert any("Catatan: SK belum ditandatangani." in t for t in texts)
    assert any("Alasan: Sudah ada KIM aktif di desa ini." in t for t in texts)
    login(people["head"])
    assert _badge(html_of(client.get("/"))) == "2"


def test_a_notice_is_not_made_when_the_step_fails(app, client, login, people):
    """A refused step (a return without a note) rolls back: no notice, nothing queued."""
    login(people["operator"])
    _set_status(client, people["kim"].id, "perlu_perbaikan", "")
    assert _notices(app) == []


def test_every_message_kind_has_a_valid_handoff_under_1000_characters(
    app, client, login, people, make_event, make_kim
):
    """Invitation, tickets (guest and delegates), promotion, change, cancellation, reminder and
    the verification result: each is in the outbox with a 62… number and a short enough text,
    even with the longest title and reason the forms take."""
    login(people["operator"])
    _set_status(client, people["kim"].id, "terverifikasi")
    long_title = "Pelatihan " + "Literasi Digital dan Jurnalistik Warga " * 5
    event = make_event(capacity=2, title=long_title[:200])
    _starting_in(app, event.id, 1)
    url = f"/kegiatan/{event.id}/undangan"
    invited = client.submit(
        url, {"kecamatan": ["64.09.03"], "status": "terverifikasi", "aksi": "undang", "kuota": "1"}
    )
    assert invited.status_code == 303
    guest = {"aksi": "tambah", "name": "Siti Rahma", "phone": "0812-3456-7890", "gender": "P"}
    assert client.submit(url, guest).status_code == 303
    # the pengurus names the KIM's delegate: the second seat
    login(people["pengurus"])
    with app.app_context():
        anggota = db.session.scalars(
            sa.select(Member.id).where(Member.kim_id == people["kim"].id).order_by(Member.id)
        ).all()
    delegates = f"/kegiatan/{event.id}/delegasi/{people['kim'].id}"
    assert client.submit(delegates, {"anggota": [anggota[1]]}).status_code == 303
    # a third person waits; the guest cancels and the seat passes on
    login(people["operator"])
    client.submit(url, guest | {"name": "Budi", "phone": "0812-9999-0001", "gender": "L"})
    [siti] = [r for r in _registrations(app, event.id) if r.name == "Siti Rahma"]
    cancelled = client.submit(
        f"/kegiatan/{event.id}/peserta/{siti.id}/status",
        {"status": "batal"},
        form_page=f"/kegiatan/{event.id}/peserta",
    )
    assert cancelled.status_code == 303
    assert "Pengingat" not in "".join(n.subject for n in _notices(app))
    # the reminder the day before (the event's first session is tomorrow)
    outbox = html_of(client.get("/pesan/kirim"))
    assert "Kegiatan besok" in outbox and long_title[:40] in outbox
    reminded = client.submit(f"/pesan/pengingat/{event.id}", form_page="/pesan/kirim")
    assert reminded.status_code == 303
    assert "2 pengingat disiapkan." in html_of(client.get(reminded.headers["Location"]))
    again = client.submit(f"/pesan/pengingat/{event.id}", form_page="/pesan/kirim")
    assert "0 pengingat disiapkan." in html_of(client.get(again.headers["Location"]))
    # the venue changes, then the event is cancelled with a long reason
    form = event_form(
        title=long_title[:200], capacity="2", region=PPU, venue_name="Gedung Serbaguna Babulu"
    )
    assert client.submit(f"/kegiatan/{event.id}/ubah", form).status_code == 303
    reason = "Aula dipakai untuk penanganan banjir di Kecamatan Babulu. " * 20
    cancelled = client.submit(
        f"/kegiatan/{event.id}/status",
        {"to": "dibatalkan", "reason": reason[:2000]},
        form_page=f"/kegiatan/{event.id}",
    )
    assert cancelled.status_code == 303
    kinds_with_phone = {n.kind for n in _notices(app) if n.phone}
    assert kinds_with_phone == {
        NoticeKind.KIM_TERVERIFIKASI,
        NoticeKind.UNDANGAN,
        NoticeKind.TIKET,
        NoticeKind.PROMOSI,
        NoticeKind.PENGINGAT,
        NoticeKind.KEGIATAN_BERUBAH,
        NoticeKind.KEGIATAN_BATAL,
    }
    detail = html_of(client.get(f"/kegiatan/{event.id}"))
    assert f'href="/pesan/kirim?kegiatan={event.id}"' in detail
    of_event = _outbox_links(client, kegiatan=event.id)
    assert len(of_event) == len([n for n in _notices(app) if n.phone and n.event_id == event.id])
    links = _outbox_links(client)
    assert len(links) == len([n for n in _notices(app) if n.phone])
    texts = [_check_handoff(link) for link in links]
    assert any("Gedung Serbaguna Babulu" in t for t in texts)
    assert any(t.startswith("Yth. Budi,") and "Kabar baik" in t for t in texts)
    assert all(t.endswith("— Aplikasi KIM (pesan otomatis)") or "…" in t for t in texts)
    # the invitation reached the head's and the pengurus's lists too
    assert {n.kind for n in _notices(app, user_id=people["head"].id)} >= {NoticeKind.UNDANGAN}
    # the pengurus's outbox holds only the KIM's own people
    login(people["pengurus"])
    own = [_check_handoff(link) for link in _outbox_links(client)]
    assert own and not any(t.startswith("Yth. Budi,") for t in own)


def _starting_in(app, event_id: int, days: int) -> None:
    """Move the event so its first session starts ``days`` after today in its own time zone."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        first = event.sessions[0].starts_at
        wanted = datetime.combine(local_now(event).date() + timedelta(days=days), first.time())
        shift = wanted - first
        for session in event.sessions:
            session.starts_at += shift
            session.ends_at += shift
        event.starts_on = event.sessions[0].starts_at
        db.session.commit()


def _registrations(app, event_id: int) -> list[Registration]:
    with app.app_context():
        return list(
            db.session.scalars(sa.select(Registration).where(Registration.event_id == event_id))
        )


def _prepared(app, count: int, village: str = PPU_VILLAGE) -> list[int]:
    with app.app_context():
        notices = [
            Notice(
                kind=NoticeKind.TIKET,
                name=f"Peserta {i:02d} dengan Nama Cukup Panjang",
                phone=f"+628123400{i:04d}",
                region_code=village,
                subject="Tiket: Pelatihan Literasi Digital KIM Kabupaten Penajam Paser Utara",
                text=("Yth. Peserta, tiket Anda: https://kim.example/e/abc/tiket/" + "x" * 24)
                + " Pelatihan Literasi Digital " * 30,
            )
            for i in range(count)
        ]
        db.session.add_all(notices)
        db.session.commit()
        return [n.id for n in notices]


def test_outbox_marks_each_sent_with_and_without_javascript(
    app, client, login, make_user, partial_headers
):
    """A plain form goes back to the list (303) without the sent one; htmx swaps the row for a
    "sudah dikirim" row under 2 KB. Another regency's operator gets 404."""
    first, second = _prepared(app, 2)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    plain = client.submit(f"/pesan/kirim/{first}", form_page="/pesan/kirim")
    assert plain.status_code == 303 and plain.headers["Location"] == "/pesan/kirim"
    page = html_of(client.get("/pesan/kirim"))
    assert "Ditandai terkirim: Peserta 00" in page and f'id="pesan-{first}"' not in page
    token = client.token("/pesan/kirim")
    swapped = client.post(
        f"/pesan/kirim/{second}", data={"csrf_token": token}, headers=partial_headers
    )
    fragment = html_of(swapped)
    assert swapped.status_code == 200 and "<html" not in fragment
    assert fragment.startswith(f'<li id="pesan-{second}">') and "Sudah dikirim" in fragment
    assert gzip_size(swapped.data) <= FRAGMENT_BUDGET
    sent = _notices(app)
    assert all(n.whatsapp_sent_at and n.whatsapp_sent_by_id for n in sent)
    done = html_of(client.get("/pesan/kirim?status=sudah"))
    assert f'id="pesan-{first}"' in done and f'id="pesan-{second}"' in done
    assert "wa.me" not in done
    login(make_user(Role.OPERATOR_KABKOTA, "32.10"))
    assert "Peserta 00" not in html_of(client.get("/pesan/kirim"))
    assert client.submit(f"/pesan/kirim/{first}", form_page="/pesan/kirim").status_code == 404


def test_outbox_and_list_fit_the_budgets_in_constant_queries(app, client, login, make_user):
    """A full outbox page (20 long hand-offs) fits 14 KB; the outbox and the list run the same
    number of statements for 3 notices as for 40; the badge is one COUNT."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(operator)
    _prepared(app, 3)
    counts = []
    for more in (0, 37):
        _prepared(app, more) if more else None
        with counted_queries(app) as statements:
            response = client.get("/pesan/kirim")
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert page_weight(response) <= PAGE_BUDGET
    assert len(HANDOFF.findall(html_of(response))) == 20
    with counted_queries(app) as statements:
        client.get("/pesan")
    unread = [s for s in statements if "FROM notices" in s and "read_at IS NULL" in s]
    assert len(unread) == 1 and "count(" in unread[0].lower()
    # the list with a full page of long notices, and one notice opened
    with app.app_context():
        notices = [
            Notice(
                kind=NoticeKind.KEGIATAN_BATAL,
                user_id=operator.id,
                name=operator.name,
                region_code=PPU,
                subject=("Dibatalkan: Pelatihan Literasi Digital KIM " * 6)[:200],
                text="Yth. Bapak/Ibu, " + "Aula dipakai untuk penanganan banjir. " * 25,
                link="http://localhost/kegiatan/1",
            )
            for _ in range(25)
        ]
        db.session.add_all(notices)
        db.session.commit()
        last = notices[-1].id
    listing = client.get("/pesan")
    assert listing.status_code == 200 and page_weight(listing) <= PAGE_BUDGET
    opened = client.get(f"/pesan/{last}")
    assert opened.status_code == 200 and page_weight(opened) <= PAGE_BUDGET


def test_the_list_in_english(app, client, login, make_user):
    """The notice pages speak English to who chose it; the messages stay in Indonesian."""
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    login(head)
    client.submit("/bahasa", {"lang": "en", "next": "/pesan"}, form_page="/pesan")
    with app.app_context():
        db.session.add(
            Notice(
                kind=NoticeKind.KIM_DITOLAK,
                user_id=head.id,
                name=head.name,
                region_code=PPU_VILLAGE,
                subject="Pendaftaran KIM Uji ditolak",
                text="Yth. Bapak/Ibu, ...",
            )
        )
        db.session.commit()
    page = html_of(client.get("/pesan"))
    assert "<h1>Messages</h1>" in page and "KIM rejected" in page and ">new</span>" in page
    assert "Pendaftaran KIM Uji ditolak" in page


def test_petugas_and_other_places_see_no_outbox(app, client, login, make_user, make_kim):
    """A hand-off of Majalengka is not in PPU's outbox; a petugas absensi has none."""
    _prepared(app, 1, village=MAJALENGKA_VILLAGE)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    assert "wa.me" not in html_of(client.get("/pesan/kirim"))
    login(make_user(Role.PETUGAS_ABSENSI, PPU))
    assert client.get("/pesan/kirim").status_code == 403


def test_reminders_are_only_offered_for_tomorrow(app, client, login, make_user, make_event):
    """Tomorrow in the event's own zone (WITA for PPU) is offered; today and in three days not."""
    _starting_in(app, make_event(title="Pelatihan Besok").id, 1)
    _starting_in(app, make_event(title="Pelatihan Nanti").id, 3)
    _starting_in(app, make_event(title="Pelatihan Hari Ini").id, 0)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    page = html_of(client.get("/pesan/kirim"))
    assert "Pelatihan Besok" in page
    assert "Pelatihan Nanti" not in page and "Pelatihan Hari Ini" not in page


def test_erasing_a_person_deletes_their_prepared_messages(
    app, client, login, make_user, make_event
):
    """UU 27/2022: erasing a participant also deletes the hand-offs prepared for their number."""
    from kim_app.reports.privacy.operations import erase_person

    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(operator)
    event = make_event()
    guest = {"aksi": "tambah", "name": "Siti Rahma", "phone": "0812-3456-7890", "gender": "P"}
    assert client.submit(f"/kegiatan/{event.id}/undangan", guest).status_code == 303
    [notice] = _notices(app, phone="+6281234567890")
    assert notice.kind is NoticeKind.TIKET and "Yth. Siti Rahma," in notice.text
    with app.test_request_context():
        [registration] = db.session.scalars(
            sa.select(Registration).where(Registration.event_id == event.id)
        ).all()
        erase_person(registration, db.session.get(User, operator.id))
        db.session.commit()
    assert _notices(app, phone="+6281234567890") == []


def test_imported_participants_get_their_ticket_handoffs(app, client, login, make_user, make_event):
    """A file of participants imported by the operator: each gets a ticket hand-off, the waiting
    one told so, all in the outbox with valid numbers."""
    from tests.helpers import (
        PARTICIPANT_HEADER,
        confirm_import,
        csv_bytes,
        participants_import_token,
        upload_participants,
    )

    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    event = make_event(capacity=2)
    rows = [[i + 1, f"Peserta {i}", f"0821-2000-00{i:02d}", "PKK", "", "P", ""] for i in range(3)]
    response = upload_participants(
        client, event.id, csv_bytes(PARTICIPANT_HEADER, rows), "peserta.csv"
    )
    url = f"/kegiatan/{event.id}/peserta/impor/{participants_import_token(response, event.id)}"
    assert confirm_import(client, url).status_code == 303
    texts = [_check_handoff(link) for link in _outbox_links(client)]
    assert len(texts) == 3 and all("/tiket/" in t for t in texts)
    assert sum("daftar tunggu" in t for t in texts) == 1


def test_invitations_to_a_draft_go_out_when_it_is_published(app, client, login, people, make_event):
    """Invited while a draft (which the village could not open): nothing yet; publishing sends
    each invitation once, and publishing again after a step back to draft sends none twice."""
    login(people["operator"])
    _set_status(client, people["kim"].id, "terverifikasi")
    before = len(_notices(app))
    event = make_event(status=EventStatus.DRAFT)
    invited = client.submit(
        f"/kegiatan/{event.id}/undangan",
        {"kecamatan": ["64.09.03"], "status": "terverifikasi", "aksi": "undang", "kuota": "3"},
    )
    assert invited.status_code == 303 and len(_notices(app)) == before

    def step(to: str):
        return client.submit(
            f"/kegiatan/{event.id}/status", {"to": to}, form_page=f"/kegiatan/{event.id}"
        )

    assert step("terbit").status_code == 303
    invitations = [n for n in _notices(app) if n.kind is NoticeKind.UNDANGAN]
    # the head's and the pengurus's accounts, and the ketua by WhatsApp
    assert len(invitations) == 3 and all("Kuota: 3 orang." in n.text for n in invitations)
    assert step("draft").status_code == 303 and step("terbit").status_code == 303
    assert len([n for n in _notices(app) if n.kind is NoticeKind.UNDANGAN]) == 3


def test_nobody_is_asked_to_whatsapp_themselves(app, client, login, make_user, make_kim):
    """A pengurus whose account has a WhatsApp number finds the verification in their own
    notices; their outbox holds only the hand-offs to others (the village head's number), not
    one to their own number, while the operator's holds both."""
    kim = make_kim(status=KimStatus.DIAJUKAN)
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    make_user(Role.KEPALA_DESA, PPU_VILLAGE, phone="+6281200001111")
    pengurus = make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id, phone="+6281200002222")
    login(operator)
    assert _set_status(client, kim.id, "terverifikasi").status_code == 303
    assert {"6281200001111", "6281200002222"} <= {
        link.split("/")[3].split("?")[0] for link in _outbox_links(client)
    }
    login(pengurus)
    [own] = _notices(app, user_id=pengurus.id)
    assert own.phone == "+6281200002222"
    numbers = {link.split("/")[3].split("?")[0] for link in _outbox_links(client)}
    assert "6281200002222" not in numbers and "6281200001111" in numbers
