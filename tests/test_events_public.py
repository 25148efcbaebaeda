"""Public registration through /e/<code>: the event page and its form, duplicates recognised by
number, the waiting list and promotion, the private ticket with its QR code and calendar file,
cancelling, the rate limit, and the operators' A4 poster with its QR code."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from kim_app import formatting
from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.documents import qr_svg
from kim_app.events import documents
from kim_app.events.models import (
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationMode,
    RegistrationStatus,
    Source,
)
from kim_app.events.operations import PersonData, local_now, register_person
from kim_app.extensions import db
from tests.budget import counted_queries, page_weight
from tests.conftest import CSRF_TOKEN, JATIM, MAJALENGKA_VILLAGE, PPU, PPU_VILLAGE, html_of
from tests.helpers import BUDGET, PERSON, register_online, registrations_in_order, ticket_path


def _event(app, event_id: int) -> Event:
    with app.app_context():
        event = db.session.get(Event, event_id)
        db.session.expunge(event)
        return event


def _set(app, event_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(sa.update(Event).where(Event.id == event_id).values(**values))
        db.session.commit()


# --- the public page -----------------------------------------------------------------------------


def test_public_page_shows_the_event_with_its_zone_and_the_form(client, make_event):
    """Title, kind, each session with its WITA time, speakers, venue, seats left and the form."""
    event = make_event(capacity=40, organiser="Diskominfo PPU", description="Belajar konten.")
    response = client.get(f"/e/{event.code}")
    assert response.status_code == 200
    html = html_of(response)
    assert "<html" in html and event.title in html and "Pelatihan" in html
    assert html.count("09.00–12.00 WITA") == 2 and html.count("13.00–16.00 WITA") == 2
    assert "Sesi 2.2" in html and "Narasumber" in html and "Aula Kantor Bupati" in html
    assert "40 dari 40 tersisa" in html and "Diskominfo PPU" in html
    for field in ("name", "phone", "institution", "position", "gender"):
        assert f'name="{field}"' in html
    assert 'value="L"' in html and 'value="P"' in html
    assert f'hx-post="/e/{event.code}"' in html and 'method="post"' in html
    assert "https://wa.me/?text=" in html


def test_public_page_fragment_for_htmx_and_full_page_otherwise(client, make_event, partial_headers):
    """An htmx partial request gets the registration section only; a plain one the page."""
    event = make_event()
    fragment = html_of(client.get(f"/e/{event.code}", headers=partial_headers))
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="daftar"')
    page = client.get(f"/e/{event.code}")
    assert "<html" in html_of(page) and "HX-Request" in page.headers["Vary"]


def test_dates_are_written_with_the_zone_not_converted(ctx):
    """A naive 09.00 is printed as 09.00 with the event's zone label, in Indonesian."""
    event = Event(timezone="Asia/Makassar")
    assert formatting.when(datetime(2024, 5, 15, 9, 0), event) == "Rabu, 15 Mei 2024 09.00 WITA"
    session = EventSession(starts_at=datetime(2024, 5, 15, 9), ends_at=datetime(2024, 5, 15, 12))
    jayapura = Event(timezone="Asia/Jayapura")
    assert formatting.session_when(session, jayapura) == "Rabu, 15 Mei 2024 09.00–12.00 WIT"


def test_draft_and_unknown_events_are_404(client, make_event):
    """A draft is not public yet; an unknown code does not exist."""
    event = make_event(status=EventStatus.DRAFT)
    assert client.get(f"/e/{event.code}").status_code == 404
    assert client.get("/e/tidakada").status_code == 404
    assert client.get("/e/" + "x" * 300).status_code == 404


def test_cancelled_event_shows_the_reason_and_no_form(client, make_event):
    """Participants read why it was cancelled; nobody can register."""
    event = make_event(status=EventStatus.DIBATALKAN, cancel_reason="Banjir di lokasi acara.")
    html = html_of(client.get(f"/e/{event.code}"))
    assert "Kegiatan ini dibatalkan." in html and "Banjir di lokasi acara." in html
    assert 'name="phone"' not in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"status": EventStatus.SELESAI}, "sudah selesai"),
        ({"registration_mode": RegistrationMode.UNDANGAN}, "hanya yang diundang"),
        ({"registration_deadline": datetime(2020, 1, 1, 17, 0)}, "Pendaftaran sudah ditutup pada"),
    ],
    ids=["selesai", "undangan", "batas-lewat"],
)
def test_closed_registration_shows_why_and_no_form(client, make_event, overrides, message):
    """Finished, invitation-only or past the deadline: a sentence instead of the form."""
    event = make_event(**overrides)
    html = html_of(client.get(f"/e/{event.code}"))
    assert message in html and 'name="phone"' not in html
    if "registration_deadline" in overrides:
        assert "Rabu, 1 Januari 2020 17.00 WITA" in html


