"""Ticket scanning: every verdict, every way of naming a ticket, replays applied once, the session
window judged by the scan's own time; the petugas absensi reaches the scan page of its event and
nothing else; operators assign, create and release petugas inside their wilayah."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from kim_app import ROOT
from kim_app.attendance.models import Attendance, AttendanceMark
from kim_app.attendance.operations import device_time, to_local
from kim_app.audit import AuditEntry
from kim_app.auth.models import Role, User
from kim_app.events.models import Event, EventSession, Registration, RegistrationStatus, Source
from kim_app.events.operations import PersonData, local_now, register_person
from kim_app.extensions import db
from kim_app.formatting import clock
from kim_app.phones import MAX_HANDOFF_TEXT
from kim_app.timezones import utcnow
from tests.budget import FRAGMENT_BUDGET, PAGE_BUDGET, counted_queries, gzip_size, page_weight
from tests.conftest import JATIM, MAJALENGKA_VILLAGE, PPU, PPU_VILLAGE, html_of

SCOPE_CHECKED = {"attendance.scan", "attendance.scan_event", "attendance.officers"}
WEIGHED = {"attendance.scan", "attendance.officers"}
NOT_PAGES = {"attendance.scan_event"}

VERDICT = re.compile(
    r'class="vonis vonis-(\w+)">\s*<p class="vonis-teks"><span[^>]*>[^<]*</span> ([^<]+)</p>'
)
HADIR = re.compile(r'id="jumlah-hadir"[^>]*><strong>(\d+)</strong>')


def _event_now(app, make_event, names=("Ani Lestari", "Budi Santoso"), **kw) -> dict:
    """An event whose first session runs now (local time) and whose second is tomorrow; people
    registered in it. Returns ids and tickets in a plain dict."""
    event_id = make_event(**kw).id
    with app.app_context():
        event = db.session.get(Event, event_id)
        now = local_now(event)
        first = event.sessions[0]
        first.starts_at, first.ends_at = now - timedelta(minutes=30), now + timedelta(hours=2)
        people = [
            register_person(event, PersonData(name, f"0812{i + 1:08d}"), Source.MANDIRI)[0]
            for i, name in enumerate(names)
        ]
        db.session.commit()
        return {
            "event": event.id,
            "code": event.code,
            "sessions": [s.id for s in event.sessions],
            "people": [(r.id, r.ticket, r.checkin_code) for r in people],
        }


def _page(session_id: int) -> str:
    return f"/absensi/sesi/{session_id}/pindai"


def _scan(client, session_id, kode, headers, token=None, **extra):
    data = {"kode": kode, "csrf_token": token or client.token(_page(session_id)), **extra}
    return client.post(_page(session_id), data=data, headers=headers)


def _verdict(response) -> tuple[str, str]:
    match = VERDICT.search(html_of(response))
    assert match, html_of(response)[:2000]
    return match.group(1), match.group(2).strip()


def _hadir(response) -> int:
    return int(HADIR.search(html_of(response)).group(1))


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_each_verdict(app, client, make_user, make_event, login, partial_headers):
    """Checked in (green), already with the earlier time (amber), and red for unknown, waiting,
    cancelled and another session; the fragment carries the live hadir count and fits 2 KB."""
    data = _event_now(app, make_event, names=("Ani Lestari", "Budi Santoso", "Citra Dewi"))
    with app.app_context():
        budi, citra = (db.session.get(Registration, p[0]) for p in data["people"][1:])
        budi.status, citra.status = RegistrationStatus.DAFTAR_TUNGGU, RegistrationStatus.BATAL
        db.session.commit()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    now, later = data["sessions"][0], data["sessions"][1]
    token = client.token(_page(now))
    (_, ani_ticket, ani_code), (_, _, budi_code), (_, _, citra_code) = data["people"]

    first = _scan(client, now, ani_code, partial_headers, token)
    assert first.status_code == 200 and "<html" not in html_of(first)
    assert _verdict(first) == ("ok", "Hadir tercatat")
    assert "Ani Lestari" in html_of(first) and _hadir(first) == 1
    assert gzip_size(first.data) <= FRAGMENT_BUDGET

    again = _scan(client, now, ani_ticket, partial_headers, token)
    with app.app_context():
        event = db.session.get(Event, data["event"])
        earlier = clock(to_local(event, db.session.scalar(sa.select(Attendance.marked_at))))
    assert _verdict(again) == ("lagi", f"Sudah tercatat hadir pukul {earlier} WITA")
    assert _hadir(again) == 1

    cases = {
        "ZZZZ-ZZZZ": "Tidak terdaftar",
        budi_code: "Masih di daftar tunggu",
        citra_code: "Pendaftaran dibatalkan",
    }
    for kode, label in cases.items():
        assert _verdict(_scan(client, now, kode, partial_headers, token)) == ("tolak", label)
    wrong = _scan(client, later, ani_code, partial_headers, token)
    assert _verdict(wrong)[0] == "tolak" and _hadir(wrong) == 0
    assert _verdict(wrong)[1].startswith("Sesi belum dibuka — mulai ")
    with app.app_context():
        assert _count(Attendance) == 1 and _count(AttendanceMark) == 1


def test_ticket_link_token_and_typed_code(
    app, client, make_user, make_event, login, partial_headers
):
    """The QR's ticket link, the bare token and the typed code (lower case, dash, spaces) all find the person."""
    data = _event_now(app, make_event, names=("Ani", "Budi", "Citra"))
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    session_id = data["sessions"][0]
    token = client.token(_page(session_id))
    (_, t1, _), (_, t2, _), (_, _, c3) = data["people"]
    link = f"https://kim.example/e/{data['code']}/tiket/{t1}"
    typed = f"  {c3[:4].lower()}-{c3[4:].lower()} "
    for kode in (link, t2, typed):
        assert _verdict(_scan(client, session_id, kode, partial_headers, token))[0] == "ok"
    with app.app_context():
        assert _count(Attendance) == 3


