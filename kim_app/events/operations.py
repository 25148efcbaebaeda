"""Event operations: who may see and manage an event, creating and cloning events, and
registering people with capacity, a waiting list and promotion — safe under concurrency.

Seats are counted in ``events.registered_count`` and taken with one conditional UPDATE
(``... WHERE registered_count < capacity``), which the database applies atomically; the unique
(event, phone) constraint stops the same person registering twice even when two requests race.

A little over 600 lines: who may manage, the event's life and its registrations share the seat
counter and the scope checks; the participant and invitation writes already live in
``events/participants`` and ``events/invitations``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from kim_app import audit, signals
from kim_app.auth.models import OPERATOR_ROLES, Role, User
from kim_app.errors import OperationError
from kim_app.events.models import (
    PRIVACY_NOTICE_VERSION,
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Registration,
    RegistrationMode,
    RegistrationStatus,
    Source,
    Speaker,
)
from kim_app.events.names import names_match, same_name
from kim_app.extensions import db
from kim_app.groups.models import Gender, Kim
from kim_app.phones import PhoneError, normalise_phone
from kim_app.regions.models import Region, RegionLevel
from kim_app.security import scope_filter, user_may_reach
from kim_app.timezones import utcnow, zone_name_for


class EventError(OperationError):
    """An event operation that cannot be done; the message is for the user."""


# --- who may see and manage ---------------------------------------------------------------


def event_filter(user) -> sa.ColumnElement[bool]:
    """Events ``user`` may see: those of their area and of the areas above it (a regency
    operator sees the province's events too); drafts only for operators."""
    condition = scope_filter(Event.region_code, user, reach_up=True)
    if getattr(user, "role", None) not in OPERATOR_ROLES:
        condition = sa.and_(condition, Event.status != EventStatus.DRAFT)
    return condition


def may_manage_event(user, event: Event) -> bool:
    """Operators whose scope holds the event's owning region."""
    return may_manage_region(user, event.region_code)


def may_manage_region(user, region_code: str) -> bool:
    """``may_manage_event`` for an event known only by its owning region's code."""
    return getattr(user, "role", None) in OPERATOR_ROLES and user_may_reach(user, region_code)


def may_see_event(user, event: Event) -> bool:
    if may_manage_event(user, event):
        return True
    if getattr(user, "role", None) is Role.PETUGAS_ABSENSI or event.status is EventStatus.DRAFT:
        return False
    scope = getattr(user, "scope_code", None) or ""
    return getattr(user, "is_admin", False) or (
        bool(scope)
        and (
            scope == event.region_code
            or scope.startswith(event.region_code + ".")
            or event.region_code.startswith(scope + ".")
        )
    )


def get_event_or_404(event_id: int, user, *, manage: bool = False) -> Event:
    """The event if ``user`` may see it (or manage it, with ``manage``); 404 otherwise."""
    event = db.session.get(Event, event_id)
    if event is None or not (
        may_manage_event(user, event) if manage else may_see_event(user, event)
    ):
        abort(404)
    return event


def get_public_event_or_404(code: str) -> Event:
    """An event by its public code, once published (drafts are not public)."""
    event = db.session.scalar(sa.select(Event).where(Event.code == code))
    if event is None or event.status is EventStatus.DRAFT:
        abort(404)
    return event


# --- creating, editing, cloning -----------------------------------------------------------------


@dataclass
class SpeakerData:
    name: str
    position: str = ""
    institution: str = ""


@dataclass
class SessionData:
    starts_at: datetime
    ends_at: datetime
    topic: str = ""
    speakers: list[SpeakerData] = field(default_factory=list)
    id: int | None = None  # an existing session of the event, kept (with its id) when edited


@dataclass
class EventData:
    kind: EventKind
    title: str
    region_code: str
    description: str = ""
    organiser: str = ""
    contact: str = ""
    venue_name: str = ""
    venue_address: str = ""
    online_link: str = ""
    capacity: int | None = None
    registration_mode: RegistrationMode = RegistrationMode.KEDUANYA
    registration_deadline: datetime | None = None


EVENT_FIELDS = (
    "kind", "title", "description", "organiser", "contact", "venue_name", "venue_address",
    "online_link", "capacity", "registration_mode", "registration_deadline",
)  # fmt: skip


def new_code() -> str:
    """A short public code: 8 characters of a URL-safe alphabet (48 bits)."""
    return secrets.token_urlsafe(6)


def _check_region(code: str, by: User) -> Region:
    region = db.session.get(Region, code) if code else None
    if region is None or region.level not in (RegionLevel.KABUPATEN, RegionLevel.PROVINSI):
        raise EventError(_("Pilih kabupaten/kota atau provinsi penyelenggara."), "region")
    if not user_may_reach(by, region.code):
        raise EventError(_("Wilayah itu di luar wilayah kerja Anda."), "region")
    return region


def _check_sessions(sessions: list[SessionData]) -> None:
    if not sessions:
        raise EventError(_("Tambahkan paling sedikit satu sesi."), "sessions")
    for session in sessions:
        if session.ends_at <= session.starts_at:
            raise EventError(_("Waktu selesai sesi harus setelah waktu mulai."), "sessions")


def _set_sessions(event: Event, sessions: list[SessionData]) -> None:
    """Make the event's agenda ``sessions``: rows with the id of one of its sessions update that
    session in place (anything recorded against it keeps pointing at it), others are added, and
    sessions no longer listed are removed."""
    current = {s.id: s for s in event.sessions if s.id is not None}
    kept = []
    for data in sorted(sessions, key=lambda s: s.starts_at):
        session = current.pop(data.id, None) if data.id is not None else None
        if session is None:
            session = EventSession()
        session.starts_at, session.ends_at, session.topic = (
            data.starts_at,
            data.ends_at,
            data.topic.strip(),
        )
        session.speakers = [
            Speaker(
                name=sp.name.strip(),
                position=sp.position.strip(),
                institution=sp.institution.strip(),
            )
            for sp in data.speakers
            if sp.name.strip()
        ]
        kept.append(session)
    event.sessions = kept
    event.starts_on = kept[0].starts_at if kept else None


def _apply(event: Event, data: EventData) -> dict:
    title = " ".join(data.title.split())
    if not title:
        raise EventError(_("Judul kegiatan wajib diisi."), "title")
    if data.capacity is not None and data.capacity < 1:
        raise EventError(
            _("Kapasitas harus lebih dari 0, atau kosongkan untuk tanpa batas."), "capacity"
        )
    if data.capacity is not None and data.capacity < event.registered_count:
        raise EventError(
            _(
                "Sudah ada %(n)d peserta terdaftar; kapasitas tidak boleh lebih kecil.",
                n=event.registered_count,
            ),
            "capacity",
        )
    values = {name: getattr(data, name) for name in EVENT_FIELDS} | {"title": title}
    changed = {}
    for name, value in values.items():
        if getattr(event, name, None) != value:
            changed[name] = str(value) if value is not None else None
            setattr(event, name, value)
    if event.region_code != data.region_code:
        changed["region_code"] = data.region_code
        event.region_code = data.region_code
        event.timezone = zone_name_for(data.region_code)
    return changed


def create_event(data: EventData, sessions: list[SessionData], by: User) -> Event:
    """A draft event owned by a regency or province in ``by``'s scope."""
    _check_region(data.region_code, by)
    _check_sessions(sessions)
    event = Event(
        code=new_code(), created_by_id=by.id, status=EventStatus.DRAFT, registered_count=0
    )
    _apply(event, data)
    _set_sessions(event, sessions)
    db.session.add(event)
    db.session.flush()
    audit.record(
        "event.create",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"title": event.title},
        actor=by,
    )
    return event


