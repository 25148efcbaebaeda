"""Writes on an event's participants: the guard that the people of an event may still change,
taking a cancelled registration back, taking seats for many people at once (the import), and
correcting a participant's details. They flush; the request commits.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from kim_app import audit
from kim_app.auth.models import User
from kim_app.events.models import Event, Registration, RegistrationStatus
from kim_app.events.operations import (
    EventError,
    PersonData,
    _take_seat,
    clean_person,
    find_registration,
)
from kim_app.events.queries import people_editable
from kim_app.extensions import db
from kim_app.groups.models import Gender
from kim_app.timezones import utcnow


def ensure_editable(event: Event) -> None:
    if not people_editable(event):
        raise EventError(
            _(
                "Kegiatan ini sudah %(status)s; pesertanya tidak dapat diubah lagi.",
                status=event.status.label.lower(),
            )
        )


def restore_registration(registration: Registration, by: User | None) -> RegistrationStatus:
    """Take a cancelled registration back: a seat if one is left (the same conditional UPDATE
    as a new registration), else a place on the waiting list. Other statuses stay as they are."""
    if registration.status is not RegistrationStatus.BATAL:
        return registration.status
    seated = _take_seat(registration.event_id)
    registration.status = (
        RegistrationStatus.TERDAFTAR if seated else RegistrationStatus.DAFTAR_TUNGGU
    )
    # back in the queue from now: a restored person waits behind those already waiting
    registration.cancelled_at, registration.created_at = None, utcnow()
    db.session.flush()
    audit.record(
        "registration.restore",
        "registration",
        registration.id,
        region_code=registration.event.region_code,
        changes={"status": registration.status.value},
        actor=by,
    )
    return registration.status


def take_seats(event_id: int, wanted: int) -> int:
    """Take up to ``wanted`` seats at once; how many were taken (the rest wait).

    The row is read under FOR UPDATE (PostgreSQL) and changed with a guarded UPDATE, so the
    capacity holds even if another request took seats meanwhile; then one seat at a time.
    """
    if wanted <= 0:
        return 0
    capacity, count = db.session.execute(
        sa.select(Event.capacity, Event.registered_count)
        .where(Event.id == event_id)
        .with_for_update()
    ).one()
    free = wanted if capacity is None else max(0, min(wanted, capacity - count))
    if not free:
        return 0
    result = db.session.execute(
        sa.update(Event)
        .where(
            Event.id == event_id,
            sa.or_(Event.capacity.is_(None), Event.registered_count + free <= Event.capacity),
        )
        .values(registered_count=Event.registered_count + free)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        return free
    taken = 0
    while taken < wanted and _take_seat(event_id):
        taken += 1
    return taken


def update_participant(registration: Registration, person: PersonData, by: User) -> dict:
    """Correct a participant's details; a number another participant of the event uses is refused."""
    ensure_editable(registration.event)
    name, phone = clean_person(person)
    if phone and phone != registration.phone:
        other = find_registration(registration.event, phone)
        if other is not None and other.id != registration.id:
            raise EventError(_in_use(other), "phone")
    values = {
        "name": name,
        "institution": " ".join(person.institution.split()),
        "position": " ".join(person.position.split()),
        "gender": person.gender,
        "phone": phone,
    }
    if person.origin_code is not None and registration.kim_id is None:
        values["origin_code"] = person.origin_code or None  # a KIM's people: the KIM's village
    changed = {}
    for key, value in values.items():
        if getattr(registration, key) != value:
            # numbers stay out of the audit log: only the fact that it changed
            changed[key] = (
                "diubah"
                if key == "phone"
                else (value.value if isinstance(value, Gender) else value)
            )
            setattr(registration, key, value)
    if not changed:
        return changed
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the same number saved a moment ago by a parallel request
        raise EventError(
            _("Nomor ini baru saja dipakai peserta lain di kegiatan ini."), "phone"
        ) from None
    audit.record(
        "registration.update",
        "registration",
        registration.id,
        region_code=registration.event.region_code,
        changes=changed,
        actor=by,
    )
    return changed


def _in_use(other: Registration) -> str:
    return _(
        "Nomor ini sudah dipakai peserta lain di kegiatan ini: %(name)s (%(status)s).",
        name=other.name,
        status=other.status.label.lower(),
    )
