"""Reading competitions: those an operator may read (their area's, those below, and those above
that their KIM may enter), those open to a village's KIM, and a competition's entries (only of
KIM inside the reader's wilayah)."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import contains_eager

from kim_app import queryargs
from kim_app.auth.models import OPERATOR_ROLES, Role
from kim_app.competitions.models import Competition, Entry, EntryStatus, Stage
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.groups.operations import kim_filter
from kim_app.pagination import Page, clamped
from kim_app.regions.models import Region, ancestors_of
from kim_app.security import scope_filter, scope_of

PER_PAGE = 20
ENTRIES_PER_PAGE = 30


def visible(user) -> sa.ColumnElement[bool]:
    """Competitions an operator may read: of their wilayah or below, or above it (a province's
    or the national one, which their KIM enter)."""
    return sa.or_(
        scope_filter(Competition.area_code, user, reach_up=True), Competition.area_code == ""
    )


def for_village(village_code: str) -> sa.ColumnElement[bool]:
    """Published competitions a KIM of the village may see: of its areas or the whole country."""
    return sa.and_(
        Competition.area_code.in_(["", *ancestors_of(village_code)]),
        Competition.stage != Stage.DRAF,
    )


def get_competition_or_404(competition_id: int, user) -> Competition:
    """The competition if ``user`` may read it (an operator: ``visible``; a village person: a
    published one of their village's areas); 404 otherwise."""
    role = getattr(user, "role", None)
    if role in OPERATOR_ROLES:
        condition = visible(user)
    elif role in (Role.KEPALA_DESA, Role.PENGURUS_KIM):
        condition = for_village(scope_of(user))
    else:
        abort(404)
    found = db.session.scalar(
        sa.select(Competition).where(Competition.id == competition_id, condition)
    )
    return found or abort(404)


def get_public_or_404(code: str) -> Competition:
    found = db.session.scalar(
        sa.select(Competition).where(Competition.code == code, Competition.stage != Stage.DRAF)
    )
    return found or abort(404)


def competitions(user) -> Page:
    """The operator's competitions, the newest year first."""
    statement = sa.select(Competition).where(visible(user))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    page = clamped(queryargs.page(), total, PER_PAGE)
    items = db.session.scalars(
        statement.order_by(Competition.year.desc(), Competition.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return Page(items, total, page, PER_PAGE)


def area_names(codes: set[str]) -> dict[str, str]:
    """The names of the competitions' areas, in one statement."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return {
        r.code: r.display_name
        for r in db.session.scalars(sa.select(Region).where(Region.code.in_(codes)))
    }


def open_for(kims: list[Kim]) -> list[tuple[Competition, Kim]]:
    """For the village person's home: competitions taking entries that their verified KIM may
    see, and those it entered (to follow its entry), one row per KIM (at most a few)."""
    found = []
    for kim in kims:
        if kim.status.value != "terverifikasi":
            continue
        rows = db.session.scalars(
            sa.select(Competition)
            .where(
                for_village(kim.village_code),
                sa.or_(
                    Competition.stage == Stage.PENDAFTARAN,
                    sa.exists().where(
                        Entry.competition_id == Competition.id, Entry.kim_id == kim.id
                    ),
                ),
            )
            .order_by(Competition.closes_on.desc(), Competition.id.desc())
            .limit(5)
        ).all()
        found += [(c, kim) for c in rows]
    return found


def _readable_entries(competition: Competition, user) -> list[sa.ColumnElement[bool]]:
    """Sent entries of the competition whose KIM lie inside the reader's wilayah (drafts are
    the KIM's own until sent)."""
    return [
        Entry.competition_id == competition.id,
        Entry.status != EntryStatus.DRAF,
        scope_filter(Entry.village_code, user),
    ]


def entries(competition: Competition, user) -> Page:
    """The entries the reader may see, by category and when they were sent, a page at a time."""
    condition = _readable_entries(competition, user)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Entry).where(*condition))
    page = clamped(queryargs.page(), total, ENTRIES_PER_PAGE)
    items = db.session.scalars(
        sa.select(Entry)
        .where(*condition)
        .order_by(Entry.category_id, Entry.submitted_at, Entry.id)
        .limit(ENTRIES_PER_PAGE)
        .offset((page - 1) * ENTRIES_PER_PAGE)
    ).all()
    return Page(items, total, page, ENTRIES_PER_PAGE)


def entry_for_operator(competition: Competition, entry_id: int, user) -> Entry | None:
    return db.session.scalar(
        sa.select(Entry).where(Entry.id == entry_id, *_readable_entries(competition, user))
    )


def entry_counts(competition: Competition, user) -> Counter:
    rows = db.session.execute(
        sa.select(Entry.status, sa.func.count())
        .where(*_readable_entries(competition, user))
        .group_by(Entry.status)
    )
    return Counter(dict(rows.all()))


def kim_entries(kim: Kim, competition: Competition) -> dict[int, Entry]:
    """The KIM's entries in the competition, by category."""
    return {
        e.category_id: e
        for e in db.session.scalars(
            sa.select(Entry).where(Entry.kim_id == kim.id, Entry.competition_id == competition.id)
        )
    }


CHECKED_IN = (Stage.PENDAFTARAN, Stage.ADMINISTRASI)  # the stages an entry is checked in


def entries_to_check(user, limit: int) -> list[tuple[Competition, int]]:
    """For the operator's home: competitions they manage with sent entries (of KIM in their
    wilayah) waiting for the administrative check, and how many."""
    rows = db.session.execute(
        sa.select(Competition, sa.func.count(Entry.id))
        .join(Entry, Entry.competition_id == Competition.id)
        .where(
            scope_filter(Competition.area_code, user),
            Competition.stage.in_(CHECKED_IN),
            Entry.status == EntryStatus.DIKIRIM,
            scope_filter(Entry.village_code, user),
        )
        .group_by(Competition.id)
        .order_by(Competition.closes_on, Competition.id)
        .limit(limit)
    ).all()
    return [(competition, n) for competition, n in rows]


def returned_entries(user, limit: int) -> list[Entry]:
    """For the village person's home: their KIM's entries returned for fixes, while they can
    still be fixed."""
    return list(
        db.session.scalars(
            sa.select(Entry)
            .join(Entry.competition)
            .options(contains_eager(Entry.competition))
            .join(Kim, Kim.id == Entry.kim_id)
            .where(
                kim_filter(user),
                Entry.status == EntryStatus.PERLU_PERBAIKAN,
                Competition.stage.in_(CHECKED_IN),
            )
            .order_by(Entry.checked_at, Entry.id)
            .limit(limit)
        )
    )
