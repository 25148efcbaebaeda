"""Ticket scanning for operators and the petugas absensi of one event, and assigning petugas to an event.

A petugas absensi can do nothing else: ``_petugas_only`` turns every other page away with 403
before its view runs, so that no view elsewhere has to remember the role.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from kim_app import audit
from kim_app.attendance import bp
from kim_app.attendance.forms import AssignForm, NewOfficerForm, ScanForm
from kim_app.attendance.models import Method, Presence
from kim_app.attendance.operations import (
    OPEN_FOR_ATTENDANCE,
    AttendanceError,
    CheckIn,
    Verdict,
    attendance_open,
    check_in,
    current_session,
    device_time,
    find_ticket,
    may_take_attendance,
    session_counts,
    ticket_elsewhere,
    verdict_text,
)
from kim_app.auth.models import OPERATOR_ROLES, LinkPurpose, Role, User
from kim_app.auth.operations import (
    AccountError,
    create_user,
    issue_link,
    link_handoff,
    link_url,
    pending_links,
)
from kim_app.events.documents import event_days
from kim_app.events.models import Event, EventSession
from kim_app.events.operations import get_event_or_404, local_now
from kim_app.extensions import db
from kim_app.htmx import is_partial, redirect_after_post, render
from kim_app.security import MAX_RECORD_ID, roles_required, scope_filter

SCANNERS = (*OPERATOR_ROLES, Role.PETUGAS_ABSENSI)
# what a petugas absensi may open: the scan pages and the projector screen (each view checks
# the event), the offline worker of the attendance pages, their own account (sign out,
# password, language) and the privacy notice every page's foot links to
PETUGAS_ENDPOINTS = frozenset(
    {
        "attendance.scan_event",
        "attendance.scan",
        "attendance.projector",
        "attendance.service_worker",
        "main.home",
        "main.language",
        "main.healthz",
        "main.privacy",
        "auth.login",
        "auth.logout",
        "auth.password",
        "static",
    }
)
# the result of a plain (no-JS) scan, kept for the page the browser is redirected to
LAST_SCAN = "scan_hasil"


@bp.before_app_request
def _petugas_only():
    """A petugas absensi checks people in at one event and does nothing else (403)."""
    if (
        current_user.is_authenticated
        and current_user.role is Role.PETUGAS_ABSENSI
        and request.endpoint not in PETUGAS_ENDPOINTS
        and request.endpoint is not None  # unknown URLs stay 404
    ):
        abort(403)


# --- scanning ------------------------------------------------------------------------------------


def _scannable_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id) if event_id <= MAX_RECORD_ID else None
    if event is None or not may_take_attendance(current_user, event):
        abort(404)
    return event


def _scannable_session(session_id: int) -> EventSession:
    found = db.session.get(EventSession, session_id) if session_id <= MAX_RECORD_ID else None
    if found is None or not may_take_attendance(current_user, found.event):
        abort(404)
    return found


@bp.get("/absensi/kegiatan/<int:event_id>/pindai")
@roles_required(*SCANNERS)
def scan_event(event_id: int):
    """The scan page of the session running now (or the next one, or the last one)."""
    event = _scannable_event(event_id)
    found = current_session(event, local_now(event))
    if found is None:
        return render("attendance/scan_idle.html", event=event)
    return redirect(url_for("attendance.scan", session_id=found.id), 303)


def _result(scanning: EventSession, outcome: CheckIn, elsewhere: Event | None = None) -> dict:
    """What the verdict box shows: the verdict with its real reason (the earlier time, when the
    session opens), the person's name, or the event a ticket of another event is for."""
    registration = outcome.registration
    detail = registration.institution if registration else ""
    if elsewhere is not None and elsewhere.status in OPEN_FOR_ATTENDANCE:  # a published title
        detail = f"{elsewhere.title} · {event_days(elsewhere)}"
    return {
        "verdict": outcome.verdict.value,
        "text": verdict_text(outcome, scanning.event, scanning),
        "name": registration.name if registration else "",
        "detail": detail,
    }


def _scan_page(scanning: EventSession, form: ScanForm, result: dict | None, status: int = 200):
    event = scanning.event
    return render(
        "attendance/scan.html",
        "attendance/_scan_answer.html",
        status=status,
        event=event,
        scanning=scanning,
        form=form,
        result=result,
        hadir=session_counts(scanning)[Presence.HADIR],
    )


def _refused(scanning: EventSession, form: ScanForm, message: str):
    """422: the message under the field on the page, or in the verdict box for the queue."""
    if is_partial():
        return _scan_page(scanning, form, {"verdict": "error", "text": message}, 422)
    if message not in form.kode.errors:
        form.kode.errors.append(message)
    return _scan_page(scanning, form, None, 422)


@bp.route("/absensi/sesi/<int:session_id>/pindai", methods=["GET", "POST"])
@roles_required(*SCANNERS)
def scan(session_id: int):
    """Scan or type a ticket code: the person's name and a verdict, and the hadir count."""
    scanning = _scannable_session(session_id)
    event = scanning.event
    if request.method == "GET":
        result = session.pop(LAST_SCAN, None)
        if not result or result.pop("session", None) != scanning.id:
            result = None
        return _scan_page(scanning, ScanForm(formdata=None), result)
    form = ScanForm()
    if not form.validate_on_submit():
        return _refused(scanning, form, form.kode.errors[0] if form.kode.errors else "")
    if not attendance_open(event):
        return _refused(scanning, form, _("Kegiatan ini tidak sedang menerima absensi."))
    # control characters (a NUL byte breaks a PostgreSQL query) cannot be part of any code
    code = "".join(c for c in form.kode.data if c.isprintable())
    registration = find_ticket(event, code)
    elsewhere = ticket_elsewhere(event, code) if registration is None else None
    if elsewhere is not None:
        return _answer(scanning, _result(scanning, CheckIn(Verdict.OTHER_EVENT), elsewhere))
    try:
        outcome = check_in(
            registration,
            scanning,
            current_user,
            method=Method.QR,
            client_id=form.client_id.data,
            marked_at=device_time(form.marked_at.data),
        )
    except AttendanceError as error:
        return _refused(scanning, form, str(error))
    return _answer(scanning, _result(scanning, outcome))


