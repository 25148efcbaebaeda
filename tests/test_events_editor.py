"""The event editor and event pages: creating a two-day training with sessions and speakers,
editing, session rows added and removed (htmx and plain), validation, cloning, status steps,
time zones per province, the events list, access per role and scope, page weight, queries."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.events.models import (
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Invitation,
    RegistrationMode,
    Source,
    Speaker,
)
from kim_app.events.operations import (
    PersonData,
    cancel_registration,
    local_now,
    register_person,
)
from kim_app.extensions import db
from tests.budget import counted_queries, page_weight
from tests.conftest import JATIM, PPU, PPU_VILLAGE, html_of
from tests.helpers import BUDGET, SESSIONS, event_form

SCOPE_CHECKED = {
    "events.index",
    "events.new",
    "events.edit",
    "events.detail",
    "events.set_status",
    "events.clone",
}
WEIGHED = {"events.index", "events.new", "events.edit", "events.detail", "events.clone"}
NOT_PAGES = {"events.set_status"}

MAJALENGKA = "32.10"
JAYAPURA = "91.03"  # Kabupaten Jayapura, Papua (WIT)
SURABAYA = "35.78"  # Kota Surabaya, Jawa Timur (WIB)


def _events(app) -> list[Event]:
    with app.app_context():
        events = db.session.scalars(sa.select(Event).order_by(Event.id)).all()
        for event in events:
            for session in event.sessions:
                list(session.speakers)
            db.session.expunge(event)  # its sessions and speakers go with it (cascade)
        return list(events)


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def _weight(response) -> int:
    html = html_of(response)
    assert "<html" in html
    return page_weight(response)


# --- creating -----------------------------------------------------------------------------------


def test_operator_creates_two_day_training_with_four_sessions(app, client, operator):
    """A draft in the operator's regency, in WITA, four sessions in order with their speakers."""
    data = event_form(speakers=2)
    data["sessions-3-speakers-1-name"] = "   "  # a blank speaker row is ignored
    response = client.submit("/kegiatan/baru", data)
    assert response.status_code == 303
    [event] = _events(app)
    assert response.headers["Location"] == f"/kegiatan/{event.id}"
    assert (event.status, event.kind, event.region_code) == (
        EventStatus.DRAFT,
        EventKind.PELATIHAN,
        PPU,
    )
    assert event.zone_label == "WITA" and event.capacity == 100
    assert event.registration_deadline == datetime(2030, 5, 14, 17, 0)
    assert event.starts_on == datetime(2030, 5, 15, 9, 0)
    assert [(s.starts_at, s.ends_at, s.topic) for s in event.sessions] == [
        (datetime(2030, 5, 15, 9), datetime(2030, 5, 15, 12), "Menulis berita desa"),
        (datetime(2030, 5, 15, 13), datetime(2030, 5, 15, 16), "Foto jurnalistik dengan ponsel"),
        (datetime(2030, 5, 16, 8, 30), datetime(2030, 5, 16, 12), "Melawan hoaks"),
        (datetime(2030, 5, 16, 13), datetime(2030, 5, 16, 15, 30), "Rencana tindak lanjut"),
    ]
    assert [len(s.speakers) for s in event.sessions] == [2, 2, 2, 1]
    first = event.sessions[0].speakers[0]
    assert (first.name, first.position, first.institution) == (
        "Narasumber 1.1",
        "Kepala Bidang",
        "Diskominfo PPU",
    )
    [entry] = _audit(app, "event.create")
    assert entry.object_id == str(event.id) and entry.actor_id == operator.id


def test_new_form_for_a_regency_operator_fixes_the_regency_and_says_wita(client, operator):
    """One regency to choose from: shown as text; the times are said to be in WITA."""
    response = client.get("/kegiatan/baru")
    html = html_of(response)
    assert response.status_code == 200
    assert '<input type="hidden" name="region" value="64.09">' in html
    assert "Kabupaten Penajam Paser Utara" in html
    assert "Waktu dalam WITA" in html
    assert html.count("<legend>Sesi ") == 1  # one empty session row to start with


def test_province_operator_chooses_the_province_or_one_of_its_regencies(client, make_user, login):
    """Jawa Timur's operator gets a select of the province and its 38 regencies; WIB."""
    login(make_user(Role.OPERATOR_PROVINSI, JATIM))
    html = html_of(client.get("/kegiatan/baru"))
    options = re.findall(r'<option (?:selected )?value="(35[.\d]*)"', html)
    assert options[0] == "35" and SURABAYA in options and len(options) == 39
    assert "Provinsi Jawa Timur (tingkat provinsi)" in html
    assert "Waktu dalam WIB" in html


