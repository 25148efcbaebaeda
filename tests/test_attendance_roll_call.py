"""The roll call: the overview of an event's sessions, one-tap marks with undo and replays, the
counters, walk-ins, one person's history and signature, the service worker; access, page weights,
fragment sizes and query counts."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa

from kim_app.attendance.models import Attendance, AttendanceMark, Presence
from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.events.models import (
    Event,
    EventSession,
    EventStatus,
    RegistrationStatus,
    Source,
)
from kim_app.extensions import db
from tests.budget import FRAGMENT_BUDGET, PAGE_BUDGET, counted_queries, gzip_size, page_weight
from tests.conftest import JATIM, PPU, PPU_VILLAGE, html_of
from tests.helpers import registrations_of
from tests.scenes import first_session, people, run_now

SCOPE_CHECKED = {
    "attendance.overview",
    "attendance.roll_call",
    "attendance.mark",
    "attendance.walk_in",
    "attendance.person",
}
PUBLIC = {"attendance.service_worker"}
WEIGHED = {"attendance.overview", "attendance.roll_call", "attendance.person"}
NOT_PAGES = {"attendance.service_worker"}

ROW = re.compile(r'<li id="baris-(\d+)" data-status="(\w+)"><a [^>]+>([^<]+)</a>')
SIGNATURE = "M10 50L40 20L80 60L120 30L160 70"


def attendance_rows(app, session_id: int) -> list[tuple[int, Presence]]:
    with app.app_context():
        return list(
            db.session.execute(
                sa.select(Attendance.registration_id, Attendance.status)
                .where(Attendance.session_id == session_id)
                .order_by(Attendance.id)
            ).all()
        )


def mark_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceMark))


@pytest.fixture
def roll(app, client, operator, make_event):
    """An event with 5 people; the roll call of its first session, and a tap function."""
    event = make_event()
    ids = people(app, event.id, 5)
    session_id = first_session(app, event.id)
    run_now(app, session_id)
    url = f"/absensi/sesi/{session_id}"
    token = client.token(url)

    def tap(registration_id, status, client_id=None, headers=None, query=""):
        data = {"csrf_token": token, "registration": registration_id, "status": status}
        if client_id:
            data |= {"client_id": client_id, "marked_at": str(int(time.time() * 1000))}
        return client.post(f"{url}/tandai{query}", data=data, headers=headers or {})

    return {"event": event, "ids": ids, "session": session_id, "url": url, "tap": tap}


def counters(html: str) -> dict[str, int]:
    block = re.search(r'<p id="hitungan"[^>]*>(.*?)</p>', html, re.S).group(1)
    return {k: int(n) for k, n in re.findall(r'class="p-(\w+)"><strong>(\d+)</strong>', block)}


# --- the roll call page ------------------------------------------------------------------------------


def test_roll_call_lists_people_by_name_with_counters(app, client, roll):
    """Everyone registered, by name, each with a queued mark form; counters count everybody;
    waiting and cancelled people are not on the list."""
    people(app, roll["event"].id, 1, 50, status=RegistrationStatus.BATAL)
    people(app, roll["event"].id, 1, 51, status=RegistrationStatus.DAFTAR_TUNGGU)
    html = html_of(client.get(roll["url"]))
    assert [name for _i, _s, name in ROW.findall(html)] == [f"Peserta {i:03d}" for i in range(5)]
    assert counters(html) == {"hadir": 0, "izin": 0, "sakit": 0, "alpa": 0, "belum": 5}
    assert html.count("<form data-queue") == 5
    assert 'name="registration"' in html and 'name="status" value="hadir"' in html
    assert 'id="antrean"' in html and "attendance.js" in html


def test_search_as_you_type(app, client, roll, partial_headers):
    """``?q=`` narrows the list; htmx gets only the list block, a plain request the page."""
    people(app, roll["event"].id, 1, 10, name="Rina Jurnalis")
    partial = client.get(roll["url"] + "?q=rina", headers=partial_headers)
    html = html_of(partial)
    assert "<html" not in html and html.startswith('<div id="daftar-wrap">')
    assert [name for _i, _s, name in ROW.findall(html)] == ["Rina Jurnalis"]
    full = html_of(client.get(roll["url"] + "?q=kominfo"))
    assert "<html" in full and len(ROW.findall(full)) == 2  # Peserta 001 and 003


def test_many_people_are_paged_and_counted(app, client, roll):
    """With more people than a page holds the list pages by name; counters count all."""
    people(app, roll["event"].id, 95, 5)
    html = html_of(client.get(roll["url"]))
    assert len(ROW.findall(html)) == 40 and counters(html)["belum"] == 100
    last = html_of(client.get(roll["url"] + "?halaman=3"))
    assert [n for _i, _s, n in ROW.findall(last)][-1] == "Peserta 099"


# --- taps --------------------------------------------------------------------------------------------


def test_tap_marks_hadir_with_a_small_fragment(app, client, roll, partial_headers):
    """One tap: the row and the counters come back (≤ 2 KB gzip), the database has one row."""
    first = roll["ids"][0]
    response = roll["tap"](first, "hadir", "tap-0000001", partial_headers)
    html = html_of(response)
    assert response.status_code == 200 and "<html" not in html
    assert ROW.findall(html) == [(str(first), "hadir", "Peserta 000")]
    assert (
        '<hx-partial hx-target="#hitungan" hx-swap="outerHTML"><p id="hitungan" class="hitungan">'
        in html
    )
    assert counters(html) == {"hadir": 1, "izin": 0, "sakit": 0, "alpa": 0, "belum": 4}
    assert gzip_size(response.data) <= FRAGMENT_BUDGET
    assert attendance_rows(app, roll["session"]) == [(first, Presence.HADIR)]


def test_izin_sakit_alpa_and_undo(app, client, roll, partial_headers):
    """Each status is one tap; an undo sets belum; every mark, undo and override is audited."""
    a, b, c, d = roll["ids"][:4]
    for rid, status in ((a, "izin"), (b, "sakit"), (c, "alpa"), (d, "hadir")):
        assert roll["tap"](rid, status, f"tap-{rid}-{status}", partial_headers).status_code == 200
    html = html_of(roll["tap"](d, "belum", f"undo-{d}-0001", partial_headers))
    assert ROW.findall(html)[0][1] == "belum"
    assert counters(html) == {"hadir": 0, "izin": 1, "sakit": 1, "alpa": 1, "belum": 2}
    page = html_of(client.get(roll["url"]))
    assert {int(i): s for i, s, _n in ROW.findall(page)} == {
        a: "izin",
        b: "sakit",
        c: "alpa",
        d: "belum",
        roll["ids"][4]: "belum",
    }
    with app.app_context():
        audited = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "attendance.mark")
            .order_by(AuditEntry.id)
        ).all()
        assert [e.changes["status"] for e in audited] == ["izin", "sakit", "alpa", "hadir", "belum"]
        assert all(e.actor_id is not None for e in audited)


def test_a_late_mark_from_another_device_is_audited_and_overridden(app, client, roll, operator):
    """A mark made earlier on another device but sent later does not win; it is audited as not
    applied and shown on the person's page as not applied."""
    rid = roll["ids"][0]
    now = int(time.time() * 1000)
    token = client.token(roll["url"])
    for client_id, status, at in (
        ("dev-a-00001", "hadir", now),
        ("dev-b-00001", "alpa", now - 60_000),
    ):
        client.post(
            roll["url"] + "/tandai",
            data={
                "csrf_token": token,
                "registration": rid,
                "status": status,
                "client_id": client_id,
                "marked_at": str(at),
            },
        )
    assert attendance_rows(app, roll["session"]) == [(rid, Presence.HADIR)]
    with app.app_context():
        entries = [
            (e.actor_id, e.object_type, e.object_id, e.region_code, e.changes, e.address)
            for e in db.session.scalars(
                sa.select(AuditEntry)
                .where(AuditEntry.action == "attendance.mark")
                .order_by(AuditEntry.id)
            )
        ]
    # the same entry whichever database writes it (PostgreSQL writes it with the mark)
    made = (operator.id, "registration", str(rid), roll["event"].region_code)
    assert entries == [
        (*made, {"session": roll["session"], "status": s, "method": "roll_call", "applied": a}, ip)
        for s, a, ip in (("hadir", True, "127.0.0.1"), ("alpa", False, "127.0.0.1"))
    ]
    html = html_of(client.get(f"{roll['url']}/peserta/{rid}"))
    assert "tidak berlaku: tanda lain yang lebih akhir sudah tercatat" in html
    assert html.index("Alpa") < html.index("berlaku</span>")  # in the order they were made


