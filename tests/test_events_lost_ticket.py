"""“Tiket hilang?” on the public event page: the number and a leniently matched name give the
ticket back; anything else gets one answer (no hint whether the number is registered) that shows
the way to the organiser, whose contact the public page now shows; rate-limited per address."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from kim_app.auth.models import Role
from kim_app.events.models import RegistrationStatus
from kim_app.events.names import names_match
from kim_app.events.operations import find_lost_ticket
from kim_app.extensions import db
from kim_app.phones import MAX_HANDOFF_TEXT
from tests.budget import FRAGMENT_BUDGET, gzip_size, page_weight
from tests.conftest import CSRF_TOKEN, html_of
from tests.helpers import BUDGET, PERSON, register_online, registrations_in_order, ticket_path

# --- the name rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registered", "typed"),
    [
        ("Siti Rahmawati", "siti rahmawati"),
        ("Siti Rahmawati", "  SITI   RAHMAWATI. "),
        ("Siti Rahmawati", "Siti-Rahmawati"),
        ("Siti Rahmawati", "SitiRahmawati"),
        ("Dra. Siti Rahmawati, S.Pd.", "dra siti rahmawati spd"),
        ("Émile Zola", "emile zola"),
        ("Siti Rahmawati", "Siti Rahmawaty"),  # one letter changed
        ("Siti Rahmawati", "Siti Rahmawti"),  # one left out
        ("Siti Rahmawati", "Siti Rahmawatii"),  # one added
        ("Siti Rahmawati", "Siti"),  # the first name only
        ("Siti Rahmawati", "siti."),
        ("Rahmat Hidayat", "Rahmad"),  # the first name only, with one typo
        ("Siti", "Siti Rahmawati"),  # registered with the first name only
    ],
)
def test_names_that_match(registered, typed):
    """Case, spacing, punctuation, accents, one typo and the first name alone are forgiven."""
    assert names_match(registered, typed)


@pytest.mark.parametrize(
    ("registered", "typed"),
    [
        ("Siti Rahmawati", "Sri Wahyuni"),  # another person, the same first letter
        ("Siti Rahmawati", "Sinta"),
        ("Siti Rahmawati", "Sari"),
        ("Siti Rahmawati", "Rahmawati"),  # a last name is not a first name
        ("Siti Rahmawati", "Sity Rahmawaty"),  # two typos
        ("Siti Rahmawati", "Siti Rahmawati Putri"),
        ("Siti Aminah", "Siti Aminah Rahmawati"),
        ("Ani", "Adi"),  # in a short name one letter is another name
        ("Siti", "Sita"),
        ("Hj. Siti Rahmawati", "Hj"),  # a title is not a first name
        ("Siti Rahmawati", ""),
        ("Siti Rahmawati", " .,- "),
        ("Siti Rahmawati", None),
        ("", "Siti"),
    ],
)
def test_names_that_do_not_match(registered, typed):
    """A different person, two typos, a last name alone, or nothing typed is refused."""
    assert not names_match(registered, typed)


# --- the page and its form -------------------------------------------------------------------------

LOST = "/e/{code}/tiket-hilang"


def _lost(client, code: str, phone: str = PERSON["phone"], name: str = PERSON["name"], **kw):
    return client.submit(LOST.format(code=code), {"phone": phone, "name": name}, **kw)


def test_public_page_links_to_lost_ticket_and_shows_the_organiser_contact(client, make_event):
    """“Tiket hilang?” is a real link (htmx loads it in place) and the organiser's contact shows."""
    event = make_event(contact="humas@ppu.example · 0812-1111-2222")
    html = html_of(client.get(f"/e/{event.code}"))
    path = LOST.format(code=event.code)
    assert f'<a href="{path}" hx-get="{path}" hx-target="#tiket-hilang"' in html
    assert "Tiket hilang?" in html
    assert "Kontak panitia" in html and "humas@ppu.example · 0812-1111-2222" in html