def test_admin_picks_the_region_and_the_zone_hint_follows_the_province(
    client, make_user, login, partial_headers
):
    """The admin gets the region picker; the zone hint re-renders alone for a chosen province."""
    login(make_user(Role.ADMIN))
    html = html_of(client.get("/kegiatan/baru"))
    assert 'id="penyelenggara_provinsi"' in html and 'name="region"' not in html
    assert "pilih wilayahnya dulu" in html
    response = client.get(
        "/kegiatan/baru?bagian=zona&penyelenggara_provinsi=91", headers=partial_headers
    )
    assert response.status_code == 200
    fragment = html_of(response)
    assert "<html" not in fragment and fragment.startswith('<p id="zona"')
    assert "Waktu dalam WIT," in fragment
    assert 'hx-get="/kegiatan/baru?bagian=zona"' in fragment  # keeps refreshing itself
    assert "<html" in html_of(client.get("/kegiatan/baru?bagian=zona"))  # plain: the page


def test_admin_without_javascript_refreshes_the_picker_without_saving(
    app, client, make_user, login
):
    """The picker's own button (no JavaScript) re-renders the form with the next level and zone."""
    login(make_user(Role.ADMIN))
    data = event_form(region="", penyelenggara_provinsi="91", _pick="1")
    response = client.submit("/kegiatan/baru", data)
    html = html_of(response)
    assert response.status_code == 200
    assert 'id="penyelenggara_kabupaten"' in html and f'value="{JAYAPURA}"' in html
    assert "Waktu dalam WIT," in html
    assert _events(app) == []


def test_admin_creates_a_province_level_event_in_papua(app, client, make_user, login):
    """Province chosen, regency left empty: a province event, in WIT."""
    login(make_user(Role.ADMIN))
    data = event_form(region="", penyelenggara_provinsi="91", penyelenggara_kabupaten="")
    assert client.submit("/kegiatan/baru", data).status_code == 303
    [event] = _events(app)
    assert (event.region_code, event.timezone) == ("91", "Asia/Jayapura")


def test_admin_without_a_region_gets_the_error_under_the_picker(app, client, make_user, login):
    """No province picked: 422 with the service's message where the picker is."""
    login(make_user(Role.ADMIN))
    response = client.submit("/kegiatan/baru", event_form(region=""))
    assert response.status_code == 422
    assert "Pilih kabupaten/kota atau provinsi penyelenggara." in html_of(response)
    assert _events(app) == []


# --- session rows ---------------------------------------------------------------------------------


def test_adding_a_session_row_re_renders_the_form_without_saving(
    app, client, operator, partial_headers
):
    """Adding a row: a plain post gets the page, htmx the form; the new row starts where the
    last one ended; nothing is saved."""
    data = event_form(sessions=SESSIONS[:1], _sesi="tambah")
    plain = client.submit("/kegiatan/baru", data, form_page="/kegiatan/baru")
    assert plain.status_code == 200 and "<html" in html_of(plain)
    htmx = client.submit("/kegiatan/baru", data, headers=partial_headers)
    fragment = html_of(htmx)
    assert htmx.status_code == 200 and "<html" not in fragment
    assert fragment.startswith("<form") and 'id="event-form"' in fragment
    assert fragment.count("<legend>Sesi ") == 2
    assert 'name="sessions-1-day" type="date" value="2030-05-15"' in fragment
    assert 'name="sessions-1-start" type="time" value="12:00"' in fragment
    assert 'value="Menulis berita desa"' in fragment  # what was typed stays
    assert _events(app) == []


def test_removing_a_session_row_keeps_the_others(app, client, operator, partial_headers):
    """Removing row 1 drops it; the next row moves up with its values and speakers."""
    data = event_form(sessions=SESSIONS[:3], _sesi="hapus-0")
    for headers in ({}, partial_headers):
        response = client.submit("/kegiatan/baru", data, headers=headers)
        html = html_of(response)
        assert response.status_code == 200
        assert html.count("<legend>Sesi ") == 2
        assert "Menulis berita desa" not in html
        assert 'name="sessions-0-topic" type="text" value="Foto jurnalistik dengan ponsel"' in html
        assert 'name="sessions-0-speakers-0-name" type="text" value="Narasumber 2.1"' in html
        assert ("<html" in html) is not bool(headers)
    assert _events(app) == []


def test_the_last_session_row_cannot_be_removed(client, operator):
    """With one row there is no remove button, and a forged remove keeps the row."""
    html = html_of(client.get("/kegiatan/baru"))
    assert 'value="hapus-0"' not in html
    response = client.submit("/kegiatan/baru", event_form(sessions=SESSIONS[:1], _sesi="hapus-0"))
    assert html_of(response).count("<legend>Sesi ") == 1