def test_tap_counters_agree_with_a_fresh_count(app, client, roll, partial_headers):
    """The counters a tap answers with (those before it, moved by its own change) equal the
    counters of the page loaded afterwards, after every kind of tap: a new status, a change, a
    replay, an undo, and a mark made earlier on another device that does not win."""
    a, b = roll["ids"][:2]
    now = int(time.time() * 1000)
    token = client.token(roll["url"])
    taps = (
        (a, "hadir", "cnt-a-00001", now),
        (b, "izin", "cnt-b-00001", now),
        (b, "izin", "cnt-b-00001", now),  # a replay
        (a, "sakit", "cnt-a-00002", now + 1_000),
        (a, "hadir", "cnt-c-00001", now - 60_000),  # earlier on another device: not applied
        (b, "belum", "cnt-b-00002", now + 2_000),  # an undo
        (a, "alpa", "cnt-a-00003", now + 3_000),
    )
    for registration, status, client_id, at in taps:
        data = {"csrf_token": token, "registration": registration, "status": status}
        data |= {"client_id": client_id, "marked_at": str(at)}
        answered = counters(
            html_of(client.post(f"{roll['url']}/tandai", data=data, headers=partial_headers))
        )
        assert answered == counters(html_of(client.get(roll["url"]))), (status, client_id)
    assert answered == {"hadir": 0, "izin": 0, "sakit": 0, "alpa": 1, "belum": 4}