def update_event(event: Event, data: EventData, sessions: list[SessionData], by: User) -> dict:
    _check_region(data.region_code, by)
    _check_sessions(sessions)
    before = _time_and_place(event)
    changed = _apply(event, data)
    _set_sessions(event, sessions)
    if event.status is not EventStatus.DRAFT and _time_and_place(event) != before:
        db.session.flush()
        signals.event_changed.send(event, by=by)
    audit.record(
        "event.update", "event", event.id, region_code=event.region_code, changes=changed, actor=by
    )
    return changed


def _time_and_place(event: Event) -> tuple:
    """What registered people are told about when it changes: sessions' times and the venue."""
    return (
        event.venue_name,
        event.venue_address,
        event.online_link,
        tuple((s.starts_at, s.ends_at) for s in event.sessions),
    )


def clone_event(event: Event, first_day: datetime, by: User) -> Event:
    """A new draft with the same details and agenda, moved so its first session is on ``first_day``."""
    if not event.sessions:
        raise EventError(_("Kegiatan ini belum punya sesi."))
    shift = timedelta(days=(first_day.date() - event.sessions[0].starts_at.date()).days)
    copy = Event(
        code=new_code(),
        created_by_id=by.id,
        status=EventStatus.DRAFT,
        registered_count=0,
        cloned_from_id=event.id,
        region_code=event.region_code,
        timezone=event.timezone,
        **{name: getattr(event, name) for name in EVENT_FIELDS},
    )
    if copy.registration_deadline:
        copy.registration_deadline += shift
    _set_sessions(
        copy,
        [
            SessionData(
                s.starts_at + shift,
                s.ends_at + shift,
                s.topic,
                [SpeakerData(sp.name, sp.position, sp.institution) for sp in s.speakers],
            )
            for s in event.sessions
        ],
    )
    db.session.add(copy)
    db.session.flush()
    audit.record(
        "event.clone",
        "event",
        copy.id,
        region_code=copy.region_code,
        changes={"from": event.id},
        actor=by,
    )
    signals.event_cloned.send(copy, source=event, by=by)
    return copy