def test_blank_session_rows_are_skipped(app, client, operator):
    """An untouched extra row does not block saving and is not stored."""
    data = event_form(sessions=[*SESSIONS[:2], ("", "", "", "")], speakers=0)
    assert client.submit("/kegiatan/baru", data).status_code == 303
    [event] = _events(app)
    assert len(event.sessions) == 2 and all(not s.speakers for s in event.sessions)


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sessions-1-end": "12:30"}, "Jam selesai harus setelah jam mulai."),
        ({"sessions-1-end": "13:00"}, "Jam selesai harus setelah jam mulai."),
        ({"sessions-2-start": ""}, "Wajib diisi."),
        ({"sessions-0-day": "15/05/2030"}, "Tanggal tidak valid."),
        ({"sessions-0-day": "9999-12-31"}, "Tanggal harus antara tahun 2000 dan 2100."),
        ({"sessions-0-start": "jam 9"}, "Jam tidak valid. Contoh: 09:00."),
        ({"capacity": "0"}, "Kapasitas harus lebih dari 0, atau kosongkan untuk tanpa batas."),
        ({"capacity": "-3"}, "Kapasitas harus lebih dari 0, atau kosongkan untuk tanpa batas."),
        ({"capacity": "seratus"}, "Tuliskan angka saja."),
        ({"online_link": "javascript:alert(1)"}, "diawali http:// atau https://"),
        ({"online_link": "ftp://berkas.example/a"}, "diawali http:// atau https://"),
        ({"online_link": "https://"}, "diawali http:// atau https://"),
        ({"title": "   "}, "Wajib diisi."),
        ({"kind": "konser"}, "Pilihan tidak valid."),
        ({"registration_deadline": "2030-05-17T08:00"}, "harus sebelum kegiatan berakhir"),
        ({"registration_deadline": "besok"}, "Tanggal dan jam tidak valid."),
    ],
    ids=[
        "end-before-start",
        "end-equals-start",
        "missing-start",
        "bad-date",
        "far-future-date",
        "bad-time",
        "capacity-0",
        "capacity-negative",
        "capacity-words",
        "javascript-link",
        "ftp-link",
        "link-without-host",
        "no-title",
        "unknown-kind",
        "deadline-after-event",
        "bad-deadline",
    ],
)
def test_invalid_input_gets_422_with_a_message_on_the_field(
    app, client, operator, changes, message
):
    """Each mistake comes back as 422 with an Indonesian message, and nothing is saved."""
    response = client.submit("/kegiatan/baru", event_form(**changes))
    html = html_of(response)
    assert response.status_code == 422
    assert message in html
    assert 'aria-invalid="true"' in html
    assert _events(app) == []


def test_every_mistake_shows_at_once(app, client, operator, partial_headers):
    """Link, capacity and session times wrong together: one 422 names all three, with a summary
    at the top, and htmx is told to scroll the form's top into view."""
    data = event_form(online_link="zoom.us/j/1", capacity="0", **{"sessions-0-end": "08:00"})
    response = client.submit("/kegiatan/baru", data, headers=partial_headers)
    html = html_of(response)
    assert response.status_code == 422
    assert "Ada isian yang perlu diperbaiki" in html
    assert "diawali http:// atau https://" in html
    assert "Kapasitas harus lebih dari 0" in html
    assert "Jam selesai harus setelah jam mulai." in html
    assert 'hx-status:422=\'{"swap": "outerHTML show:top"}\'' in html
    assert _events(app) == []


def test_no_sessions_at_all_is_refused(app, client, operator, partial_headers):
    """Every row blank: 422 asking for at least one session (as a fragment for htmx)."""
    data = event_form(sessions=[("", "", "", "")], speakers=0)
    response = client.submit("/kegiatan/baru", data, headers=partial_headers)
    assert response.status_code == 422
    html = html_of(response)
    assert "<html" not in html and "Tambahkan paling sedikit satu sesi." in html
    assert _events(app) == []


def test_region_outside_the_operators_scope_is_refused(app, client, make_user, login):
    """Jawa Timur's operator cannot make an event owned by Penajam Paser Utara."""
    login(make_user(Role.OPERATOR_PROVINSI, JATIM))
    response = client.submit("/kegiatan/baru", event_form(region=PPU))
    assert response.status_code == 422
    assert "Pilihan tidak valid." in html_of(response)
    assert _events(app) == []


def test_a_region_error_from_the_service_lands_on_the_region(app, client, make_user, login):
    """The admin picking only a district-less code still gets the service's scope rule."""
    admin = make_user(Role.ADMIN)
    login(admin)
    # the picker ignores anything that is not a province or regency
    response = client.submit(
        "/kegiatan/baru", event_form(penyelenggara_provinsi="64.09.03", penyelenggara_kabupaten="")
    )
    assert response.status_code == 422
    assert "Pilih kabupaten/kota atau provinsi penyelenggara." in html_of(response)


# --- editing --------------------------------------------------------------------------------------