def test_a_replayed_client_id_changes_nothing(app, client, roll, partial_headers):
    """The same client id twice (an offline queue replaying): one mark, one row, same answer."""
    rid = roll["ids"][1]
    first = roll["tap"](rid, "hadir", "replay-000001", partial_headers)
    again = roll["tap"](rid, "hadir", "replay-000001", partial_headers)
    assert again.status_code == 200 and ROW.findall(html_of(again)) == ROW.findall(html_of(first))
    assert mark_count(app) == 1 and attendance_rows(app, roll["session"]) == [(rid, Presence.HADIR)]


def test_a_client_id_used_for_someone_else_is_refused_visibly(
    app, client, roll, make_event, partial_headers
):
    """Issue 21 item 8: a client id already sent for one person, sent again for another in the
    same session, is refused with a message (422) instead of dropped as a replay; the first mark
    stands. Ids are known per session: the same id in another event's session is its own mark."""
    first, second = roll["ids"][0], roll["ids"][1]
    assert roll["tap"](first, "hadir", "reused-000001", partial_headers).status_code == 200
    reused = roll["tap"](second, "hadir", "reused-000001", partial_headers)
    assert reused.status_code == 422
    assert "kodenya sudah dipakai untuk peserta lain" in html_of(reused)
    assert attendance_rows(app, roll["session"]) == [(first, Presence.HADIR)]
    assert mark_count(app) == 1

    other = make_event()
    [elsewhere] = people(app, other.id, 1, 40)
    run_now(app, first_session(app, other.id))
    url = f"/absensi/sesi/{first_session(app, other.id)}"
    data = {"csrf_token": client.token(url), "registration": elsewhere, "status": "hadir"}
    data |= {"client_id": "reused-000001", "marked_at": str(int(time.time() * 1000))}
    assert client.post(f"{url}/tandai", data=data, headers=partial_headers).status_code == 200
    assert mark_count(app) == 2
    assert attendance_rows(app, first_session(app, other.id)) == [(elsewhere, Presence.HADIR)]