def test_the_form_is_a_page_and_a_fragment(client, make_event, partial_headers):
    """A plain GET gets the whole page with the form; htmx gets the section alone."""
    event = make_event()
    path = LOST.format(code=event.code)
    page = client.get(path)
    assert page.status_code == 200
    html = html_of(page)
    assert "<html" in html and "<h1>Tiket hilang?</h1>" in html and event.title in html
    assert 'name="phone"' in html and 'name="name"' in html and 'name="csrf_token"' in html
    assert f'action="{path}"' in html and f'hx-post="{path}"' in html
    assert page.headers["Cache-Control"].startswith("private, no-store")
    fragment = html_of(client.get(path, headers=partial_headers))
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="tiket-hilang"')
    assert 'name="phone"' in fragment


def test_draft_and_unknown_events_have_no_lost_ticket_page(client, make_event):
    """The form exists only for published events."""
    from kim_app.events.models import EventStatus

    draft = make_event(status=EventStatus.DRAFT)
    assert client.get(LOST.format(code=draft.code)).status_code == 404
    assert client.get(LOST.format(code="tidakada")).status_code == 404


@pytest.mark.parametrize(
    ("phone", "name"),
    [
        ("0813-5555-0101", "Siti Rahmawati"),
        ("+62 813 5555 0101", "siti rahmawati."),
        ("6281355550101", "SITI"),
        ("081355550101", "Siti Rahmawti"),
    ],
)
def test_number_and_lenient_name_give_the_ticket_back(client, make_event, phone, name):
    """The ticket page opens again, with a note to save its link."""
    event = make_event()
    ticket = ticket_path(register_online(client, event.code))
    response = _lost(client, event.code, phone, name)
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == ticket
    page = html_of(client.get(ticket))
    assert "Tiket Anda ditemukan. Simpan tautan halaman ini." in page
    assert "Siti Rahmawati" in page


def test_htmx_search_that_finds_the_ticket_redirects_the_whole_page(
    client, make_event, partial_headers
):
    """htmx gets HX-Redirect to the ticket page (the ticket is a page of its own)."""
    event = make_event()
    ticket = ticket_path(register_online(client, event.code))
    response = _lost(client, event.code, headers=partial_headers)
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(ticket)


def test_unknown_number_and_wrong_name_get_the_same_answer(client, make_event):
    """Nothing in the answer tells a registered number from an unknown one."""
    event = make_event(contact="humas@ppu.example")
    register_online(client, event.code)
    wrong_name = _lost(client, event.code, "0813-5555-0101", "Budi Santoso")
    unknown = _lost(client, event.code, "0813-5555-0199", "Budi Santoso")
    assert wrong_name.status_code == unknown.status_code == 200
    assert "Location" not in wrong_name.headers
    # the CSRF token is signed with the second it was made: set aside, it is no answer
    first = CSRF_TOKEN.sub("TOKEN", html_of(wrong_name).replace("0813-5555-0101", "NOMOR"))
    second = CSRF_TOKEN.sub("TOKEN", html_of(unknown).replace("0813-5555-0199", "NOMOR"))
    assert first == second
    assert "Tiket dengan nomor dan nama ini tidak ditemukan." in first
    assert "Siti" not in first and "+6281355550101" not in first
    assert "humas@ppu.example" in first


def test_cancelled_registration_and_another_event_are_not_found(app, client, make_event):
    """Only a live registration of this event gives its ticket back."""
    event, other = make_event(), make_event()
    path = ticket_path(register_online(client, event.code))
    client.submit(path + "/batal", form_page=path)
    assert registrations_in_order(app, event.id)[0].status is RegistrationStatus.BATAL
    assert "tidak ditemukan" in html_of(_lost(client, event.code))
    register_online(client, other.code)
    assert "tidak ditemukan" in html_of(_lost(client, event.code))
    assert _lost(client, other.code).status_code == 303


