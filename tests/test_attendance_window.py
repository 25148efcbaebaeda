"""Issue 22, items 1, 2, 4 and 5: the roll call tells the truth about signatures; one attendance
window for the roll call, the ticket scan and self check-in, with the real reason for every
refusal and late marks by operators recorded as corrections; a tap without JavaScript returns to
its row and says whose mark was saved; session tabs with day and time, a "belum ditandai" filter,
the walk-in form above the list."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from kim_app.attendance.models import Attendance, AttendanceMark, Presence
from kim_app.attendance.operations import to_local
from kim_app.audit import AuditEntry
from kim_app.events.models import Event, EventSession, Registration
from kim_app.events.operations import local_now
from kim_app.extensions import db
from kim_app.formatting import clock, day
from tests.conftest import html_of
from tests.scenes import first_session, people

ROW = re.compile(r'<li id="baris-(\d+)" data-status="(\w+)"><a [^>]+>([^<]+)</a>')
SIGNATURE = "M10 50L40 20L80 60L120 30L160 70"


def place_session(app, session_id: int, starts_in: timedelta, hours: int = 2) -> datetime:
    """Move a session to start ``starts_in`` from now (local time), ``hours`` long, with self
    check-in opening an hour ahead; returns the new start."""
    with app.app_context():
        session = db.session.get(EventSession, session_id)
        session.event.checkin_opens_minutes = 60
        start = local_now(session.event).replace(second=0, microsecond=0) + starts_in
        session.starts_at, session.ends_at = start, start + timedelta(hours=hours)
        db.session.commit()
        return start


@pytest.fixture
def hall(app, client, operator, make_event):
    """A published event with 5 people; its first session under way; a tap function."""
    event = make_event()
    ids = people(app, event.id, 5)
    session_id = first_session(app, event.id)
    place_session(app, session_id, timedelta(minutes=-30))
    url = f"/absensi/sesi/{session_id}"
    token = client.token(url)

    def tap(rid, status, headers=None, query="", client_id=None):
        data = {"csrf_token": token, "registration": rid, "status": status}
        if client_id:
            data |= {"client_id": client_id, "marked_at": str(int(time.time() * 1000))}
        return client.post(f"{url}/tandai{query}", data=data, headers=headers or {})

    return {"event": event, "ids": ids, "session": session_id, "url": url, "tap": tap}


def standing(app, session_id: int) -> dict[int, tuple[Presence, str]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Attendance.registration_id, Attendance.status, Attendance.method).where(
                Attendance.session_id == session_id
            )
        ).all()
        return {rid: (status, method.value) for rid, status, method in rows}


# --- item 1: the signature mark ----------------------------------------------------------------------


def test_a_tapped_row_shows_no_signature_nobody_made(app, client, hall, partial_headers):
    """Item 1: the answer of a tap (hadir, then izin, then an undo) never shows ✍ "Sudah tanda
    tangan" for a person who did not sign, and the list after a reload agrees."""
    rid = hall["ids"][0]
    for n, status in enumerate(("hadir", "izin", "belum", "hadir")):
        html = html_of(hall["tap"](rid, status, partial_headers, client_id=f"sig-tap-{n:04d}"))
        assert ROW.findall(html)[0][:2] == (str(rid), status)
        assert "✍" not in html and "Sudah tanda tangan" not in html
    assert "✍" not in html_of(hall["tap"](rid, "hadir", partial_headers))  # plain, no client id
    assert "✍" not in html_of(client.get(hall["url"]))


def test_a_tapped_row_keeps_a_real_signature(app, client, hall, partial_headers):
    """Item 1: a person who did sign keeps the mark through later taps (true state both ways)."""
    rid, other = hall["ids"][1], hall["ids"][2]
    hall["tap"](rid, "hadir", partial_headers, client_id="sig-keep-0001")
    with app.app_context():
        db.session.execute(
            sa.update(Attendance)
            .where(Attendance.registration_id == rid)
            .values(signature=SIGNATURE)
        )
        db.session.commit()
    for n, status in enumerate(("izin", "hadir")):
        html = html_of(hall["tap"](rid, status, partial_headers, client_id=f"sig-keep-1{n:03d}"))
        assert ROW.findall(html)[0][:2] == (str(rid), status) and "✍" in html
    untouched = html_of(hall["tap"](other, "hadir", partial_headers, client_id="sig-keep-2000"))
    assert "✍" not in untouched
    page = html_of(client.get(hall["url"]))
    rows = {
        m.group(1): m.group(0) for m in re.finditer(r'<li id="baris-(\d+)".*?</li>', page, re.S)
    }
    assert "✍" in rows[str(rid)] and "✍" not in rows[str(other)]


