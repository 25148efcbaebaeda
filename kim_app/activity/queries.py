"""Reads of the activity reports for pages: a KIM's own list, the operator's review list, what
waits for someone, and what the public sees. Every list goes through the scope rule."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from kim_app import queryargs
from kim_app.activity.models import ActivityKind, ActivityReport, ReportStatus
from kim_app.activity.operations import public_kinds
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.groups.operations import kim_filter
from kim_app.security import scope_filter

PER_PAGE = 20
PUBLIC_SHOWN = 10


def kim_reports(kim: Kim):
    """The KIM's reports, newest activity first, a page at a time, with their photos."""
    return queryargs.paginate(
        sa.select(ActivityReport)
        .where(ActivityReport.kim_id == kim.id)
        .options(selectinload(ActivityReport.photos))
        .order_by(ActivityReport.done_on.desc(), ActivityReport.id.desc()),
        per_page=PER_PAGE,
    )


def review_list(user, status: ReportStatus | None, kind: ActivityKind | None):
    """The reports of KIM in ``user``'s wilayah, oldest waiting first when reviewing, else the
    newest first."""
    statement = (
        sa.select(ActivityReport)
        .where(scope_filter(ActivityReport.village_code, user))
        .options(selectinload(ActivityReport.photos))
    )
    if status is not None:
        statement = statement.where(ActivityReport.status == status)
    if kind is not None:
        statement = statement.where(ActivityReport.kind == kind)
    if status is ReportStatus.DIKIRIM:
        statement = statement.order_by(ActivityReport.id)
    else:
        statement = statement.order_by(ActivityReport.id.desc())
    return queryargs.paginate(statement, per_page=PER_PAGE)


def waiting_count(user) -> int:
    """Reports in ``user``'s wilayah waiting for review (the home page's to-do)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ActivityReport)
        .where(
            ActivityReport.status == ReportStatus.DIKIRIM,
            scope_filter(ActivityReport.village_code, user),
        )
    )


def returned_reports(user, limit: int) -> list[ActivityReport]:
    """Reports of the village person's KIM that the operator returned for a fix."""
    return list(
        db.session.scalars(
            sa.select(ActivityReport)
            .join(Kim, Kim.id == ActivityReport.kim_id)
            .where(kim_filter(user), ActivityReport.status == ReportStatus.PERLU_PERBAIKAN)
            .order_by(ActivityReport.id)
            .limit(limit)
        )
    )


def public_reports(kim: Kim) -> list[ActivityReport]:
    """Accepted reports of the kinds the KIM shows, newest first (its public profile)."""
    kinds = public_kinds(kim.id)
    if not kinds:
        return []
    return list(
        db.session.scalars(
            sa.select(ActivityReport)
            .where(
                ActivityReport.kim_id == kim.id,
                ActivityReport.status == ReportStatus.DITERIMA,
                ActivityReport.kind.in_(kinds),
            )
            .options(selectinload(ActivityReport.photos))
            .order_by(ActivityReport.done_on.desc(), ActivityReport.id.desc())
            .limit(PUBLIC_SHOWN)
        )
    )


def counts_by_status(kim: Kim) -> dict[ReportStatus, int]:
    rows = db.session.execute(
        sa.select(ActivityReport.status, sa.func.count())
        .where(ActivityReport.kim_id == kim.id)
        .group_by(ActivityReport.status)
    ).all()
    return {status: n for status, n in rows}