def test_a_replayed_scan_marks_once(app, client, make_user, make_event, login, partial_headers):
    """The offline queue sending the same scan twice (same client id) leaves one mark and one row."""
    data = _event_now(app, make_event)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    session_id, code = data["sessions"][0], data["people"][0][2]
    token = client.token(_page(session_id))
    sent = {"client_id": "antrean-0001", "marked_at": str(int(utcnow().timestamp() * 1000))}
    for _ in range(2):
        response = _scan(client, session_id, code, partial_headers, token, **sent)
        assert response.status_code == 200
    with app.app_context():
        assert _count(AttendanceMark) == 1 and _count(Attendance) == 1


def test_another_events_ticket_is_not_registered(
    app, client, make_user, make_event, login, partial_headers
):
    """Issue 22 item 2: a valid ticket of another event says so here ('Tiket untuk kegiatan
    lain', with that event's title) and marks nothing."""
    here = _event_now(app, make_event)
    there = _event_now(app, make_event, names=("Dedi",), title="Bimtek Konten Positif")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    for kode in (there["people"][0][1], there["people"][0][2]):
        response = _scan(client, here["sessions"][0], kode, partial_headers)
        assert _verdict(response) == ("tolak", "Tiket untuk kegiatan lain")
        assert "Bimtek Konten Positif" in html_of(response)
    with app.app_context():
        assert _count(Attendance) == 0