def test_running_event_and_open_deadline_still_take_registrations(client, make_event):
    """Berlangsung and a deadline in the future: the form is there."""
    tomorrow = datetime.now() + timedelta(days=3)
    event = make_event(status=EventStatus.BERLANGSUNG, registration_deadline=tomorrow)
    assert 'name="phone"' in html_of(client.get(f"/e/{event.code}"))


def test_registration_closes_when_the_last_session_has_ended(app, client, make_event):
    """Issue 22 item 7: an event still published (nobody closed it) whose last session ended an
    hour ago takes no more sign-ups: the page says it is over, shows no form, and a post
    opened earlier answers 409 and registers nobody."""
    event = make_event()
    token = client.token(f"/e/{event.code}")
    with app.app_context():
        found = db.session.get(Event, event.id)
        now = local_now(found)
        for n, session in enumerate(reversed(found.sessions)):
            session.starts_at = now - timedelta(hours=3 + n)
            session.ends_at = now - timedelta(hours=1 + n)
        db.session.commit()
    page = html_of(client.get(f"/e/{event.code}"))
    assert "Kegiatan ini sudah selesai." in page and 'name="phone"' not in page
    response = client.post(f"/e/{event.code}", data=PERSON | {"csrf_token": token})
    assert response.status_code == 409 and "Kegiatan ini sudah selesai." in html_of(response)
    assert registrations_in_order(app, event.id) == []


def test_posting_to_a_closed_event_registers_nobody(app, client, make_event):
    """The form of a page opened before the deadline answers 409 and says why."""
    event = make_event(registration_mode=RegistrationMode.UNDANGAN)
    token = client.token(f"/e/{event.code}")
    response = client.post(f"/e/{event.code}", data=PERSON | {"csrf_token": token})
    assert response.status_code == 409
    assert "hanya yang diundang" in html_of(response)
    assert registrations_in_order(app, event.id) == []


# --- registering --------------------------------------------------------------------------------


def test_registering_leads_to_the_ticket(app, client, make_event):
    """303 to the private ticket; the number is stored as E.164, source mandiri, audited."""
    event = make_event(capacity=40)
    response = register_online(client, event.code)
    assert response.status_code == 303
    path = ticket_path(response)
    [row] = registrations_in_order(app, event.id)
    assert path == f"/e/{event.code}/tiket/{row.ticket}"
    assert row.phone == "+6281355550101" and row.source is Source.MANDIRI
    assert row.status is RegistrationStatus.TERDAFTAR and row.gender.value == "P"
    assert (row.name, row.institution, row.position) == (
        "Siti Rahmawati",
        "KIM Sebakung Jaya",
        "Sekretaris",
    )
    assert _event(app, event.id).registered_count == 1
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert "registration.create" in actions
    ticket = html_of(client.get(path))
    assert "Pendaftaran berhasil" in ticket and "Siti Rahmawati" in ticket


def test_registering_with_htmx_redirects_the_whole_page(app, client, make_event, partial_headers):
    """htmx gets HX-Redirect to the ticket (a full page load), not a fragment."""
    event = make_event()
    token = client.token(f"/e/{event.code}")
    response = client.post(
        f"/e/{event.code}", data=PERSON | {"csrf_token": token}, headers=partial_headers
    )
    assert response.status_code == 200
    assert ticket_path(response).startswith(f"/e/{event.code}/tiket/")


def test_bad_number_is_422_with_the_message_and_typed_values(app, client, make_event):
    """A landline is refused with the Indonesian message; what was typed stays in the form."""
    event = make_event()
    response = register_online(client, event.code, phone="021 555 1234")
    assert response.status_code == 422
    html = html_of(response)
    assert "<html" in html
    assert "Nomor WhatsApp tidak valid. Contoh: 0812-3456-7890." in html
    assert 'value="021 555 1234"' in html and 'value="Siti Rahmawati"' in html
    assert 'value="KIM Sebakung Jaya"' in html and re.search(
        r'<input checked[^>]* value="P">', html
    )
    assert 'aria-invalid="true"' in html
    assert registrations_in_order(app, event.id) == []