def test_edit_form_shows_the_agenda_and_saves_changes(app, client, operator, make_event):
    """The rows hold the stored sessions; saving replaces them and is audited."""
    event = make_event(region=PPU, status=EventStatus.DRAFT)
    html = html_of(client.get(f"/kegiatan/{event.id}/ubah"))
    assert html.count("<legend>Sesi ") == 4
    assert f'value="{event.title}"' in html
    assert 'name="sessions-0-start" type="time" value="09:00"' in html
    data = event_form(sessions=SESSIONS[:2], title="Bimtek Literasi Digital", kind="bimtek")
    response = client.submit(f"/kegiatan/{event.id}/ubah", data)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/kegiatan/{event.id}"
    [saved] = _events(app)
    assert (saved.title, saved.kind, len(saved.sessions)) == (
        "Bimtek Literasi Digital",
        EventKind.BIMTEK,
        2,
    )
    assert saved.starts_on == datetime(2030, 5, 15, 9)
    [entry] = _audit(app, "event.update")
    assert entry.changes["title"] == "Bimtek Literasi Digital"


def test_saving_the_edit_form_keeps_the_session_ids(app, client, operator, make_event):
    """The form carries each session's id, so an edited session stays the same row."""
    event = make_event(region=PPU, status=EventStatus.DRAFT)
    with app.app_context():
        before = [s.id for s in db.session.get(Event, event.id).sessions]
    html = html_of(client.get(f"/kegiatan/{event.id}/ubah"))
    assert f'name="sessions-0-id" type="hidden" value="{before[0]}"' in html
    data = event_form(sessions=SESSIONS[:2])
    data["sessions-0-id"], data["sessions-1-id"] = str(before[0]), str(before[1])
    assert client.submit(f"/kegiatan/{event.id}/ubah", data).status_code == 303
    with app.app_context():
        assert [s.id for s in db.session.get(Event, event.id).sessions] == before[:2]


def test_capacity_below_the_registered_count_is_refused(app, client, operator, make_event):
    """Five people registered: the capacity cannot go down to 3 (the service's message)."""
    event = make_event(region=PPU, capacity=10)
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        for n in range(5):
            register_person(loaded, PersonData(f"Peserta {n}", f"0812{n:08d}"), Source.MANDIRI)
        db.session.commit()
    response = client.submit(f"/kegiatan/{event.id}/ubah", event_form(capacity="3"))
    assert response.status_code == 422
    assert "Sudah ada 5 peserta terdaftar" in html_of(response)


@pytest.mark.parametrize("status", [EventStatus.SELESAI, EventStatus.DIBATALKAN])
def test_finished_or_cancelled_events_are_not_edited(app, client, operator, make_event, status):
    """The editor sends the operator back to the event page with a message."""
    event = make_event(region=PPU, status=status)
    response = client.get(f"/kegiatan/{event.id}/ubah")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/kegiatan/{event.id}"
    page = html_of(client.get(f"/kegiatan/{event.id}"))
    assert "tidak dapat diubah" in page
    assert f'href="/kegiatan/{event.id}/ubah"' not in page


# --- cloning --------------------------------------------------------------------------------------


def test_clone_moves_the_agenda_to_the_new_first_day(app, client, operator, make_event):
    """A new draft: every session shifted by whole days, same times, same speakers; audited."""
    event = make_event(
        region=PPU, registration_deadline=datetime.combine(date.today(), datetime.min.time())
    )
    original = _events(app)[0]
    page = client.get(f"/kegiatan/{event.id}/salin")
    assert page.status_code == 200 and "Hari pertama kegiatan baru" in html_of(page)
    assert '<details id="salin" open>' in html_of(page)
    response = client.submit(f"/kegiatan/{event.id}/salin", {"first_day": "2031-03-02"})
    assert response.status_code == 303
    _, copy = _events(app)
    assert response.headers["Location"] == f"/kegiatan/{copy.id}/ubah"
    assert copy.status is EventStatus.DRAFT and copy.cloned_from_id == event.id
    assert copy.code != original.code and copy.title == original.title
    shift = date(2031, 3, 2) - original.sessions[0].starts_at.date()
    assert [(s.starts_at, s.ends_at) for s in copy.sessions] == [
        (s.starts_at + shift, s.ends_at + shift) for s in original.sessions
    ]
    assert copy.sessions[1].starts_at.date() == date(2031, 3, 2)
    assert copy.sessions[2].starts_at.date() == date(2031, 3, 3)
    assert [sp.name for s in copy.sessions for sp in s.speakers] == [
        sp.name for s in original.sessions for sp in s.speakers
    ]
    assert copy.registration_deadline == original.registration_deadline + shift
    assert len(_audit(app, "event.clone")) == 1


def test_clone_needs_a_valid_day(app, client, operator, make_event):
    """No day or a bad one: 422 on the event page with the clone form open."""
    event = make_event(region=PPU)
    for value in ("", "2031-02-30", "9999-12-31"):
        response = client.submit(
            f"/kegiatan/{event.id}/salin", {"first_day": value}, form_page=f"/kegiatan/{event.id}"
        )
        html = html_of(response)
        assert response.status_code == 422
        assert '<details id="salin" open>' in html and 'class="error"' in html
    assert len(_events(app)) == 1


# --- status steps ---------------------------------------------------------------------------------


def _status(client, event_id: int, to: str, reason: str = ""):
    return client.submit(
        f"/kegiatan/{event_id}/status",
        {"to": to, "reason": reason},
        form_page=f"/kegiatan/{event_id}",
    )


