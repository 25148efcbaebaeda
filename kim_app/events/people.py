"""Who takes part in an event: KIM invited by filter, the delegates a KIM names from its members,
and the operators' participant list (its import is ``imports.py``, its export ``documents.py``).

Everything here is set-based: inviting 500 KIM is one INSERT … SELECT, and a page of the
participant list is a count, its rows and one grouped count, whatever the number of rows.
Services flush; the view commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager
from wtforms.validators import ValidationError

from kim_app import audit
from kim_app.auth.models import User
from kim_app.db import contains_text
from kim_app.events.models import (
    Event,
    EventStatus,
    Invitation,
    Registration,
    RegistrationStatus,
    Source,
)
from kim_app.events.operations import (
    EventError,
    PersonData,
    _take_seat,
    cancel_registration,
    clean_person,
    find_registration,
    register_person,
)
from kim_app.extensions import db
from kim_app.groups.models import (
    POSITION_LABELS,
    Bidang,
    Gender,
    Kim,
    KimField,
    KimStatus,
    Member,
    Position,
)
from kim_app.groups.operations import kim_filter
from kim_app.notices import operations as notices
from kim_app.pagination import Page, clamped
from kim_app.queryargs import LIST_MAX
from kim_app.regions.models import Region, RegionLevel, level_of
from kim_app.security import MAX_RECORD_ID, codes_below, scope_filter, user_may_reach
from kim_app.timezones import utcnow

QUOTA_DEFAULT = 2
QUOTA_MAX = 50
INVITED_PER_PAGE = 25
PARTICIPANTS_PER_PAGE = 50
QUERY_MAX = 60
# registrations that hold a place (a seat or a place in the queue)
ACTIVE = (RegistrationStatus.TERDAFTAR, RegistrationStatus.DAFTAR_TUNGGU)
# invitations, delegates and participants may change until the event is over or cancelled
EDITABLE = (EventStatus.DRAFT, EventStatus.TERBIT, EventStatus.BERLANGSUNG)

village = aliased(Region, name="village")
district = aliased(Region, name="district")


def people_editable(event: Event) -> bool:
    return event.status in EDITABLE


def ensure_editable(event: Event) -> None:
    if not people_editable(event):
        raise EventError(
            _(
                "Kegiatan ini sudah %(status)s; pesertanya tidak dapat diubah lagi.",
                status=event.status.label.lower(),
            )
        )


def _clean_query(text: str) -> str:
    return " ".join("".join(ch for ch in text if ch.isprintable()).split())[:QUERY_MAX]


def _member(enum_cls, value: str | None):
    return enum_cls(value) if value in {m.value for m in enum_cls} else None


# --- invitations -----------------------------------------------------------------------------------


# KIM that can be invited: verified ones, and those on their way (submitted, or sent back for a
# correction); a draft, a rejected or an inactive KIM is not invited
INVITABLE = (KimStatus.TERVERIFIKASI, KimStatus.DIAJUKAN, KimStatus.PERLU_PERBAIKAN)
# the KIM a filter will invite, named before inviting (the count says how many more there are)
PREVIEW_MAX = 30


@dataclass(frozen=True)
class InviteFilter:
    """Which KIM an invitation goes to: the event's area (or some of its regencies, for a
    province event), some of their districts, a field of activity and an invitable status
    (verified by default; none for every invitable status)."""

    regencies: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    bidang: Bidang | None = None
    status: KimStatus | None = KimStatus.TERVERIFIKASI

    @classmethod
    def from_values(cls, values, event: Event, user) -> InviteFilter:
        """Read form or query values; codes outside the event's area or the user's reach are
        dropped, and so is a district outside the regencies chosen; a status that cannot be
        invited counts as the default."""
        province = event.region.level is RegionLevel.PROVINSI
        regencies = tuple(
            sorted(
                {
                    code
                    for code in values.getlist("kabupaten")[:LIST_MAX]
                    if province
                    and level_of(code) is RegionLevel.KABUPATEN
                    and code.startswith(event.region_code + ".")
                    and user_may_reach(user, code)
                }
            )
        )
        # a province event's districts come with their regency; a regency event's are its own
        tops = regencies if province else (event.region_code,)
        districts = tuple(
            sorted(
                {
                    code
                    for code in values.getlist("kecamatan")[:LIST_MAX]
                    if level_of(code) is RegionLevel.KECAMATAN
                    and code.rsplit(".", 1)[0] in tops
                    and user_may_reach(user, code)
                }
            )
        )
        raw_status = values.get("status")
        if raw_status == "semua":
            status = None
        else:
            status = _member(KimStatus, raw_status)
            status = status if status in INVITABLE else KimStatus.TERVERIFIKASI
        return cls(regencies, districts, _member(Bidang, values.get("bidang")), status)

    def areas(self, event: Event) -> list[str]:
        """The region codes whose KIM match: each chosen district, and each chosen regency (or
        the event's own area) in which no district is chosen."""
        tops = self.regencies or (event.region_code,)
        narrowed = {code.rsplit(".", 1)[0] for code in self.districts}
        return [*self.districts, *(code for code in tops if code not in narrowed)]

    def summary(self) -> dict:
        """The filter for the audit log."""
        values = {
            "kabupaten": ",".join(self.regencies),
            "kecamatan": ",".join(self.districts),
            "bidang": self.bidang.value if self.bidang else "",
            "status": self.status.value if self.status else "semua",
        }
        return {key: value for key, value in values.items() if value}


def regency_choices(event: Event, user) -> list[Region]:
    """For a province event, the regencies in the user's reach (the first step of the filter)."""
    if event.region.level is not RegionLevel.PROVINSI:
        return []
    return list(
        db.session.scalars(
            sa.select(Region)
            .where(Region.parent_code == event.region_code, scope_filter(Region.code, user))
            .order_by(Region.name)
        )
    )


def district_choices(event: Event, filters: InviteFilter, user) -> list[Region]:
    """Districts of the event's regency, or of the regencies chosen for a province event (by
    regency, then name)."""
    if event.region.level is RegionLevel.PROVINSI:
        parents = filters.regencies
        if not parents:
            return []
    else:
        parents = (event.region_code,)
    return list(
        db.session.scalars(
            sa.select(Region)
            .where(
                Region.parent_code.in_(parents),
                Region.level == RegionLevel.KECAMATAN,
                scope_filter(Region.code, user),
            )
            .order_by(Region.parent_code, Region.name)
        )
    )


def _invite_conditions(event: Event, filters: InviteFilter, user) -> list:
    conditions = [
        kim_filter(user),
        codes_below(Kim.village_code, event.region_code),
        sa.or_(*(codes_below(Kim.village_code, code) for code in filters.areas(event))),
        Kim.status == filters.status if filters.status else Kim.status.in_(INVITABLE),
    ]
    if filters.bidang:
        conditions.append(
            sa.exists().where(KimField.kim_id == Kim.id, KimField.field == filters.bidang.value)
        )
    return conditions


def _not_invited(event: Event) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(Invitation.event_id == event.id, Invitation.kim_id == Kim.id)


@dataclass
class InviteCount:
    matching: int
    invited: int

    @property
    def new(self) -> int:
        return self.matching - self.invited


def count_matching(event: Event, filters: InviteFilter, user) -> InviteCount:
    """How many KIM match, and how many of them are already invited — one query."""
    invited = aliased(Invitation)
    matching, already = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(invited.id))
        .select_from(Kim)
        .outerjoin(invited, sa.and_(invited.kim_id == Kim.id, invited.event_id == event.id))
        .where(*_invite_conditions(event, filters, user))
    ).one()
    return InviteCount(matching or 0, already or 0)