def test_bad_number_with_htmx_gets_the_form_section(client, make_event, partial_headers):
    """htmx swaps only the registration section, with the error, status 422."""
    event = make_event()
    token = client.token(f"/e/{event.code}")
    response = client.post(
        f"/e/{event.code}",
        data=PERSON | {"phone": "12", "csrf_token": token},
        headers=partial_headers,
    )
    assert response.status_code == 422
    html = html_of(response)
    assert "<html" not in html and html.lstrip().startswith('<section id="daftar"')
    assert "Nomor WhatsApp tidak valid" in html and 'value="12"' in html


def test_missing_fields_are_named(app, client, make_event):
    """Empty name, number, institution and no gender: each says what is missing."""
    event = make_event()
    response = register_online(client, event.code, name=" ", phone="", institution="", gender="")
    assert response.status_code == 422
    html = html_of(response)
    assert html.count("Wajib diisi.") == 3 and "Pilih jenis kelamin." in html
    response = register_online(client, event.code, gender="X", name="A" * 121)
    assert response.status_code == 422
    assert "Paling banyak 120 karakter." in html_of(response)
    assert registrations_in_order(app, event.id) == []


def test_missing_csrf_token_is_refused(app, client, make_event):
    """A post without the form's token is a 400 with a clear message, nobody registered."""
    event = make_event()
    response = client.post(f"/e/{event.code}", data=PERSON)
    assert response.status_code == 400
    assert "kedaluwarsa" in html_of(response)
    assert registrations_in_order(app, event.id) == []


@pytest.mark.parametrize("again", ["+62 813-5555-0101", "6281355550101", "0813 5555 0101"])
def test_same_number_in_any_format_leads_to_the_existing_ticket(app, client, make_event, again):
    """A second registration with the same number (any spelling) and name shows the first ticket."""
    event = make_event()
    first = ticket_path(register_online(client, event.code))
    response = register_online(client, event.code, phone=again, name="siti  rahmawati.")
    assert response.status_code == 303
    assert ticket_path(response) == first
    html = html_of(client.get(first))
    assert "Nomor ini sudah terdaftar" in html and "Siti Rahmawati" in html
    assert len(registrations_in_order(app, event.id)) == 1
    assert _event(app, event.id).registered_count == 1


def test_same_number_with_another_name_does_not_reveal_the_ticket(app, client, make_event):
    """Knowing someone's number is not enough to open (or cancel) their ticket."""
    event = make_event()
    first = ticket_path(register_online(client, event.code))
    response = register_online(client, event.code, name="Orang Lain")
    assert response.status_code == 422
    page = html_of(response)
    assert "sudah dipakai mendaftar di kegiatan ini" in page and "atas nama lain" not in page
    assert "setiap peserta mendaftar dengan nomornya sendiri" in page
    assert first not in page and "Siti Rahmawati" not in page
    assert len(registrations_in_order(app, event.id)) == 1


def test_a_number_after_a_cancellation_is_a_new_ticket_for_someone_else(app, client, make_event):
    """Issue 21 item 1: A registers and cancels; B registers with A's number. B gets a ticket
    of its own, not A's token; A's old link still shows A (cancelled), never B. A returning
    under the same name gets their own ticket back."""
    event = make_event()
    ticket_a = ticket_path(register_online(client, event.code))
    client.submit(ticket_a + "/batal", form_page=ticket_a)
    response = register_online(client, event.code, name="Bambang Sutrisno", gender="L")
    assert response.status_code == 303
    ticket_b = ticket_path(response)
    assert ticket_b != ticket_a
    old = html_of(client.get(ticket_a))
    assert "Siti Rahmawati" in old and "Bambang" not in old and "Dibatalkan" in old
    assert "Bambang Sutrisno" in html_of(client.get(ticket_b))
    rows = registrations_in_order(app, event.id)
    assert [(r.name, r.status, r.phone) for r in rows] == [
        ("Siti Rahmawati", RegistrationStatus.BATAL, None),
        ("Bambang Sutrisno", RegistrationStatus.TERDAFTAR, "+6281355550101"),
    ]
    assert rows[0].checkin_code != rows[1].checkin_code

    # the same person coming back after cancelling keeps their own ticket
    client.submit(ticket_b + "/batal", form_page=ticket_b)
    again = register_online(client, event.code, name="bambang  sutrisno", gender="L")
    assert ticket_path(again) == ticket_b
    assert len(registrations_in_order(app, event.id)) == 2