def test_publish_start_and_finish(app, client, operator, make_event):
    """Draft → terbit → berlangsung → selesai, each offered on the page and audited."""
    event = make_event(region=PPU, status=EventStatus.DRAFT)
    with app.app_context():  # the first session an hour away: "Mulai kegiatan" is offered
        loaded = db.session.get(Event, event.id)
        shift = local_now(loaded) + timedelta(hours=1) - loaded.sessions[0].starts_at
        for session in loaded.sessions:
            session.starts_at += shift
            session.ends_at += shift
        db.session.commit()
    draft = html_of(client.get(f"/kegiatan/{event.id}"))
    assert "Tautan ini aktif setelah kegiatan diterbitkan." in draft and "wa.me" not in draft
    for to, button in (
        ("terbit", "Terbitkan"),
        ("berlangsung", "Mulai kegiatan"),
        ("selesai", "Tandai selesai"),
    ):
        assert button in html_of(client.get(f"/kegiatan/{event.id}"))
        response = _status(client, event.id, to)
        assert response.status_code == 303
        assert _events(app)[0].status is EventStatus(to)
    page = html_of(client.get(f"/kegiatan/{event.id}"))
    assert "Status kegiatan sekarang: Selesai." in page
    assert [e.changes["to"] for e in _audit(app, "event.status")] == [
        "terbit",
        "berlangsung",
        "selesai",
    ]


def test_cancelling_needs_a_reason_that_the_page_then_shows(app, client, operator, make_event):
    """Without a reason: 422 with the message at the reason; with one: shown as an alert."""
    event = make_event(region=PPU)
    response = _status(client, event.id, "dibatalkan", "  ")
    html = html_of(response)
    assert response.status_code == 422
    assert "Tuliskan alasan pembatalan" in html and "<details open>" in html
    assert _events(app)[0].status is EventStatus.TERBIT
    assert _status(client, event.id, "dibatalkan", "Aula dipakai untuk banjir.").status_code == 303
    page = html_of(client.get(f"/kegiatan/{event.id}"))
    alert = re.search(r'<div class="flash error" role="alert">(.*?)</div>', page, re.S).group(1)
    assert "Kegiatan ini dibatalkan." in alert and "Aula dipakai untuk banjir." in alert
    assert "Terbitkan" not in page and "Salin ke tanggal baru" in page


def test_a_step_not_allowed_from_here_is_refused(app, client, operator, make_event):
    """Selesai cannot be published again (422 with the reason); an unknown status is a 400."""
    event = make_event(region=PPU, status=EventStatus.SELESAI)
    response = _status(client, event.id, "terbit")
    assert response.status_code == 422
    assert "Perubahan status ini tidak diizinkan." in html_of(response)
    assert _status(client, event.id, "meledak").status_code == 400
    assert _events(app)[0].status is EventStatus.SELESAI


# --- the event page -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "zone"), [(PPU, "WITA"), (SURABAYA, "WIB"), (JAYAPURA, "WIT"), (JATIM, "WIB")]
)
def test_times_are_shown_with_the_zone_of_the_province(
    client, make_user, login, make_event, region, zone
):
    """An event in Kalimantan Timur shows WITA, in Jawa Timur WIB, in Papua WIT — never shifted."""
    login(make_user(Role.ADMIN))
    event = make_event(region=region)
    html = html_of(client.get(f"/kegiatan/{event.id}"))
    assert f"09.00–12.00 {zone}" in html and f"13.00–16.00 {zone}" in html
    day = event.starts_on.date()
    assert f"09.00 {zone} – " in html  # the two-day range
    listing = html_of(client.get("/kegiatan/"))
    assert f"09.00 {zone}" in listing
    edit = html_of(client.get(f"/kegiatan/{event.id}/ubah"))
    assert f"Waktu dalam {zone}," in edit
    assert day.isoformat() in edit


