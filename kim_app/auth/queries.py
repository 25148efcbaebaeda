"""Reads for the account pages: pending one-time links and villages still without a head."""

from __future__ import annotations

import sqlalchemy as sa

from kim_app.auth.models import AccountLink, Role, User
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.regions.models import Region, RegionLevel
from kim_app.security import codes_below, scope_filter
from kim_app.timezones import utcnow

# one onboarding step covers at most this many villages (the largest regency has under 500)
MAX_ONBOARD = 600


def pending_links_statement(viewer) -> sa.Select:
    """Links still waiting to be opened, of accounts inside the viewer's scope, oldest first
    (the order an operator works through them)."""
    return (
        sa.select(AccountLink)
        .join(AccountLink.user)
        .where(
            scope_filter(User.scope_code, viewer),
            User.active.is_(True),
            AccountLink.used_at.is_(None),
            AccountLink.revoked_at.is_(None),
            AccountLink.expires_at > utcnow(),
        )
        .order_by(User.scope_code, AccountLink.id)
    )


def pending_link_count(viewer) -> int:
    statement = pending_links_statement(viewer).order_by(None)
    return db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery())) or 0


def villages_without_head(area_code: str) -> list[Region]:
    """The villages below ``area_code`` that have no village-head account yet, by code."""
    has_head = (
        sa.select(User.id)
        .where(User.role == Role.KEPALA_DESA, User.scope_code == Region.code)
        .exists()
    )
    return list(
        db.session.scalars(
            sa.select(Region)
            .where(
                Region.level == RegionLevel.DESA,
                codes_below(Region.code, area_code),
                ~has_head,
            )
            .order_by(Region.code)
            .limit(MAX_ONBOARD + 1)
        )
    )


def kims_of_village(village_code: str | None) -> list[Kim]:
    if not village_code:
        return []
    return list(
        db.session.scalars(
            sa.select(Kim).where(Kim.village_code == village_code).order_by(Kim.name, Kim.id)
        )
    )
