"""Invitation writes: inviting the KIM a filter matches (one INSERT … SELECT), changing a KIM's
quota, withdrawing an invitation, adding an institution's guest by hand, and a KIM naming its
delegates from its members, up to the quota. They flush; the request commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from kim_app import audit, signals
from kim_app.auth.models import User
from kim_app.events.invitations.queries import (
    InviteFilter,
    delegate_choices,
    invite_conditions,
    kim_delegates,
    named_count,
    not_invited,
)
from kim_app.events.models import Event, Invitation, Registration, RegistrationStatus, Source
from kim_app.events.operations import (
    EventError,
    PersonData,
    cancel_registration,
    register_person,
)
from kim_app.events.participants.operations import ensure_editable, restore_registration
from kim_app.extensions import db
from kim_app.groups.models import POSITION_LABELS, Kim, Member, Position
from kim_app.timezones import utcnow

QUOTA_DEFAULT = 2
QUOTA_MAX = 50


def check_quota(value) -> int:
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit() and len(text) < 6 and 1 <= int(text) <= QUOTA_MAX):
        raise EventError(
            _("Kuota harus angka 1 sampai %(max)d orang per KIM.", max=QUOTA_MAX), "kuota"
        )
    return int(text)


def invite_kims(event: Event, filters: InviteFilter, quota: int, by: User) -> int:
    """Invite every matching KIM that is not invited yet, in one INSERT … SELECT; the count.

    Idempotent: the NOT EXISTS skips invited KIM, and the unique (event, KIM) constraint
    settles a double submission (the second attempt then finds nothing left to invite).
    """
    ensure_editable(event)
    now = utcnow()
    # counted from RETURNING: the rowcount of an INSERT … SELECT is -1 with psycopg
    statement = (
        sa.insert(Invitation)
        .from_select(
            ["event_id", "kim_id", "quota", "created_at"],
            sa.select(
                sa.literal(event.id), Kim.id, sa.literal(quota), sa.literal(now, sa.DateTime)
            ).where(*invite_conditions(event, filters, by), not_invited(event)),
        )
        .returning(Invitation.kim_id)
    )
    for attempt in range(2):
        try:
            with db.session.begin_nested():
                kim_ids = list(db.session.scalars(statement))
            break
        except IntegrityError:
            if attempt:
                raise
    created = len(kim_ids)
    if not created:
        return 0
    signals.kims_invited.send(event, quotas=dict.fromkeys(kim_ids, quota), by=by)
    audit.record(
        "event.invite",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"kim": created, "quota": quota, "filter": filters.summary()},
        actor=by,
    )
    return created


def set_quota(invitation: Invitation, quota: int, by: User) -> None:
    """Change how many people a KIM may send; never below the number it has already named."""
    event = invitation.event
    ensure_editable(event)
    named = named_count(event.id, invitation.kim_id)
    if quota < named:
        raise EventError(
            _(
                "%(kim)s sudah menunjuk %(n)d orang; kuota tidak boleh lebih kecil.",
                kim=invitation.kim.name,
                n=named,
            ),
            "kuota",
        )
    if quota == invitation.quota:
        return
    audit.record(
        "invitation.quota",
        "invitation",
        invitation.id,
        region_code=event.region_code,
        changes={"from": invitation.quota, "to": quota},
        actor=by,
    )
    invitation.quota = quota


def remove_invitation(invitation: Invitation, by: User) -> None:
    """Withdraw an invitation, only while the KIM has named nobody (their places stay theirs)."""
    event = invitation.event
    ensure_editable(event)
    named = named_count(event.id, invitation.kim_id)
    if named:
        raise EventError(
            _(
                "%(kim)s sudah menunjuk %(n)d orang. Batalkan dulu pendaftaran mereka di daftar peserta.",
                kim=invitation.kim.name,
                n=named,
            )
        )
    audit.record(
        "invitation.delete",
        "invitation",
        invitation.id,
        region_code=event.region_code,
        changes={"event": event.id, "kim": invitation.kim_id},
        actor=by,
    )
    db.session.delete(invitation)
    db.session.flush()


def add_person(event: Event, person: PersonData, by: User) -> tuple[Registration, bool]:
    """An institution's guest or any outsider added by hand; an existing number is found, not doubled."""
    ensure_editable(event)
    registration, new = register_person(event, person, Source.OPERATOR, by=by)
    if new:
        signals.tickets_prepared.send(registration.event, registrations=[registration], by=by)
    return registration, new