def test_plain_post_redirects_back_keeping_the_search(app, client, roll):
    """Without JavaScript a tap is a form post answered with 303 to the list, search kept,
    at the person's row."""
    response = roll["tap"](roll["ids"][2], "hadir", query="?q=Peserta")
    assert response.status_code == 303
    assert response.headers["Location"] == roll["url"] + f"?q=Peserta#baris-{roll['ids'][2]}"
    assert attendance_rows(app, roll["session"]) == [(roll["ids"][2], Presence.HADIR)]


def test_refused_marks_are_422_with_a_message(app, client, roll, make_event, partial_headers):
    """A cancelled person, someone of another event, someone waiting, a bad status or a bad
    client id: 422 with a translated message retargeted to #pesan; nothing recorded."""
    other = make_event()
    [stranger] = people(app, other.id, 1, 20)
    [cancelled] = people(app, roll["event"].id, 1, 30, status=RegistrationStatus.BATAL)
    [waiting] = people(app, roll["event"].id, 1, 31, status=RegistrationStatus.DAFTAR_TUNGGU)
    cases = (
        (cancelled, "hadir", "Pendaftaran peserta ini sudah dibatalkan."),
        (stranger, "hadir", "Peserta ini tidak terdaftar di kegiatan ini."),
        (waiting, "hadir", "Masih di daftar tunggu"),
        (roll["ids"][0], "datang", "Tanda ini tidak lengkap."),
        ("abc", "hadir", "Tanda ini tidak lengkap."),
    )
    for rid, status, message in cases:
        response = roll["tap"](rid, status, "bad-000001", partial_headers)
        assert response.status_code == 422 and message in html_of(response), rid
        assert response.headers["HX-Retarget"] == "#pesan"
    response = roll["tap"](roll["ids"][0], "hadir", "x!", partial_headers)
    assert response.status_code == 422 and "Tanda kehadiran ini tidak sah." in html_of(response)
    assert mark_count(app) == 0 and attendance_rows(app, roll["session"]) == []


def test_marks_only_while_attendance_is_open(app, client, roll, partial_headers):
    """A cancelled event takes no marks (422) and its roll call shows no mark buttons."""
    with app.app_context():
        db.session.get(Event, roll["event"].id).status = EventStatus.DIBATALKAN
        db.session.commit()
    response = roll["tap"](roll["ids"][0], "hadir", "closed-00001", partial_headers)
    assert response.status_code == 422 and "dibatalkan" in html_of(response)
    page = html_of(client.get(roll["url"]))
    assert "<form data-queue" not in page and 'id="datang"' not in page
    assert attendance_rows(app, roll["session"]) == []


# --- walk-ins ----------------------------------------------------------------------------------------


def _walk_in(client, roll, headers=None, **data):
    token = client.token(roll["url"])
    return client.post(
        roll["url"] + "/datang-langsung", data={"csrf_token": token} | data, headers=headers or {}
    )


def test_walk_in_with_phone_joins_and_is_hadir(app, client, roll, partial_headers):
    """A walk-in with a WhatsApp number: a new registration (source walk-in), hadir; htmx gets a
    fresh form, the row for the top of the list, the counters and a message."""
    response = _walk_in(
        client,
        roll,
        partial_headers,
        name="Budi Datang",
        phone="0852-1111-2222",
        institution="Karang Taruna",
        client_id="dl-0000000001",
    )
    html = html_of(response)
    assert response.status_code == 200 and "<html" not in html
    assert html.startswith('<form id="datang"') and 'value="Budi Datang"' not in html
    assert '<hx-partial hx-target="#daftar" hx-swap="afterbegin">' in html
    assert ROW.findall(html)[0][1:] == ("hadir", "Budi Datang")
    assert counters(html)["hadir"] == 1 and "Budi Datang tercatat hadir." in html
    assert gzip_size(response.data) <= FRAGMENT_BUDGET
    budi = registrations_of(app, roll["event"].id)[-1]
    assert (budi.name, budi.source, budi.phone) == ("Budi Datang", Source.WALK_IN, "+6285211112222")
    assert attendance_rows(app, roll["session"]) == [(budi.id, Presence.HADIR)]


