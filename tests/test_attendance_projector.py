"""The hall's projector screen for self check-in (issue 22 item 6): the check-in QR code and link,
the venue PIN in large type, the live count of the session at hand, refreshed by htmx polling or,
without JavaScript, by a meta refresh; for the event's operators and its petugas absensi."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest

from kim_app.attendance.models import Presence
from kim_app.attendance.operations import mark_attendance
from kim_app.auth.models import Role
from kim_app.events.models import Event, EventStatus, Source
from kim_app.events.operations import PersonData, local_now, register_person
from kim_app.extensions import db
from tests.budget import FRAGMENT_BUDGET, PAGE_BUDGET, gzip_size, page_weight
from tests.conftest import PPU, html_of

SCOPE_CHECKED = {"attendance.projector"}
WEIGHED = {"attendance.projector"}

PHONES = itertools.count(1)


def hall_event(
    app, make_event, *, starts_in=timedelta(minutes=30), checkin=True, **overrides
) -> Event:
    """A two-session event whose first session starts ``starts_in`` from now (self check-in
    opens 60 minutes before, or is off), the second one tomorrow; venue PIN 482913."""
    event = make_event(days=1, sessions_per_day=2, venue_pin="482913", **overrides)
    with app.app_context():
        loaded = db.session.get(Event, event.id)
        loaded.checkin_opens_minutes = 60 if checkin else None
        first = loaded.sessions[0]
        first.starts_at = local_now(loaded).replace(second=0, microsecond=0) + starts_in
        first.ends_at = first.starts_at + timedelta(hours=2)
        second = loaded.sessions[1]
        second.starts_at = first.starts_at + timedelta(days=1)
        second.ends_at = second.starts_at + timedelta(hours=2)
        loaded.starts_on = first.starts_at
        db.session.commit()
    return event


def registered(app, event_id: int, n: int, present: int) -> None:
    """``n`` people registered, the first ``present`` of them hadir in the first session."""
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        for i in range(n):
            reg, _new = register_person(
                event, PersonData(f"Peserta {i}", f"0812{next(PHONES):08d}"), Source.MANDIRI
            )
            if i < present:
                mark_attendance(reg, event.sessions[0], Presence.HADIR, None)
        db.session.commit()


def test_screen_shows_qr_link_pin_and_count(app, client, operator, make_event):
    """The page has the QR code of /e/<code>/hadir, the link written out, the PIN grouped in
    threes, "2 of 3 present" for the session taking check-ins, an htmx poll every 10 s and a
    meta refresh inside <noscript>; the overview and the settings link to it."""
    event = hall_event(app, make_event)
    registered(app, event.id, 3, present=2)
    url = f"/absensi/kegiatan/{event.id}/layar"
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    page = html_of(response)
    assert "<svg" in page and "Kode QR presensi mandiri" in page
    assert f"localhost/e/{event.code}/hadir" in page
    assert '<p class="pj-pin">482 913</p>' in page
    assert re.search(r"<strong>2</strong>\s*<span>dari 3 peserta sudah hadir", page)
    assert 'hx-trigger="every 10s"' in page and f'hx-get="{url}"' in page
    assert re.search(r'<noscript><meta http-equiv="refresh" content="\d+"></noscript>', page)
    for page_url in (f"/absensi/kegiatan/{event.id}", f"/absensi/kegiatan/{event.id}/pengaturan"):
        assert f'href="{url}"' in html_of(client.get(page_url))


def test_poll_gets_the_live_part_only(app, client, operator, make_event, partial_headers):
    """An htmx poll gets the live section (no page, no QR code), with the new count."""
    event = hall_event(app, make_event)
    registered(app, event.id, 4, present=1)
    url = f"/absensi/kegiatan/{event.id}/layar"
    first = html_of(client.get(url, headers=partial_headers))
    assert first.startswith('<section id="layar-langsung"') and "<html" not in first
    assert "<svg" not in first and "<strong>1</strong>" in first
    registered(app, event.id, 1, present=1)
    assert "<strong>2</strong>" in html_of(client.get(url, headers=partial_headers))


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("later", "Presensi mandiri dibuka pukul"),
        ("over", "presensi mandiri sudah ditutup"),
        ("off", "Presensi mandiri tidak dipakai"),
        ("cancelled", "Kegiatan ini dibatalkan."),
    ],
)
def test_screen_says_when_check_in_is_not_open(app, client, operator, make_event, case, expected):
    """Before the window opens it says when; after the last session, that it is closed; with
    self check-in off or the event cancelled, so; the PIN is shown only while check-in is open."""
    overrides = {}
    starts_in = timedelta(minutes=30)
    if case == "later":
        starts_in = timedelta(hours=3)
    elif case == "over":
        starts_in = timedelta(days=-3)
    elif case == "off":
        overrides["checkin"] = False
    elif case == "cancelled":
        overrides["status"] = EventStatus.DIBATALKAN
    event = hall_event(app, make_event, starts_in=starts_in, **overrides)
    if case == "later":
        with app.app_context():
            now = local_now(db.session.get(Event, event.id))
        if (now + timedelta(hours=2)).date() != now.date():
            # late in the evening the window opens tomorrow, and the screen says on which day
            expected = "Presensi mandiri dibuka lagi pada"
    page = html_of(client.get(f"/absensi/kegiatan/{event.id}/layar"))
    assert expected in page
    assert "482 913" not in page


def test_petugas_of_the_event_only(app, client, make_user, login, make_event):
    """The event's petugas absensi opens the screen (and is linked to it from the scan page);
    the petugas of another event, an operator out of scope and a village head cannot."""
    event = hall_event(app, make_event)
    other = hall_event(app, make_event)
    url = f"/absensi/kegiatan/{event.id}/layar"
    login(make_user(Role.PETUGAS_ABSENSI, PPU, event_id=event.id))
    assert client.get(url).status_code == 200
    scan = client.get(f"/absensi/sesi/{db_first_session(app, event.id)}/pindai")
    assert f'href="{url}"' in html_of(scan)
    login(make_user(Role.PETUGAS_ABSENSI, PPU, event_id=other.id))
    assert client.get(url).status_code == 404
    login(make_user(Role.OPERATOR_KABKOTA, "32.10"))
    assert client.get(url).status_code == 404
    login(make_user(Role.KEPALA_DESA, "64.09.03.2006"))
    assert client.get(url).status_code == 403


def db_first_session(app, event_id: int) -> int:
    with app.app_context():
        return db.session.get(Event, event_id).sessions[0].id


def test_weights(app, client, operator, make_event, partial_headers):
    """The screen fits a page's budget and its poll a fragment's, in both languages."""
    event = hall_event(app, make_event, title="Pelatihan " + "Literasi Digital " * 10)
    registered(app, event.id, 3, present=2)
    url = f"/absensi/kegiatan/{event.id}/layar"
    for lang in ("id", "en"):
        client.post("/bahasa", data={"lang": lang, "csrf_token": client.token(url)})
        response = client.get(url)
        assert response.status_code == 200 and 'class="pj-pin"' in html_of(response)
        assert page_weight(response) <= PAGE_BUDGET
        poll = client.get(url, headers=partial_headers)
        assert poll.status_code == 200 and 'id="layar-langsung"' in html_of(poll)
        assert gzip_size(poll.data) <= FRAGMENT_BUDGET