# --- delegates ------------------------------------------------------------------------------------


def _position_label(position: Position) -> str:
    """Stored in Indonesian whatever language the pengurus reads."""
    with force_locale("id"):
        return str(POSITION_LABELS[position])


@dataclass
class DelegateChange:
    added: list[Registration] = field(default_factory=list)
    removed: list[Registration] = field(default_factory=list)
    promoted: list[Registration] = field(default_factory=list)

    @property
    def waiting(self) -> list[Registration]:
        return [r for r in self.added if r.status is RegistrationStatus.DAFTAR_TUNGGU]


def name_delegates(
    event: Event, invitation: Invitation, member_ids: set[int], by: User
) -> DelegateChange:
    """Make the KIM's delegates exactly the members ``member_ids``: new ones are registered
    (source undangan), members no longer chosen are cancelled (their seat passes on).

    Never more than the invitation's quota: counting every registration of the KIM in the event
    that is not cancelled; a choice over the quota raises EventError and the view rolls back.
    """
    ensure_editable(event)
    # one naming at a time per KIM (PostgreSQL row lock), so two people cannot both fill the quota
    db.session.execute(
        sa.select(Invitation.id).where(Invitation.id == invitation.id).with_for_update()
    )
    kim = invitation.kim
    delegates = kim_delegates(event, kim)
    members = {m.id: m for m in delegate_choices(kim, delegates)}
    unknown = member_ids - members.keys()
    if unknown:
        raise EventError(_("Pilihan anggota tidak dikenal. Muat ulang halaman."))
    by_member = {r.member_id: r for r in delegates if r.member_id}
    change = DelegateChange()
    for member_id, registration in by_member.items():
        if member_id not in member_ids:
            promoted = cancel_registration(registration, by)
            change.removed.append(registration)
            if promoted is not None:
                change.promoted.append(promoted)
    for member_id in sorted(member_ids - by_member.keys()):
        change.added.append(_register_member(event, kim, members[member_id], by))
    signals.tickets_prepared.send(event, registrations=change.added, by=by)
    if change.added:
        named = named_count(event.id, kim.id)
        if named > invitation.quota:
            raise EventError(
                _(
                    "Kuota %(kim)s: %(q)d orang. Pilih paling banyak %(q)d anggota.",
                    kim=kim.name,
                    q=invitation.quota,
                ),
                "anggota",
            )
    return change


def _register_member(event: Event, kim: Kim, member: Member, by: User) -> Registration:
    cancelled = db.session.scalar(
        sa.select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.member_id == member.id,
            Registration.status == RegistrationStatus.BATAL,
        )
        .limit(1)
    )
    if cancelled is not None and cancelled.kim_id in (None, kim.id):
        cancelled.kim_id, cancelled.origin_code = kim.id, kim.village_code
        restore_registration(cancelled, by)
        return cancelled
    registration, _new = register_person(
        event,
        PersonData(
            name=member.name,
            phone=member.phone or "",
            institution=kim.name,
            position=_position_label(member.position),
            gender=member.gender,
            origin_code=kim.village_code,
        ),
        Source.UNDANGAN,
        by=by,
        kim_id=kim.id,
        member_id=member.id,
        phone_required=False,
    )
    if registration.kim_id not in (None, kim.id):
        raise EventError(
            _("%(name)s sudah terdaftar di kegiatan ini lewat KIM lain.", name=member.name),
            "anggota",
        )
    registration.kim_id, registration.member_id = kim.id, member.id
    registration.origin_code = kim.village_code
    return registration
