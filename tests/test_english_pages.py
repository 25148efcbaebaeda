"""English pages (issue 22 item 22): the catalogue test counts entries; these render pages in
English and look for Indonesian left over — the options of forms (event kind, registration mode,
jabatan, SK signer, gender), enum labels, month and day names — on every HTML page the access
table reaches, for every role; plus the awkward readings ("Registration 37", a source
"Invitations") and the documents' header and dates."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from babel.dates import format_date, get_day_names, get_month_names
from flask_babel import force_locale

from kim_app.attendance.models import Presence
from kim_app.auth.models import Role, User
from kim_app.events.models import Event, EventSession, Registration, Source, Speaker
from kim_app.events.operations import PersonData, register_person
from kim_app.extensions import db
from kim_app.groups.models import Gender, Kim, Member
from kim_app.labels import LabelledEnum
from kim_app.notices.models import Notice
from kim_app.regions.models import Region
from tests.access_cases import ACTORS, CASES, World
from tests.conftest import PPU, PPU_VILLAGE, html_of
from tests.helpers import certificate_text
from tests.scenes import attend, cert_event, issue, register_attendee

# --- what must not be left in Indonesian ----------------------------------------------------------


def _enum_labels(app) -> set[str]:
    """Every enum label whose English differs from its Indonesian, in Indonesian."""
    found = set()
    with app.test_request_context():
        for enum_cls in LabelledEnum.__subclasses__():
            for member in enum_cls:
                with force_locale("id"):
                    indonesian = str(member.label)
                with force_locale("en"):
                    english = str(member.label)
                if indonesian != english:
                    found.add(indonesian)
    return found


def _calendar_words() -> set[str]:
    """Month names (long and short) and weekday names that differ between the two languages."""
    words = set()
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            months_id = get_month_names(width, context, "id")
            months_en = get_month_names(width, context, "en")
            words |= {months_id[m] for m in months_id if months_id[m] != months_en[m]}
        days_id, days_en = get_day_names(width, locale="id"), get_day_names(width, locale="en")
        words |= {days_id[d] for d in days_id if days_id[d] != days_en[d]}
    return words


def _pattern(words: set[str]) -> re.Pattern:
    """Whole words or phrases, case as written (``Mei``, not ``mei``; ``Impor``, not ``Import``)."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def _data_texts(app) -> list[str]:
    """What people typed or the suite's data holds (names of people, KIM, events, places, the
    notices' texts): proper names may hold any word, so they are taken out before the search."""
    columns = [
        Event.title, Event.organiser, Event.venue_name, Event.venue_address, Event.description,
        Event.contact, Event.cancel_reason, Event.signer_name, Event.signer_position,
        EventSession.topic, Speaker.name, Speaker.position, Speaker.institution,
        Kim.name, Kim.address, Member.name, Registration.name, Registration.institution,
        Registration.position, User.name, Notice.name, Notice.subject, Notice.text,
    ]  # fmt: skip
    with app.app_context():
        texts = {
            value
            for column in columns
            for value in db.session.scalars(sa.select(column).distinct())
            if value
        }
    return sorted(texts, key=len, reverse=True)


def _region_names(app, words: set[str]) -> list[str]:
    """Region names that hold one of ``words`` (a village may be called after a weekday)."""
    with app.app_context():
        names = set()
        for word in words:
            names |= set(
                db.session.scalars(
                    sa.select(Region.name).where(Region.name.contains(word)).limit(200)
                )
            )
    return sorted(names, key=len, reverse=True)


READ_ATTRIBUTES = re.compile(r'\b(?:title|aria-label|placeholder|alt)="([^"]*)"')