@dataclass
class MatchingKim:
    name: str
    village: Region
    district: Region


def matching_preview(event: Event, filters: InviteFilter, user) -> list[MatchingKim]:
    """The first KIM the filter would invite (not invited yet), by district and name: the
    operator sees which KIM before inviting them. One query, at most ``PREVIEW_MAX`` rows."""
    rows = db.session.execute(
        sa.select(Kim.name, village, district)
        .join(village, village.code == Kim.village_code)
        .join(district, district.code == village.parent_code)
        .where(*_invite_conditions(event, filters, user), _not_invited(event))
        .order_by(district.name, sa.func.lower(Kim.name), Kim.id)
        .limit(PREVIEW_MAX)
    ).all()
    return [MatchingKim(*row) for row in rows]


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
            ).where(*_invite_conditions(event, filters, by), _not_invited(event)),
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
    notices.kims_invited(event, dict.fromkeys(kim_ids, quota), by)
    audit.record(
        "event.invite",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"kim": created, "quota": quota, "filter": filters.summary()},
        actor=by,
    )
    return created


def invitation_of(event_id: int, kim_id: int) -> Invitation | None:
    return db.session.scalar(
        sa.select(Invitation).where(Invitation.event_id == event_id, Invitation.kim_id == kim_id)
    )


def _named(event_id: int, kim_id) -> sa.Select:
    return sa.select(sa.func.count()).where(
        Registration.event_id == event_id,
        Registration.kim_id == kim_id,
        Registration.status.in_(ACTIVE),
    )


def named_count(event_id: int, kim_id: int) -> int:
    """People a KIM has in the event (registered or waiting, not cancelled)."""
    return db.session.scalar(_named(event_id, kim_id)) or 0


@dataclass
class InvitedRow:
    invitation_id: int
    kim_id: int
    kim_name: str
    village: Region
    district: Region
    quota: int
    named: int
    names: list[str] = field(default_factory=list)