# --- item 2: one window, real reasons, corrections -----------------------------------------------


def _scan(client, session_id: int, code: str, headers: dict) -> str:
    url = f"/absensi/sesi/{session_id}/pindai"
    data = {"kode": code, "csrf_token": client.token(url)}
    return html_of(client.post(url, data=data, headers=headers))


def _verdict(html: str) -> str:
    match = re.search(r'<p class="vonis-teks"><span[^>]*>[^<]*</span> ([^<]+)</p>', html)
    assert match, html[:1500]
    return match.group(1).strip()


def _codes(app, ids: list[int]) -> dict[int, str]:
    with app.app_context():
        return dict(
            db.session.execute(
                sa.select(Registration.id, Registration.checkin_code).where(
                    Registration.id.in_(ids)
                )
            ).all()
        )


def test_before_the_window_roll_call_and_scan_both_refuse_with_the_opening_time(
    app, client, hall, partial_headers
):
    """Item 2: ten days ahead the roll call takes no hadir (it used to), and says the same as
    the scan: "Sesi belum dibuka — mulai <day> <time> WITA" (the time alone on the day itself);
    the page shows it and offers no taps. Nothing is written."""
    rid = hall["ids"][0]
    start = place_session(app, hall["session"], timedelta(days=10))
    opens = start - timedelta(hours=1)
    expected = f"Sesi belum dibuka — mulai {day(opens)} {clock(opens)} WITA"
    tapped = hall["tap"](rid, "hadir", partial_headers, client_id="early-00001")
    assert tapped.status_code == 422 and expected in html_of(tapped)
    plain = hall["tap"](rid, "izin")
    assert plain.status_code == 422 and expected in html_of(plain)
    assert _verdict(_scan(client, hall["session"], _codes(app, [rid])[rid], partial_headers)) == (
        expected
    )
    page = html_of(client.get(hall["url"]))
    assert expected in page and "<form data-queue" not in page
    assert standing(app, hall["session"]) == {}

    start = place_session(app, hall["session"], timedelta(minutes=90))
    opens = start - timedelta(hours=1)
    # the time alone when it opens today; late in the evening it opens tomorrow, named so
    now = start - timedelta(minutes=90)
    when = clock(opens) if opens.date() == now.date() else f"{day(opens)} {clock(opens)}"
    today = f"Sesi belum dibuka — mulai {when} WITA"
    assert today in html_of(hall["tap"](rid, "hadir", partial_headers))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceMark)) == 0


def test_inside_the_window_every_way_takes_the_mark(app, client, hall, partial_headers):
    """Item 2: from an hour before the start the roll call and the scan both take marks, as
    what they are (roll call, QR)."""
    a, b = hall["ids"][:2]
    place_session(app, hall["session"], timedelta(minutes=40))  # opened 20 minutes ago
    assert hall["tap"](a, "hadir", partial_headers, client_id="open-000001").status_code == 200
    verdict = _verdict(_scan(client, hall["session"], _codes(app, [b])[b], partial_headers))
    assert verdict == "Hadir tercatat"
    assert standing(app, hall["session"]) == {
        a: (Presence.HADIR, "roll_call"),
        b: (Presence.HADIR, "qr"),
    }