def test_the_window_is_judged_by_the_scans_own_time(
    app, client, make_user, make_event, login, partial_headers
):
    """Outside the session's window the real reason (not open yet, from when; closed); inside:
    checked in; a scan queued offline during the session and sent after it ended still counts,
    by its marked_at."""
    data = _event_now(app, make_event, names=("Ani", "Budi"))
    session_id = data["sessions"][0]
    with app.app_context():
        found = db.session.get(EventSession, session_id)
        now = local_now(found.event)
        found.starts_at, found.ends_at = now + timedelta(hours=2), now + timedelta(hours=4)
        db.session.commit()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    token = client.token(_page(session_id))
    (_, _, ani), (_, _, budi) = data["people"]
    opens = clock(now + timedelta(hours=1))  # an hour before the start
    early = _verdict(_scan(client, session_id, ani, partial_headers, token))[1]
    assert early.startswith("Sesi belum dibuka — mulai ") and f"{opens} WITA" in early
    with app.app_context():
        found = db.session.get(EventSession, session_id)
        found.starts_at, found.ends_at = now - timedelta(hours=3), now - timedelta(hours=1)
        db.session.commit()
    late = _verdict(_scan(client, session_id, ani, partial_headers, token))[1]
    assert late == f"Sesi sudah ditutup pukul {clock(now - timedelta(hours=1))} WITA."
    during = utcnow() - timedelta(hours=2)
    queued = {"client_id": "antrean-lama-01", "marked_at": str(int(during.timestamp() * 1000))}
    assert device_time(queued["marked_at"]) is not None
    response = _scan(client, session_id, budi, partial_headers, token, **queued)
    assert _verdict(response) == ("ok", "Hadir tercatat")


def test_a_device_time_never_opens_a_session_early(
    app, client, make_user, make_event, login, partial_headers
):
    """Issue 21 item 5: a scan for a session ten days ahead, sent with a forged ``marked_at``
    inside that session's window, is refused like one without it and writes nothing; the
    server's clock has not opened the window."""
    data = _event_now(app, make_event, names=("Ani",))
    session_id = data["sessions"][0]
    with app.app_context():
        found = db.session.get(EventSession, session_id)
        now = local_now(found.event)
        found.starts_at, found.ends_at = now + timedelta(days=10), now + timedelta(days=10, hours=2)
        db.session.commit()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    token = client.token(_page(session_id))
    forged = utcnow() + timedelta(days=10, minutes=30)
    sent = {"client_id": "palsu-000001", "marked_at": str(int(forged.timestamp() * 1000))}
    response = _scan(client, session_id, data["people"][0][2], partial_headers, token, **sent)
    assert _verdict(response)[1].startswith("Sesi belum dibuka — mulai ")
    plain = _scan(client, session_id, data["people"][0][2], partial_headers, token)
    assert _verdict(plain)[1].startswith("Sesi belum dibuka — mulai ")
    with app.app_context():
        assert _count(Attendance) == 0 and _count(AttendanceMark) == 0


def test_plain_form_redirects_and_a_refresh_marks_nothing(
    app, client, make_user, make_event, login
):
    """Without JavaScript the scan answers 303 to the page, which shows the verdict once;
    reloading it neither repeats the verdict nor marks again."""
    data = _event_now(app, make_event)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    session_id = data["sessions"][0]
    response = _scan(client, session_id, data["people"][0][2], {})
    assert response.status_code == 303 and response.headers["Location"].endswith(_page(session_id))
    shown = client.get(_page(session_id))
    assert _verdict(shown) == ("ok", "Hadir tercatat") and _hadir(shown) == 1
    assert "vonis" not in html_of(client.get(_page(session_id)))
    with app.app_context():
        assert _count(AttendanceMark) == 1


@pytest.mark.parametrize(
    "kode",
    [
        "x" * 100_000,
        "ÄÖÜ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🙂 تجربة",
        "/tiket/" + "a" * 500,
        "'; DROP TABLE registrations; --",
        "\u0000\u200b",
        "%s%s%s{0}",
    ],
    ids=["huge", "unicode", "long-link", "sql", "control", "format"],
)
def test_garbage_is_never_an_error(
    app, client, make_user, make_event, login, partial_headers, kode
):
    """Any text at all is answered 'Tidak terdaftar' (or a form error), never a 500."""
    data = _event_now(app, make_event)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = _scan(client, data["sessions"][0], kode, partial_headers, marked_at="9" * 40)
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        assert _verdict(response)[1] == "Tidak terdaftar"