def invited_page(event: Event, page: int) -> Page:
    """One page of invited KIM (by district, then name) with their quota and delegates named:
    three queries whatever the number of invitations."""
    total = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Invitation)
            .where(Invitation.event_id == event.id)
        )
        or 0
    )
    page = clamped(page, total, INVITED_PER_PAGE)
    named = _named(event.id, Invitation.kim_id).correlate(Invitation).scalar_subquery()
    rows = db.session.execute(
        sa.select(Invitation.id, Kim.id, Kim.name, village, district, Invitation.quota, named)
        .join(Kim, Kim.id == Invitation.kim_id)
        .join(village, village.code == Kim.village_code)
        .join(district, district.code == village.parent_code)
        .where(Invitation.event_id == event.id)
        .order_by(district.name, sa.func.lower(Kim.name), Kim.id)
        .limit(INVITED_PER_PAGE)
        .offset((page - 1) * INVITED_PER_PAGE)
    ).all()
    items = [InvitedRow(*row) for row in rows]
    by_kim = {item.kim_id: item for item in items}
    if by_kim:
        for kim_id, name in db.session.execute(
            sa.select(Registration.kim_id, Registration.name)
            .where(
                Registration.event_id == event.id,
                Registration.kim_id.in_(by_kim),
                Registration.status.in_(ACTIVE),
            )
            .order_by(Registration.created_at, Registration.id)
        ):
            by_kim[kim_id].names.append(name)
    return Page(items=items, total=total, page=page, per_page=INVITED_PER_PAGE)


def invited_row(event: Event, invitation: Invitation) -> InvitedRow:
    """One invited KIM as a list row (after its quota changed)."""
    kim = invitation.kim
    names = list(
        db.session.scalars(
            sa.select(Registration.name)
            .where(
                Registration.event_id == event.id,
                Registration.kim_id == kim.id,
                Registration.status.in_(ACTIVE),
            )
            .order_by(Registration.created_at, Registration.id)
        )
    )
    return InvitedRow(
        invitation.id,
        kim.id,
        kim.name,
        kim.village,
        db.session.get(Region, kim.village.parent_code),
        invitation.quota,
        len(names),
        names,
    )


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


def invitations_for_kim(kim_id: int) -> list[Invitation]:
    """The invitations of one KIM to events that are not drafts, in date order, each with its
    event loaded (one query) — for a pengurus's list of events."""
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .join(Invitation.event)
            .options(contains_eager(Invitation.event))
            .where(Invitation.kim_id == kim_id, Event.status != EventStatus.DRAFT)
            .order_by(Event.starts_on, Event.id)
        )
    )


def origin_choices(event: Event) -> list[tuple[str, str]]:
    """The regencies/cities of the event's province, to say where a person without a KIM comes
    from ("asal daerah"): a regency is enough to count them for their operator; one query."""
    province = event.region_code.split(".")[0]
    return list(
        db.session.execute(
            sa.select(Region.code, Region.name)
            .where(Region.parent_code == province, Region.level == RegionLevel.KABUPATEN)
            .order_by(Region.name)
        ).tuples()
    )


def offered_origin(_form, field) -> None:
    """A form's "asal daerah": empty, or one of the choices the form offered (a form that offers
    none, such as the walk-in form, takes none)."""
    if field.data and field.data not in {choice.value for choice in field.choices or ()}:
        raise ValidationError(_("Pilih kabupaten/kota dari daftar."))


def add_person(event: Event, person: PersonData, by: User) -> tuple[Registration, bool]:
    """An institution's guest or any outsider added by hand; an existing number is found, not doubled."""
    ensure_editable(event)
    registration, new = register_person(event, person, Source.OPERATOR, by=by)
    if new:
        notices.ticket_prepared(registration, by)
    return registration, new


# --- delegates ------------------------------------------------------------------------------------

POSITION_ORDER = sa.case({p: i for i, p in enumerate(Position)}, value=Member.position)


def kim_delegates(event: Event, kim: Kim) -> list[Registration]:
    """The KIM's people in the event (registered or waiting), in registration order."""
    return list(
        db.session.scalars(
            sa.select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.kim_id == kim.id,
                Registration.status.in_(ACTIVE),
            )
            .order_by(Registration.created_at, Registration.id)
        )
    )


def delegate_choices(kim: Kim, delegates: list[Registration]) -> list[Member]:
    """Active members, plus any inactive member who is already a delegate (so they can be un-named)."""
    named = {r.member_id for r in delegates if r.member_id}
    return list(
        db.session.scalars(
            sa.select(Member)
            .where(Member.kim_id == kim.id, sa.or_(Member.active, Member.id.in_(named)))
            .order_by(POSITION_ORDER, Member.name, Member.id)
        )
    )


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
    notices.tickets_prepared(event, change.added, by)
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


