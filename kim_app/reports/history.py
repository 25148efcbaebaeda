"""Participation history: of a KIM (events invited to, delegates sent, attendance rate) on its
page and for its pengurus, and of one person across events for operators.

Every figure is counted by the database in grouped queries: a history page costs the same few
queries whether the KIM took part in two events or three hundred.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from flask import Response, abort
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required

from kim_app import audit, queryargs, tables
from kim_app.attendance.models import Attendance, Presence
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.db import contains_text
from kim_app.events.models import (
    Event,
    EventSession,
    EventStatus,
    Invitation,
    Registration,
    RegistrationStatus,
)
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.groups.operations import get_kim_or_404
from kim_app.htmx import render
from kim_app.pagination import Page, clamped
from kim_app.phones import PhoneError, display_phone, normalise_phone
from kim_app.regions.models import Region
from kim_app.reports import bp
from kim_app.security import (
    registration_filter,
    roles_required,
    scope_filter,
    scope_of,
    user_may_reach,
)

HISTORY_PER_PAGE = 20
PEOPLE_PER_PAGE = 25
QUERY_MAX = 60
PHONE_LIKE = re.compile(r"\+?[\d\s().-]+")


def _tally(condition) -> sa.ColumnElement[int]:
    """How many rows of the group meet ``condition`` (portable: no FILTER clause)."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _or_zero(column) -> sa.ColumnElement[int]:
    return sa.func.coalesce(column, 0)


def span(first: datetime | None, last: datetime | None = None) -> str:
    """``12 Mei 2026`` or ``12 Mei 2026 – 13 Mei 2026``: the local dates as stored (no zone shift)."""
    if first is None:
        return "—"
    shown = format_date(first.date(), "d MMM y")
    if last is None or last.date() == first.date():
        return shown
    return f"{shown} – {format_date(last.date(), 'd MMM y')}"


def rate_number(rate: float | None) -> float | None:
    """The rate as a percentage with one decimal, for spreadsheets."""
    return None if rate is None else round(rate * 100, 1)


# --- the history of a KIM ----------------------------------------------------------------------


def kim_event_ids(kim_id: int) -> sa.CompoundSelect:
    """Events the KIM was invited to or sent anyone to."""
    return sa.union(
        sa.select(Invitation.event_id).where(Invitation.kim_id == kim_id),
        sa.select(Registration.event_id).where(Registration.kim_id == kim_id),
    )