EVENT_TRANSITIONS = {
    EventStatus.DRAFT: {EventStatus.TERBIT, EventStatus.DIBATALKAN},
    EventStatus.TERBIT: {EventStatus.BERLANGSUNG, EventStatus.DIBATALKAN, EventStatus.DRAFT},
    EventStatus.BERLANGSUNG: {EventStatus.SELESAI, EventStatus.DIBATALKAN},
    EventStatus.SELESAI: set(),
    EventStatus.DIBATALKAN: set(),
}


def change_event_status(event: Event, to: EventStatus, by: User, reason: str = "") -> None:
    """Publish, start, finish or cancel (cancelling needs a reason participants will see)."""
    if to not in EVENT_TRANSITIONS[event.status]:
        raise EventError(_("Perubahan status ini tidak diizinkan."))
    if to is EventStatus.DIBATALKAN:
        reason = (reason or "").strip()
        if not reason:
            raise EventError(_("Tuliskan alasan pembatalan; peserta akan membacanya."), "reason")
        event.cancel_reason = reason
    audit.record(
        "event.status",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"from": event.status.value, "to": to.value, "reason": reason},
        actor=by,
    )
    event.status = to
    if to in (EventStatus.DIBATALKAN, EventStatus.TERBIT):
        db.session.flush()
        if to is EventStatus.DIBATALKAN:
            signals.event_cancelled.send(event, by=by)
        else:
            signals.event_published.send(event, by=by)