def test_form_errors_answer_422(app, client, make_user, make_event, login, partial_headers):
    """An empty code, or a client id that is not one, re-renders with a message and status 422."""
    data = _event_now(app, make_event)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    session_id, code = data["sessions"][0], data["people"][0][2]
    empty = _scan(client, session_id, "  ", {})
    assert empty.status_code == 422 and "Wajib diisi" in html_of(empty)
    bad_id = _scan(client, session_id, code, partial_headers, client_id="<script>")
    assert bad_id.status_code == 422 and "tidak sah" in html_of(bad_id)
    with app.app_context():
        assert _count(Attendance) == 0


def test_a_draft_event_takes_no_scans(app, client, make_user, make_event, login, partial_headers):
    """Attendance is not taken while the event is still a draft."""
    from kim_app.events.models import EventStatus

    data = _event_now(app, make_event, status=EventStatus.DRAFT)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = _scan(client, data["sessions"][0], data["people"][0][2], partial_headers)
    assert response.status_code == 422 and "tidak sedang menerima absensi" in html_of(response)


def test_scan_event_opens_the_current_session(app, client, make_user, make_event, login):
    """The event's scan link goes to the session running now; an event without sessions says so."""
    data = _event_now(app, make_event)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.get(f"/absensi/kegiatan/{data['event']}/pindai")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(_page(data["sessions"][0]))
    bare = make_event(days=0)
    idle = client.get(f"/absensi/kegiatan/{bare.id}/pindai")
    assert idle.status_code == 200 and "belum punya sesi" in html_of(idle)


def test_scan_page_weight_queries_and_csp(app, client, make_user, make_event, login):
    """The scan page fits 14 KB with its own CSS and JS, names the jsQR URL and hash, and the CSP
    admits the jsQR origin (the same CDN as htmx); a scan's SQL does not grow with the event."""
    small = _event_now(app, make_event, names=[f"Peserta {i}" for i in range(3)])
    big = _event_now(app, make_event, names=[f"Peserta {i}" for i in range(60)])
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.get(_page(big["sessions"][0]))
    html = html_of(response)
    assert response.status_code == 200 and page_weight(response) <= PAGE_BUDGET
    assert 'data-queue method="post"' in html and 'name="kode"' in html
    assert app.config["KIM_JSQR_URL"] in html and app.config["KIM_JSQR_SRI"] in html
    assert '<button type="button" id="mulai-kamera" class="primary" hidden>' in html
    origin = urlsplit(app.config["KIM_JSQR_URL"])
    script_src = response.headers["Content-Security-Policy"].split("script-src ")[1].split(";")[0]
    assert f"{origin.scheme}://{origin.netloc}" in script_src.split()
    counts = []
    for data in (small, big):
        session_id = data["sessions"][0]
        token = client.token(_page(session_id))
        headers = {"HX-Request": "true", "HX-Request-Type": "partial"}
        with counted_queries(app) as statements:
            _scan(client, session_id, data["people"][1][2], headers, token)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_jsqr_hash_matches_the_npm_copy(app):
    """KIM_JSQR_SRI is the sha384 of the very file npm installed (the CDN serves the same bytes)."""
    data = (ROOT / "node_modules" / "jsqr" / "dist" / "jsQR.js").read_bytes()
    expected = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
    assert app.config["KIM_JSQR_SRI"] == expected
    assert app.config["KIM_JSQR_URL"].endswith("/jsqr@1.4.0/dist/jsQR.js")


# --- who may scan ---------------------------------------------------------------------------------