def kim_history_rows(kim_id: int) -> sa.Select:
    """One row per (non-draft) event of the KIM, newest first: the event, its owner, the quota,
    the KIM's delegates by status, how many attended at least one session, hadir marks,
    sessions and the attendance rate = hadir marks / (registered delegates × sessions).

    Only delegates still registered (terdaftar) count towards the rate."""
    events = kim_event_ids(kim_id)
    delegates = (
        sa.select(
            Registration.event_id.label("event_id"),
            _tally(Registration.status == RegistrationStatus.TERDAFTAR).label("registered"),
            _tally(Registration.status == RegistrationStatus.DAFTAR_TUNGGU).label("waiting"),
            _tally(Registration.status == RegistrationStatus.BATAL).label("cancelled"),
        )
        .where(Registration.kim_id == kim_id)
        .group_by(Registration.event_id)
        .subquery("delegates")
    )
    present = (
        sa.select(
            Registration.event_id.label("event_id"),
            sa.func.count(Attendance.id).label("marks"),
            sa.func.count(sa.distinct(Attendance.registration_id)).label("attended"),
        )
        .join(Attendance, Attendance.registration_id == Registration.id)
        .where(
            Registration.kim_id == kim_id,
            Registration.status == RegistrationStatus.TERDAFTAR,
            Attendance.status == Presence.HADIR,
        )
        .group_by(Registration.event_id)
        .subquery("present")
    )
    sessions = (
        sa.select(
            EventSession.event_id.label("event_id"),
            sa.func.count(EventSession.id).label("sessions"),
            sa.func.max(EventSession.ends_at).label("ends_at"),
        )
        .where(EventSession.event_id.in_(events))
        .group_by(EventSession.event_id)
        .subquery("sessions")
    )
    registered = _or_zero(delegates.c.registered)
    marks = _or_zero(present.c.marks)
    expected = registered * _or_zero(sessions.c.sessions)
    return (
        sa.select(
            Event.id,
            Event.title,
            Event.kind,
            Event.starts_on,
            sessions.c.ends_at,
            Event.status,
            Event.region_code,
            Region.name.label("owner"),
            Invitation.quota,
            registered.label("registered"),
            _or_zero(delegates.c.waiting).label("waiting"),
            _or_zero(delegates.c.cancelled).label("cancelled"),
            _or_zero(present.c.attended).label("attended"),
            marks.label("marks"),
            _or_zero(sessions.c.sessions).label("sessions"),
            expected.label("expected"),
            sa.case((expected > 0, sa.cast(marks, sa.Float) / expected)).label("rate"),
        )
        .join(Region, Region.code == Event.region_code)
        .outerjoin(
            Invitation, sa.and_(Invitation.event_id == Event.id, Invitation.kim_id == kim_id)
        )
        .outerjoin(delegates, delegates.c.event_id == Event.id)
        .outerjoin(present, present.c.event_id == Event.id)
        .outerjoin(sessions, sessions.c.event_id == Event.id)
        .where(Event.id.in_(events), Event.status != EventStatus.DRAFT)
        .order_by(Event.starts_on.desc().nulls_last(), Event.id.desc())
    )


def kim_history_totals(kim_id: int) -> sa.Row:
    """Over every event of the history: events, delegates registered, attended, hadir marks,
    expected marks and the overall rate (one query)."""
    rows = kim_history_rows(kim_id).order_by(None).subquery("history")
    expected = _or_zero(sa.func.sum(rows.c.expected))
    marks = _or_zero(sa.func.sum(rows.c.marks))
    return db.session.execute(
        sa.select(
            sa.func.count().label("events"),
            _or_zero(sa.func.sum(rows.c.registered)).label("registered"),
            _or_zero(sa.func.sum(rows.c.attended)).label("attended"),
            marks.label("marks"),
            expected.label("expected"),
            sa.case((expected > 0, sa.cast(marks, sa.Float) / expected)).label("rate"),
        )
    ).one()


def kim_history_page(kim_id: int, page: int) -> tuple[Page, sa.Row]:
    """One page (20) of the history and the totals over all of it: two queries."""
    totals = kim_history_totals(kim_id)
    page = clamped(page, totals.events, HISTORY_PER_PAGE)
    rows = db.session.execute(
        kim_history_rows(kim_id).limit(HISTORY_PER_PAGE).offset((page - 1) * HISTORY_PER_PAGE)
    ).all()
    return Page(items=rows, total=totals.events, page=page, per_page=HISTORY_PER_PAGE), totals


def kim_history_table(kim_id: int) -> tuple[list[str], list[list]]:
    """Every row of the history, as on the page, for XLSX/CSV."""
    headers = [
        _("Kegiatan"),
        _("Jenis"),
        _("Mulai"),
        _("Selesai"),
        _("Penyelenggara"),
        _("Status"),
        _("Kuota"),
        _("Terdaftar"),
        _("Daftar tunggu"),
        _("Batal"),
        _("Hadir minimal 1 sesi"),
        _("Jumlah sesi"),
        _("Tanda hadir"),
        _("Tingkat kehadiran (%)"),
    ]
    rows = [
        [
            r.title,
            str(r.kind.label),
            r.starts_on.date() if r.starts_on else None,
            r.ends_at.date() if r.ends_at else None,
            r.owner,
            str(r.status.label),
            r.quota,
            r.registered,
            r.waiting,
            r.cancelled,
            r.attended,
            r.sessions,
            r.marks,
            rate_number(r.rate),
        ]
        for r in db.session.execute(kim_history_rows(kim_id))
    ]
    return headers, rows