def test_names_guessed_for_a_number_are_counted_from_any_address(app, client, make_event):
    """Issue 21 item 8: a stranger cannot find who holds a number by trying names. Wrong names
    with one number, on the form and in "Tiket hilang?" together and from several addresses,
    spend one allowance (5 a day); after that even the right name opens no ticket there."""
    event = make_event()
    register_online(client, event.code)
    guesses = ["Ani", "Budi Santoso", "Citra", "Dewi Lestari", "Eko Prasetyo"]
    for n, name in enumerate(guesses):
        address = {"REMOTE_ADDR": f"203.0.113.{n + 1}"}
        if n % 2:
            response = client.submit(
                f"/e/{event.code}/tiket-hilang",
                {"phone": PERSON["phone"], "name": name},
                environ_base=address,
            )
            assert response.status_code == 200 and "/tiket/" not in html_of(response)
        else:
            response = register_online(client, event.code, name=name, environ_base=address)
            assert response.status_code == 422
    right = register_online(client, event.code, environ_base={"REMOTE_ADDR": "203.0.113.99"})
    assert right.status_code == 422 and "/tiket/" not in html_of(right)
    assert "Terlalu banyak nama dicoba dengan nomor ini hari ini" in html_of(right)
    lost = client.submit(
        f"/e/{event.code}/tiket-hilang", {"phone": PERSON["phone"], "name": PERSON["name"]}
    )
    assert lost.status_code == 429 and "/tiket/" not in (lost.headers.get("Location") or "")
    assert "Hubungi panitia" in html_of(lost)
    # the same answer for a number nobody registered, once it has been tried as often
    for name in guesses:
        client.submit(
            f"/e/{event.code}/tiket-hilang",
            {"phone": "0813-5555-0177", "name": name},
            environ_base={"REMOTE_ADDR": "203.0.113.50"},
        )
    nobody = client.submit(
        f"/e/{event.code}/tiket-hilang",
        {"phone": "0813-5555-0177", "name": PERSON["name"]},
        environ_base={"REMOTE_ADDR": "203.0.113.51"},
    )
    assert nobody.status_code == 429
    assert CSRF_TOKEN.sub("", html_of(nobody).replace("0813-5555-0177", "N")) == CSRF_TOKEN.sub(
        "", html_of(lost).replace(PERSON["phone"], "N")
    )
    # another number at the same event is untouched
    other = register_online(client, event.code, phone="0813-5555-0199", name="Orang Baru")
    assert other.status_code == 303


def test_full_event_puts_people_on_the_waiting_list_in_order(app, client, make_event):
    """Capacity 1: the second and third wait, their tickets say which place they hold."""
    event = make_event(capacity=1)
    paths = [
        ticket_path(
            register_online(client, event.code, phone=f"0812000000{n:02d}", name=f"Orang {n}")
        )
        for n in range(3)
    ]
    assert "Terdaftar" in html_of(client.get(paths[0]))
    second, third = html_of(client.get(paths[1])), html_of(client.get(paths[2]))
    assert "Daftar tunggu, urutan ke-1" in second and "Kursi sudah penuh" in second
    assert "Daftar tunggu, urutan ke-2" in third
    page = html_of(client.get(f"/e/{event.code}"))
    assert "0 dari 1 tersisa" in page and "masuk daftar tunggu" in page
    assert 'name="phone"' in page  # still open: people may join the waiting list


def test_cancelling_promotes_the_longest_waiting(app, client, make_event):
    """The seated person cancels: the first waiting becomes terdaftar, the second moves up."""
    event = make_event(capacity=1)
    paths = [
        ticket_path(
            register_online(client, event.code, phone=f"0812000000{n:02d}", name=f"Orang {n}")
        )
        for n in range(3)
    ]
    response = client.submit(paths[0] + "/batal", form_page=paths[0])
    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path == paths[0]
    html = html_of(client.get(paths[0]))
    assert "Pendaftaran Anda dibatalkan." in html and 'class="state state-batal"' in html
    assert "<svg" not in html and "Batalkan pendaftaran" not in html
    assert 'state-terdaftar">Terdaftar' in html_of(client.get(paths[1]))
    assert "Daftar tunggu, urutan ke-1" in html_of(client.get(paths[2]))
    rows = registrations_in_order(app, event.id)
    assert [r.status for r in rows] == [
        RegistrationStatus.BATAL,
        RegistrationStatus.TERDAFTAR,
        RegistrationStatus.DAFTAR_TUNGGU,
    ]
    assert _event(app, event.id).registered_count == 1