def test_a_waiting_list_registration_is_found(client, make_event):
    """A person on the waiting list has a ticket too, and gets it back."""
    event = make_event(capacity=1)
    register_online(client, event.code, phone="0813-5555-0100", name="Orang Pertama")
    waiting = ticket_path(register_online(client, event.code))
    response = _lost(client, event.code, name="Siti")
    assert urlsplit(response.headers["Location"]).path == waiting


def test_an_erased_person_is_not_found(app, client, make_event, make_user):
    """After erasure (UU 27/2022) number and name lead nowhere."""
    from kim_app.events.models import Registration
    from kim_app.reports.privacy.operations import erase_person

    event = make_event()
    register_online(client, event.code)
    admin = make_user(Role.ADMIN)
    with app.test_request_context():
        registration = db.session.get(Registration, registrations_in_order(app, event.id)[0].id)
        erase_person(registration, admin)
        db.session.commit()
        assert find_lost_ticket(registration.event, "+6281355550101", "Siti Rahmawati") is None
    assert "tidak ditemukan" in html_of(_lost(client, event.code))


def test_a_malformed_number_gets_the_form_back_with_an_error(client, make_event, partial_headers):
    """422 with the reason at the field, full page and fragment; an empty name is required."""
    event = make_event()
    response = _lost(client, event.code, phone="12345", name="")
    assert response.status_code == 422
    html = html_of(response)
    assert "Nomor WhatsApp tidak valid. Contoh: 0812-3456-7890." in html
    assert "Wajib diisi." in html and "<html" in html
    fragment = _lost(client, event.code, phone="bukan nomor", headers=partial_headers)
    assert fragment.status_code == 422
    body = html_of(fragment)
    assert "<html" not in body and body.lstrip().startswith('<section id="tiket-hilang"')
    assert 'aria-invalid="true"' in body


def test_the_not_found_answer_is_a_fragment_for_htmx(client, make_event, partial_headers):
    """htmx swaps the section with the answer; it stays small."""
    event = make_event(contact="0812-1111-2222")
    response = _lost(client, event.code, headers=partial_headers)
    body = html_of(response)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<section id="tiket-hilang"') and "tidak ditemukan" in body
    assert gzip_size(response.data) <= FRAGMENT_BUDGET


# --- the way to the organiser ---------------------------------------------------------------------


def test_a_mobile_contact_gets_a_whatsapp_hand_off_with_the_request(client, make_event):
    """A wa.me link to the organiser's number, the lost ticket and the typed name in the text."""
    event = make_event(title="Bimtek Konten & Hoaks", contact="WA panitia 0812-1111-2222")
    html = html_of(_lost(client, event.code, "0813-5555-0199", "Budi  Santoso"))
    assert "WA panitia 0812-1111-2222" in html
    link = next(
        part.split('"', 1)[0]
        for part in html.split('href="')[1:]
        if part.startswith("https://wa.me/")
    )
    assert link.startswith("https://wa.me/6281211112222?text=")
    text = parse_qs(urlsplit(link.replace("&amp;", "&")).query)["text"][0]
    assert text == (
        "Halo panitia Bimtek Konten & Hoaks, saya sudah mendaftar tetapi tautan tiket saya hilang."
        " Nama saya: Budi Santoso. Mohon dikirimkan lagi. Terima kasih."
    )
    assert len(text) < MAX_HANDOFF_TEXT
    assert "Hubungi panitia lewat WhatsApp" in html


def test_an_office_email_or_landline_is_shown_without_whatsapp(client, make_event):
    """Only a mobile number gets a WhatsApp hand-off; the contact is shown as written."""
    event = make_event(contact="diskominfo@ppu.example · (0542) 123456")
    html = html_of(_lost(client, event.code))
    assert "diskominfo@ppu.example · (0542) 123456" in html and "wa.me/62" not in html


