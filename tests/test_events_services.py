"""Event services: seats, the waiting list and promotion, duplicates, cloning, statuses, visibility."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from kim_app.auth.models import Role
from kim_app.events.models import (
    Event,
    EventKind,
    EventStatus,
    Registration,
    RegistrationMode,
    RegistrationStatus,
    Source,
)
from kim_app.events.operations import (
    EventData,
    EventError,
    PersonData,
    SessionData,
    SpeakerData,
    cancel_registration,
    change_event_status,
    clone_event,
    create_event,
    event_filter,
    may_see_event,
    register_person,
    registration_counts,
    registration_open,
)
from kim_app.extensions import db
from kim_app.timezones import zone_label, zone_name_for
from tests.conftest import MAJALENGKA_VILLAGE, PPU, PPU_VILLAGE


def _person(n: int, **overrides) -> PersonData:
    return PersonData(**({"name": f"Peserta {n}", "phone": f"0812{n:08d}"} | overrides))


def _load(event_id: int) -> Event:
    return db.session.get(Event, event_id)


def test_time_zone_follows_the_province():
    """Kalimantan Timur is WITA, Jawa Timur WIB, Papua WIT."""
    assert zone_label(zone_name_for("64.09")) == "WITA"
    assert zone_label(zone_name_for("35.14")) == "WIB"
    assert zone_label(zone_name_for("91.01")) == "WIT"
    assert zone_label(zone_name_for("51")) == "WITA"


def test_seats_then_waiting_list_then_promotion_in_order(app, ctx, make_event):
    """Capacity 2: two seated, the next two wait; cancelling a seat promotes the first waiter."""
    event = _load(make_event(capacity=2).id)
    results = [register_person(event, _person(n), Source.MANDIRI)[0] for n in range(4)]
    assert [r.status for r in results] == [
        RegistrationStatus.TERDAFTAR, RegistrationStatus.TERDAFTAR,
        RegistrationStatus.DAFTAR_TUNGGU, RegistrationStatus.DAFTAR_TUNGGU,
    ]  # fmt: skip
    promoted = cancel_registration(results[0], None)
    assert promoted.id == results[2].id and promoted.status is RegistrationStatus.TERDAFTAR
    db.session.refresh(event)
    assert event.registered_count == 2
    counts = registration_counts(event)
    assert counts[RegistrationStatus.TERDAFTAR] == 2
    assert counts[RegistrationStatus.DAFTAR_TUNGGU] == 1
    assert counts[RegistrationStatus.BATAL] == 1


def test_cancelling_with_nobody_waiting_frees_the_seat(ctx, make_event):
    """Without a waiting list the count goes down and the next person gets the seat."""
    event = _load(make_event(capacity=1).id)
    first, _ = register_person(event, _person(1), Source.MANDIRI)
    assert cancel_registration(first, None) is None
    db.session.refresh(event)
    assert event.registered_count == 0
    second, _ = register_person(event, _person(2), Source.MANDIRI)
    assert second.status is RegistrationStatus.TERDAFTAR


def test_same_number_in_any_format_is_the_same_person(ctx, make_event):
    """0812…, +62 812… and 62812… find the first registration instead of adding another."""
    event = _load(make_event().id)
    first, created = register_person(event, _person(1, phone="0812-3456-7890"), Source.MANDIRI)
    assert created
    for phone in ("+62 812 3456 7890", "6281234567890"):
        again, created = register_person(event, _person(9, phone=phone), Source.MANDIRI)
        assert not created and again.id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 1


def test_registering_again_after_cancelling_takes_a_seat_again(ctx, make_event):
    """A cancelled person who registers again is the same row, seated if a seat is free."""
    event = _load(make_event(capacity=5).id)
    registration, _ = register_person(event, _person(1), Source.MANDIRI)
    cancel_registration(registration, None)
    again, created = register_person(event, _person(1), Source.MANDIRI)
    assert created and again.id == registration.id and again.status is RegistrationStatus.TERDAFTAR


@pytest.mark.parametrize(
    ("person", "message"),
    [
        (PersonData(name=" ", phone="081234567890"), "Nama wajib diisi."),
        (PersonData(name="A", phone="021-555-1234"), "Nomor WhatsApp tidak valid."),
        (PersonData(name="A", phone=""), "Nomor WhatsApp wajib diisi."),
    ],
)
def test_bad_registration_data_is_refused(ctx, make_event, person, message):
    """Names and Indonesian mobile numbers are checked before anything is written."""
    event = _load(make_event().id)
    with pytest.raises(EventError, match=message):
        register_person(event, person, Source.MANDIRI)


def test_registration_open_rules(ctx, make_event):
    """Public sign-up needs a published event, an open mode and a deadline not yet passed."""
    assert not registration_open(_load(make_event(status=EventStatus.DRAFT).id), Source.MANDIRI)
    assert not registration_open(
        _load(make_event(registration_mode=RegistrationMode.UNDANGAN).id), Source.MANDIRI
    )
    assert registration_open(
        _load(make_event(registration_mode=RegistrationMode.UNDANGAN).id), Source.UNDANGAN
    )
    past = _load(make_event(registration_deadline=datetime(2020, 1, 1)).id)
    assert not registration_open(past, Source.MANDIRI)
    assert registration_open(_load(make_event().id), Source.MANDIRI)


def test_create_clone_and_statuses(ctx, make_user):
    """A draft with sessions, a clone moved to new dates, publish, and a cancel that needs a reason."""
    operator = db.session.merge(make_user(Role.OPERATOR_KABKOTA, PPU))
    day = datetime(2026, 12, 1, 9, 0)
    sessions = [
        SessionData(
            day,
            day + timedelta(hours=3),
            "Literasi digital",
            [SpeakerData("Dr. Ani", "Dosen", "Unmul")],
        ),
        SessionData(day + timedelta(days=1), day + timedelta(days=1, hours=3), "Praktik konten"),
    ]
    event = create_event(
        EventData(kind=EventKind.PELATIHAN, title="Pelatihan Konten", region_code=PPU),
        sessions,
        operator,
    )
    assert event.timezone == "Asia/Makassar" and event.zone_label == "WITA"
    assert event.starts_on == day and len(event.code) >= 8
    copy = clone_event(event, datetime(2027, 3, 10), operator)
    assert [s.starts_at for s in copy.sessions] == [
        datetime(2027, 3, 10, 9),
        datetime(2027, 3, 11, 9),
    ]
    assert copy.sessions[0].speakers[0].name == "Dr. Ani" and copy.code != event.code
    change_event_status(event, EventStatus.TERBIT, operator)
    with pytest.raises(EventError, match="alasan"):
        change_event_status(event, EventStatus.DIBATALKAN, operator, "")
    change_event_status(event, EventStatus.DIBATALKAN, operator, "Gedung tidak tersedia.")
    assert event.cancel_reason == "Gedung tidak tersedia."
    with pytest.raises(EventError):
        change_event_status(event, EventStatus.TERBIT, operator)


def test_event_must_be_owned_by_a_regency_or_province_in_scope(ctx, make_user):
    """A village as owner, or another regency, is refused; sessions must end after they start."""
    operator = db.session.merge(make_user(Role.OPERATOR_KABKOTA, PPU))
    day = datetime(2026, 12, 1, 9)
    ok = [SessionData(day, day + timedelta(hours=1))]
    for region in (PPU_VILLAGE, "32.10"):
        with pytest.raises(EventError):
            create_event(
                EventData(kind=EventKind.WORKSHOP, title="X", region_code=region), ok, operator
            )
    with pytest.raises(EventError, match="setelah"):
        create_event(
            EventData(kind=EventKind.WORKSHOP, title="X", region_code=PPU),
            [SessionData(day, day)],
            operator,
        )
    with pytest.raises(EventError, match="sesi"):
        create_event(EventData(kind=EventKind.WORKSHOP, title="X", region_code=PPU), [], operator)


def test_who_sees_which_events(ctx, make_user, make_event):
    """Regency operators see their events and the province's; villages see published ones only."""
    ppu = _load(make_event(region=PPU).id)
    province = _load(make_event(region="64").id)
    majalengka = _load(make_event(region="32.10").id)
    draft = _load(make_event(region=PPU, status=EventStatus.DRAFT).id)
    operator = db.session.merge(make_user(Role.OPERATOR_KABKOTA, PPU))
    head = db.session.merge(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    other_head = db.session.merge(make_user(Role.KEPALA_DESA, MAJALENGKA_VILLAGE))

    def visible(user):
        return set(db.session.scalars(sa.select(Event.id).where(event_filter(user))))

    assert visible(operator) == {ppu.id, province.id, draft.id}
    assert visible(head) == {ppu.id, province.id}
    assert visible(other_head) == {majalengka.id}
    assert (
        may_see_event(head, ppu)
        and not may_see_event(head, draft)
        and not may_see_event(head, majalengka)
    )


def test_editing_the_agenda_keeps_each_session_id(ctx, make_user, make_event):
    """Sessions edited by id stay the same rows (attendance will point at them); dropped ones go."""
    from kim_app.events.operations import update_event

    operator = db.session.merge(make_user(Role.OPERATOR_KABKOTA, PPU))
    event = _load(make_event().id)
    first, second, third, _fourth = event.sessions
    data = EventData(kind=event.kind, title=event.title, region_code=PPU)
    moved = SessionData(
        first.starts_at + timedelta(hours=1), first.ends_at, "Pembukaan", [], id=first.id
    )
    kept = SessionData(
        second.starts_at, second.ends_at, second.topic, [SpeakerData("Baru")], id=second.id
    )
    forged = SessionData(third.starts_at, third.ends_at, "Sesi lain", [], id=999_999)
    update_event(event, data, [moved, kept, forged], operator)
    db.session.flush()
    ids = [s.id for s in event.sessions]
    assert ids[:2] == [first.id, second.id]
    assert ids[2] not in (third.id, 999_999)  # an unknown id is a new session, not someone else's
    assert event.sessions[0].topic == "Pembukaan" and event.sessions[1].speakers[0].name == "Baru"
    assert len(event.sessions) == 3