def test_walk_in_without_phone_and_double_submitted(app, client, roll):
    """Without a number it still works (no JS: 303 back); the same form sent twice is one person."""
    before = len(registrations_of(app, roll["event"].id))
    for _ in range(2):
        response = _walk_in(client, roll, name="Tanpa Nomor", client_id="dl-dobel-00001")
        assert response.status_code == 303 and response.headers["Location"] == roll["url"]
    added = registrations_of(app, roll["event"].id)[before:]
    assert [r.name for r in added] == ["Tanpa Nomor"] and added[0].phone is None
    assert attendance_rows(app, roll["session"]) == [(added[0].id, Presence.HADIR)]
    assert "Tanpa Nomor tercatat hadir." in html_of(client.get(roll["url"]))


def test_walk_in_errors_keep_what_was_typed(app, client, roll, partial_headers):
    """No name or a wrong number: 422, the form again with the typed values and the messages."""
    response = _walk_in(
        client,
        roll,
        partial_headers,
        name="",
        phone="12",
        institution="Desa",
        client_id="dl-e0000001",
    )
    html = html_of(response)
    assert response.status_code == 422 and html.startswith('<form id="datang"')
    assert "Wajib diisi." in html and 'value="Desa"' in html
    response = _walk_in(client, roll, name="Sari", phone="12", client_id="dl-e0000002")
    html = html_of(response)
    assert response.status_code == 422 and "<html" in html
    assert "Nomor WhatsApp tidak valid. Contoh: 0812-3456-7890." in html and 'value="Sari"' in html
    assert len(registrations_of(app, roll["event"].id)) == 5 and mark_count(app) == 0


def test_walk_in_with_a_known_number_is_the_same_person(app, client, roll):
    """A walk-in whose number is already registered is marked hadir, not registered twice."""
    _walk_in(client, roll, name="Peserta Nol", phone="+6281300000000", client_id="dl-known-0001")
    assert len(registrations_of(app, roll["event"].id)) == 5
    assert attendance_rows(app, roll["session"]) == [(roll["ids"][0], Presence.HADIR)]


# --- one person --------------------------------------------------------------------------------------


def test_person_page_shows_history_with_times_methods_and_recorder(app, client, roll, operator):
    """History: status, local time with zone, method, who recorded it; the check-in code."""
    rid = roll["ids"][0]
    roll["tap"](rid, "hadir", "hist-000001")
    roll["tap"](rid, "belum", "hist-000002")
    html = html_of(client.get(f"{roll['url']}/peserta/{rid}"))
    assert "Peserta 000" in html and "AAAAAAAA" in html
    assert html.count("Daftar panggil</") >= 1 and operator.name in html
    assert "WITA" in html and html.index("<strong>Hadir") < html.index("<strong>Belum")
    assert "tanda_tangan" not in html  # the event does not ask for signatures


def test_person_signature_marks_hadir_and_is_shown(app, client, roll):
    """With signatures on, the operator's phone captures one: saved, the person marked hadir,
    the path shown as an SVG; an empty or malformed pad is a 422 with a message."""
    with app.app_context():
        db.session.get(Event, roll["event"].id).signatures = True
        db.session.commit()
    rid = roll["ids"][3]
    url = f"{roll['url']}/peserta/{rid}"
    assert 'name="tanda_tangan"' in html_of(client.get(url))
    for bad, message in (("", "Tanda tangan masih kosong."), ("<script>", "tidak terbaca")):
        response = client.submit(url, {"tanda_tangan": bad})
        assert response.status_code == 422 and message in html_of(response)
    response = client.submit(url, {"tanda_tangan": SIGNATURE})
    assert response.status_code == 303 and response.headers["Location"] == url
    assert attendance_rows(app, roll["session"]) == [(rid, Presence.HADIR)]
    html = html_of(client.get(url))
    assert '<svg class="ttd" viewBox="0 0 300 100"' in html and f'<path d="{SIGNATURE}"/>' in html
    assert "✍" in html_of(client.get(roll["url"]))