def test_without_a_contact_the_answer_sends_to_the_organisers_desk(client, make_event):
    """No contact given: the organisers' desk at the venue is the way."""
    event = make_event(contact="")
    html = html_of(_lost(client, event.code))
    assert "Datanglah ke meja panitia" in html and "wa.me/62" not in html


# --- the registration form no longer dead-ends ------------------------------------------------------


def test_registered_number_with_another_name_points_to_lost_ticket(client, make_event):
    """The refusal names "Tiket hilang?" and the page links to it once, where the lenient rule
    applies."""
    event = make_event()
    register_online(client, event.code)
    response = register_online(client, event.code, name="S. Rahmawati")
    assert response.status_code == 422
    html = html_of(response)
    assert "Bila ini nomor Anda, buka lagi tiket Anda lewat “Tiket hilang?”." in html
    assert html.count(f'href="{LOST.format(code=event.code)}"') == 1


# --- English ---------------------------------------------------------------------------------------


def _english(client) -> None:
    with client.session_transaction() as session:
        session["lang"] = "en"


def test_the_pages_read_in_english(client, make_event):
    """Form, answer and errors in English for a visitor who chose it."""
    event = make_event(contact="0812-1111-2222")
    register_online(client, event.code)
    _english(client)
    assert "Lost ticket?" in html_of(client.get(f"/e/{event.code}"))
    form = html_of(client.get(LOST.format(code=event.code)))
    assert "Find your ticket" in form and "Type the WhatsApp number and the name" in form
    answer = html_of(_lost(client, event.code, name="Budi"))
    assert "No ticket was found with this number and name." in answer
    assert "Contact the organisers on WhatsApp" in answer
    bad = html_of(_lost(client, event.code, phone="12", name=""))
    assert "Invalid WhatsApp number. Example: 0812-3456-7890." in bad and "Required." in bad
    again = register_online(client, event.code, name="Budi Santoso")
    assert "open your ticket again through “Lost ticket?”" in html_of(again)
    found = _lost(client, event.code)
    assert "Your ticket was found." in html_of(client.get(found.headers["Location"]))


# --- the limit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "words"),
    [("id", "Terlalu banyak percobaan"), ("en", "Too many attempts")],
)
def test_searches_are_rate_limited_per_address(app, client, make_event, lang, words):
    """The (n+1)-th search from one address in the window gets the translated 429 page."""
    event = make_event()
    register_online(client, event.code)
    if lang == "en":
        _english(client)
    default = app.config["KIM_RATELIMIT_LOST_TICKET"]
    app.config["KIM_RATELIMIT_LOST_TICKET"] = "3 per hour"
    try:
        statuses = [_lost(client, event.code, name=f"Nama Lain {n}").status_code for n in range(3)]
        refused = _lost(client, event.code)  # even the right name: the limit comes first
        after = client.get(LOST.format(code=event.code))
    finally:
        app.config["KIM_RATELIMIT_LOST_TICKET"] = default
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429 and words in html_of(refused)
    assert int(refused.headers["Retry-After"]) > 0
    assert after.status_code == 200  # reading the form is never limited
    assert default == "10 per hour"


# --- weight ---------------------------------------------------------------------------------------------


def test_lost_ticket_pages_fit_in_14_kb(client, make_event):
    """The form, the not-found answer with the longest contact, and the event page with it."""
    event = make_event(
        title="Pelatihan Pengelolaan Konten Digital dan Literasi Media untuk KIM " * 2,
        contact="Sekretariat Bidang IKP Diskominfo PPU, WA 0812-1111-2222, " * 3,
    )
    path = LOST.format(code=event.code)
    sizes = {
        "form": page_weight(client.get(path)),
        "answer": page_weight(_lost(client, event.code, name="N" * 120)),
        "public": page_weight(client.get(f"/e/{event.code}")),
    }
    print(f"lost-ticket page weights (gzip, with CSS): {sizes}")
    assert all(size <= BUDGET for size in sizes.values()), sizes


PUBLIC = {"events.lost_ticket"}
WEIGHED = {"events.lost_ticket"}
