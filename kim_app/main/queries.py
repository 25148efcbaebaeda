"""What waits for the signed-in person: the "Perlu tindakan Anda" block of the home page.

Each role sees only what asks something of them, each item with the one link that does it:
village heads and pengurus — invitations still waiting for delegates, a KIM returned for fixes
or left as a draft, the coming week's events of their KIM; operators — KIM waiting for
verification, today's and this week's events with the roll call and the scan page, events
whose registration closes within three days, account invitations not yet opened. A fixed
number of statements, whatever the data size; each list is capped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from kim_app.activity.dissemination.queries import waiting_for
from kim_app.activity.models import ActivityReport, InfoItem
from kim_app.activity.queries import returned_reports, waiting_count
from kim_app.auth.models import OPERATOR_ROLES, Role
from kim_app.auth.queries import pending_link_count
from kim_app.competitions.models import Competition, Entry
from kim_app.competitions.queries import entries_to_check, returned_entries
from kim_app.events.models import Event, EventSession, EventStatus, Invitation, Registration
from kim_app.events.models import RegistrationStatus as RS
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimStatus, KimStatusChange
from kim_app.groups.operations import kim_filter
from kim_app.notices.queries import badges, outbox_count
from kim_app.security import scope_filter
from kim_app.timezones import utcnow

SHOWN = 8  # items per list: the home page stays short on a phone
LIVE = (EventStatus.TERBIT, EventStatus.BERLANGSUNG)
# stored session times are local to each event's zone; "today" is read in the widest sense
# (Indonesia spans UTC+7 to UTC+9) and each row is then placed in its own zone's day
WIDEST = timedelta(hours=9)


@dataclass
class Waiting:
    """One invitation of the person's KIM that still needs delegates."""

    event: Event
    kim: Kim
    quota: int
    named: int


@dataclass
class Upcoming:
    event: Event
    starts_at: datetime
    people: int = 0  # of the person's KIM (village roles)


@dataclass
class Actions:
    invitations: list[Waiting] = field(default_factory=list)
    kims_to_fix: list[tuple[Kim, str]] = field(default_factory=list)
    kims_draft: list[Kim] = field(default_factory=list)
    this_week: list[Upcoming] = field(default_factory=list)
    today: list[Upcoming] = field(default_factory=list)
    closing: list[Event] = field(default_factory=list)
    verification: int = 0
    pending_links: int = 0
    register_kim: bool = False  # a village head whose village has no KIM yet
    outbox: int = 0  # prepared WhatsApp messages the person may send, not sent yet
    reports_waiting: int = 0  # KIM activity reports in the operator's wilayah not yet reviewed
    reports_returned: list[ActivityReport] = field(default_factory=list)  # to fix (village)
    to_spread: list[tuple[Kim, InfoItem]] = field(default_factory=list)  # not yet relayed
    entries_returned: list[Entry] = field(default_factory=list)  # competition entries to fix
    entries_waiting: list[tuple[Competition, int]] = field(default_factory=list)  # to check

    @property
    def empty(self) -> bool:
        return not (
            self.invitations
            or self.kims_to_fix
            or self.kims_draft
            or self.this_week
            or self.today
            or self.closing
            or self.verification
            or self.pending_links
            or self.register_kim
            or self.outbox
            or self.reports_waiting
            or self.reports_returned
            or self.to_spread
            or self.entries_returned
            or self.entries_waiting
        )


def actions_for(user) -> Actions:
    if user.role in OPERATOR_ROLES:
        actions = _operator_actions(user)
    elif user.role in (Role.KEPALA_DESA, Role.PENGURUS_KIM):
        actions = _village_actions(user)
    else:
        return Actions()
    actions.outbox = outbox_count(user)
    return actions


def _week() -> tuple[datetime, datetime]:
    now = utcnow()
    return now - timedelta(hours=12), now + WIDEST + timedelta(days=7)


