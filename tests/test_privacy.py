"""Personal data (UU 27/2022): exporting everything held about one person, erasing it with every
count kept, phone numbers shown only to those who need them, nothing personal in the logs, and
the audit-log viewer (scope, filters, masking, paging, weight, query count)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from kim_app import audit
from kim_app.attendance.certificates.operations import issue_certificates
from kim_app.attendance.documents import daftar_hadir_html, session_people
from kim_app.attendance.models import Attendance, AttendanceMark, Certificate, Presence
from kim_app.attendance.operations import mark_attendance, save_signature, session_counts
from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.events.models import Event, Invitation, Registration, Source
from kim_app.events.operations import PersonData, local_now, register_person
from kim_app.events.participants.operations import update_participant
from kim_app.extensions import db
from kim_app.groups.models import Member, Position
from kim_app.reports import queries
from kim_app.reports.privacy.queries import mask_numbers, summarise
from tests.budget import PAGE_BUDGET, counted_queries, page_weight
from tests.conftest import MAJALENGKA_VILLAGE, PASSWORD, PPU, PPU_VILLAGE, html_of

WEIGHED = {"reports.person_erase", "reports.audit_log"}
NOT_PAGES = {"reports.person_data_export"}

NAME = "Wulandari Sekarwangi"
PHONE = "+6281377712468"
# every way the number may be written
SPELLINGS = ("+6281377712468", "6281377712468", "081377712468", "0813-7771-2468", "81377712468")
SIGNATURE = "M10 60L40 20L70 80L100 25"


def shows_number(text: str) -> bool:
    return any(s in text for s in SPELLINGS) or "0813 7771 2468" in text


@dataclass
class Person:
    event_id: int
    code: str
    sessions: list[int]
    registration_id: int
    ticket: str
    certificate: str
    outside_id: int
    kim_id: int
    member_id: int


@pytest.fixture
def person(app, make_kim, make_event) -> Person:
    """NAME with PHONE: a member of a PPU KIM, registered for a PPU event (hadir with a
    signature in the first session, a certificate, a corrected name in the audit log), and
    registered for a Majalengka event too (outside a PPU operator's scope)."""
    kim = make_kim(village=PPU_VILLAGE, members=4)
    event = make_event(region=PPU, days=1, certificate_min_percent=50, signatures=True)
    away = make_event(region="32.10", days=1)
    with app.test_request_context():
        member = db.session.scalar(
            sa.select(Member).where(Member.kim_id == kim.id, Member.position == Position.ANGGOTA)
        )
        member.name, member.phone = NAME, PHONE
        db.session.add(Invitation(event_id=event.id, kim_id=kim.id, quota=2))
        loaded = db.session.get(Event, event.id)
        first = loaded.sessions[0]
        first.starts_at = local_now(loaded).replace(second=0, microsecond=0) + timedelta(minutes=30)
        first.ends_at = first.starts_at + timedelta(hours=2)
        loaded.starts_on = first.starts_at
        reg, _new = register_person(
            loaded,
            PersonData("Wulan S.", PHONE, institution="PKK Babulu", gender=None),
            Source.UNDANGAN,
            kim_id=kim.id,
            member_id=member.id,
        )
        # an operator corrects the name: the audit log now holds it
        update_participant(reg, PersonData(NAME, PHONE, institution="PKK Babulu"), None)
        attendance, _ = mark_attendance(reg, first, Presence.HADIR, None)
        save_signature(loaded, attendance, SIGNATURE, None)
        # written directly: issuing waits for the last session, which is still ahead
        db.session.add(
            Certificate(
                registration_id=reg.id,
                event_id=loaded.id,
                serial=1,
                number="1/SERT",
                code="PRIV7ACY9K",
            )
        )
        other, _new = register_person(
            db.session.get(Event, away.id), PersonData(NAME, PHONE), Source.MANDIRI
        )
        db.session.commit()
        certificate = db.session.scalar(
            sa.select(Certificate.code).where(Certificate.registration_id == reg.id)
        )
        return Person(
            event_id=event.id,
            code=event.code,
            sessions=[s.id for s in loaded.sessions],
            registration_id=reg.id,
            ticket=reg.ticket,
            certificate=certificate,
            outside_id=other.id,
            kim_id=kim.id,
            member_id=member.id,
        )


# --- export ------------------------------------------------------------------------------------


def test_export_holds_everything_in_scope(app, client, login, make_user, person):
    """The JSON file has the registration, its attendance with the signature path and marks
    (recorder by role), the certificate and the KIM membership; not the Majalengka event."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.get(f"/laporan/orang/{person.registration_id}/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.data)
    assert data["nomor_whatsapp"] == "0813-7771-2468"
    [reg] = data["pendaftaran"]
    assert reg["nama"] == NAME and reg["instansi"] == "PKK Babulu"
    assert reg["tiket"] == person.ticket
    assert len(reg["kehadiran"]) == 2
    first = reg["kehadiran"][0]
    assert first["status"] == "Hadir" and first["tanda_tangan_svg"] == SIGNATURE
    assert first["tanda"] and first["tanda"][0]["berlaku"] is True
    assert reg["kehadiran"][1]["status"] is None
    assert reg["sertifikat"]["kode"] == person.certificate
    [member] = data["anggota_kim"]
    assert member["nama"] == NAME and member["nomor_whatsapp"] == "0813-7771-2468"


def test_export_is_audited_with_counts_only(app, client, login, make_user, person):
    """``person.export`` is recorded with counts; neither the name nor the number."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    client.get(f"/laporan/orang/{person.registration_id}/data.json")
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "person.export"))
    assert entry.changes == {"format": "json", "rows": 1, "members": 1}
    assert entry.region_code == PPU


