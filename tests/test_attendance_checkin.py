"""Self check-in at /e/<code>/hadir: the window, identifying a person by number, code or ticket,
the venue PIN, verdicts, signatures, the rate limit, privacy, and the links on the public page
and the ticket."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kim_app.attendance.models import AttendanceMark, Method, Presence
from kim_app.events.models import EventStatus, Registration
from kim_app.events.operations import cancel_registration
from kim_app.extensions import db
from tests.budget import FRAGMENT_BUDGET, PAGE_BUDGET, counted_queries, gzip_size, page_weight
from tests.conftest import html_of
from tests.helpers import attendance_rows
from tests.scenes import CHECKIN_NAME, PHONE, add_registration, open_now

PUBLIC = {"attendance.self_check_in"}
WEIGHED = {"attendance.self_check_in", "events.ticket", "events.public_event"}

SIGNATURE = "M10 20L12 24L20 30M40 50L60 70"


def _post(client, code: str, **data):
    return client.submit(f"/e/{code}/hadir", data, follow_redirects=True)


# --- the page ---------------------------------------------------------------------------------------


def test_form_shown_inside_the_window(client, opened):
    """Inside the window the page names the session and asks for a number or code."""
    event, _sid, _reg = opened()
    html = html_of(client.get(f"/e/{event.code}/hadir"))
    assert "Nomor WhatsApp atau kode tiket" in html
    assert "Sesi 1.1" in html
    assert "PIN di layar ruangan" not in html  # no PIN set
    assert "tanda_tangan" not in html  # signatures off


def test_no_form_outside_the_window_says_when_it_opens(client, make_event):
    """Before the window the page says when check-in opens, with the zone label, and has no form."""
    event = make_event(region="64.09")
    html = html_of(client.get(f"/e/{event.code}/hadir"))
    assert '<form method="post" action="/e/' not in html
    assert "Presensi mandiri dibuka lagi pada" in html and "08.00 WITA" in html


def test_post_outside_the_window_is_refused(app, client, make_event):
    """A post with no open window is a 422 and marks nobody."""
    event = make_event()
    add_registration(app, event.id)
    response = client.submit(f"/e/{event.code}/hadir", {"who": PHONE}, form_page=f"/e/{event.code}")
    assert response.status_code == 422
    assert attendance_rows(app) == []


def test_self_check_in_off_and_cancelled_say_so(app, client, make_event):
    """With self check-in off, or the event cancelled, the page says so instead of a form."""
    event = make_event()
    open_now(app, event.id, checkin_opens_minutes=None)
    assert "tidak dipakai" in html_of(client.get(f"/e/{event.code}/hadir"))
    other = make_event()
    open_now(app, other.id, status=EventStatus.DIBATALKAN)
    html = html_of(client.get(f"/e/{other.code}/hadir"))
    assert "Kegiatan ini dibatalkan." in html and 'name="who"' not in html


def test_draft_event_is_not_found(client, make_event):
    """A draft event has no check-in page (and no post)."""
    event = make_event(status=EventStatus.DRAFT)
    assert client.get(f"/e/{event.code}/hadir").status_code == 404
    response = client.submit(f"/e/{event.code}/hadir", {"who": PHONE}, form_page="/login")
    assert response.status_code == 404


# --- identifying the person ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["0812-3456-7001", "+62 812 3456 7001", "6281234567001", "081234567001"]
)
def test_check_in_by_phone_in_any_spelling(app, client, opened, typed):
    """The number as people write it finds the registration; the mark is hadir by self check-in.
    A number is no secret, so the answer names the person by initials only (issue 21 item 8)."""
    event, session_id, registration = opened()
    html = html_of(_post(client, event.code, who=typed))
    assert "Hadir tercatat" in html and "S. R." in html and CHECKIN_NAME not in html
    assert "Siti" not in html and "Rahmawati" not in html
    assert "WITA" in html  # the time with its zone
    rows = attendance_rows(app)
    assert [(r.registration_id, r.session_id, r.status, r.method) for r in rows] == [
        (registration.id, session_id, Presence.HADIR, Method.SELF)
    ]
    assert rows[0].recorded_by_id is None


def test_check_in_by_code_grouped_or_lowercase(app, client, opened):
    """The 8-character check-in code, typed in lower case with a space, finds the person."""
    event, _sid, registration = opened()
    typed = f"{registration.checkin_code[:4].lower()} {registration.checkin_code[4:].lower()}"
    assert "Hadir tercatat" in html_of(_post(client, event.code, who=typed))
    assert len(attendance_rows(app)) == 1


def test_ticket_link_prefills_the_person(app, client, opened):
    """``?tiket=`` shows the person's name, drops the number field and checks them in."""
    event, _sid, registration = opened()
    path = f"/e/{event.code}/hadir?tiket={registration.ticket}"
    html = html_of(client.get(path))
    assert CHECKIN_NAME in html and 'name="who"' not in html
    response = client.submit(
        f"/e/{event.code}/hadir",
        {"tiket": registration.ticket},
        form_page=path,
        follow_redirects=True,
    )
    assert "Hadir tercatat" in html_of(response)
    assert attendance_rows(app)[0].registration_id == registration.id