def test_person_of_another_event_is_404(app, client, roll, make_event):
    """A registration of another event in this session's URL is not found."""
    [stranger] = people(app, make_event().id, 1, 40)
    assert client.get(f"{roll['url']}/peserta/{stranger}").status_code == 404


# --- the overview ------------------------------------------------------------------------------------


def test_overview_groups_sessions_by_day_with_counters_and_links(
    app, client, roll, partial_headers
):
    """Two days of two sessions: four counters rows and the links of each session and the event."""
    roll["tap"](roll["ids"][0], "hadir", "ov-0000001")
    roll["tap"](roll["ids"][1], "izin", "ov-0000002")
    event_id = roll["event"].id
    html = html_of(client.get(f"/absensi/kegiatan/{event_id}"))
    with app.app_context():  # the first session was moved to now: its day may be a third one
        days = {s.starts_at.date() for s in db.session.get(Event, event_id).sessions}
    assert html.count("<h2>") == len(days) and html.count('<p class="hitungan">') == 4
    first = html.split('<p class="hitungan">')[1]
    assert '<span class="p-hadir"><strong>1</strong>' in first
    assert '<span class="p-izin"><strong>1</strong>' in first
    assert '<span class="p-belum"><strong>3</strong>' in first
    second = html.split('<p class="hitungan">')[2]
    assert '<span class="p-belum"><strong>5</strong>' in second
    with app.app_context():
        sessions = db.session.get(Event, event_id).sessions
        for s in sessions:
            for path in (f"/absensi/sesi/{s.id}", f"/absensi/sesi/{s.id}/pindai"):
                assert f'href="{path}"' in html
            assert f'formaction="/absensi/sesi/{s.id}/daftar-hadir.pdf"' in html
            assert f'formaction="/absensi/sesi/{s.id}/daftar-hadir-kosong.pdf"' in html
    for tail in ("kehadiran.xlsx", "pengaturan", "sertifikat", "petugas"):
        assert f'href="/absensi/kegiatan/{event_id}/{tail}"' in html