SCANNERS = [
    ("admin", Role.ADMIN, None, 200),
    ("kabkota", Role.OPERATOR_KABKOTA, PPU, 200),
    ("kabkota-other", Role.OPERATOR_KABKOTA, "32.10", 404),
    ("provinsi", Role.OPERATOR_PROVINSI, "64", 200),
    ("provinsi-other", Role.OPERATOR_PROVINSI, JATIM, 404),
    ("kades", Role.KEPALA_DESA, PPU_VILLAGE, 403),
    ("pengurus", Role.PENGURUS_KIM, PPU_VILLAGE, 403),
    ("petugas-here", Role.PETUGAS_ABSENSI, PPU, 200),
    ("petugas-other", Role.PETUGAS_ABSENSI, PPU, 404),
    ("petugas-none", Role.PETUGAS_ABSENSI, PPU, 404),
]


@pytest.mark.parametrize(
    ("who", "role", "scope", "expected"), SCANNERS, ids=[s[0] for s in SCANNERS]
)
def test_who_may_scan(
    app, client, make_user, make_event, make_kim, login, who, role, scope, expected
):
    """Operators managing the event and its own petugas scan; out of scope 404, other roles 403."""
    data = _event_now(app, make_event)
    other = make_event()
    event_id = {"petugas-here": data["event"], "petugas-other": other.id}.get(who)
    kim_id = make_kim(village=scope).id if role is Role.PENGURUS_KIM else None
    login(make_user(role, scope, event_id=event_id, kim_id=kim_id))
    session_id = data["sessions"][0]
    page = client.get(_page(session_id))
    assert page.status_code == expected
    redirect = client.get(f"/absensi/kegiatan/{data['event']}/pindai")
    assert redirect.status_code == (303 if expected == 200 else expected)
    if expected == 200:
        token = client.token(_page(session_id))
        post = _scan(client, session_id, data["people"][0][2], {}, token)
        assert post.status_code == 303


def test_visitors_are_sent_to_sign_in(app, client, make_event):
    """Anonymous visitors of the scan and petugas pages go to the sign-in page."""
    data = _event_now(app, make_event)
    for path in (
        _page(data["sessions"][0]),
        f"/absensi/kegiatan/{data['event']}/pindai",
        f"/absensi/kegiatan/{data['event']}/petugas",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_a_missing_or_huge_id_is_not_found(app, client, make_user, login):
    """Ids that do not exist (or do not fit a database integer) answer 404."""
    login(make_user(Role.ADMIN))
    for path in (
        "/absensi/sesi/999999/pindai",
        f"/absensi/sesi/{2**70}/pindai",
        f"/absensi/kegiatan/{2**70}/pindai",
        f"/absensi/kegiatan/{2**70}/petugas",
    ):
        assert client.get(path).status_code == 404


# --- the petugas absensi can do nothing else --------------------------------------------------------

PETUGAS_MAY = {
    "attendance.scan_event",
    "attendance.scan",
    "attendance.projector",  # the hall's screen for self check-in, of its own event only
    "main.privacy",  # the public privacy notice
    "attendance.service_worker",
    "main.home",
    "main.healthz",
    "auth.login",
    "auth.password",
}


def _arguments(app, rule, data) -> dict | None:
    """Values for a rule's URL arguments that point at the petugas's own event, or None."""
    session_id = data["sessions"][0]
    registration_id, ticket, _code = data["people"][0]
    values = {
        "event_id": data["event"],
        "session_id": session_id,
        "registration_id": registration_id,
        "code": data["code"],
        "ticket": ticket,
        "fmt": "xlsx",
        "token": "x" * 20,
    }
    if not rule.arguments <= set(values):
        return None
    return {name: values[name] for name in rule.arguments}


def test_the_petugas_reaches_only_the_scan_page(app, client, make_user, make_event, login):
    """Walking every GET page without arguments and every attendance/events page of its own
    event: a petugas absensi gets only the scan pages and its own account; the rest 403/404."""
    data = _event_now(app, make_event)
    login(make_user(Role.PETUGAS_ABSENSI, PPU, event_id=data["event"]))
    walked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.arguments:
            if rule.endpoint.split(".")[0] not in ("attendance", "events"):
                continue
            values = _arguments(app, rule, data)
            if values is None:
                continue
        else:
            values = {}
        with app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, **values)
        status = client.get(path).status_code
        walked += 1
        if rule.endpoint in PETUGAS_MAY:
            assert status in (200, 302, 303), (rule.endpoint, status)
        else:
            assert status in (403, 404), (rule.endpoint, status)
    assert walked > 20
    other = _event_now(app, make_event, names=("Dedi",))
    assert client.get(_page(other["sessions"][0])).status_code == 404
    assert client.get(f"/absensi/kegiatan/{other['event']}/pindai").status_code == 404