def test_unknown_person_is_422_with_the_message(app, client, opened):
    """A number or code not registered in this event is a 422 with a clear message."""
    event, _sid, _reg = opened()
    for typed in ("0812-9999-0000", "ZZZZ ZZZZ", "bukan nomor"):
        response = client.submit(f"/e/{event.code}/hadir", {"who": typed})
        assert response.status_code == 422
        assert "Nomor atau kode tidak terdaftar di kegiatan ini" in html_of(response)
    assert client.submit(f"/e/{event.code}/hadir", {"who": ""}).status_code == 422
    assert attendance_rows(app) == []


def test_someone_in_another_event_is_not_found(app, client, opened, make_event):
    """A registration of another event does not check in here."""
    event, _sid, _reg = opened()
    other = make_event()
    stranger = add_registration(app, other.id, "Orang Lain", "0812-3456-7002")
    response = client.submit(f"/e/{event.code}/hadir", {"who": stranger.checkin_code})
    assert response.status_code == 422
    assert attendance_rows(app) == []


# --- the PIN --------------------------------------------------------------------------------------------


def test_wrong_pin_is_refused_and_nothing_marked(app, client, opened):
    """With a venue PIN, a wrong or missing PIN is a 422 'PIN salah' and no attendance row."""
    event, _sid, _reg = opened(venue_pin="4821")
    assert "PIN di layar ruangan" in html_of(client.get(f"/e/{event.code}/hadir"))
    for pin in ("1111", ""):
        response = client.submit(f"/e/{event.code}/hadir", {"who": PHONE, "pin": pin})
        assert response.status_code == 422
        assert "PIN salah" in html_of(response)
    assert attendance_rows(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceMark)) == 0


def test_right_pin_checks_in(app, client, opened):
    """The right PIN (spaces around it forgiven) checks the person in by self check-in."""
    event, _sid, _reg = opened(venue_pin="4821")
    assert "Hadir tercatat" in html_of(_post(client, event.code, who=PHONE, pin=" 4821 "))
    assert attendance_rows(app)[0].method is Method.SELF


# --- verdicts ---------------------------------------------------------------------------------------------


def test_second_check_in_is_already_with_the_first_time(app, client, opened):
    """Checking in again says 'already' (amber) with the first time; still one row."""
    event, _sid, _reg = opened()
    _post(client, event.code, who=PHONE)
    html = html_of(_post(client, event.code, who=PHONE))
    assert "Sudah tercatat hadir" in html and "hasil-already" in html
    assert "Sudah tercatat sejak pukul" in html
    assert len(attendance_rows(app)) == 1


def test_same_form_sent_twice_is_applied_once(app, client, opened):
    """A double submit (the same client id) leaves one mark; the same page for someone else is new."""
    event, _sid, _reg = opened()
    other = add_registration(app, event.id, "Budi Santoso", "0812-3456-7003")
    token = client.token(f"/e/{event.code}/hadir")
    data = {"csrf_token": token, "client_id": "halaman-uji-123"}
    client.post(f"/e/{event.code}/hadir", data=data | {"who": PHONE})
    client.post(f"/e/{event.code}/hadir", data=data | {"who": PHONE})
    response = client.post(
        f"/e/{event.code}/hadir", data=data | {"who": other.checkin_code}, follow_redirects=True
    )
    assert "Hadir tercatat" in html_of(response) and "Budi Santoso" in html_of(response)
    assert len(attendance_rows(app)) == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceMark)) == 2


def test_waiting_and_cancelled_get_red_verdicts(app, client, make_event):
    """Someone on the waiting list or cancelled is told so (red) and not marked."""
    event = make_event(capacity=1)
    open_now(app, event.id)
    add_registration(app, event.id)
    waiting = add_registration(app, event.id, "Budi Santoso", "0812-3456-7003")
    html = html_of(_post(client, event.code, who=waiting.checkin_code))
    assert "Masih di daftar tunggu" in html and "hasil-waiting" in html
    with app.app_context():
        registration = db.session.scalar(
            sa.select(Registration).where(Registration.phone == "+6281234567001")
        )
        cancel_registration(registration, None)
        db.session.commit()
    html = html_of(_post(client, event.code, who=PHONE))
    assert "Pendaftaran dibatalkan" in html and "hasil-cancelled" in html
    assert [a.status for a in attendance_rows(app)] == []


