"""Reads of an event's people: the operators' participant list (filter, search conditions,
order, one page, counts per status and source), one registration of the event, where a person
without a KIM comes from, and whether the people of an event may still change; and the events
organised elsewhere that an area's people take part in (their page, with attendance and
certificates, is ``kim_app.attendance.area_people``).

Set-based: a page of the participant list is a count, its rows and one grouped count, whatever
the number of rows. Its export is ``documents.py``, its import ``imports.py``; the writes are
``participants/operations.py``, the invited KIM ``invitations/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from kim_app.db import contains_text
from kim_app.events.models import Event, EventStatus, Registration, RegistrationStatus, Source
from kim_app.extensions import db
from kim_app.groups.models import Gender, Kim
from kim_app.pagination import Page, clamped
from kim_app.regions.models import Region, RegionLevel
from kim_app.security import MAX_RECORD_ID, origin_filter, scope_filter

PARTICIPANTS_PER_PAGE = 50
QUERY_MAX = 60
# registrations that hold a place (a seat or a place in the queue)
ACTIVE = (RegistrationStatus.TERDAFTAR, RegistrationStatus.DAFTAR_TUNGGU)
# invitations, delegates and participants may change until the event is over or cancelled
EDITABLE = (EventStatus.DRAFT, EventStatus.TERBIT, EventStatus.BERLANGSUNG)


def people_editable(event: Event) -> bool:
    return event.status in EDITABLE


def _clean_query(text: str) -> str:
    return " ".join("".join(ch for ch in text if ch.isprintable()).split())[:QUERY_MAX]


def enum_or_none(enum_cls, value: str | None):
    """The member of ``enum_cls`` whose value is ``value``, or None for anything else."""
    return enum_cls(value) if value in {m.value for m in enum_cls} else None


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
            source=enum_or_none(Source, args.get("sumber")),
            status=enum_or_none(RegistrationStatus, args.get("status")),
            origin=_clean_query(args.get("asal") or ""),
            gender=enum_or_none(Gender, args.get("jk")),
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


# --- events organised elsewhere that the area's people take part in --------------------------------

FOLLOWED_MAX = 20


def followed_events(user, period) -> list[sa.Row]:
    """Events organised outside ``user``'s area (not drafts) in which people of the area are
    registered or waiting, with how many: ``(Event, people)``, at most 20, in date order. One
    query (none for the admin, who organises everywhere); ``period`` is the list's condition on
    the event's date."""
    if getattr(user, "is_admin", False):
        return []
    people = (
        sa.select(Registration.event_id, sa.func.count().label("n"))
        .where(
            origin_filter(Registration.origin_code, user),
            Registration.status != RegistrationStatus.BATAL,
        )
        .group_by(Registration.event_id)
        .subquery("people")
    )
    return db.session.execute(
        sa.select(Event, people.c.n)
        .join(people, people.c.event_id == Event.id)
        .where(
            sa.not_(scope_filter(Event.region_code, user)),
            Event.status != EventStatus.DRAFT,
            period,
        )
        .order_by(Event.starts_on, Event.id)
        .limit(FOLLOWED_MAX)
    ).all()