def test_event_page_shows_agenda_venue_links_and_counts(app, client, operator, make_event):
    """Agenda per day with speakers, a map link for the address, the online link, the counts
    and seats left, the public link (absolute) and the manager's buttons."""
    event = make_event(
        region=PPU,
        capacity=2,
        venue_address="Jl. Provinsi Km 9, Penajam",
        online_link="https://meet.example/kim",
        organiser="Diskominfo PPU",
        contact="humas@ppu.example",
        registration_deadline=datetime(2030, 5, 14, 17, 0),
    )
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        people = [
            register_person(loaded, PersonData(f"Peserta {n}", f"0812{n:08d}"), Source.MANDIRI)[0]
            for n in range(4)
        ]
        cancel_registration(people[3], None)  # a waiting one cancels
        db.session.commit()
    html = html_of(client.get(f"/kegiatan/{event.id}"))
    assert html.count("<h3>") == 2  # two days
    assert "Narasumber 1-0-0 (Kepala Bidang, Diskominfo)" in html
    assert (
        'href="https://www.openstreetmap.org/search?query=Jl.%20Provinsi%20Km%209%2C%20Penajam"'
        in html
    )
    assert 'href="https://meet.example/kim" rel="noopener noreferrer"' in html
    assert "2 terdaftar · 1 daftar tunggu · 1 batal" in html
    assert "2 orang · sisa 0 kursi" in html
    assert "Diskominfo PPU" in html and "humas@ppu.example" in html
    assert "Tautan pendaftaran umum" in html and f"http://localhost/e/{event.code}" in html
    assert 'href="https://wa.me/?text=' in html
    assert f'href="/kegiatan/{event.id}/poster.pdf"' in html
    assert f'href="/kegiatan/{event.id}/peserta"' in html
    assert f'href="/kegiatan/{event.id}/undangan"' in html
    assert f'href="/kegiatan/{event.id}/ubah"' in html
    assert f'action="/kegiatan/{event.id}/salin"' in html
    assert "0812" not in html  # no phone numbers on the event page


def test_village_head_sees_a_published_event_without_the_manager_tools(
    client, make_user, login, make_event
):
    """The kepala desa of a PPU village reads the page; no edit, status or clone controls."""
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    event = make_event(region=PPU)
    response = client.get(f"/kegiatan/{event.id}")
    html = html_of(response)
    assert response.status_code == 200
    assert "Kelola kegiatan" not in html and "/ubah" not in html and "/status" not in html
    draft = make_event(region=PPU, status=EventStatus.DRAFT)
    assert client.get(f"/kegiatan/{draft.id}").status_code == 404


def test_regency_operator_sees_but_cannot_manage_the_provinces_event(client, operator, make_event):
    """A Kalimantan Timur event is visible to the PPU operator; managing it answers 403."""
    event = make_event(region="64")
    html = html_of(client.get(f"/kegiatan/{event.id}"))
    assert "Kelola kegiatan" not in html
    assert client.get(f"/kegiatan/{event.id}/ubah").status_code == 403
    assert client.get(f"/kegiatan/{event.id}/salin").status_code == 403
    assert _status(client, event.id, "berlangsung").status_code == 403


# --- the list ------------------------------------------------------------------------------------


def test_index_lists_coming_events_soonest_first_and_past_ones_latest_first(
    app, client, operator, make_event
):
    """Drafts for the operator, coming events ascending; "Sudah lewat" lists the past ones."""
    make_event(title="Besok")
    later = make_event(title="Pekan depan", status=EventStatus.DRAFT)
    old = make_event(title="Bulan lalu", status=EventStatus.SELESAI)
    older = make_event(title="Tahun lalu", status=EventStatus.SELESAI)
    other = make_event(title="Di Majalengka", region=MAJALENGKA)
    with app.app_context():
        for event_id, days in ((later.id, 7), (old.id, -30), (older.id, -365)):
            event = db.session.get(Event, event_id)
            for session in event.sessions:
                session.starts_at += timedelta(days=days)
                session.ends_at += timedelta(days=days)
            event.starts_on = event.sessions[0].starts_at
        db.session.commit()
    html = html_of(client.get("/kegiatan/"))
    titles = re.findall(r"<strong>([^<]+)</strong></a> <span", html)
    assert titles == ["Besok", "Pekan depan"]
    assert other.title not in html and "Buat kegiatan" in html
    past = html_of(client.get("/kegiatan/?waktu=lampau"))
    assert re.findall(r"<strong>([^<]+)</strong></a> <span", past) == ["Bulan lalu", "Tahun lalu"]
    assert 'aria-current="page">Sudah lewat' in past


def test_index_fragment_for_htmx_and_pages_of_25(
    app, client, operator, make_event, partial_headers
):
    """The toggle and the pager swap only the list; 26 events make two pages."""
    for n in range(26):
        make_event(title=f"Kegiatan {n:02d}")
    response = client.get("/kegiatan/?halaman=2", headers=partial_headers)
    html = html_of(response)
    assert response.status_code == 200 and "<html" not in html
    assert html.startswith('<section id="kegiatan"')
    assert html.count("<li>") == 1 and "‹ Sebelumnya" in html
    assert "<html" in html_of(client.get("/kegiatan/?halaman=2"))
    assert client.get("/kegiatan/?halaman=999999999999").status_code == 200
    assert client.get("/kegiatan/?halaman=abc").status_code == 200


def test_village_head_sees_published_events_of_the_area_only(client, make_user, login, make_event):
    """Published PPU and Kalimantan Timur events, no drafts, nothing from elsewhere; no create button."""
    make_event(title="Sosialisasi PPU")
    make_event(title="Forum Kaltim", region="64")
    make_event(title="Draf PPU", status=EventStatus.DRAFT)
    make_event(title="Jawa Timur", region=SURABAYA)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    html = html_of(client.get("/kegiatan/"))
    titles = set(re.findall(r"<strong>([^<]+)</strong></a> <span", html))
    assert titles == {"Sosialisasi PPU", "Forum Kaltim"}
    assert "Buat kegiatan" not in html and "Undangan untuk KIM Anda" not in html