def test_plain_post_redirects_and_shows_the_verdict_once(app, client, opened):
    """Without htmx the post redirects (303) and the verdict shows once, then the form again."""
    event, _sid, _reg = opened()
    response = client.submit(f"/e/{event.code}/hadir", {"who": PHONE})
    assert response.status_code == 303
    assert "Hadir tercatat" in html_of(client.get(response.headers["Location"]))
    assert 'name="who"' in html_of(client.get(f"/e/{event.code}/hadir"))


def test_htmx_post_answers_with_the_verdict_fragment(client, opened, partial_headers):
    """An htmx post gets the verdict section only, within the fragment budget."""
    event, _sid, _reg = opened()
    token = client.token(f"/e/{event.code}/hadir")
    response = client.post(
        f"/e/{event.code}/hadir",
        data={"csrf_token": token, "who": PHONE},
        headers=partial_headers,
    )
    html = html_of(response)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<section id="presensi"')
    assert "Hadir tercatat" in html
    size = gzip_size(response.data)
    print(f"verdict fragment: {size} bytes gzip")
    assert size <= FRAGMENT_BUDGET


def test_htmx_errors_come_back_as_the_form_with_422(client, opened, partial_headers):
    """An htmx post with a wrong PIN gets the form section with 422."""
    event, _sid, _reg = opened(venue_pin="4821")
    token = client.token(f"/e/{event.code}/hadir")
    response = client.post(
        f"/e/{event.code}/hadir",
        data={"csrf_token": token, "who": PHONE, "pin": "0000"},
        headers=partial_headers,
    )
    assert response.status_code == 422
    assert "<html" not in html_of(response) and "PIN salah" in html_of(response)


# --- privacy ------------------------------------------------------------------------------------------


def test_no_phone_numbers_or_other_data_on_the_page(app, client, opened):
    """The verdict never shows a phone number or institution; the name in full only to whoever
    typed the check-in code (a secret of the ticket), initials to whoever typed a number."""
    event, _sid, _reg = opened()
    with app.app_context():
        registration = db.session.scalar(sa.select(Registration))
        registration.institution = "Dinas Rahasia"
        code = registration.checkin_code
        db.session.commit()
    by_number = html_of(_post(client, event.code, who=PHONE))
    assert "S. R." in by_number and CHECKIN_NAME not in by_number
    by_code = html_of(_post(client, event.code, who=code))
    assert CHECKIN_NAME in by_code
    for html in (by_number, by_code):
        for hidden in ("3456", "7001", "+62", "Dinas Rahasia"):
            assert hidden not in html


def test_pages_are_private_and_never_cached(client, opened):
    """The check-in page is not cached or indexed."""
    event, _sid, _reg = opened()
    response = client.get(f"/e/{event.code}/hadir")
    assert "no-store" in response.headers["Cache-Control"]
    assert "noindex" in response.headers["X-Robots-Tag"]


# --- signatures --------------------------------------------------------------------------------------


def test_signature_pad_only_when_signatures_are_on(client, opened):
    """The pad (hidden, revealed by the script) and its script appear only with signatures on."""
    event, _sid, _reg = opened(signatures=True)
    html = html_of(client.get(f"/e/{event.code}/hadir"))
    assert 'name="tanda_tangan"' in html and "<canvas" in html and "signature.js" in html
    assert "Tanpa JavaScript: tanda tangani daftar hadir kertas." in html


def test_signature_is_saved_with_the_attendance(app, client, opened):
    """A drawn signature is stored with the attendance row."""
    event, _sid, _reg = opened(signatures=True)
    assert "Hadir tercatat" in html_of(_post(client, event.code, who=PHONE, tanda_tangan=SIGNATURE))
    assert attendance_rows(app)[0].signature == SIGNATURE


def test_check_in_without_signature_is_accepted(app, client, opened):
    """Without JavaScript there is no pad: the check-in goes through with no signature."""
    event, _sid, _reg = opened(signatures=True)
    assert "Hadir tercatat" in html_of(_post(client, event.code, who=PHONE))
    assert attendance_rows(app)[0].signature is None