def test_after_the_window_the_scan_refuses_and_the_operator_corrects(
    app, client, hall, partial_headers
):
    """Item 2: once the session has ended the scan says "Sesi sudah ditutup pukul …" and writes
    nothing, while the operator's roll call still marks — recorded as a correction in the
    attendance row, the mark's history, the audit log and the person's page; the roll call
    says marks are now corrections."""
    a, b = hall["ids"][:2]
    start = place_session(app, hall["session"], timedelta(hours=-3))
    closes = start + timedelta(hours=2)
    html = _scan(client, hall["session"], _codes(app, [b])[b], partial_headers)
    assert _verdict(html) == f"Sesi sudah ditutup pukul {clock(closes)} WITA."
    page = html_of(client.get(hall["url"]))
    assert "Tanda yang dibuat sekarang dicatat sebagai koreksi." in page
    assert "<form data-queue" in page
    assert hall["tap"](a, "izin", partial_headers, client_id="late-000001").status_code == 200
    assert standing(app, hall["session"]) == {a: (Presence.IZIN, "correction")}
    with app.app_context():
        mark = db.session.scalars(sa.select(AttendanceMark)).one()
        assert mark.method.value == "correction"
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "attendance.mark")
        ).one()
        assert entry.changes["method"] == "correction"
    person = html_of(client.get(f"{hall['url']}/peserta/{a}"))
    assert "Koreksi operator" in person


def test_a_person_already_present_is_told_when_even_after_the_window(
    app, client, hall, partial_headers
):
    """Item 2: scanning someone already marked says "Sudah tercatat hadir pukul …", also once
    the session has closed (it used to say "Bukan sesi ini")."""
    rid = hall["ids"][0]
    code = _codes(app, [rid])[rid]
    assert _verdict(_scan(client, hall["session"], code, partial_headers)) == "Hadir tercatat"
    with app.app_context():
        marked = db.session.scalar(sa.select(Attendance.marked_at))
        event = db.session.get(Event, hall["event"].id)
        at = clock(to_local(event, marked))
    place_session(app, hall["session"], timedelta(hours=-5))
    assert _verdict(_scan(client, hall["session"], code, partial_headers)) == (
        f"Sudah tercatat hadir pukul {at} WITA"
    )


def test_a_ticket_of_another_event_says_so(app, client, hall, make_event, partial_headers):
    """Item 2: a ticket of another event is "Tiket untuk kegiatan lain" at the scan (not
    "Tidak terdaftar") and at self check-in, and marks nothing."""
    other = make_event(title="Bimtek Konten Positif")
    [stranger] = people(app, other.id, 1, 60)
    code = _codes(app, [stranger])[stranger]
    html = _scan(client, hall["session"], code, partial_headers)
    assert _verdict(html) == "Tiket untuk kegiatan lain" and "Bimtek Konten Positif" in html
    with app.app_context():
        event_code = db.session.get(Event, hall["event"].id).code
    url = f"/e/{event_code}/hadir"
    response = client.post(url, data={"csrf_token": client.token(url), "who": code})
    assert response.status_code == 422 and "Tiket untuk kegiatan lain" in html_of(response)
    assert standing(app, hall["session"]) == {}


def test_walk_ins_follow_the_window(app, client, hall):
    """Item 2: a walk-in before the window is refused with the opening time; after it, the
    walk-in is added and recorded as a correction."""
    url = f"{hall['url']}/datang-langsung"
    start = place_session(app, hall["session"], timedelta(days=3))
    early = client.post(
        url,
        data={
            "csrf_token": client.token(hall["url"]),
            "name": "Tamu Pagi",
            "client_id": "dl-early-0001",
        },
    )
    opens = start - timedelta(hours=1)
    assert early.status_code == 422
    assert f"Sesi belum dibuka — mulai {day(opens)} {clock(opens)} WITA" in html_of(early)
    place_session(app, hall["session"], timedelta(hours=-4))
    late = client.post(
        url,
        data={
            "csrf_token": client.token(hall["url"]),
            "name": "Tamu Sore",
            "client_id": "dl-late-00001",
        },
    )
    assert late.status_code == 303
    assert [v for v in standing(app, hall["session"]).values()] == [(Presence.HADIR, "correction")]


# --- item 4: no JavaScript, back to the row ---------------------------------------------------------