def test_pengurus_sees_the_invitations_of_their_kim(
    app, client, make_user, login, make_kim, make_event
):
    """Events the KIM is invited to are listed with the quota and link to the event page."""
    kim = make_kim()
    other = make_kim(name="KIM Lain")
    invited = make_event(title="Pelatihan Undangan")
    make_event(title="Pelatihan Tanpa Undangan")
    not_ours = make_event(title="Undangan KIM lain")
    with app.app_context():
        db.session.add_all(
            [
                Invitation(event_id=invited.id, kim_id=kim.id, quota=3),
                Invitation(event_id=not_ours.id, kim_id=other.id, quota=2),
            ]
        )
        db.session.commit()
    login(make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id))
    html = html_of(client.get("/kegiatan/"))
    section = html.split('id="undangan"')[1].split("</section>")[0]
    assert "Pelatihan Undangan" in section and "kuota 3 orang" in section
    assert f'href="/kegiatan/{invited.id}"' in section
    assert "Undangan KIM lain" not in section and "Pelatihan Tanpa Undangan" not in section


def test_index_queries_do_not_grow_with_events(app, client, make_user, login, make_event, make_kim):
    """3 or 30 events (with invitations): the same number of SQL queries for the list."""
    kim = make_kim()
    login(make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id))
    counts = []
    for total in (3, 30):
        with app.app_context():
            db.session.execute(sa.text("DELETE FROM event_invitations"))
            db.session.commit()
        events = [make_event() for _ in range(total - len(_events(app)))]
        with app.app_context():
            db.session.add_all([Invitation(event_id=e.id, kim_id=kim.id) for e in events])
            db.session.commit()
        with counted_queries(app) as seen:
            assert client.get("/kegiatan/").status_code == 200
        counts.append(len(seen))
    print(f"events index queries: {counts}")
    assert counts[0] == counts[1]


def test_event_page_queries_do_not_grow_with_sessions(app, client, operator, make_event):
    """2 or 8 sessions with their speakers: the same number of SQL queries for the event page."""
    counts = []
    for days in (1, 4):
        event = make_event(days=days)
        with counted_queries(app) as seen:
            assert client.get(f"/kegiatan/{event.id}").status_code == 200
        counts.append(len(seen))
    print(f"event page queries: {counts}")
    assert counts[0] == counts[1]


def test_a_province_operator_must_name_the_region(app, client, make_user, login):
    """A post without any region is refused rather than quietly given the province."""
    login(make_user(Role.OPERATOR_PROVINSI, JATIM))
    data = event_form()
    del data["region"]
    response = client.submit("/kegiatan/baru", data)
    assert response.status_code == 422 and "Pilihan tidak valid." in html_of(response)


# --- access: role × scope -------------------------------------------------------------------------

# role → (its scope, an owning region inside that scope)
ACTORS = {
    Role.ADMIN: (None, PPU),
    Role.OPERATOR_PROVINSI: (JATIM, SURABAYA),
    Role.OPERATOR_KABKOTA: (PPU, PPU),
    Role.KEPALA_DESA: (PPU_VILLAGE, PPU),
    Role.PENGURUS_KIM: (PPU_VILLAGE, PPU),
    Role.PETUGAS_ABSENSI: (PPU, PPU),
}
OPERATORS = {Role.ADMIN, Role.OPERATOR_PROVINSI, Role.OPERATOR_KABKOTA}
VIEWERS = OPERATORS | {Role.KEPALA_DESA, Role.PENGURUS_KIM}
MATRIX_ENDPOINTS = (
    "events.index",
    "events.new",
    "events.detail",
    "events.edit",
    "events.clone",
    "events.set_status",
)


def _expected(role: Role, endpoint: str, inside: bool) -> int:
    if endpoint in ("events.index", "events.detail"):
        if role not in VIEWERS:
            return 403
        return 200 if inside or role is Role.ADMIN or endpoint == "events.index" else 404
    if role not in OPERATORS:
        return 403
    if endpoint == "events.new":
        return 200
    if not inside and role is not Role.ADMIN:
        return 404
    return 303 if endpoint == "events.set_status" else 200