def test_a_petugas_signs_in_to_the_scan_page(app, client, make_user, make_event, login):
    """Home sends an assigned petugas to its event's scan page; an unassigned one is told to ask."""
    data = _event_now(app, make_event)
    login(make_user(Role.PETUGAS_ABSENSI, PPU, event_id=data["event"]))
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/absensi/kegiatan/{data['event']}/pindai")
    other = app.test_client()
    login(make_user(Role.PETUGAS_ABSENSI, PPU), on=other)
    idle = other.get("/")
    assert idle.status_code == 200 and "belum ditugaskan" in html_of(idle)


# --- operators manage the petugas of an event -------------------------------------------------------


def _officers(event_id: int) -> str:
    return f"/absensi/kegiatan/{event_id}/petugas"


def _event_of(app, user_id: int) -> int | None:
    with app.app_context():
        return db.session.get(User, user_id).event_id


def test_assign_moves_a_petugas_and_is_audited(app, client, make_user, make_event, login):
    """An operator assigns a petugas of its wilayah (moving it from another event), sees it
    listed, and releases it; each step is in the audit log."""
    event, elsewhere = make_event(), make_event()
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    petugas = make_user(Role.PETUGAS_ABSENSI, PPU, name="Petugas Satu", event_id=elsewhere.id)
    login(operator)
    page = client.get(_officers(event.id))
    assert page.status_code == 200 and "Petugas Satu" in html_of(page)
    assert page_weight(page) <= PAGE_BUDGET
    response = client.submit(_officers(event.id), {"aksi": "tugaskan", "petugas": petugas.id})
    assert response.status_code == 303 and _event_of(app, petugas.id) == event.id
    listed = html_of(client.get(_officers(event.id)))
    assert "Petugas Satu" in listed and "Lepas dari kegiatan ini" in listed
    response = client.submit(_officers(event.id), {"aksi": "lepas", "petugas": petugas.id})
    assert response.status_code == 303 and _event_of(app, petugas.id) is None
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.action.like("attendance.officer%"))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["attendance.officer_assign", "attendance.officer_unassign"]


def test_only_active_petugas_in_scope_are_offered(app, client, make_user, make_event, login):
    """Petugas outside the operator's wilayah, inactive ones and other roles cannot be assigned."""
    event = make_event()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    outside = make_user(Role.PETUGAS_ABSENSI, JATIM, name="Petugas Jatim")
    inactive = make_user(Role.PETUGAS_ABSENSI, PPU, name="Petugas Cuti")
    kades = make_user(Role.KEPALA_DESA, PPU_VILLAGE, name="Kades Uji")
    with app.app_context():
        db.session.get(User, inactive.id).active = False
        db.session.commit()
    html = html_of(client.get(_officers(event.id)))
    for name in ("Petugas Jatim", "Petugas Cuti", "Kades Uji"):
        assert name not in html
    for user in (outside, inactive, kades):
        response = client.submit(_officers(event.id), {"aksi": "tugaskan", "petugas": user.id})
        assert response.status_code == 422 and "Pilih petugas dari daftar" in html_of(response)
        assert _event_of(app, user.id) is None
    bogus = client.submit(_officers(event.id), {"aksi": "tugaskan", "petugas": "abc"})
    assert bogus.status_code == 422