# --- people, for operators -----------------------------------------------------------------------


def clean_query(text: str | None) -> str:
    return " ".join("".join(ch for ch in (text or "") if ch.isprintable()).split())[:QUERY_MAX]


def looks_like_phone(query: str) -> bool:
    return bool(PHONE_LIKE.fullmatch(query)) and sum(ch.isdigit() for ch in query) >= 4


def person_condition(query: str) -> sa.ColumnElement[bool]:
    """A number in any spelling (``0812-3456-7890``, ``+62 812…``) matches that exact phone; part
    of a number matches phones containing it; anything else matches names containing every word."""
    if looks_like_phone(query):
        try:
            e164 = normalise_phone(query)
        except PhoneError:
            e164 = None
        if e164:
            return Registration.phone == e164
        digits = re.sub(r"\D", "", query)
        digits = digits[2:] if digits.startswith("62") else digits.removeprefix("0")
        return Registration.phone.contains(digits, autoescape=True)
    return sa.and_(*[contains_text(Registration.name, word) for word in query.split()])


def person_key() -> sa.ColumnElement[str]:
    """Who a registration belongs to: its E.164 phone, or itself when it has none."""
    return sa.func.coalesce(Registration.phone, sa.cast(Registration.id, sa.String))


def _visible(user) -> sa.ColumnElement[bool]:
    """Registrations ``user`` may see: of the events it manages, and its area's people at any
    other event (read-only; the scope rule in ``kim_app.security``)."""
    return registration_filter(Event.region_code, Registration.origin_code, user)


def people_page(query: str, user, page: int) -> Page:
    """People found among the registrations ``user`` may see (of the events it manages, and
    its area's people elsewhere), one row per person
    (their latest registration, how many registrations matched, the last event's date),
    25 per page by name: two queries."""
    key = person_key().label("key")
    found = (
        sa.select(
            key,
            sa.func.max(Registration.id).label("latest"),
            sa.func.count(Registration.id).label("events"),
            sa.func.max(Event.starts_on).label("last_on"),
        )
        .join(Event, Event.id == Registration.event_id)
        .where(_visible(user), person_condition(query))
        .group_by(key)
        .subquery("found")
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(found)) or 0
    page = clamped(page, total, PEOPLE_PER_PAGE)
    rows = db.session.execute(
        sa.select(
            Registration.id,
            Registration.name,
            Registration.phone,
            Registration.institution,
            Kim.name.label("kim_name"),
            found.c.events,
            found.c.last_on,
        )
        .join(found, found.c.latest == Registration.id)
        .outerjoin(Kim, Kim.id == Registration.kim_id)
        .order_by(sa.func.lower(Registration.name), Registration.id)
        .limit(PEOPLE_PER_PAGE)
        .offset((page - 1) * PEOPLE_PER_PAGE)
    ).all()
    return Page(items=rows, total=total, page=page, per_page=PEOPLE_PER_PAGE)


def registration_in_scope_or_404(registration_id: int, user) -> Registration:
    """A registration of an event ``user`` manages; 404 for any other."""
    registration = db.session.scalar(
        sa.select(Registration)
        .join(Event, Event.id == Registration.event_id)
        .where(Registration.id == registration_id, scope_filter(Event.region_code, user))
    )
    if registration is None:
        abort(404)
    return registration


def registration_visible_or_404(registration_id: int, user) -> Registration:
    """A registration ``user`` may see (``_visible``); 404 for any other. Read-only pages only:
    what changes a registration uses ``registration_in_scope_or_404``."""
    registration = db.session.scalar(
        sa.select(Registration)
        .join(Event, Event.id == Registration.event_id)
        .where(Registration.id == registration_id, _visible(user))
    )
    if registration is None:
        abort(404)
    return registration