def test_export_runs_constant_queries(app, client, login, make_user, person, make_event):
    """Six more registrations with marks cost no more queries."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(operator)
    url = f"/laporan/orang/{person.registration_id}/data.json"
    with counted_queries(app) as few:
        client.get(url)
    more = [make_event(region=PPU).id for _ in range(6)]
    with app.test_request_context():
        for event_id in more:
            event = db.session.get(Event, event_id)
            reg, _new = register_person(event, PersonData(NAME, PHONE), Source.MANDIRI)
            for session in event.sessions:
                mark_attendance(reg, session, Presence.HADIR, None)
        db.session.commit()
    with counted_queries(app) as many:
        response = client.get(url)
    assert len(json.loads(response.data)["pendaftaran"]) == 7
    assert len(many) == len(few)


# --- erasure -----------------------------------------------------------------------------------


def _figures(app, person: Person) -> dict:
    """The counts erasure must keep: the regency dashboard's figures and the sessions' tallies."""
    with app.test_request_context():
        from kim_app.regions.models import Region

        area = db.session.get(Region, PPU)
        dates = queries.DateRange(date.today() - timedelta(days=30), date.today() + timedelta(30))
        part = queries.participation(area, dates)
        event = db.session.get(Event, person.event_id)
        return {
            "registrations": part.registrations,
            "sessions": part.sessions,
            "expected": part.expected,
            "present": part.present,
            "people": part.people,
            "genders": part.genders,
            "counts": [session_counts(s) for s in event.sessions],
            "marks": db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceMark)),
            "attendance": db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)),
        }


def test_erase_refuses_a_wrong_confirmation(app, client, login, make_user, person):
    """Typing the wrong digits changes nothing (422, the form again)."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    url = f"/laporan/orang/{person.registration_id}/hapus"
    page = client.get(url)
    assert page.status_code == 200 and "4 angka terakhir" in html_of(page)
    response = client.submit(url, {"konfirmasi": "1111"})
    assert response.status_code == 422
    assert "Konfirmasi tidak cocok" in html_of(response)
    with app.app_context():
        assert db.session.get(Registration, person.registration_id).name == NAME


