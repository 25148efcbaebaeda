"""Reads of invitations: which KIM a filter matches (the count and the first of them, by name),
the regencies and districts to choose from, the invited KIM page by page with the delegates each
has named, one KIM's invitations, and the members a KIM may name.

Set-based: a page of invited KIM is three queries whatever the number of invitations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import aliased, contains_eager

from kim_app.events.models import Event, EventStatus, Invitation, Registration
from kim_app.events.queries import ACTIVE, enum_or_none
from kim_app.extensions import db
from kim_app.groups.models import Bidang, Kim, KimField, KimStatus, Member, Position
from kim_app.groups.operations import kim_filter
from kim_app.pagination import Page, clamped
from kim_app.queryargs import LIST_MAX
from kim_app.regions.models import Region, RegionLevel, level_of
from kim_app.security import codes_below, scope_filter, user_may_reach

INVITED_PER_PAGE = 25
# KIM that can be invited: verified ones, and those on their way (submitted, or sent back for a
# correction); a draft, a rejected or an inactive KIM is not invited
INVITABLE = (KimStatus.TERVERIFIKASI, KimStatus.DIAJUKAN, KimStatus.PERLU_PERBAIKAN)
# the KIM a filter will invite, named before inviting (the count says how many more there are)
PREVIEW_MAX = 30

village = aliased(Region, name="village")
district = aliased(Region, name="district")


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
            status = enum_or_none(KimStatus, raw_status)
            status = status if status in INVITABLE else KimStatus.TERVERIFIKASI
        return cls(regencies, districts, enum_or_none(Bidang, values.get("bidang")), status)

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


def invite_conditions(event: Event, filters: InviteFilter, user) -> list:
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


def not_invited(event: Event) -> sa.ColumnElement[bool]:
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
        .where(*invite_conditions(event, filters, user))
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
        .where(*invite_conditions(event, filters, user), not_invited(event))
        .order_by(district.name, sa.func.lower(Kim.name), Kim.id)
        .limit(PREVIEW_MAX)
    ).all()
    return [MatchingKim(*row) for row in rows]


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
