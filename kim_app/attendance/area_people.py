"""The page of an area's people at an event organised elsewhere (the province's, the nation's, or
another regency's): who came, from which KIM and region, their attendance and certificates,
read-only. Who sees which registration is ``kim_app.security.origin_filter``: the person's "asal
daerah" lies in the viewer's scope."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from kim_app import queryargs
from kim_app.attendance import bp
from kim_app.attendance.queries import area_people_page, session_count
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.events.models import Event, EventStatus
from kim_app.events.operations import may_manage_event, may_see_event
from kim_app.extensions import db
from kim_app.htmx import render
from kim_app.security import roles_required


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
        "attendance/area_people.html",
        "attendance/_area_people.html",
        event=event,
        page=page,
        sessions=session_count(event),
        manage=may_manage_event(current_user, event),
    )