def test_create_a_petugas_on_the_spot(app, client, make_user, make_event, login):
    """A new petugas account (name and WhatsApp number, no password typed) gets the event's
    region as scope, is assigned at once, and its invitation link waits on the page with a
    WhatsApp hand-off to its number; the petugas sets a password through it and lands on the
    scan page. A missing or wrong number, or a used email, is refused with 422."""
    event = make_event()
    login(make_user(Role.OPERATOR_KABKOTA, PPU, email="op@uji.example"))
    new = {"aksi": "buat", "name": "Petugas Baru", "phone": "0812 3456 7801", "email": ""}
    for wrong, message in (
        ({"phone": ""}, "Wajib diisi"),
        ({"phone": "0812"}, "Nomor WhatsApp tidak valid"),
        ({"email": "op@uji.example"}, "sudah dipakai"),
    ):
        refused = client.submit(_officers(event.id), {**new, **wrong})
        assert refused.status_code == 422 and message in html_of(refused), wrong
    assert "password" not in html_of(client.get(_officers(event.id)))
    made = client.submit(_officers(event.id), new)
    assert made.status_code == 303
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.phone == "+6281234567801"))
        assert (user.role, user.scope_code, user.event_id) == (Role.PETUGAS_ABSENSI, PPU, event.id)
        assert user.created_by_id is not None and user.password_hash is None and not user.email
    assert made.headers["Location"].endswith(f"/petugas#petugas-{user.id}")
    page = html_of(client.get(_officers(event.id)))
    handoff = unescape(re.search(r'href="(https://wa\.me/[^"]+)"', page).group(1))
    assert urlsplit(handoff).path == "/6281234567801"
    text = parse_qs(urlsplit(handoff).query)["text"][0]
    link = re.search(rf'id="tautan-{user.id}" type="text" readonly value="([^"]+)"', page).group(1)
    assert unescape(link) in text and "Petugas absensi" in text and len(text) < MAX_HANDOFF_TEXT
    owner = app.test_client()
    path = urlsplit(unescape(link)).path
    form = html_of(owner.get(path))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    done = owner.post(
        path, data={"csrf_token": token, "new": "rahasia-petugas", "confirm": "rahasia-petugas"}
    )
    assert done.status_code == 303
    assert owner.get("/").headers["Location"].endswith("/pindai")
    assert "tautan-" not in html_of(client.get(_officers(event.id)))  # no longer pending


def test_officers_page_is_for_the_events_operators(app, client, make_user, make_event, login):
    """Operators of another regency get 404 (page and actions); other roles 403."""
    event = make_event()
    petugas = make_user(Role.PETUGAS_ABSENSI, PPU, event_id=event.id)
    stranger = login(make_user(Role.OPERATOR_KABKOTA, "32.10"))
    assert stranger.get(_officers(event.id)).status_code == 404
    token = stranger.token("/kata-sandi")
    for action in ("lepas", "tugaskan"):
        response = stranger.post(
            _officers(event.id), data={"aksi": action, "petugas": petugas.id, "csrf_token": token}
        )
        assert response.status_code == 404
    assert _event_of(app, petugas.id) == event.id
    for role, scope in ((Role.KEPALA_DESA, MAJALENGKA_VILLAGE), (Role.PETUGAS_ABSENSI, PPU)):
        other = app.test_client()
        login(make_user(role, scope), on=other)
        assert other.get(_officers(event.id)).status_code == 403
    assert (
        login(make_user(Role.OPERATOR_PROVINSI, "64")).get(_officers(event.id)).status_code == 200
    )


def test_release_only_this_events_petugas(app, client, make_user, make_event, login):
    """Releasing a petugas who works at another event (or no petugas at all) is not found."""
    event, elsewhere = make_event(), make_event()
    busy = make_user(Role.PETUGAS_ABSENSI, PPU, event_id=elsewhere.id)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    for value in (busy.id, "", "9" * 30):
        response = client.submit(_officers(event.id), {"aksi": "lepas", "petugas": value})
        assert response.status_code == 404
    assert _event_of(app, busy.id) == elsewhere.id
    assert client.submit(_officers(event.id), {"aksi": "lain"}).status_code == 400