def local_now(event: Event) -> datetime:
    """The current wall-clock time in the event's zone (naive, like the stored times)."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(event.timezone)).replace(tzinfo=None)


def registration_open(event: Event, source: Source) -> bool:
    """Whether ``source`` may still register: published or running, and the event's mode allows
    it; the public link also closes at the deadline or when the last session has ended."""
    if event.status not in (EventStatus.TERBIT, EventStatus.BERLANGSUNG):
        return False
    if source is not Source.MANDIRI:
        return True
    if event.registration_mode is RegistrationMode.UNDANGAN:
        return False
    now = local_now(event)
    ended = event.ends_at is not None and now > event.ends_at
    return not ended and not (event.registration_deadline and now > event.registration_deadline)


# --- registrations --------------------------------------------------------------------------------


@dataclass
class PersonData:
    name: str
    phone: str
    institution: str = ""
    position: str = ""
    gender: Gender | None = None
    # "asal daerah": a region code the person or the operator picked ("" clears it on an
    # edit, None leaves it); a KIM's people come from the KIM's village
    origin_code: str | None = None


def origin_of_kim(kim_id: int) -> sa.ScalarSelect:
    """The KIM's village as a value to write (a subquery: no round trip of its own)."""
    return sa.select(Kim.village_code).where(Kim.id == kim_id).scalar_subquery()


def clean_person(person: PersonData) -> tuple[str, str | None]:
    """The name (spaces tidied, required) and the phone as E.164 (None when empty)."""
    name = " ".join(person.name.split())
    if not name:
        raise EventError(_("Nama wajib diisi."), "name")
    try:
        return name, normalise_phone(person.phone)
    except PhoneError:
        raise EventError(
            _("Nomor WhatsApp tidak valid. Contoh: 0812-3456-7890."), "phone"
        ) from None


