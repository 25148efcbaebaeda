"""Reads for the notice pages: an account's list and unread count, an area's outbox."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask import g, has_request_context

from kim_app.auth.models import OPERATOR_ROLES, Role
from kim_app.events.models import Event, EventStatus
from kim_app.events.operations import local_now
from kim_app.extensions import db
from kim_app.groups.operations import queue_count_statement
from kim_app.notices.models import Notice
from kim_app.security import Viewer, scope_filter
from kim_app.timezones import utcnow

OUTBOX_ROLES = (*OPERATOR_ROLES, Role.KEPALA_DESA, Role.PENGURUS_KIM)


def unread_count(user) -> int:
    """The badge in the navigation: one COUNT over the (user, read_at) index."""
    return db.session.scalar(_UNREAD, {"user": user.id})


_UNREAD = (
    sa.select(sa.func.count())
    .select_from(Notice)
    .where(Notice.user_id == sa.bindparam("user"), Notice.read_at.is_(None))
)


def badges(user) -> tuple[int, int]:
    """The navigation's two counts in one statement, asked once per request (the navigation and
    the home page's "Perlu tindakan Anda" both show them): unread notices and, for an operator,
    KIM waiting for verification (0 for other roles)."""
    if has_request_context():
        if "kim_badges" not in g:
            g.kim_badges = _badges(user)
        return g.kim_badges
    return _badges(user)


def _badges(user) -> tuple[int, int]:
    if getattr(user, "role", None) not in OPERATOR_ROLES:
        return unread_count(user), 0
    unread, waiting = db.session.execute(
        _badges_statement(Viewer.of(user)), {"user": user.id}
    ).one()
    return unread, waiting


@lru_cache(maxsize=256)
def _badges_statement(viewer: Viewer) -> sa.Select:
    return sa.select(_UNREAD.scalar_subquery(), queue_count_statement(viewer).scalar_subquery())


def inbox(user) -> sa.Select:
    """The account's notices, newest first."""
    return (
        sa.select(Notice)
        .where(Notice.user_id == user.id)
        .order_by(Notice.created_at.desc(), Notice.id.desc())
    )


def outbox_filter(user) -> sa.ColumnElement[bool]:
    """The WhatsApp hand-offs ``user`` may send: those of their area (the scope rule), and for
    a pengurus only those of their own KIM; never one to the user themselves (it is in their
    own notices already)."""
    condition = sa.and_(
        Notice.phone.is_not(None),
        scope_filter(Notice.region_code, user),
        Notice.user_id.is_distinct_from(getattr(user, "id", None)),
    )
    if getattr(user, "role", None) is Role.PENGURUS_KIM:
        condition = sa.and_(condition, Notice.kim_id == user.kim_id)
    if getattr(user, "role", None) not in OUTBOX_ROLES:
        condition = sa.false()
    return condition


def may_send(user, notice: Notice) -> bool:
    """The single-object form of ``outbox_filter``."""
    return bool(
        db.session.scalar(
            sa.select(sa.literal(True)).where(Notice.id == notice.id, outbox_filter(user))
        )
    )


def outbox(user, *, sent: bool, event_id: int | None = None) -> sa.Select:
    """Hand-offs still to send (oldest first, so a list is worked through in order), or those
    already sent (newest first)."""
    query = sa.select(Notice).where(
        outbox_filter(user),
        Notice.whatsapp_sent_at.is_not(None) if sent else Notice.whatsapp_sent_at.is_(None),
    )
    if event_id is not None:
        query = query.where(Notice.event_id == event_id)
    if sent:
        return query.order_by(Notice.whatsapp_sent_at.desc(), Notice.id.desc())
    return query.order_by(Notice.created_at, Notice.id)


def outbox_count(user) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notice)
        .where(outbox_filter(user), Notice.whatsapp_sent_at.is_(None))
    )


def events_tomorrow(user) -> list[Event]:
    """Published events the operator manages whose first session is tomorrow, in each event's
    own time zone (the reminder is prepared for these)."""
    if getattr(user, "role", None) not in OPERATOR_ROLES:
        return []
    now = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    candidates = db.session.scalars(
        sa.select(Event)
        .where(
            scope_filter(Event.region_code, user),
            Event.status.in_((EventStatus.TERBIT, EventStatus.BERLANGSUNG)),
            # local times of WIB to WIT: tomorrow there lies within these three days here
            Event.starts_on.between(now, now + timedelta(days=3)),
        )
        .order_by(Event.starts_on, Event.id)
        .limit(200)
    ).all()
    return [
        event
        for event in candidates
        if event.starts_on.date() == (local_now(event) + timedelta(days=1)).date()
    ]