def test_cancelling_twice_changes_nothing_more(app, client, make_event):
    """A second cancel (an old tab) only says it is already cancelled."""
    event = make_event(capacity=1)
    path = ticket_path(register_online(client, event.code))
    client.submit(path + "/batal", form_page=path)
    token = client.token(f"/e/{event.code}")
    response = client.post(path + "/batal", data={"csrf_token": token})
    assert response.status_code == 303
    assert "sudah dibatalkan" in html_of(client.get(path))
    assert _event(app, event.id).registered_count == 0


def test_cancelling_a_finished_event_is_refused(app, client, make_event):
    """After the event the registration stays as it was; the ticket has no cancel button."""
    event = make_event()
    path = ticket_path(register_online(client, event.code))
    token = client.token(path)
    assert "Batalkan pendaftaran" in html_of(client.get(path))
    _set(app, event.id, status=EventStatus.SELESAI)
    assert "Batalkan pendaftaran" not in html_of(client.get(path))
    response = client.post(path + "/batal", data={"csrf_token": token})
    assert response.status_code == 303
    assert "tidak dapat diubah" in html_of(client.get(path))
    assert registrations_in_order(app, event.id)[0].status is RegistrationStatus.TERDAFTAR


def test_cancel_needs_the_csrf_token(app, client, make_event):
    """A cross-site post cannot cancel anyone's registration."""
    event = make_event()
    path = ticket_path(register_online(client, event.code))
    assert client.post(path + "/batal").status_code == 400
    assert registrations_in_order(app, event.id)[0].status is RegistrationStatus.TERDAFTAR


def test_registration_is_rate_limited_per_address(app, client, make_event):
    """After 30 posts in an hour from one address the next gets the 429 page."""
    event = make_event()
    token = client.token(f"/e/{event.code}")
    for n in range(30):
        response = client.post(
            f"/e/{event.code}", data=PERSON | {"phone": "1", "csrf_token": token}
        )
        assert response.status_code == 422, n
    response = client.post(f"/e/{event.code}", data=PERSON | {"csrf_token": token})
    assert response.status_code == 429
    assert "Terlalu banyak percobaan" in html_of(response)
    assert client.get(f"/e/{event.code}").status_code == 200  # reading is never limited
    assert registrations_in_order(app, event.id) == []


# --- the ticket ------------------------------------------------------------------------------------


def test_ticket_shows_the_person_the_qr_code_and_the_agenda(app, client, make_event):
    """Name, status, an inline SVG QR code, sessions with WITA, the calendar link; private."""
    event = make_event(online_link="https://zoom.example/j/123")
    path = ticket_path(register_online(client, event.code))
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    html = html_of(response)
    assert "Siti Rahmawati" in html and "Sekretaris, KIM Sebakung Jaya" in html
    assert 'state-terdaftar">Terdaftar' in html
    assert re.search(r'<svg viewBox="0 0 \d+ \d+" class="qr"><title>Kode QR tiket</title>', html)
    assert html.count("09.00–12.00 WITA") == 2
    assert f'href="{path}.ics"' in html and "https://zoom.example/j/123" in html
    assert not any(n in html for n in ("0813-5555-0101", "081355550101", "+6281355550101"))


def test_ticket_qr_code_encodes_the_ticket_token(app, ctx, make_event):
    """The SVG is segno's QR code of the token, the same matrix a scanner reads."""
    import segno

    event = db.session.get(Event, make_event().id)
    registration, _new = register_person(
        event, PersonData(name="A", phone="081234567890"), Source.MANDIRI
    )
    svg = qr_svg(registration.ticket, "Kode QR tiket")
    expected = segno.make(registration.ticket, error="m", micro=False)
    assert (
        expected.svg_inline(
            scale=1, omitsize=True, title="Kode QR tiket", svgclass="qr", lineclass=None
        )
        == svg
    )
    assert expected.error == "M" and expected.mode == "byte"


def test_waiting_ticket_hides_the_online_link(app, client, make_event):
    """Only seated people get the meeting link; the waiting list gets the QR and its place."""
    event = make_event(capacity=1, online_link="https://zoom.example/j/123")
    register_online(client, event.code)
    path = ticket_path(register_online(client, event.code, phone="081299998888"))
    html = html_of(client.get(path))
    assert "urutan ke-1" in html and "zoom.example" not in html and "<svg" in html