def same_person(registration: Registration) -> sa.ColumnElement[bool]:
    if registration.phone:
        return Registration.phone == registration.phone
    return Registration.id == registration.id


def person_rows(registration: Registration, user) -> list[sa.Row]:
    """The person's registrations (same phone) in events ``user`` manages, newest first, each
    with its event, KIM, sessions attended (hadir) and sessions in all: one query."""
    same = same_person(registration)
    theirs = sa.select(Registration.id).where(same)
    hadir = (
        sa.select(
            Attendance.registration_id.label("registration_id"),
            sa.func.count(Attendance.id).label("attended"),
        )
        .where(Attendance.registration_id.in_(theirs), Attendance.status == Presence.HADIR)
        .group_by(Attendance.registration_id)
        .subquery("hadir")
    )
    sessions = (
        sa.select(
            EventSession.event_id.label("event_id"),
            sa.func.count(EventSession.id).label("sessions"),
        )
        .where(EventSession.event_id.in_(sa.select(Registration.event_id).where(same)))
        .group_by(EventSession.event_id)
        .subquery("sessions")
    )
    return db.session.execute(
        sa.select(
            Registration.id,
            Registration.name,
            Registration.status,
            Registration.source,
            Registration.institution,
            Registration.position,
            Kim.name.label("kim_name"),
            Event.id.label("event_id"),
            Event.title,
            Event.kind,
            Event.starts_on,
            Event.status.label("event_status"),
            Event.region_code,
            Region.name.label("owner"),
            _or_zero(hadir.c.attended).label("attended"),
            _or_zero(sessions.c.sessions).label("sessions"),
        )
        .join(Event, Event.id == Registration.event_id)
        .join(Region, Region.code == Event.region_code)
        .outerjoin(Kim, Kim.id == Registration.kim_id)
        .outerjoin(hadir, hadir.c.registration_id == Registration.id)
        .outerjoin(sessions, sessions.c.event_id == Event.id)
        .where(same, _visible(user))
        .order_by(Event.starts_on.desc().nulls_last(), Registration.id.desc())
    ).all()


def person_marks(registration: Registration, user) -> dict[int, list[sa.Row]]:
    """Per registration of the person: every session of its event in order with the mark
    (None: not marked yet): one query."""
    marks: dict[int, list[sa.Row]] = defaultdict(list)
    for row in db.session.execute(
        sa.select(
            Registration.id.label("registration_id"),
            EventSession.starts_at,
            EventSession.topic,
            Attendance.status,
        )
        .join(Event, Event.id == Registration.event_id)
        .join(EventSession, EventSession.event_id == Registration.event_id)
        .outerjoin(
            Attendance,
            sa.and_(
                Attendance.registration_id == Registration.id,
                Attendance.session_id == EventSession.id,
            ),
        )
        .where(same_person(registration), _visible(user))
        .order_by(Registration.id, EventSession.starts_at, EventSession.id)
    ):
        marks[row.registration_id].append(row)
    return marks


def mark_label(status: Presence | None) -> str:
    return str((status or Presence.BELUM).label)


def moment(value: datetime) -> str:
    """``12 Mei 09.00``: a session's local start as stored (no zone shift)."""
    return format_datetime(value, "d MMM HH.mm", rebase=False)


def person_table(registration: Registration, user) -> tuple[list[str], list[list]]:
    """The person page's rows for XLSX/CSV, with the per-session marks in one column."""
    marks = person_marks(registration, user)
    headers = [
        _("Nama"),
        _("Nomor WhatsApp"),
        _("Kegiatan"),
        _("Jenis"),
        _("Mulai"),
        _("Penyelenggara"),
        _("Status"),
        _("Sumber"),
        _("KIM/instansi"),
        _("Sesi hadir"),
        _("Jumlah sesi"),
        _("Per sesi"),
    ]
    rows = [
        [
            r.name,
            display_phone(registration.phone),
            r.title,
            str(r.kind.label),
            r.starts_on.date() if r.starts_on else None,
            r.owner,
            str(r.status.label),
            str(r.source.label),
            r.kim_name or r.institution,
            r.attended,
            r.sessions,
            "; ".join(
                f"{m.starts_at:%d/%m/%Y %H.%M}: {mark_label(m.status)}" for m in marks.get(r.id, [])
            ),
        ]
        for r in person_rows(registration, user)
    ]
    return headers, rows