@pytest.mark.parametrize(
    "bad",
    [
        "M10 20" + "L123 45" * 1300,  # over 8 KB
        "M10 20L<script>",
        'M10 20"/><circle r="9',
        "C10 20 30 40 50 60",
    ],
)
def test_bad_signature_is_422_and_nothing_marked(app, client, opened, bad):
    """A too long or malformed signature is a 422 with the message; nobody is marked."""
    event, _sid, _reg = opened(signatures=True)
    response = client.submit(f"/e/{event.code}/hadir", {"who": PHONE, "tanda_tangan": bad})
    assert response.status_code == 422
    assert "Tanda tangan tidak terbaca" in html_of(response)
    assert 'name="tanda_tangan" value=""' in html_of(response)  # not echoed back
    assert attendance_rows(app) == []


def test_signature_ignored_when_signatures_are_off(app, client, opened):
    """A signature sent to an event without signatures is not stored."""
    event, _sid, _reg = opened()
    _post(client, event.code, who=PHONE, tanda_tangan=SIGNATURE)
    assert attendance_rows(app)[0].signature is None


# --- limits ---------------------------------------------------------------------------------------------


def test_posts_are_rate_limited_per_address(app, client, opened):
    """After 20 posts a minute from one address the next gets the translated 429 page."""
    event, _sid, _reg = opened()
    token = client.token(f"/e/{event.code}/hadir")
    for n in range(20):
        response = client.post(
            f"/e/{event.code}/hadir", data={"csrf_token": token, "who": f"0812-9999-{n:04d}"}
        )
        assert response.status_code == 422, n
    response = client.post(f"/e/{event.code}/hadir", data={"csrf_token": token, "who": PHONE})
    assert response.status_code == 429
    assert "Terlalu banyak percobaan" in html_of(response)
    assert client.get(f"/e/{event.code}/hadir").status_code == 200  # reading is not limited
    assert attendance_rows(app) == []


def test_page_weights(app, client, opened):
    """The check-in page (PIN and pad), the public page and the ticket fit the page budget."""
    event, _sid, registration = opened(venue_pin="4821", signatures=True)
    for path in (
        f"/e/{event.code}/hadir",
        f"/e/{event.code}/hadir?tiket={registration.ticket}",
        f"/e/{event.code}",
        f"/e/{event.code}/tiket/{registration.ticket}",
    ):
        response = client.get(path)
        assert response.status_code == 200
        size = page_weight(response)
        print(f"page weight {path}: {size} bytes gzip")
        assert size <= PAGE_BUDGET, path


def test_queries_do_not_grow_with_participants(app, client, opened):
    """Checking in costs the same number of SQL statements with 2 or 40 registrations."""
    event, _sid, registration = opened()
    token = client.token(f"/e/{event.code}/hadir")

    def statements(person: Registration) -> int:
        with counted_queries(app) as seen:
            client.post(
                f"/e/{event.code}/hadir", data={"csrf_token": token, "tiket": person.ticket}
            )
        return len(seen)

    few = statements(registration)
    for n in range(40):
        add_registration(app, event.id, f"Peserta {n}", f"0812-3456-8{n:03d}")
    many = statements(add_registration(app, event.id, "Terakhir", "0812-3456-7999"))
    print(f"check-in statements: {few} and {many}")
    assert few == many


# --- links on the public page and the ticket -----------------------------------------------------------


def test_public_page_links_to_check_in_only_while_open(app, client, make_event):
    """The public page shows 'Presensi mandiri' only while a window is open."""
    event = make_event()
    assert f"/e/{event.code}/hadir" not in html_of(client.get(f"/e/{event.code}"))
    open_now(app, event.id)
    assert f"/e/{event.code}/hadir" in html_of(client.get(f"/e/{event.code}"))


def test_ticket_shows_the_grouped_code_and_the_prefilled_link(app, client, opened):
    """The ticket prints the check-in code as two groups of four and links to check-in with the ticket."""
    event, _sid, registration = opened()
    html = html_of(client.get(f"/e/{event.code}/tiket/{registration.ticket}"))
    code = registration.checkin_code
    assert f"{code[:4]} {code[4:]}" in html
    assert f"/e/{event.code}/hadir?tiket={registration.ticket}" in html


def test_ticket_has_no_check_in_link_outside_the_window(app, client, make_event):
    """Outside the window the ticket shows the code but no check-in link."""
    event = make_event()
    registration = add_registration(app, event.id)
    html = html_of(client.get(f"/e/{event.code}/tiket/{registration.ticket}"))
    assert registration.checkin_code[:4] in html and "/hadir" not in html