def visible_text(page: str) -> str:
    """The text a person reads: elements' text (SVG labels included) and read attributes."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    attributes = " ".join(READ_ATTRIBUTES.findall(page))
    text = re.sub(r"<[^>]*>", "\n", page)
    return html_lib.unescape(f"{text}\n{attributes}")


def leftovers(text: str, pattern: re.Pattern, proper: list[str]) -> list[str]:
    for name in proper:
        text = text.replace(name, " ")
    return sorted(set(pattern.findall(text)))


def test_the_search_finds_leftovers_and_spares_names(app):
    """The search sees option labels and month names, and not English words that begin alike
    (``Import``, ``Draft``) nor a proper name that holds an Indonesian word."""
    words = _enum_labels(app) | _calendar_words()
    assert {"Laki-laki", "Perempuan", "Pelatihan", "Hanya undangan", "Kepala desa"} <= words
    assert {"Mei", "Agu", "Okt", "Des", "Senin"} <= words
    pattern = _pattern(words)
    page = (
        '<select><option value="L">Laki-laki</option></select><p>Import · Draft</p>'
        '<svg><text>Mei</text></svg><h1 title="Pelatihan Jurnalistik">Training</h1>'
    )
    assert leftovers(visible_text(page), pattern, []) == ["Laki-laki", "Mei", "Pelatihan"]
    assert leftovers(visible_text(page), pattern, ["Pelatihan Jurnalistik"]) == ["Laki-laki", "Mei"]


# --- every page, every role ------------------------------------------------------------------------


def _speak_english(client, login, world: World) -> None:
    if world.actor is not None:
        login(world.actor)
    with client.session_transaction() as session:
        session["lang"] = "en"


def _english_pages(app, client, login, make_kim, make_event, headers, role):
    """``(where, html, partial?)`` of every HTML answer of the access table's GET probes this role
    may open inside its wilayah, asked in English."""
    world = World(app, role, make_kim, make_event)
    pages = []
    for endpoint, case in sorted(CASES.items()):
        if case.expect(role, True) != 200:
            continue
        for probe in case.probes:
            if probe.method != "GET":
                continue
            url = probe.url(world, world.inside)
            _speak_english(client, login, world)
            response = client.get(url, headers=headers if probe.partial else {})
            if response.status_code == 200 and response.mimetype == "text/html":
                assert 'lang="en"' in html_of(response) or probe.partial, url
                pages.append((f"{endpoint} {url}", html_of(response), probe.partial))
    return pages


@pytest.mark.parametrize("role", ACTORS, ids=[r.value if r else "visitor" for r in ACTORS])
def test_english_pages_have_no_indonesian_word_lists(
    app, client, login, make_kim, make_event, partial_headers, role
):
    """Every HTML page (and htmx fragment) of the access table this role may open, inside its
    wilayah, rendered in English: no enum label, form option, month or day name in Indonesian
    (names people gave — of persons, KIM, events, places — are allowed)."""
    pages = _english_pages(app, client, login, make_kim, make_event, partial_headers, role)
    # the petugas absensi is bound to its scan pages; everyone else reaches dozens
    least = {None: 8, Role.PETUGAS_ABSENSI: 2}.get(role, 20)
    print(f"{len(pages)} English pages for {role}")
    assert len(pages) >= least
    words = _enum_labels(app) | _calendar_words()
    pattern = _pattern(words)
    proper = _data_texts(app) + _region_names(app, words)
    found = {
        where: left
        for where, page, _partial in pages
        if (left := leftovers(visible_text(page), pattern, proper))
    }
    assert found == {}


# --- the items the issue names ------------------------------------------------------------------


def _english(client) -> None:
    with client.session_transaction() as session:
        session["lang"] = "en"


def test_kim_form_options_in_english(client, make_user, login):
    """Jabatan, SK signer and gender on the KIM form read in English, and in Indonesian still."""
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    page = html_of(client.get("/kim/baru"))
    for indonesian in ("Ketua", "Sekretaris", "Kepala desa", "Lurah", "Laki-laki", "Perempuan"):
        assert f">{indonesian}</option>" in page
    _english(client)
    page = html_of(client.get("/kim/baru"))
    for english in ("Chair", "Secretary", "Village head", "Urban village head", "Male", "Female"):
        assert f">{english}</option>" in page
    for indonesian in ("Ketua", "Kepala desa", "Lurah", "Laki-laki", "Perempuan"):
        assert f">{indonesian}</option>" not in page


def test_event_form_options_in_english(client, make_user, login):
    """Event kind and registration mode options on the event form read in English."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    _english(client)
    page = html_of(client.get("/kegiatan/baru"))
    for english in ("Training", "Technical guidance", "Invitation only"):
        assert english in page
    for indonesian in (">Pelatihan<", ">Bimbingan teknis<", ">Hanya undangan<"):
        assert indonesian not in page


