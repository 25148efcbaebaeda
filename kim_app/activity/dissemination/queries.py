"""Reads of information items for pages: what a KIM is asked to spread (urgent and not yet relayed
first), what an operator sent with how many KIM relayed it and how far, and the relays of one
item inside the reader's wilayah. A fixed number of statements per page."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from kim_app import queryargs
from kim_app.activity.dissemination.operations import for_kim, targeted
from kim_app.activity.models import InfoItem, Relay
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.pagination import Page, clamped
from kim_app.regions.models import Region
from kim_app.regions.operations import children_of
from kim_app.security import scope_filter, scope_of

PER_PAGE = 20
SHOWN_ON_HOME = 5


@dataclass
class KimItem:
    item: InfoItem
    relay: Relay | None


def kim_items(kim: Kim) -> Page:
    """The items that go to ``kim``, each with its relay: urgent ones not yet relayed first,
    then the newest."""
    waiting_urgent = sa.and_(InfoItem.urgent, Relay.id.is_(None))
    statement = (
        sa.select(InfoItem, Relay)
        .outerjoin(Relay, sa.and_(Relay.item_id == InfoItem.id, Relay.kim_id == kim.id))
        .where(for_kim(kim), InfoItem.sent_at >= kim_joined(kim))
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    page = clamped(queryargs.page(), total, PER_PAGE)
    rows = db.session.execute(
        statement.order_by(waiting_urgent.desc(), InfoItem.sent_at.desc(), InfoItem.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return Page([KimItem(item, relay) for item, relay in rows], total, page, PER_PAGE)


def kim_joined(kim: Kim):
    """Items sent before a KIM was verified are not its to spread (nor counted against it)."""
    return kim.verified_at or kim.created_at


def waiting_for(kims: list[Kim]) -> list[tuple[Kim, InfoItem]]:
    """For the village person's home: items not yet relayed by each verified KIM, urgent first,
    at most ``SHOWN_ON_HOME`` in all (one statement per KIM; a village person has one or two)."""
    found: list[tuple[Kim, InfoItem]] = []
    for kim in kims:
        if kim.status.value != "terverifikasi":
            continue
        relayed = sa.exists().where(Relay.item_id == InfoItem.id, Relay.kim_id == kim.id)
        items = db.session.scalars(
            sa.select(InfoItem)
            .where(for_kim(kim), ~relayed, InfoItem.sent_at >= kim_joined(kim))
            .order_by(InfoItem.urgent.desc(), InfoItem.sent_at.desc())
            .limit(SHOWN_ON_HOME)
        ).all()
        found += [(kim, item) for item in items]
    found.sort(key=lambda pair: (not pair[1].urgent, -pair[1].id))
    return found[:SHOWN_ON_HOME]


def visible_items(user) -> sa.ColumnElement[bool]:
    """Items an operator may read: sent to their wilayah, inside it, or above it (the
    province's or the nation's items reach their KIM too)."""
    return sa.or_(scope_filter(InfoItem.area_code, user, reach_up=True), InfoItem.area_code == "")


@dataclass
class SentItem:
    item: InfoItem
    relayed: int
    reach: int


def sent_items(user) -> Page:
    """Items the operator may read, newest first, with the relays and reach of KIM in their
    wilayah."""
    statement = sa.select(InfoItem).where(visible_items(user))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    page = clamped(queryargs.page(), total, PER_PAGE)
    items = db.session.scalars(
        statement.order_by(InfoItem.sent_at.desc(), InfoItem.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    sums = dict(
        (item_id, (n, reach))
        for item_id, n, reach in db.session.execute(
            sa.select(Relay.item_id, sa.func.count(), sa.func.coalesce(sa.func.sum(Relay.reach), 0))
            .where(Relay.item_id.in_([i.id for i in items]), scope_filter(Relay.village_code, user))
            .group_by(Relay.item_id)
        )
    )
    rows = [SentItem(i, *sums.get(i.id, (0, 0))) for i in items]
    return Page(rows, total, page, PER_PAGE)


@dataclass
class ItemReport:
    relays: list[Relay]
    reach: int
    targeted: int  # verified KIM of the item's area and field inside the reader's wilayah
    waiting: list[Kim]  # the first of those that have not relayed it


WAITING_SHOWN = 50


def item_report(item: InfoItem, user) -> ItemReport:
    """Which KIM (inside the reader's wilayah) relayed the item, where and to how many; how many
    were asked; the first of those that have not said so yet."""
    relays = list(
        db.session.scalars(
            sa.select(Relay)
            .where(Relay.item_id == item.id, scope_filter(Relay.village_code, user))
            .order_by(Relay.relayed_at.desc())
        )
    )
    asked = sa.and_(targeted(item.area_code, item.field), scope_filter(Kim.village_code, user))
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Kim).where(asked))
    relayed = sa.exists().where(Relay.item_id == item.id, Relay.kim_id == Kim.id)
    waiting = list(
        db.session.scalars(
            sa.select(Kim).where(asked, ~relayed).order_by(Kim.village_code).limit(WAITING_SHOWN)
        )
    )
    return ItemReport(relays, sum(r.reach for r in relays), count, waiting)


def kim_relay(item_id: int, kim_id: int) -> Relay | None:
    return db.session.scalar(
        sa.select(Relay).where(Relay.item_id == item_id, Relay.kim_id == kim_id)
    )


def item_for_operator(item_id: int, user) -> InfoItem | None:
    return db.session.scalar(sa.select(InfoItem).where(InfoItem.id == item_id, visible_items(user)))


def item_for_kim(item_id: int, kim: Kim) -> InfoItem | None:
    return db.session.scalar(sa.select(InfoItem).where(InfoItem.id == item_id, for_kim(kim)))


def area_choices(user, everywhere: str) -> list[tuple[str, str]]:
    """Where an operator may send: their whole wilayah (``everywhere`` names the whole country,
    the admin's), or one area one level below it."""
    scope = scope_of(user)
    own = db.session.get(Region, scope) if scope else None
    first = (scope, own.display_name) if own else ("", everywhere)
    return [first] + [(r.code, r.display_name) for r in children_of(scope or None, user)]