def test_erase_anonymises_and_keeps_every_count(app, client, login, make_user, person):
    """After erasure: no name or number anywhere in scope, old ticket gone, signature removed,
    certificate revoked, member anonymised, audit log scrubbed; every count the same; the
    Majalengka registration untouched; a search for the number finds nobody."""
    before = _figures(app, person)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    url = f"/laporan/orang/{person.registration_id}/hapus"
    response = client.submit(url, {"konfirmasi": "2468"})
    assert response.status_code == 303
    assert _figures(app, person) == before
    with app.app_context():
        reg = db.session.get(Registration, person.registration_id)
        assert (reg.name, reg.phone, reg.institution, reg.member_id) == (
            "Peserta dihapus",
            None,
            "",
            None,
        )
        assert reg.ticket != person.ticket and reg.kim_id == person.kim_id
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Attendance)
                .where(Attendance.signature.is_not(None))
            )
            == 0
        )
        certificate = db.session.scalar(
            sa.select(Certificate).where(Certificate.registration_id == reg.id)
        )
        assert certificate.revoked_at is not None and certificate.code == person.certificate
        member = db.session.get(Member, person.member_id)
        assert (member.name, member.phone, member.position) == (
            "Anggota dihapus",
            None,
            Position.ANGGOTA,
        )
        outside = db.session.get(Registration, person.outside_id)
        assert (outside.name, outside.phone) == (NAME, PHONE)
        in_scope = db.session.execute(
            sa.select(AuditEntry.action, AuditEntry.changes).where(AuditEntry.region_code == PPU)
        ).all()
        assert in_scope and not any(
            NAME in json.dumps(c) or shows_number(json.dumps(c)) for _a, c in in_scope
        )
        erased = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "person.erase"))
        assert erased.changes == {
            "registrations": 1,
            "signatures": 1,
            "certificates": 1,
            "members": 1,
            "audit_entries": 1,
        }
    assert client.get(f"/e/{person.code}/tiket/{person.ticket}").status_code == 404
    with app.app_context():  # issuing again does not bring the certificate back
        reg = db.session.get(Registration, person.registration_id)
        assert reg.erased_at is not None
        for session in reg.event.sessions:  # the event is over: issuing may go ahead
            session.starts_at -= timedelta(days=3)
            session.ends_at -= timedelta(days=3)
        issue_certificates(reg.event, None)
        db.session.commit()
        certificate = db.session.scalar(
            sa.select(Certificate).where(Certificate.registration_id == reg.id)
        )
        assert certificate.revoked_at is not None
    found = html_of(client.get("/laporan/orang?q=081377712468"))
    assert "0 orang ditemukan" in found and NAME not in found


def test_erase_by_the_word_for_a_person_without_number(app, client, login, make_user, make_event):
    """A registration without a number is a person of its own: HAPUS erases that one only."""
    event = make_event(region=PPU)
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        lone, _ = register_person(
            loaded, PersonData("Tamu Tanpa Nomor", ""), Source.WALK_IN, phone_required=False
        )
        kept, _ = register_person(
            loaded, PersonData("Tamu Lain", ""), Source.WALK_IN, phone_required=False
        )
        db.session.commit()
        lone_id, kept_id = lone.id, kept.id
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    url = f"/laporan/orang/{lone_id}/hapus"
    assert "kata HAPUS" in html_of(client.get(url))
    assert client.submit(url, {"konfirmasi": "hapus"}).status_code == 303
    with app.app_context():
        assert db.session.get(Registration, lone_id).name == "Peserta dihapus"
        assert db.session.get(Registration, kept_id).name == "Tamu Lain"