def test_a_plain_tap_returns_to_its_row_and_says_whose_mark_was_saved(app, client, hall):
    """Item 4: without JavaScript a tap is answered with 303 to the list at the person's row
    (``#baris-<id>``, search kept), and the page says whose mark was saved, once."""
    rid = hall["ids"][3]
    response = hall["tap"](rid, "hadir", query="?q=Peserta")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{hall['url']}?q=Peserta#baris-{rid}"
    page = html_of(client.get(response.headers["Location"]))
    assert 'class="flash success tersimpan" role="status">Peserta 003: Hadir tersimpan.' in page
    assert f'id="baris-{rid}"' in page
    assert "Peserta 003: Hadir tersimpan." not in html_of(client.get(hall["url"]))  # once
    undo = hall["tap"](rid, "belum")
    assert undo.headers["Location"].endswith(f"#baris-{rid}")
    assert "Tanda Peserta 003 dibatalkan." in html_of(client.get(undo.headers["Location"]))


def test_a_plain_tap_in_the_unmarked_list_returns_to_the_next_person(app, client, hall):
    """Item 4: in the "belum ditandai" list the person just marked leaves it; the answer goes to
    the next person still unmarked, and names whose mark was saved."""
    a, b, c = hall["ids"][:3]
    hall["tap"](b, "hadir")
    response = hall["tap"](a, "sakit", query="?status=belum")
    assert response.headers["Location"] == f"{hall['url']}?status=belum#baris-{c}"
    page = html_of(client.get(response.headers["Location"]))
    assert "Peserta 000: Sakit tersimpan." in page


# --- item 5: tabs, filter, walk-in, short rows ------------------------------------------------------


def test_session_tabs_show_day_and_time_and_which_runs(app, client, operator, make_event):
    """Item 5: the tabs read day and start time ("Sen, 7 Des 09.00"), not "Sesi 1 … Sesi 4",
    and the session under way is marked "berlangsung"."""
    event = make_event(days=2, sessions_per_day=2)
    with app.app_context():
        sessions = db.session.get(Event, event.id).sessions
        ids = [s.id for s in sessions]
    place_session(app, ids[0], timedelta(minutes=-20), hours=1)
    page = html_of(client.get(f"/absensi/sesi/{ids[1]}"))
    nav = re.search(r'<nav class="tabs sesi"[^>]*>(.*?)</nav>', page, re.S).group(1)
    tabs = re.findall(r"<a [^>]*>(.*?)</a>", nav)
    assert len(tabs) == 4 and not any(t.startswith("Sesi ") for t in tabs)
    with app.app_context():
        starts = [s.starts_at for s in db.session.get(Event, event.id).sessions]
    for text, start in zip(tabs, starts, strict=True):
        assert re.sub("<[^>]+>", "", text).startswith(f"{day(start)[:3]}, {start.day} ")
        assert clock(start) in text
    assert "berlangsung" in tabs[0] and not any("berlangsung" in t for t in tabs[1:])
    assert re.search(r'aria-current="page">[^<]*</a>', nav)  # the open one


def test_the_unmarked_filter_lists_only_people_not_marked(app, client, hall, partial_headers):
    """Item 5: "Belum ditandai" lists only the people not marked yet (an undo brings one back);
    the search keeps the filter; "Semua" lists everybody."""
    a, b, c, d, e = hall["ids"]
    for rid, status in ((a, "hadir"), (b, "izin"), (c, "hadir"), (c, "belum")):
        hall["tap"](rid, status)
    page = html_of(client.get(f"{hall['url']}?status=belum"))
    assert [int(i) for i, _s, _n in ROW.findall(page)] == [c, d, e]
    assert 'aria-current="page">Belum ditandai</a>' in page
    assert '<input type="hidden" name="status" value="belum">' in page
    found = html_of(
        client.get(f"{hall['url']}?status=belum&q=Peserta+004", headers=partial_headers)
    )
    assert [int(i) for i, _s, _n in ROW.findall(found)] == [e]
    everybody = html_of(client.get(hall["url"]))
    assert len(ROW.findall(everybody)) == 5
    for rid in (c, d, e):
        hall["tap"](rid, "alpa")
    assert "Semua peserta sudah ditandai." in html_of(client.get(f"{hall['url']}?status=belum"))


def test_the_walk_in_form_comes_before_the_list(app, client, hall):
    """Item 5: the walk-in form is reached without scrolling past the whole list."""
    page = html_of(client.get(hall["url"]))
    assert 0 < page.index('id="datang"') < page.index('id="daftar"')