def test_overview_queries_do_not_grow_with_sessions(app, client, operator, make_event):
    """Counters of 2 or 8 sessions cost the same number of SQL statements."""
    counts = []
    for days in (1, 4):
        event = make_event(days=days)
        people(app, event.id, 3, days * 10)
        client.get(f"/absensi/kegiatan/{event.id}")
        with counted_queries(app) as statements:
            assert client.get(f"/absensi/kegiatan/{event.id}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


# --- budgets -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [120, 500])
def test_page_weights(app, client, operator, make_event, n):
    """Overview, roll call (with 120 and 500 people) and the person page stay within 14 KB."""
    event = make_event(signatures=True)
    ids = people(app, event.id, n)
    session_id = first_session(app, event.id)
    token = client.token(f"/absensi/sesi/{session_id}")
    for i, rid in enumerate(ids[:30]):
        client.post(
            f"/absensi/sesi/{session_id}/tandai",
            data={"csrf_token": token, "registration": rid, "status": "hadir" if i % 3 else "izin"},
        )
    for path in (
        f"/absensi/kegiatan/{event.id}",
        f"/absensi/sesi/{session_id}",
        f"/absensi/sesi/{session_id}?q=Peserta",
        f"/absensi/sesi/{session_id}/peserta/{ids[0]}",
    ):
        response = client.get(path)
        assert response.status_code == 200 and "<html" in html_of(response)
        assert page_weight(response) <= PAGE_BUDGET, (path, page_weight(response))


def test_roll_call_queries_do_not_grow_with_people(app, client, operator, make_event):
    """The roll call runs as many statements for 10 people as for 120."""
    counts = []
    for n in (10, 120):
        event = make_event()
        ids = people(app, event.id, n, n * 10)
        session_id = first_session(app, event.id)
        token = client.token(f"/absensi/sesi/{session_id}")
        for rid in ids[:5]:
            client.post(
                f"/absensi/sesi/{session_id}/tandai",
                data={"csrf_token": token, "registration": rid, "status": "hadir"},
            )
        with counted_queries(app) as statements:
            assert client.get(f"/absensi/sesi/{session_id}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


# --- the service worker ------------------------------------------------------------------------------


def test_service_worker_is_served_for_the_absensi_scope(app, client):
    """Public JavaScript, revalidated on each update check, caching only GET pages and assets."""
    response = client.get("/absensi/sw.js")
    body = html_of(response)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert response.headers["Cache-Control"] == "no-cache"
    assert (
        "connect-src 'self' https://cdn.jsdelivr.net" in response.headers["Content-Security-Policy"]
    )
    assert 'if (request.method !== "GET") return;' in body
    assert "ignoreVary: true" in body and 'const CDN = "https://cdn.jsdelivr.net";' in body


# --- access ------------------------------------------------------------------------------------------

ROLES = [
    ("admin", Role.ADMIN, None, 200),
    ("operator kab/kota", Role.OPERATOR_KABKOTA, PPU, 200),
    ("operator kab/kota elsewhere", Role.OPERATOR_KABKOTA, "32.10", 404),
    ("operator provinsi elsewhere", Role.OPERATOR_PROVINSI, JATIM, 404),
    ("operator provinsi", Role.OPERATOR_PROVINSI, "64", 200),
    ("kepala desa", Role.KEPALA_DESA, PPU_VILLAGE, 403),
    ("pengurus", Role.PENGURUS_KIM, PPU_VILLAGE, 403),
    ("petugas of this event", Role.PETUGAS_ABSENSI, PPU, 403),
    ("petugas of another event", Role.PETUGAS_ABSENSI, PPU, 403),
]


@pytest.mark.parametrize(("who", "role", "scope", "expected"), ROLES, ids=[r[0] for r in ROLES])
def test_scope_matrix(app, client, make_user, login, make_event, who, role, scope, expected):
    """Operators managing the event reach every roll-call endpoint (404 out of scope); village
    heads, pengurus and petugas absensi (scan-only, even of this event) get 403."""
    event = make_event()
    other = make_event()
    [rid] = people(app, event.id, 1)
    session_id = first_session(app, event.id)
    run_now(app, session_id)
    actor = make_user(
        role,
        scope,
        event_id=event.id
        if who == "petugas of this event"
        else other.id
        if role is Role.PETUGAS_ABSENSI
        else None,
    )
    login(actor)
    token = client.token(f"/absensi/kegiatan/{event.id}")
    base = f"/absensi/sesi/{session_id}"
    requests = {
        "overview": client.get(f"/absensi/kegiatan/{event.id}"),
        "roll_call": client.get(base),
        "person": client.get(f"{base}/peserta/{rid}"),
        "mark": client.post(
            f"{base}/tandai", data={"csrf_token": token, "registration": rid, "status": "hadir"}
        ),
        "walk_in": client.post(
            f"{base}/datang-langsung",
            data={"csrf_token": token, "name": "Tamu", "client_id": "dl-matrix-001"},
        ),
    }
    for name, response in requests.items():
        want = 303 if expected == 200 and name in ("mark", "walk_in") else expected
        assert response.status_code == want, (who, name, response.status_code)
    recorded = attendance_rows(app, session_id)
    assert len(recorded) == (2 if expected == 200 else 0)  # the person and the walk-in


def test_visitors_are_sent_to_sign_in(app, client, make_event):
    """Anonymous visitors get the sign-in page for every roll-call page; posts are refused."""
    event = make_event()
    session_id = first_session(app, event.id)
    for path in (
        f"/absensi/kegiatan/{event.id}",
        f"/absensi/sesi/{session_id}",
        f"/absensi/sesi/{session_id}/peserta/1",
    ):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    token = client.token("/login")
    for tail in ("tandai", "datang-langsung"):
        response = client.post(
            f"/absensi/sesi/{session_id}/{tail}",
            data={"csrf_token": token, "registration": 1, "status": "hadir", "name": "X"},
        )
        assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceMark)) == 0
        assert db.session.get(EventSession, session_id) is not None