def _take_seat(event_id: int, *, force: bool = False) -> bool:
    """Take one seat if any is left — a single conditional UPDATE, atomic on every database.
    ``force`` seats a walk-in even when the event is full: they are already in the hall."""
    room = sa.or_(Event.capacity.is_(None), Event.registered_count < Event.capacity)
    result = db.session.execute(
        sa.update(Event)
        .where(Event.id == event_id, sa.true() if force else room)
        .values(registered_count=Event.registered_count + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _release_seat(event_id: int) -> None:
    db.session.execute(
        sa.update(Event)
        .where(Event.id == event_id, Event.registered_count > 0)
        .values(registered_count=Event.registered_count - 1)
        .execution_options(synchronize_session=False)
    )


def find_registration(event: Event, phone: str | None) -> Registration | None:
    if not phone:
        return None
    return db.session.scalar(
        sa.select(Registration).where(
            Registration.event_id == event.id, Registration.phone == phone
        )
    )


def find_lost_ticket(event: Event, phone: str, name: str) -> Registration | None:
    """The live registration (not cancelled, not erased) of ``event`` with this number (E.164)
    whose name matches ``name`` leniently; None for an unknown number and a name that does not
    match alike, so the answer never tells which."""
    registration = db.session.scalar(
        sa.select(Registration).where(
            Registration.event_id == event.id,
            Registration.phone == phone,
            Registration.status != RegistrationStatus.BATAL,
            Registration.erased_at.is_(None),
        )
    )
    if registration is None or not names_match(registration.name, name):
        return None
    return registration


def register_person(
    event: Event,
    person: PersonData,
    source: Source,
    *,
    by: User | None = None,
    kim_id: int | None = None,
    member_id: int | None = None,
    phone_required: bool = True,
    walk_in: bool = False,
) -> tuple[Registration, bool]:
    """Register someone, or find their existing registration (same phone): ``(registration, new?)``.

    A seat is taken if one is left, otherwise the person joins the waiting list. A cancelled
    registration with the same phone and name is taken up again the same way, keeping its ticket;
    another name with that phone is a new registration with a new ticket. A ``walk_in`` is seated
    even when the event is full, and one waiting with the same number gets their seat.
    """
    name, phone = clean_person(person)
    if phone is None and phone_required:
        raise EventError(_("Nomor WhatsApp wajib diisi."), "phone")
    existing = find_registration(event, phone)
    if (
        existing is not None
        and existing.status is RegistrationStatus.BATAL
        and not same_name(existing.name, name)
    ):
        # someone else registers a number given up by a cancelled registration: a new
        # registration with its own ticket. The cancelled one stays as it was, without the
        # number, so its old ticket link never shows (or opens) the newcomer's registration
        existing.phone = None
        db.session.flush()
        existing = None
    if existing is not None and existing.status is RegistrationStatus.TERDAFTAR:
        return existing, False
    if existing is not None and existing.status is RegistrationStatus.DAFTAR_TUNGGU:
        if not walk_in:
            return existing, False
        _take_seat(event.id, force=True)
        existing.status, existing.promoted_at = RegistrationStatus.TERDAFTAR, utcnow()
        db.session.flush()
        return existing, False
    seated = _take_seat(event.id, force=walk_in)
    status = RegistrationStatus.TERDAFTAR if seated else RegistrationStatus.DAFTAR_TUNGGU
    origin = origin_of_kim(kim_id) if kim_id else (person.origin_code or None)
    if existing is not None:  # came back after cancelling
        existing.status, existing.cancelled_at, existing.source = status, None, source
        existing.name, existing.institution, existing.position = (
            name,
            person.institution.strip(),
            person.position.strip(),
        )
        if origin is not None:
            existing.origin_code = origin
        registration = existing
    else:
        registration = Registration(
            event_id=event.id,
            kim_id=kim_id,
            member_id=member_id,
            name=name,
            institution=person.institution.strip(),
            position=person.position.strip(),
            gender=person.gender,
            phone=phone,
            origin_code=origin,
            source=source,
            status=status,
            ticket=secrets.token_urlsafe(18),
        )
        try:
            with db.session.begin_nested():
                db.session.add(registration)
        except IntegrityError:  # the same phone registered a moment ago by a parallel request
            if seated:
                _release_seat(event.id)
            again = find_registration(event, phone)
            if again is None:
                raise
            return again, False
    db.session.flush()
    audit.record(
        "registration.create",
        "registration",
        registration.id,
        region_code=event.region_code,
        changes={"event": event.id, "source": source.value, "status": status.value},
        actor=by,
    )
    return registration, True


def record_consent(registration: Registration, event: Event) -> None:
    """The person agreed, on the public form, to the privacy notice: when, and to which version.
    Only the person's own act counts; a registration by anyone else keeps no consent."""
    if registration.consent_version == PRIVACY_NOTICE_VERSION:
        return
    registration.consent_at, registration.consent_version = utcnow(), PRIVACY_NOTICE_VERSION
    db.session.flush()
    audit.record(
        "registration.consent",
        "registration",
        registration.id,
        region_code=event.region_code,
        changes={"version": PRIVACY_NOTICE_VERSION},
    )


def cancel_registration(registration: Registration, by: User | None) -> Registration | None:
    """Cancel; a freed seat goes to the longest-waiting person, who is returned (or None)."""
    if registration.status is RegistrationStatus.BATAL:
        return None
    was_seated = registration.status is RegistrationStatus.TERDAFTAR
    registration.status, registration.cancelled_at = RegistrationStatus.BATAL, utcnow()
    promoted = None
    if was_seated:
        promoted = db.session.scalar(
            sa.select(Registration)
            .where(
                Registration.event_id == registration.event_id,
                Registration.status == RegistrationStatus.DAFTAR_TUNGGU,
            )
            .order_by(Registration.created_at, Registration.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if promoted is not None:  # the seat passes on: the count stays the same
            promoted.status, promoted.promoted_at = RegistrationStatus.TERDAFTAR, utcnow()
        else:
            _release_seat(registration.event_id)
    db.session.flush()
    if promoted is not None:
        signals.promoted.send(promoted, by=by)
    audit.record(
        "registration.cancel",
        "registration",
        registration.id,
        region_code=registration.event.region_code,
        changes={"promoted": promoted.id if promoted else None},
        actor=by,
    )
    return promoted


def registration_counts(event: Event) -> dict[RegistrationStatus, int]:
    """How many registrations per status, in one grouped query."""
    rows = db.session.execute(
        sa.select(Registration.status, sa.func.count())
        .where(Registration.event_id == event.id)
        .group_by(Registration.status)
    )
    counts = dict.fromkeys(RegistrationStatus, 0)
    counts.update({RegistrationStatus(status): n for status, n in rows})
    return counts