def test_wrong_ticket_or_wrong_event_is_404(app, client, make_event):
    """An unknown token, or a real token under another event's code, finds nothing."""
    event, other = make_event(), make_event()
    path = ticket_path(register_online(client, event.code))
    ticket = path.rsplit("/", 1)[1]
    assert client.get(f"/e/{event.code}/tiket/salah").status_code == 404
    assert client.get(f"/e/{other.code}/tiket/{ticket}").status_code == 404
    assert client.get(f"/e/{other.code}/tiket/{ticket}.ics").status_code == 404
    token = client.token(f"/e/{event.code}")
    response = client.post(f"/e/{other.code}/tiket/{ticket}/batal", data={"csrf_token": token})
    assert response.status_code == 404
    assert client.get(f"/e/{event.code}/tiket/{ticket}").status_code == 200


def test_ticket_of_a_cancelled_event_shows_the_reason(app, client, make_event):
    """The event was cancelled after registering: the ticket says so and why."""
    event = make_event()
    path = ticket_path(register_online(client, event.code))
    _set(app, event.id, status=EventStatus.DIBATALKAN, cancel_reason="Ditunda ke bulan depan.")
    html = html_of(client.get(path))
    assert "Kegiatan ini dibatalkan." in html and "Ditunda ke bulan depan." in html


def test_ticket_of_an_event_taken_back_to_draft_is_404(app, client, make_event):
    """Unpublished again: like the public page, its tickets are not reachable for now."""
    event = make_event()
    path = ticket_path(register_online(client, event.code))
    _set(app, event.id, status=EventStatus.DRAFT)
    assert client.get(path).status_code == 404
    assert client.get(path + ".ics").status_code == 404