# --- answering files ------------------------------------------------------------------------------


def _download(name: str, sheet: str, fmt: str, headers: list[str], rows: list) -> Response:
    """Send rows as a dated attachment (XLSX, or CSV with a BOM), never cached."""
    return tables.table_download(name, sheet, fmt, headers, rows)


# --- views ------------------------------------------------------------------------------------------


@bp.get("/kim/<int:kim_id>/riwayat")
@login_required
def kim_history(kim_id: int):
    """The KIM's participation history, newest first, 20 per page; whoever may see the KIM's
    page may see it. An htmx request (the KIM page loading it) gets the fragment."""
    kim = get_kim_or_404(kim_id, current_user)
    page, totals = kim_history_page(kim.id, queryargs.page())
    return render(
        "reports/kim_history.html",
        "reports/_kim_history.html",
        kim=kim,
        page=page,
        totals=totals,
        span=span,
    )


@bp.get("/kim/<int:kim_id>/riwayat.<any(xlsx, csv):fmt>")
@login_required
def kim_history_export(kim_id: int, fmt: str):
    """The whole history as XLSX or CSV (the same rows as the page); audited."""
    kim = get_kim_or_404(kim_id, current_user)
    headers, rows = kim_history_table(kim.id)
    response = _download(f"riwayat-kim-{kim.id}", _("Riwayat"), fmt, headers, rows)
    # audited once the file is made: SQLite's write lock is then held for one insert only
    audit.record(
        "kim.history_export",
        "kim",
        kim.id,
        region_code=kim.village_code,
        changes={"format": fmt, "rows": len(rows)},
    )
    return response


@bp.get("/laporan/orang")
@roles_required(*OPERATOR_ROLES)
def people():
    """Find a person among the registrations of the operator's events, by name or phone."""
    query = clean_query(queryargs.text("q", QUERY_MAX))
    page = people_page(query, current_user, queryargs.page()) if query else None
    return render(
        "reports/person_search.html",
        "reports/_person_results.html",
        q=query,
        page=page,
        phone=display_phone,
        span=span,
    )


@bp.get("/laporan/orang/<int:registration_id>")
@roles_required(*OPERATOR_ROLES)
def person(registration_id: int):
    """One person's registrations across the operator's events and, read-only, the area's
    people at other events (matched by phone), with the mark of every session."""
    registration = registration_visible_or_404(registration_id, current_user)
    return render(
        "reports/person.html",
        person=registration,
        # the organiser's operators may export or erase the data; the origin's only read it
        manages=user_may_reach(current_user, registration.event.region_code),
        reach=lambda code: user_may_reach(current_user, code),
        phone=display_phone(registration.phone),
        rows=person_rows(registration, current_user),
        marks=person_marks(registration, current_user),
        span=span,
        moment=moment,
        mark=mark_label,
    )


@bp.get("/laporan/orang/<int:registration_id>.<any(xlsx, csv):fmt>")
@roles_required(*OPERATOR_ROLES)
def person_export(registration_id: int, fmt: str):
    """The person page as XLSX or CSV, with full phone numbers: audited, never cached."""
    registration = registration_visible_or_404(registration_id, current_user)
    headers, rows = person_table(registration, current_user)
    response = _download(f"riwayat-orang-{registration.id}", _("Riwayat"), fmt, headers, rows)
    # audited once the file is made: SQLite's write lock is then held for one insert only
    audit.record(
        "person.export",
        "registration",
        registration.id,
        region_code=scope_of(current_user) or None,
        changes={"format": fmt, "rows": len(rows)},
    )
    return response