# --- registrations -------------------------------------------------------------------------------


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


def registration_of(event: Event, registration_id: int) -> Registration | None:
    """A registration of ``event`` (another event's under this event's URL is None)."""
    if not 0 < registration_id <= MAX_RECORD_ID:
        return None
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        return None
    return registration


# --- the participant list ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantFilter:
    """The participant list narrowed: words (name, institution, phone digits), source, status,
    KIM or institution, gender. All of it lives in the URL."""

    q: str = ""
    source: Source | None = None
    status: RegistrationStatus | None = None
    origin: str = ""
    gender: Gender | None = None

    @classmethod
    def from_args(cls, args) -> ParticipantFilter:
        return cls(
            q=_clean_query(args.get("q") or ""),
            source=_member(Source, args.get("sumber")),
            status=_member(RegistrationStatus, args.get("status")),
            origin=_clean_query(args.get("asal") or ""),
            gender=_member(Gender, args.get("jk")),
        )

    def args(self) -> dict[str, str]:
        """This state as query-string values, without empty ones (for links)."""
        values = {
            "q": self.q,
            "sumber": self.source.value if self.source else "",
            "status": self.status.value if self.status else "",
            "asal": self.origin,
            "jk": self.gender.value if self.gender else "",
        }
        return {key: value for key, value in values.items() if value}

    @property
    def narrowed(self) -> bool:
        return bool(self.source or self.status or self.origin or self.gender)


PHONE_TEXT = re.compile(r"[\d+\-().]+")


def _word_condition(word: str) -> sa.ColumnElement[bool]:
    """A search word matches the name or the institution; digits also the phone number, as
    people write it (``0812-3456``, ``62812…``, ``+62 812``)."""
    condition = sa.or_(
        contains_text(Registration.name, word), contains_text(Registration.institution, word)
    )
    if PHONE_TEXT.fullmatch(word):
        digits = re.sub(r"\D", "", word)
        if digits.startswith("0"):
            digits = "62" + digits[1:]
        if len(digits) >= 3:
            condition = sa.or_(condition, Registration.phone.like(f"%{digits}%"))
    return condition


def participant_conditions(event: Event, filters: ParticipantFilter) -> list:
    conditions = [Registration.event_id == event.id]
    for word in filters.q.split()[:4]:
        conditions.append(_word_condition(word))
    if filters.source:
        conditions.append(Registration.source == filters.source)
    if filters.status:
        conditions.append(Registration.status == filters.status)
    if filters.gender:
        conditions.append(Registration.gender == filters.gender)
    for word in filters.origin.split()[:4]:
        conditions.append(
            sa.or_(contains_text(Registration.institution, word), contains_text(Kim.name, word))
        )
    return conditions


def participant_order(filters: ParticipantFilter) -> list:
    if filters.status is RegistrationStatus.DAFTAR_TUNGGU:  # the queue, in its order
        return [Registration.created_at, Registration.id]
    return [sa.func.lower(Registration.name), Registration.id]


def participants_page(event: Event, filters: ParticipantFilter, page: int) -> Page:
    """One page (50) of the event's participants matching ``filters``: rows are
    ``(Registration, KIM name or None)``. Two queries whatever the number of participants."""
    conditions = participant_conditions(event, filters)
    total = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Registration)
            .outerjoin(Kim, Kim.id == Registration.kim_id)
            .where(*conditions)
        )
        or 0
    )
    page = clamped(page, total, PARTICIPANTS_PER_PAGE)
    rows = db.session.execute(
        sa.select(Registration, Kim.name)
        .outerjoin(Kim, Kim.id == Registration.kim_id)
        .where(*conditions)
        .order_by(*participant_order(filters))
        .limit(PARTICIPANTS_PER_PAGE)
        .offset((page - 1) * PARTICIPANTS_PER_PAGE)
    ).all()
    return Page(items=list(rows), total=total, page=page, per_page=PARTICIPANTS_PER_PAGE)


@dataclass
class Counts:
    by_status: dict[RegistrationStatus, int]
    by_source: dict[Source, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def participant_counts(event: Event) -> Counts:
    """Registrations per status and per source (cancelled ones not counted per source): one query."""
    by_status = dict.fromkeys(RegistrationStatus, 0)
    by_source = dict.fromkeys(Source, 0)
    for status, source, n in db.session.execute(
        sa.select(Registration.status, Registration.source, sa.func.count())
        .where(Registration.event_id == event.id)
        .group_by(Registration.status, Registration.source)
    ):
        by_status[RegistrationStatus(status)] += n
        if status != RegistrationStatus.BATAL:
            by_source[Source(source)] += n
    return Counts(by_status, by_source)