def _answer(scanning: EventSession, result: dict):
    """The verdict: in the fragment for the queue, or kept for the page a plain post is sent
    back to."""
    if is_partial():
        return _scan_page(scanning, ScanForm(formdata=None), result)
    session[LAST_SCAN] = {**result, "session": scanning.id}
    return redirect(url_for("attendance.scan", session_id=scanning.id), 303)


# --- petugas absensi of an event ----------------------------------------------------------------


def _assigned(event: Event) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role == Role.PETUGAS_ABSENSI, User.event_id == event.id)
            .order_by(User.name, User.id)
        )
    )


def _candidates(event: Event) -> list[User]:
    """Active petugas accounts inside the operator's scope, not already at this event."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.role == Role.PETUGAS_ABSENSI,
                User.active.is_(True),
                scope_filter(User.scope_code, current_user),
                sa.or_(User.event_id.is_(None), User.event_id != event.id),
            )
            .order_by(User.name, User.id)
            .limit(500)
        )
    )


def _offer_candidates(event: Event, assign: AssignForm) -> None:
    assign.petugas.choices = [SelectChoice("", _("— pilih petugas —"))] + [
        SelectChoice(str(user.id), f"{user.name} · {user.sign_in_name}")
        for user in _candidates(event)
    ]


def _officers_page(event: Event, assign: AssignForm, new: NewOfficerForm, status: int = 200):
    if assign.petugas.choices is None:
        _offer_candidates(event, assign)
    officers = _assigned(event)
    # each officer's invitation not yet opened, ready to send by WhatsApp or to copy
    links = {
        user_id: (link, link_handoff(link), link_url(link))
        for user_id, link in pending_links(officers).items()
    }
    return render(
        "attendance/officers.html",
        status=status,
        event=event,
        officers=officers,
        links=links,
        assign=assign,
        new=new,
    )


def assign_officer(user: User, event: Event, by: User) -> None:
    """Put a petugas absensi at ``event`` (moving them from any other event), audited."""
    previous = user.event_id
    user.event_id = event.id
    audit.record(
        "attendance.officer_assign",
        "user",
        user.id,
        region_code=event.region_code,
        changes={"event": event.id, "from_event": previous},
        actor=by,
    )


@bp.route("/absensi/kegiatan/<int:event_id>/petugas", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def officers(event_id: int):
    """The petugas absensi of an event: assign an existing account, create one, or release one."""
    event = get_event_or_404(event_id, current_user, manage=True)
    back = url_for("attendance.officers", event_id=event.id)
    if request.method == "GET":
        return _officers_page(event, AssignForm(formdata=None), NewOfficerForm(formdata=None))
    action = request.form.get("aksi", "")
    if action == "lepas":
        return _release(event, back)
    assign, new = AssignForm(formdata=None), NewOfficerForm(formdata=None)
    if action == "tugaskan":
        assign = AssignForm()
        _offer_candidates(event, assign)
        if assign.validate_on_submit() and assign.petugas.data:
            user = db.session.get(User, int(assign.petugas.data))
            assign_officer(user, event, current_user)
            flash(_("%(name)s ditugaskan di kegiatan ini.", name=user.name), "success")
            return redirect_after_post(back)
        assign.petugas.errors = [_("Pilih petugas dari daftar.")]
    elif action == "buat":
        new = NewOfficerForm()
        if new.validate_on_submit():
            try:
                with db.session.begin_nested():
                    user = create_user(
                        name=new.name.data,
                        phone=new.phone.data,
                        email=new.email.data or None,
                        role=Role.PETUGAS_ABSENSI,
                        scope_code=event.region_code,
                        by=current_user,
                    )
                    issue_link(user, LinkPurpose.INVITE, current_user)
            except AccountError as error:
                getattr(new, error.field if error.field in new else "phone").errors.append(
                    str(error)
                )
            else:
                assign_officer(user, event, current_user)
                flash(
                    _(
                        "Akun petugas %(name)s dibuat dan ditugaskan. Kirim tautan undangannya.",
                        name=user.name,
                    ),
                    "success",
                )
                return redirect_after_post(f"{back}#petugas-{user.id}")
    else:
        abort(400)
    return _officers_page(event, assign, new, 422)


def _release(event: Event, back: str):
    user_id = request.form.get("petugas", "")
    is_id = user_id.isascii() and user_id.isdigit() and len(user_id) <= 10  # "²" is a digit too
    user = db.session.get(User, int(user_id)) if is_id and int(user_id) <= MAX_RECORD_ID else None
    if user is None or user.role is not Role.PETUGAS_ABSENSI or user.event_id != event.id:
        abort(404)
    user.event_id = None
    audit.record(
        "attendance.officer_unassign",
        "user",
        user.id,
        region_code=event.region_code,
        changes={"event": event.id},
        actor=current_user,
    )
    flash(_("%(name)s tidak lagi bertugas di kegiatan ini.", name=user.name), "success")
    return redirect_after_post(back)
