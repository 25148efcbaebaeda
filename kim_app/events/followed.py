"""Read-only: an area's people at events organised elsewhere (the province's, the nation's, or
another regency's). Their operator sees who came, from which KIM and region, their attendance and
certificates; everything that changes a registration stays with the organiser's pages.

Who sees which registration is ``kim_app.security.registration_filter``: here its read-only part,
``origin_filter`` (the person's "asal daerah" lies in the viewer's scope).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from kim_app import queryargs
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.events import bp
from kim_app.events.models import Event, EventSession, EventStatus, Registration, RegistrationStatus
from kim_app.events.operations import may_manage_event, may_see_event
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.htmx import render
from kim_app.pagination import Page, clamped
from kim_app.regions.models import Region
from kim_app.security import origin_filter, roles_required, scope_filter

PER_PAGE = 50
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


def _people_of_area(event: Event, user) -> list[sa.ColumnElement[bool]]:
    return [Registration.event_id == event.id, origin_filter(Registration.origin_code, user)]


def area_people_page(event: Event, user, page: int) -> Page:
    """The event's registrations whose person comes from ``user``'s area, 50 a page by name,
    each with KIM, origin, sessions attended (hadir) and a valid certificate: two queries."""
    # attendance's models import the events package, whose modules import this one: here they
    # are needed only once a page is asked for
    from kim_app.attendance.models import Attendance, Certificate, Presence

    conditions = _people_of_area(event, user)
    total = db.session.scalar(sa.select(sa.func.count()).where(*conditions)) or 0
    page = clamped(page, total, PER_PAGE)
    hadir = (
        sa.select(Attendance.registration_id, sa.func.count().label("n"))
        .join(Registration, Registration.id == Attendance.registration_id)
        .where(*conditions, Attendance.status == Presence.HADIR)
        .group_by(Attendance.registration_id)
        .subquery("hadir")
    )
    rows = db.session.execute(
        sa.select(
            Registration.id,
            Registration.name,
            Registration.institution,
            Registration.position,
            Registration.status,
            Registration.source,
            Kim.name.label("kim_name"),
            Region.name.label("origin_name"),
            sa.func.coalesce(hadir.c.n, 0).label("attended"),
            Certificate.number.label("certificate"),
        )
        .outerjoin(Kim, Kim.id == Registration.kim_id)
        .outerjoin(Region, Region.code == Registration.origin_code)
        .outerjoin(hadir, hadir.c.registration_id == Registration.id)
        .outerjoin(
            Certificate,
            sa.and_(
                Certificate.registration_id == Registration.id, Certificate.revoked_at.is_(None)
            ),
        )
        .where(*conditions)
        .order_by(sa.func.lower(Registration.name), Registration.id)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return Page(items=rows, total=total, page=page, per_page=PER_PAGE)


def session_count(event: Event) -> int:
    return (
        db.session.scalar(sa.select(sa.func.count()).where(EventSession.event_id == event.id)) or 0
    )


@bp.get("/kegiatan/<int:event_id>/warga")
@roles_required(*OPERATOR_ROLES)
def area_people(event_id: int):
    """The people of the operator's area at this event, read-only. 404 when the event is a
    draft of someone else, or neither visible to the operator nor attended by its people."""
    event = db.session.get(Event, event_id)
    if event is None or (
        event.status is EventStatus.DRAFT and not may_manage_event(current_user, event)
    ):
        abort(404)
    page = area_people_page(event, current_user, queryargs.page())
    if page.total == 0 and not may_see_event(current_user, event):
        abort(404)
    return render(
        "events/area_people.html",
        "events/_area_people.html",
        event=event,
        page=page,
        sessions=session_count(event),
        manage=may_manage_event(current_user, event),
    )