def _village_actions(user) -> Actions:
    actions = Actions()
    named = (
        sa.select(sa.func.count())
        .where(
            Registration.event_id == Invitation.event_id,
            Registration.kim_id == Invitation.kim_id,
            Registration.status.in_((RS.TERDAFTAR, RS.DAFTAR_TUNGGU)),
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Invitation, named)
        .join(Invitation.event)
        .options(contains_eager(Invitation.event))
        .join(Kim, Kim.id == Invitation.kim_id)
        .where(kim_filter(user), Event.status.in_(LIVE))
        .order_by(Event.registration_deadline.is_(None), Event.registration_deadline, Event.id)
        .limit(50)
    ).all()
    for invitation, count in rows:
        event = invitation.event
        deadline_passed = (
            event.registration_deadline is not None
            and event.registration_deadline < _local_now(event)
        )
        if count < invitation.quota and not deadline_passed and len(actions.invitations) < SHOWN:
            actions.invitations.append(Waiting(event, invitation.kim, invitation.quota, count))

    kims = db.session.scalars(
        sa.select(Kim)
        .where(kim_filter(user), Kim.status.in_((KimStatus.PERLU_PERBAIKAN, KimStatus.DRAFT)))
        .order_by(Kim.id)
        .limit(SHOWN)
    ).all()
    returned = [k.id for k in kims if k.status is KimStatus.PERLU_PERBAIKAN]
    notes = dict(
        db.session.execute(
            sa.select(KimStatusChange.kim_id, KimStatusChange.note)
            .where(
                KimStatusChange.kim_id.in_(returned),
                KimStatusChange.to_status == KimStatus.PERLU_PERBAIKAN,
            )
            .order_by(KimStatusChange.id)
        ).all()
    )  # the newest note of each KIM wins (ordered by id)
    actions.kims_to_fix = [(k, notes.get(k.id, "")) for k in kims if k.id in returned]
    actions.kims_draft = [k for k in kims if k.status is KimStatus.DRAFT]
    if user.role is Role.KEPALA_DESA and not kims:
        actions.register_kim = (
            db.session.scalar(sa.select(Kim.id).where(kim_filter(user)).limit(1)) is None
        )

    start, end = _week()
    week = _sessions_in(start, end)
    people = (
        sa.select(Registration.event_id, sa.func.count(Registration.id).label("people"))
        .join(Kim, Kim.id == Registration.kim_id)
        .where(kim_filter(user), Registration.status == RS.TERDAFTAR)
        .group_by(Registration.event_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Event, week.c.first, people.c.people)
        .join(week, week.c.event_id == Event.id)
        .join(people, people.c.event_id == Event.id)
        .where(Event.status.in_(LIVE))
        .order_by(week.c.first, Event.id)
        .limit(SHOWN)
    ).all()
    actions.this_week = [Upcoming(event, at, n) for event, at, n in rows]
    actions.reports_returned = returned_reports(user, SHOWN)
    mine = db.session.scalars(
        sa.select(Kim)
        .where(kim_filter(user), Kim.status == KimStatus.TERVERIFIKASI)
        .order_by(Kim.id)
        .limit(SHOWN)
    ).all()
    actions.to_spread = waiting_for(mine)
    actions.entries_returned = returned_entries(user, SHOWN)
    return actions


def _sessions_in(start: datetime, end: datetime):
    """Per event, the first session that touches [start, end] (a subquery: the events' own rows
    are then read whole, with their joined region, without grouping them)."""
    return (
        sa.select(EventSession.event_id, sa.func.min(EventSession.starts_at).label("first"))
        .where(EventSession.ends_at >= start, EventSession.starts_at <= end)
        .group_by(EventSession.event_id)
        .subquery()
    )


def _local_now(event: Event) -> datetime:
    from kim_app.events.operations import local_now

    return local_now(event)


def _operator_actions(user) -> Actions:
    # the navigation's badge already counted the queue in this request
    actions = Actions(verification=badges(user)[1], pending_links=pending_link_count(user))
    start, end = _week()
    week = _sessions_in(start, end)
    rows = db.session.execute(
        sa.select(Event, week.c.first)
        .join(week, week.c.event_id == Event.id)
        .where(scope_filter(Event.region_code, user), Event.status.in_(LIVE))
        .order_by(week.c.first, Event.id)
        .limit(SHOWN * 2)
    ).all()
    sessions: dict[int, list[tuple[datetime, datetime]]] = {}
    for event_id, starts, ends in db.session.execute(
        sa.select(EventSession.event_id, EventSession.starts_at, EventSession.ends_at).where(
            EventSession.event_id.in_([event.id for event, _first in rows]),
            EventSession.ends_at >= start,
            EventSession.starts_at <= end,
        )
    ):
        sessions.setdefault(event_id, []).append((starts, ends))
    for event, starts_at in rows:
        now = _local_now(event)
        running_today = any(
            starts.date() == now.date() and ends >= now for starts, ends in sessions[event.id]
        )
        if running_today:
            actions.today.append(Upcoming(event, starts_at))
        elif starts_at >= now and len(actions.this_week) < SHOWN:
            actions.this_week.append(Upcoming(event, starts_at))
    soon = utcnow() + WIDEST + timedelta(days=3)
    candidates = db.session.scalars(
        sa.select(Event)
        .where(
            scope_filter(Event.region_code, user),
            Event.status == EventStatus.TERBIT,
            Event.registration_deadline.is_not(None),
            Event.registration_deadline <= soon,
            Event.registration_deadline >= utcnow() - timedelta(hours=12),
        )
        .order_by(Event.registration_deadline)
        .limit(SHOWN)
    ).all()
    actions.closing = [e for e in candidates if e.registration_deadline >= _local_now(e)]
    actions.reports_waiting = waiting_count(user)
    actions.entries_waiting = entries_to_check(user, SHOWN)
    return actions