def test_erase_htmx_answers_with_a_redirect(app, client, login, make_user, person, partial_headers):
    """Over htmx the form comes back as a fragment, and success sends the page to the search."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    url = f"/laporan/orang/{person.registration_id}/hapus"
    fragment = client.get(url, headers=partial_headers)
    assert "<html" not in html_of(fragment) and 'id="hapus-orang"' in html_of(fragment)
    response = client.submit(url, {"konfirmasi": "HAPUS"}, headers=partial_headers)
    assert response.headers["HX-Redirect"] == "/laporan/orang"


# --- phone numbers by role ---------------------------------------------------------------------


def _pages_for(person: Person) -> dict[str, str]:
    return {
        "directory": "/direktori",
        "profile": f"/direktori/{person.kim_id}",
        "public_event": f"/e/{person.code}",
        "ticket": f"/e/{person.code}/tiket/{person.ticket}",
        "verify": f"/v/{person.certificate}",
        "self_check_in": f"/e/{person.code}/hadir",
        "lost_ticket": f"/e/{person.code}/tiket-hilang",
    }


def test_public_pages_never_show_the_number(app, client, person):
    """Directory, KIM profile, public event, ticket, verification, self check-in page and its
    answer, the lost-ticket form: no spelling of the number."""
    for name, url in _pages_for(person).items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert not shows_number(html_of(response)), name
    answer = client.submit(
        f"/e/{person.code}/hadir", {"who": person.ticket, "tanda_tangan": SIGNATURE}
    )
    assert answer.status_code in (200, 303)
    followed = client.get(answer.location) if answer.location else answer
    assert NAME in html_of(followed) or "Hadir" in html_of(followed)
    assert not shows_number(html_of(followed))


def test_petugas_sees_no_number(app, client, login, make_user, person):
    """The petugas absensi's scan page and its verdict for the person: no number."""
    login(make_user(Role.PETUGAS_ABSENSI, PPU, event_id=person.event_id))
    page = client.get(f"/absensi/sesi/{person.sessions[0]}/pindai")
    assert page.status_code == 200 and not shows_number(html_of(page))
    verdict = client.submit(f"/absensi/sesi/{person.sessions[0]}/pindai", {"kode": person.ticket})
    shown = html_of(client.get(verdict.location)) if verdict.location else html_of(verdict)
    assert NAME in shown and not shows_number(shown)


def test_daftar_hadir_masks_the_number(app, person):
    """The daftar hadir (PDF source) shows 0813-****-2468, never the whole number."""
    with app.test_request_context():
        event = db.session.get(Event, person.event_id)
        html = daftar_hadir_html(
            event,
            event.sessions[0],
            1,
            blank=True,
            people=session_people(event.sessions[0]),
        )
    assert "0813-****-2468" in html and not shows_number(html)


def test_operators_see_the_full_number(app, client, login, make_user, person):
    """Operators call participants: participant list, person search and person page."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    for url in (
        f"/kegiatan/{person.event_id}/peserta",
        "/laporan/orang?q=Wulandari",
        f"/laporan/orang/{person.registration_id}",
    ):
        assert "0813-7771-2468" in html_of(client.get(url)), url


@pytest.mark.parametrize("role", [Role.KEPALA_DESA, Role.PENGURUS_KIM])
def test_village_roles_see_their_members_numbers(app, client, login, make_user, person, role):
    """The KIM's own village head and pengurus see their members' numbers in full."""
    extra = {"kim_id": person.kim_id} if role is Role.PENGURUS_KIM else {}
    login(make_user(role, PPU_VILLAGE, **extra))
    assert "0813-7771-2468" in html_of(client.get(f"/kim/{person.kim_id}/anggota"))


def test_other_village_head_sees_no_number(app, client, login, make_user, person):
    """Another village's head is not shown the members (404) and so no number."""
    login(make_user(Role.KEPALA_DESA, MAJALENGKA_VILLAGE))
    response = client.get(f"/kim/{person.kim_id}/anggota")
    assert response.status_code == 404 and not shows_number(html_of(response))


# --- logs --------------------------------------------------------------------------------------

LOGGERS = ("kim_app", "werkzeug", "flask_wtf", "flask_limiter")