def test_public_gender_radios_in_english(client, make_event):
    """The public registration form's gender choices read Male / Female in English."""
    event = make_event()
    _english(client)
    page = html_of(client.get(f"/e/{event.code}"))
    assert re.search(r'value="L"[^>]*> Male</label>', page)
    assert re.search(r'value="P"[^>]*> Female</label>', page)
    assert "Laki-laki" not in page and "Perempuan" not in page


def test_dashboard_months_and_registrations_in_english(client, make_user, login):
    """The dashboard names months in the reader's language (May, Aug, Oct, Dec) and its count of
    registrations reads "Registrations", not "Registration"."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    _english(client)
    page = html_of(client.get("/laporan/?dari=2026-01-01&sampai=2026-12-31"))
    for month in ("May 2026", "Aug 2026", "Oct 2026", "Dec 2026"):
        assert month in page
    for month in ("Mei", "Agu", "Okt", "Des"):
        assert not re.search(rf"\b{month}\b", page)
    assert "<dt>Registrations</dt>" in page and "<dt>Registration</dt>" not in page
    with client.session_transaction() as session:
        session["lang"] = "id"
    page = html_of(client.get("/laporan/?dari=2026-01-01&sampai=2026-12-31"))
    assert "Mei 2026" in page and "Des 2026" in page


def test_invited_participant_source_reads_invited(app, client, make_user, login, make_event):
    """A participant who came by invitation shows the source "Invited", not "Invitations"."""
    event = make_event()
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        register_person(loaded, PersonData("Siti Undangan", "0813-4444-0101"), Source.UNDANGAN)
        db.session.commit()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    _english(client)
    page = html_of(client.get(f"/kegiatan/{event.id}/peserta"))
    row = page[page.index("Siti Undangan") :][:600]
    assert "Invited" in row and "Invitations" not in row


def test_daftar_hadir_gender_header_matches_its_values(app, client, operator, make_event):
    """The daftar hadir's gender column is headed L/P, as its values are L and P, in English too
    (not M/F above L and P)."""
    event = cert_event(app, make_event)
    rid = register_attendee(app, event.id, "Budi Santoso", 1)
    with app.app_context():
        db.session.get(Registration, rid).gender = Gender.L
        session_id = db.session.scalars(
            sa.select(EventSession.id).where(EventSession.event_id == event.id)
        ).first()
        db.session.commit()
    _english(client)
    response = client.get(f"/absensi/sesi/{session_id}/daftar-hadir.pdf")
    assert response.status_code == 200
    _pages, text = certificate_text(response.data)
    assert "L/P" in text and "M/F" not in text


def test_certificate_date_is_the_long_date_of_its_language(app, client, operator, make_event):
    """A certificate writes its date as its language's long date — "December 7, 2026" in English,
    "7 Desember 2026" in Indonesian — never "7 December 2026"."""
    event = cert_event(app, make_event)
    rid = register_attendee(app, event.id, "Rina Wati", 2)
    attend(app, rid, 4, Presence.HADIR)
    issue(app, event.id)
    _english(client)
    response = client.get(f"/absensi/kegiatan/{event.id}/sertifikat.pdf")
    assert response.status_code == 200
    flat = " ".join(certificate_text(response.data)[1].split())
    with app.app_context():
        issued = db.session.scalar(sa.text("SELECT issued_at FROM certificates LIMIT 1"))
    utc_day = date.fromisoformat(str(issued)[:10])
    days = {utc_day, utc_day + timedelta(days=1)}  # the event's local day may be the next
    assert any(format_date(d, "long", locale=lang) in flat for d in days for lang in ("en", "id"))
    assert not any(format_date(d, "d MMMM y", locale="en") in flat for d in days)