@pytest.mark.parametrize(
    ("role", "endpoint", "inside"),
    [(r, e, i) for r in ACTORS for e in MATRIX_ENDPOINTS for i in (True, False)],
    ids=lambda v: getattr(v, "value", str(v)),
)
def test_scope_matrix(app, client, make_user, login, make_kim, make_event, role, endpoint, inside):
    """Each role reaches the events of its wilayah (404 outside it) and only the pages of its role (403)."""
    scope, region_inside = ACTORS[role]
    kim_id = make_kim().id if role is Role.PENGURUS_KIM else None
    login(make_user(role, scope, kim_id=kim_id))
    event = make_event(region=region_inside if inside else MAJALENGKA, title="Kegiatan Matriks")
    token = client.token("/")
    if endpoint == "events.index":
        response = client.get("/kegiatan/")
        if response.status_code == 200:
            shown = "Kegiatan Matriks" in html_of(response)
            assert shown is (inside or role is Role.ADMIN)
    elif endpoint == "events.new":
        response = client.get("/kegiatan/baru")
    elif endpoint == "events.detail":
        response = client.get(f"/kegiatan/{event.id}")
    elif endpoint == "events.edit":
        response = client.get(f"/kegiatan/{event.id}/ubah")
    elif endpoint == "events.clone":
        response = client.get(f"/kegiatan/{event.id}/salin")
    else:
        response = client.post(
            f"/kegiatan/{event.id}/status", data={"to": "berlangsung", "csrf_token": token}
        )
    assert response.status_code == _expected(role, endpoint, inside)
    if endpoint == "events.set_status":
        expected = EventStatus.BERLANGSUNG if response.status_code == 303 else EventStatus.TERBIT
        assert _events(app)[0].status is expected


def test_writes_by_other_roles_change_nothing(app, client, make_user, login, make_event):
    """A kepala desa posting to the editor, the clone and the status step gets 403, no change."""
    event = make_event(region=PPU)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    token = client.token("/")
    for path, data in (
        ("/kegiatan/baru", event_form()),
        (f"/kegiatan/{event.id}/ubah", event_form(title="Diubah")),
        (f"/kegiatan/{event.id}/salin", {"first_day": "2031-01-01"}),
        (f"/kegiatan/{event.id}/status", {"to": "dibatalkan", "reason": "x"}),
    ):
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403
    [same] = _events(app)
    assert same.title == event.title and same.status is EventStatus.TERBIT


def test_visitors_are_sent_to_sign_in(client, make_event):
    """Every editor page asks a visitor to sign in first."""
    event = make_event()
    for path in (
        "/kegiatan/",
        "/kegiatan/baru",
        f"/kegiatan/{event.id}",
        f"/kegiatan/{event.id}/ubah",
    ):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_unknown_and_huge_ids_are_404(client, operator):
    """No such event, or an id beyond any database integer: 404, never 500."""
    for path in ("/kegiatan/999999", "/kegiatan/99999999999999999999/ubah"):
        assert client.get(path).status_code == 404


# --- page weight ----------------------------------------------------------------------------------


def _big_event(app, make_event) -> Event:
    """4 sessions with 3 speakers each, long names, a description and every optional field."""
    event = make_event(
        region=PPU,
        capacity=100,
        title="Pelatihan Jurnalistik Warga dan Literasi Digital bagi KIM se-Kabupaten Penajam Paser Utara",
        description="Pelatihan dua hari. " * 40,
        organiser="Dinas Komunikasi, Informatika, Statistik dan Persandian Kabupaten Penajam Paser Utara",
        contact="diskominfo@penajampaserutarakab.example · (0542) 123456",
        venue_address="Jl. Propinsi Km 9, Kelurahan Nipah-Nipah, Kecamatan Penajam",
        online_link="https://meet.example/kim-ppu-pelatihan-jurnalistik-warga-2030",
        registration_mode=RegistrationMode.KEDUANYA,
        registration_deadline=datetime(2030, 5, 14, 17, 0),
    )
    with app.app_context():
        for session in db.session.scalars(
            sa.select(EventSession).where(EventSession.event_id == event.id)
        ):
            session.topic = "Menulis berita desa yang akurat, berimbang dan menarik untuk warga"
            session.speakers = [
                Speaker(
                    name=f"Dr. Narasumber Nama Panjang {session.id}-{n}, S.Sos., M.I.Kom.",
                    position="Kepala Bidang Informasi dan Komunikasi Publik",
                    institution="Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur",
                )
                for n in range(3)
            ]
        db.session.commit()
    return event


def test_pages_fit_in_14_kb(app, client, make_user, login, make_event):
    """The event page (4 sessions, 12 speakers), the list of 25, the editor and the clone page."""
    event = _big_event(app, make_event)
    for n in range(25):
        make_event(
            title=f"Sosialisasi Keterbukaan Informasi Publik untuk Desa dan Kelurahan ke-{n}",
            venue_name="Aula Kantor Kecamatan Babulu Kabupaten Penajam Paser Utara",
        )
    login(make_user(Role.OPERATOR_PROVINSI, "64"))
    for path in (
        f"/kegiatan/{event.id}",
        "/kegiatan/",
        "/kegiatan/baru",
        f"/kegiatan/{event.id}/ubah",
        f"/kegiatan/{event.id}/salin",
    ):
        response = client.get(path)
        assert response.status_code == 200
        size = _weight(response)
        print(f"page weight {path}: {size} bytes gzip")
        assert size <= BUDGET, f"{path}: {size} bytes"
    assert html_of(client.get("/kegiatan/")).count("<li>") == 25