def _calendar(client, path: str):
    response = client.get(path + ".ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return response.data


@pytest.mark.parametrize(
    ("region", "hours"), [(PPU, 8), ("35.14", 7), ("91.03", 9)], ids=["WITA", "WIB", "WIT"]
)
def test_calendar_file_has_one_event_per_session_in_utc(app, client, make_event, region, hours):
    """RFC 5545 with CRLF: a VEVENT per session; 09.00 WITA is 01.00 UTC (WIB −7, WIT −9)."""
    event = make_event(
        region=region, title="Bimtek; Konten, Hoaks\\Fakta", venue_name="Aula, Lt. 2"
    )
    path = ticket_path(register_online(client, event.code))
    data = _calendar(client, path)
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    assert "SUMMARY:Bimtek\\; Konten\\, Hoaks\\\\Fakta — Sesi 1.1" in data.decode()
    calendar = icalendar.Calendar.from_ical(data)
    vevents = calendar.walk("VEVENT")
    stored = _event(app, event.id)
    with app.app_context():
        sessions = db.session.scalars(
            sa.select(EventSession)
            .where(EventSession.event_id == event.id)
            .order_by(EventSession.starts_at)
        ).all()
    assert len(vevents) == len(sessions) == 4
    for vevent, session in zip(vevents, sessions, strict=True):
        start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
        assert start.tzinfo is not None and start.utcoffset() == timedelta(0)
        assert start.replace(tzinfo=None) == session.starts_at - timedelta(hours=hours)
        assert end.replace(tzinfo=None) == session.ends_at - timedelta(hours=hours)
        assert str(vevent["LOCATION"]) == "Aula, Lt. 2"
        assert str(vevent["STATUS"]) == "CONFIRMED"
        assert str(vevent["SUMMARY"]).startswith("Bimtek; Konten, Hoaks\\Fakta — ")
    uids = {str(v["UID"]) for v in vevents}
    assert len(uids) == 4 and stored.title.startswith("Bimtek")
    assert data.decode().count("DTSTART:") == 4 and "09.00–12.00" in str(vevents[0]["DESCRIPTION"])


def test_calendar_file_marks_waiting_and_cancelled(app, client, make_event):
    """A place on the waiting list is TENTATIVE; a cancelled registration CANCELLED."""
    event = make_event(capacity=1)
    seated = ticket_path(register_online(client, event.code))
    waiting = ticket_path(register_online(client, event.code, phone="081299998888"))
    statuses = {
        str(v["STATUS"])
        for v in icalendar.Calendar.from_ical(_calendar(client, waiting)).walk("VEVENT")
    }
    assert statuses == {"TENTATIVE"}
    client.submit(seated + "/batal", form_page=seated)
    cancelled = icalendar.Calendar.from_ical(_calendar(client, seated)).walk("VEVENT")
    assert {str(v["STATUS"]) for v in cancelled} == {"CANCELLED"}


def test_long_lines_are_folded_without_breaking_characters(ctx):
    """A long title with multi-byte characters folds at 75 octets and unfolds to the original
    (the folding of icalendar, which writes the calendar file)."""
    from icalendar.parser import Contentline

    line = "SUMMARY:" + "Pelatihan jurnalistik warga — menulis berita desa é " * 4
    folded = Contentline(line).to_ical().decode()
    parts = folded.encode().split(b"\r\n")
    assert len(parts) > 2 and all(len(p) <= 75 for p in parts)
    assert all(p.startswith(b" ") for p in parts[1:])
    for part in parts:
        part.decode()  # every part is whole UTF-8
    assert folded.replace("\r\n ", "") == line


# --- nothing private on public pages --------------------------------------------------------------


def test_public_page_never_shows_participants(app, client, make_event):
    """After registrations the public page shows counts only: no participant's name or number;
    the organiser's contact is shown, as the event form tells the organiser."""
    event = make_event(capacity=5, contact="humas@ppu.example · WA 0812-1111-2222")
    register_online(client, event.code)
    html = html_of(client.get(f"/e/{event.code}"))
    assert "Siti Rahmawati" not in html
    for number in ("0813-5555-0101", "+6281355550101", "081355550101", "6281355550101"):
        assert number not in html
    assert "4 dari 5 tersisa" in html
    assert "<dt>Kontak panitia</dt><dd>humas@ppu.example · WA 0812-1111-2222</dd>" in html


# --- sharing and the poster -------------------------------------------------------------------------


def test_share_links_carry_title_date_venue_and_link(app, make_event):
    """The wa.me link opens WhatsApp with the Indonesian invitation (each day with its hours) and
    the public link."""
    event = make_event(title="Bimtek Konten & Hoaks", venue_name="Aula Kantor Bupati")
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        links = documents.share_links(loaded)
        first = formatting.day(loaded.sessions[0].starts_at)
        second = formatting.day(loaded.sessions[-1].starts_at)
    assert links["url"] == f"http://localhost/e/{event.code}"
    assert links["whatsapp"].startswith("https://wa.me/?text=")
    text = parse_qs(urlsplit(links["whatsapp"]).query)["text"][0]
    assert text == links["text"]
    assert text.splitlines() == [
        "Bimtek Konten & Hoaks",
        f"{first} 09.00–16.00 WITA",
        f"{second} 09.00–16.00 WITA",
        "Aula Kantor Bupati",
        f"Daftar di sini: http://localhost/e/{event.code}",
    ]
    assert "&" not in links["whatsapp"].split("?", 1)[1]  # the ampersand is encoded


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
    return " ".join(reader.pages[0].extract_text().split())


def test_poster_is_an_a4_pdf_with_title_dates_and_the_link(client, make_user, login, make_event):
    """One A4 page: title, dates with WITA, venue, the QR code and the public link in text."""
    event = make_event(title="Pelatihan Jurnalistik Warga", organiser="Diskominfo PPU")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.get(f"/kegiatan/{event.id}/poster.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"] == f'inline; filename="poster-{event.code}.pdf"'
    text = _pdf_text(response.data)
    assert "Pelatihan Jurnalistik Warga" in text and "WITA" in text
    assert "Aula Kantor Bupati" in text and "Diskominfo PPU" in text
    assert f"localhost/e/{event.code}" in text and "Pindai untuk mendaftar" in text


@pytest.mark.parametrize("days", [2, 5])
def test_poster_with_the_longest_texts_stays_one_page(client, make_user, login, make_event, days):
    """The longest title, venue and organiser with four or ten sessions fit on one A4 page."""
    event = make_event(
        days=days,
        title=("Bimbingan Teknis Pengelolaan Informasi " * 6)[:200],
        venue_name="Gedung Serbaguna " * 11,
        venue_address="Jl. Propinsi Km 9 " * 16,
        organiser="Dinas Komunikasi dan Informatika " * 6,
    )
    login(make_user(Role.ADMIN))
    response = client.get(f"/kegiatan/{event.id}/poster.pdf")
    assert response.status_code == 200
    text = _pdf_text(response.data)
    assert f"localhost/e/{event.code}" in text
    assert ("dan 9 sesi lainnya" in text) is (days == 5)


OPERATORS = {Role.ADMIN, Role.OPERATOR_PROVINSI, Role.OPERATOR_KABKOTA}
ACTORS = {
    Role.ADMIN: (None, PPU),
    Role.OPERATOR_PROVINSI: (JATIM, "35.14"),
    Role.OPERATOR_KABKOTA: (PPU, PPU),
    Role.KEPALA_DESA: (PPU_VILLAGE, PPU),
    Role.PENGURUS_KIM: (PPU_VILLAGE, PPU),
    Role.PETUGAS_ABSENSI: (PPU, PPU),
}
POSTER_CASES = [(role, inside) for role in ACTORS for inside in (True, False)]


@pytest.mark.parametrize(
    ("role", "inside"),
    POSTER_CASES,
    ids=[f"{r.value}-{'dalam' if i else 'luar'}" for r, i in POSTER_CASES],
)
def test_poster_scope_matrix(client, make_user, make_kim, login, make_event, role, inside):
    """Operators print posters of events in their wilayah (404 outside); other roles get 403."""
    scope, region_inside = ACTORS[role]
    extra = {}
    if role is Role.PENGURUS_KIM:
        extra["kim_id"] = make_kim(village=PPU_VILLAGE).id
    login(make_user(role, scope, **extra))
    event = make_event(region=region_inside if inside else MAJALENGKA_VILLAGE[:5])
    response = client.get(f"/kegiatan/{event.id}/poster.pdf")
    if role not in OPERATORS:
        expected = 403
    elif inside or role is Role.ADMIN:
        expected = 200
    else:
        expected = 404
    assert response.status_code == expected


def test_poster_of_a_draft_is_for_operators_only(client, make_user, login, make_event):
    """A draft's poster can be printed before publishing; visitors are sent to sign in."""
    event = make_event(status=EventStatus.DRAFT)
    response = client.get(f"/kegiatan/{event.id}/poster.pdf")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    assert client.get(f"/kegiatan/{event.id}/poster.pdf").status_code == 200
    assert client.get("/kegiatan/999999999/poster.pdf").status_code == 404


# --- weight and queries ---------------------------------------------------------------------------------


def _weigh(response) -> int:
    html = html_of(response)
    assert "<html" in html
    return page_weight(response)


def test_public_page_and_ticket_fit_in_14_kb(client, make_event):
    """A rich event (10 sessions, long description, deadline) and its ticket, CSS included."""
    event = make_event(
        days=5,
        capacity=100,
        title="Pelatihan Pengelolaan Konten Digital dan Literasi Media untuk KIM " * 2,
        description="Peserta belajar menulis berita desa, memotret, dan melawan hoaks. " * 25,
        organiser="Dinas Komunikasi dan Informatika Kabupaten Penajam Paser Utara",
        contact="Sekretariat Bidang IKP Diskominfo PPU, diskominfo@ppu.example, WA 0812-1111-2222",
        venue_address="Jl. Propinsi Km 9, Nipah-Nipah, Penajam",
        registration_deadline=datetime.now() + timedelta(days=1),
        online_link="https://zoom.example/j/1234567890?pwd=abcdefghijklmnop",
    )
    page = client.get(f"/e/{event.code}")
    path = ticket_path(register_online(client, event.code, name="N" * 120, institution="I" * 200))
    ticket = client.get(path)
    sizes = {"public": _weigh(page), "ticket": _weigh(ticket)}
    error = register_online(
        client, event.code, phone="salah", name="N" * 120, institution="I" * 200
    )
    sizes["form-error"] = _weigh(error)
    print(f"page weights (gzip, with CSS): {sizes}")
    assert all(size <= BUDGET for size in sizes.values()), sizes


def test_public_pages_use_a_fixed_number_of_queries(app, client, make_event):
    """The event page and a waiting ticket cost the same queries with 2 or 40 registrations."""
    counts = []
    for registered in (2, 40):
        event = make_event(capacity=1)
        with app.test_request_context():
            loaded = db.session.get(Event, event.id)
            for n in range(registered):
                register_person(
                    loaded, PersonData(name=f"P{n}", phone=f"0813{n:08d}"), Source.MANDIRI
                )
            last = db.session.scalars(
                sa.select(Registration.ticket).order_by(Registration.id.desc()).limit(1)
            ).one()
            db.session.commit()
        with counted_queries(app) as page_queries:
            client.get(f"/e/{event.code}")
        with counted_queries(app) as ticket_queries:
            assert "urutan ke-" in html_of(client.get(f"/e/{event.code}/tiket/{last}"))
        counts.append((len(page_queries), len(ticket_queries)))
    print(f"public page / ticket queries: {counts}")
    assert counts[0] == counts[1]


PUBLIC = {
    "events.public_event",
    "events.public_register",
    "events.ticket",
    "events.ticket_ics",
    "events.ticket_cancel",
}
SCOPE_CHECKED = {"events.poster"}
WEIGHED = {"events.public_event", "events.ticket"}
NOT_PAGES = {"events.ticket_ics", "events.poster", "events.public_register", "events.ticket_cancel"}
