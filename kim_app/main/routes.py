"""Home page, language switch, health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from kim_app import queryargs
from kim_app.auth.models import Role
from kim_app.competitions.queries import open_for
from kim_app.events.models import PRIVACY_NOTICE_VERSION, Event, EventStatus
from kim_app.extensions import csrf, db, limiter
from kim_app.groups.models import Kim
from kim_app.groups.operations import kim_filter
from kim_app.htmx import render
from kim_app.main import bp
from kim_app.main.queries import actions_for
from kim_app.regions.picker import RegionPicker
from kim_app.security import is_safe_next


@bp.get("/")
def home():
    """Signed in: what waits for the person ("Perlu tindakan Anda"), one's role, scope and the
    region picker (a petugas absensi goes straight to the
    scan page of their event). Otherwise: what KIM is, and sign-in."""
    picker, my_kims, actions, competitions = None, [], None, []
    if current_user.is_authenticated and current_user.role is Role.PETUGAS_ABSENSI:
        if current_user.event_id is None:
            return render("attendance/scan_idle.html", event=None)
        return redirect(url_for("attendance.scan_event", event_id=current_user.event_id), 303)
    if current_user.is_authenticated:
        actions = actions_for(current_user)
        picker = RegionPicker.from_values(queryargs.values(), current_user)
        if current_user.role in (Role.KEPALA_DESA, Role.PENGURUS_KIM):
            my_kims = db.session.scalars(
                sa.select(Kim).where(kim_filter(current_user)).order_by(Kim.created_at)
            ).all()
            competitions = open_for(my_kims)
    return render(
        "main/home.html",
        picker=picker,
        my_kims=my_kims,
        actions=actions,
        open_competitions=competitions,
    )


@bp.get("/privasi")
def privacy():
    """The privacy notice (UU 27/2022) of event registration and check-in, public. With
    ``?kegiatan=<code>`` of a published event it names that event's organiser and contact."""
    event, code = None, queryargs.code("kegiatan", 16)
    if code:
        event = db.session.scalar(
            sa.select(Event).where(Event.code == code, Event.status != EventStatus.DRAFT)
        )
    return render("main/privacy.html", event=event, version=PRIVACY_NOTICE_VERSION)


@bp.post("/bahasa")
def language():
    """Switch between Bahasa Indonesia and English, then go back where the person was."""
    lang = request.form.get("lang", "")
    if lang in current_app.config["KIM_LANGUAGES"]:
        session["lang"] = lang
    target = request.form.get("next", "")
    return redirect(target if is_safe_next(target) else url_for("main.home"), 303)


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers and monitors)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200