def _serve_once(app, path: str) -> None:
    """One request through werkzeug's development server, whose request log is what leaks."""
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}")
        opener = urllib.request.build_opener(NoRedirect)
        # the redirect to the sign-in page is an HTTPError: the request line is logged all the same
        with contextlib.suppress(urllib.error.HTTPError):
            opener.open(request, timeout=10)
    finally:
        thread.join(10)
        server.server_close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _listening(monkeypatch, caplog) -> None:
    """Every logger of the app and of werkzeug at DEBUG and enabled: the migrations' logging
    file config (run by the ``app`` fixture) disables loggers that existed before it."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] in LOGGERS:
            monkeypatch.setattr(logging.getLogger(name), "disabled", False)


def test_no_personal_data_in_logs(app, client, login, make_user, make_event, caplog, monkeypatch):
    """Registration, sign-in, self check-in, a lost-ticket search, a search by number (also
    through the development server's request log) and an erasure: neither the name nor the
    number in any log record."""
    _listening(monkeypatch, caplog)
    event = make_event(region=PPU, days=1)
    with app.app_context():
        loaded = db.session.get(Event, event.id)
        first = loaded.sessions[0]
        first.starts_at = local_now(loaded).replace(second=0, microsecond=0) + timedelta(minutes=30)
        first.ends_at = first.starts_at + timedelta(hours=2)
        db.session.commit()
    registered = client.submit(
        f"/e/{event.code}",
        {
            "name": NAME,
            "phone": "0813-7771-2468",
            "gender": "P",
            "institution": "PKK",
            "consent": "y",
        },
    )
    assert registered.status_code == 303
    ticket = registered.location.rsplit("/", 1)[-1]
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    signed_in = client.submit("/login", {"email": operator.email, "password": PASSWORD})
    assert signed_in.status_code in (302, 303)
    client.post("/logout", data={"csrf_token": client.token("/kata-sandi")})
    checked = client.submit(f"/e/{event.code}/hadir", {"who": ticket})
    assert checked.status_code in (200, 303)
    found = client.submit(
        f"/e/{event.code}/tiket-hilang", {"phone": "0813-7771-2468", "name": "wulandari"}
    )
    assert found.status_code == 303
    client.submit("/login", {"email": operator.email, "password": PASSWORD})
    assert NAME in html_of(client.get("/laporan/orang?q=081377712468"))
    _serve_once(app, "/laporan/orang?q=081377712468&nama=Wulandari+Sekarwangi")
    with app.app_context():
        reg_id = db.session.scalar(sa.select(Registration.id).where(Registration.phone == PHONE))
    assert (
        client.submit(f"/laporan/orang/{reg_id}/hapus", {"konfirmasi": "2468"}).status_code == 303
    )
    served = [
        r for r in caplog.records if r.name == "werkzeug" and "/laporan/orang" in r.getMessage()
    ]
    assert served, "the development server's request line was not captured"
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert NAME not in text and "Wulandari" not in text, text
        assert not shows_number(text), text


# --- the audit-log viewer ----------------------------------------------------------------------


def _entries(app, n: int, region: str, action: str = "registration.update", **changes) -> None:
    with app.app_context():
        for i in range(n):
            audit.record(action, "registration", i + 1, region_code=region, changes=changes)
        db.session.commit()


def test_log_shows_scope_newest_first_with_masked_numbers(app, client, login, make_user):
    """A PPU operator sees PPU entries, not Majalengka's; numbers in changes are masked; the
    action is labelled."""
    _entries(app, 1, MAJALENGKA_VILLAGE, action="kim.update", note="di luar")
    _entries(app, 1, PPU_VILLAGE, action="registration.update", phone_written="081377712468")
    _entries(app, 1, PPU_VILLAGE, action="attendance.mark", status="hadir")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    html = html_of(client.get("/log-audit"))
    assert "di luar" not in html
    assert html.index("Tanda hadir") < html.index("Peserta diubah")
    assert "0813****2468" in html and not shows_number(html)


def test_log_admin_sees_everything(app, client, login, make_user):
    """The admin sees entries of every region and those without one."""
    _entries(app, 1, MAJALENGKA_VILLAGE, note="majalengka")
    _entries(app, 1, None, note="tanpa-wilayah")
    login(make_user(Role.ADMIN, None))
    html = html_of(client.get("/log-audit"))
    assert "majalengka" in html and "tanpa-wilayah" in html


def test_log_filters(app, client, login, make_user):
    """By action, by actor (name or email) and by dates (WIB days)."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU, name="Operator Penajam")
    _entries(app, 2, PPU_VILLAGE, action="attendance.mark", note="tandai")
    with app.app_context():
        audit.record(
            "kim.update",
            "kim",
            9,
            region_code=PPU_VILLAGE,
            actor=operator,
            changes={"note": "oleh-operator"},
        )
        db.session.commit()
    login(operator)
    marks = html_of(client.get("/log-audit?aksi=attendance.mark"))
    assert "tandai" in marks and "oleh-operator" not in marks
    mine = html_of(client.get("/log-audit?pelaku=penajam"))
    assert "oleh-operator" in mine and "tandai" not in mine
    today = date.today()
    assert "tandai" in html_of(
        client.get(f"/log-audit?dari={today - timedelta(1)}&sampai={today + timedelta(1)}")
    )
    later = html_of(client.get(f"/log-audit?dari={today + timedelta(days=2)}"))
    assert "tandai" not in later and "Tidak ada catatan" in later
    assert client.get("/log-audit?aksi=<script>&dari=kemarin&sebelum=x").status_code == 200


def test_log_pages_by_50(app, client, login, make_user, partial_headers):
    """51 entries: 50 on the first page, the 51st behind "Berikutnya" (a fragment over htmx)."""
    _entries(app, 51, PPU_VILLAGE)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    with app.app_context():  # the 51 and the account's own creation
        total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    first = html_of(client.get("/log-audit"))
    assert first.count("<li>") == 50 and "Peserta #1<br>" not in first
    next_url = re.search(r'href="(/log-audit\?sebelum=\d+)"', first).group(1)
    second = html_of(client.get(next_url, headers=partial_headers))
    assert "<html" not in second and second.count("<li>") == total - 50
    assert "Peserta #1<br>" in second


def test_log_weight_and_constant_queries(app, client, login, make_user):
    """A full page of long entries fits 14 KB gzip; 5 entries or 300 cost the same queries."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    _entries(app, 5, PPU_VILLAGE, note="x" * 200)
    with counted_queries(app) as few:
        client.get("/log-audit")
    _entries(app, 295, PPU_VILLAGE, note="y" * 200, fields=["name", "phone", "institution"])
    with counted_queries(app) as many:
        response = client.get("/log-audit")
    assert len(many) == len(few)
    assert page_weight(response) <= PAGE_BUDGET


def test_erase_page_weight(app, client, login, make_user, person):
    """The confirmation page fits the budget."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    assert page_weight(client.get(f"/laporan/orang/{person.registration_id}/hapus")) <= PAGE_BUDGET


def test_summary_masks_numbers_but_not_dates_or_counts():
    """Phone-like runs are masked; dates and small numbers stay."""
    assert mask_numbers("nomor +6281377712468") == "nomor 0813-****-2468"
    assert mask_numbers("0813-7771-2468") == "0813****2468"
    assert summarise({"dari": "2026-01-05", "rows": 12}) == "dari: 2026-01-05; rows: 12"
    assert len(summarise({"note": "z" * 500})) <= 140


def test_every_audited_action_has_a_label_in_the_log():
    """Each action the code writes to the audit log reads as words in the log's list and its
    filter, not as a code (``evaluation.settings``)."""
    import re

    from kim_app import ROOT
    from kim_app.reports.privacy.queries import ACTION_LABELS

    written = set()
    for path in (ROOT / "kim_app").rglob("*.py"):
        text = path.read_text()
        written |= set(
            re.findall(r'(?:audit\.record|audit\.entry|_audit)\(\s*"([a-z_]+\.[a-z_]+)"', text)
        )
    assert written, "no audited action found: the pattern no longer matches the code"
    assert sorted(written - ACTION_LABELS.keys()) == []
