"""Roll call per session: the list with search, one-tap marks, undo, walk-ins, counters, one
person's history and signature; the overview of an event's sessions; the service worker that
keeps the roll call openable offline.

Marks come from ``<form data-queue>`` forms: without JavaScript a plain POST and a 303 back; with
static/attendance.js each tap is queued in the browser (a client id and the device's time) and
sent as one partial request, answered with the row and the counters, swapped by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import groupby
from urllib.parse import urlsplit

import sqlalchemy as sa
from babel.dates import format_skeleton
from flask import abort, current_app, flash, make_response, render_template, request, url_for
from flask import session as browser_session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, noload
from werkzeug.wrappers import Response

from kim_app import queryargs
from kim_app.attendance import bp
from kim_app.attendance.forms import SignatureForm, WalkInForm
from kim_app.attendance.models import Method, Presence
from kim_app.attendance.operations import (
    CLOCK_SKEW_SECONDS,
    OPEN_FOR_ATTENDANCE,
    AttendanceError,
    Marking,
    Phase,
    Standing,
    Verdict,
    add_walk_in,
    apply_mark,
    attendance_open,
    attendance_window,
    clean_signature,
    closed_message,
    counts_from,
    current_attendance,
    device_time,
    event_counts,
    local_time,
    mark_attendance,
    mark_history,
    moved,
    not_open_message,
    phase_of,
    running,
    save_signature,
    session_counts,
    session_phase,
    standing_of,
    to_local,
    window_of,
)
from kim_app.attendance.queries import (
    PAGE_SIZE,
    next_unmarked,
    registration_in,
    roll_rows,
    tap_target,
    walk_in_of,
)
from kim_app.auth.models import OPERATOR_ROLES, User
from kim_app.errors import attach_error, error_response
from kim_app.events.models import (
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from kim_app.events.operations import (
    EventError,
    clean_person,
    find_registration,
    local_now,
    may_manage_event,
    may_manage_region,
)
from kim_app.extensions import db
from kim_app.formatting import clock, day, session_when, when
from kim_app.htmx import is_partial, redirect_after_post, render
from kim_app.security import MAX_RECORD_ID, roles_required
from kim_app.timezones import utcnow

MARKABLE = [p.value for p in Presence]
ABSENT = (Presence.IZIN, Presence.SAKIT, Presence.ALPA)


# a session with its event in one query; the speakers are not needed to take attendance
SESSION_WITH_EVENT = (joinedload(EventSession.event), noload(EventSession.speakers))


def managed_session(session_id: int) -> EventSession:
    """The session if the current user manages its event (operators in scope); 404 otherwise."""
    session = db.session.get(EventSession, session_id, options=SESSION_WITH_EVENT)
    if session is None or not may_manage_event(current_user, session.event):
        abort(404)
    return session


def managed_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or not may_manage_event(current_user, event):
        abort(404)
    return event


def _closed_message(status: EventStatus) -> str:
    return _(
        "Kehadiran tidak dapat dicatat: kegiatan ini berstatus %(status)s.",
        status=status.label.lower(),
    )


# --- the overview of an event -------------------------------------------------------------------


@bp.get("/absensi/kegiatan/<int:event_id>")
@roles_required(*OPERATOR_ROLES)
def overview(event_id: int):
    """The event's sessions by day, each with its counters and its attendance tools."""
    event = managed_event(event_id)
    days = [
        (day(first.starts_at), [first, *rest])
        for _date, (first, *rest) in groupby(event.sessions, key=lambda s: s.starts_at.date())
    ]
    return render_template(
        "attendance/overview.html",
        event=event,
        days=days,
        counts=event_counts(event.id),
        is_open=attendance_open(event),
    )


# --- the roll call ----------------------------------------------------------------------------------


# the list's one filter: everybody, or only the people not marked yet in this session
UNMARKED = "belum"


@dataclass(frozen=True)
class RollView:
    """What the list shows: the search, the page and the filter, kept across taps."""

    q: str = ""
    page: int = 1
    unmarked: bool = False

    @classmethod
    def read(cls) -> RollView:
        return cls(
            queryargs.text("q"),
            min(queryargs.page(), 10_000),
            queryargs.one_of("status", (UNMARKED,)) == UNMARKED,
        )

    @property
    def args(self) -> dict:
        """The view as query arguments (none for the defaults)."""
        return {
            "q": self.q or None,
            "halaman": self.page if self.page > 1 else None,
            "status": UNMARKED if self.unmarked else None,
        }


def _row_links(session_id: int, is_open: bool, view: RollView | None = None) -> dict:
    """What a roll-call row needs besides the person: its session, where taps go, whether
    marks are taken."""
    return {
        "session_id": session_id,
        "mark_url": url_for("attendance.mark", session_id=session_id, **(view or RollView()).args),
        "open": is_open,
        "P": Presence,
        "absent": ABSENT,
    }


def _row_context(session: EventSession, view: RollView | None = None) -> dict:
    event = session.event
    phase = session_phase(event, session)
    return {
        "session": session,
        "event": event,
        "phase": phase,
        **_row_links(session.id, attendance_open(event) and phase is not Phase.NOT_OPEN, view),
    }


def _row_of(registration, standing: Standing, kim_name: str | None) -> dict:
    """One person's row as the list shows it, from where they now stand (no query)."""
    return {
        "r": registration,
        "status": standing.status,
        "signed": standing.signed,
        "origin": registration.institution or kim_name or "",
    }


def session_tabs(event: Event, current: EventSession) -> list[dict]:
    """The session tabs: day and start time (``Sen, 7 Des 09.00``; the time alone when all are
    on one day), which one is open, which one is under way now."""
    now, locale = local_now(event), str(get_locale() or "id")
    one_day = len({s.starts_at.date() for s in event.sessions}) == 1
    return [
        {
            "session": s,
            "label": clock(s.starts_at)
            if one_day
            else f"{format_skeleton('MMMEd', s.starts_at, locale=locale)} {clock(s.starts_at)}",
            "current": s.id == current.id,
            "running": running(s, now),
        }
        for s in event.sessions
    ]


# what a plain (no-JS) tap saved, shown once in the roll call's sticky board after the redirect
LAST_MARK = "absensi_tanda"


def _saved_notice(session: EventSession) -> str | None:
    notice = browser_session.pop(LAST_MARK, None)
    if not isinstance(notice, dict) or notice.get("session") != session.id:
        return None
    return notice.get("text")


def _roll_page(session: EventSession, walk_in: WalkInForm | None = None, status: int = 200):
    view = RollView.read()
    rows, total = roll_rows(session, view.q, view.unmarked, view.page)
    context = _row_context(session, view)
    event = session.event
    opens, closes = attendance_window(event, session)
    return render(
        "attendance/roll_call.html",
        "attendance/_roll_list.html",
        status,
        rows=rows,
        total=total,
        view=view,
        q=view.q,
        page=view.page,
        pages=max(1, -(-total // PAGE_SIZE)),
        counts=None if is_partial() else session_counts(session),
        walk_in=walk_in or WalkInForm(formdata=None),
        tabs=session_tabs(event, session),
        not_open=not_open_message(opens, event.timezone, local_now(event)),
        closed=closed_message(closes, event.timezone),
        saved=None if is_partial() else _saved_notice(session),
        **context,
    )


@bp.get("/absensi/sesi/<int:session_id>")
@roles_required(*OPERATOR_ROLES)
def roll_call(session_id: int):
    """The session's registered people by name, with search and a "not marked yet" filter (htmx
    swaps the list) and a tap per person; counters on top; a walk-in form; the sessions as tabs
    with their day and time."""
    return _roll_page(managed_session(session_id))


@dataclass(frozen=True)
class MarkRequest:
    """A tap's four fields, read without a form class (the hot path; CSRFProtect has checked
    the token before the view ran). ``registration`` is 0 when missing or not a record id."""

    registration: int
    status: Presence | None
    client_id: str | None
    marked_at: str | None

    @classmethod
    def read(cls) -> MarkRequest:
        form = request.form
        number = form.get("registration", "").strip()
        registration = (
            int(number) if number.isascii() and number.isdigit() and len(number) <= 10 else 0
        )
        status = form.get("status", "")
        return cls(
            registration if 0 < registration <= MAX_RECORD_ID else 0,
            Presence(status) if status in MARKABLE else None,
            form.get("client_id"),
            form.get("marked_at"),
        )

    @property
    def complete(self) -> bool:
        return bool(self.registration) and self.status is not None


def _back_to_row(session_id: int, view: RollView, anchor: int | None) -> str:
    """The list as it was (search, page, filter), scrolled to the row of ``anchor``."""
    url = url_for("attendance.roll_call", session_id=session_id, **view.args)
    return f"{url}#baris-{anchor}" if anchor else url


def _mark_notice(name: str, asked: Presence, standing: Standing, method: Method) -> str:
    """Whose mark was saved, and what it came to, for the page a plain post returns to."""
    if standing.status is not asked:
        return _(
            "%(name)s tetap %(status)s: tanda lain yang lebih akhir sudah tercatat.",
            name=name,
            status=standing.status.label,
        )
    if asked is Presence.BELUM:
        text = _("Tanda %(name)s dibatalkan.", name=name)
    else:
        text = _("%(name)s: %(status)s tersimpan.", name=name, status=asked.label)
    if method is Method.KOREKSI:
        text = " ".join((text, _("Dicatat sebagai koreksi (sesi sudah ditutup).")))
    return text


def _refused(message: str) -> Response:
    return error_response(422, _("Tanda tidak dicatat"), message)


@bp.post("/absensi/sesi/<int:session_id>/tandai")
@roles_required(*OPERATOR_ROLES)
def mark(session_id: int):
    """One tap: hadir, izin, sakit, alpa or belum (undo) for one person. A replayed client id
    changes nothing and answers with the row as it stands. The hot path of the hall: one read
    (the counters with it), the mark's writes, nothing loaded as objects."""
    tap = MarkRequest.read()
    target = tap_target(session_id, tap.registration)
    if target is None or not may_manage_region(current_user, target.region_code):
        abort(404)
    if not tap.complete:
        return _refused(_("Tanda ini tidak lengkap. Muat ulang halaman lalu coba lagi."))
    if target.id is None:
        return _refused(_("Peserta ini tidak terdaftar di kegiatan ini."))
    if target.status is RegistrationStatus.DAFTAR_TUNGGU:
        return _refused(str(Verdict.WAITING.label))
    if target.event_status not in OPEN_FOR_ATTENDANCE:
        return _refused(_closed_message(target.event_status))
    marked_at = device_time(tap.marked_at)
    window = window_of(target.starts_at, target.ends_at, target.checkin_opens_minutes)
    now = utcnow()
    moment = min(marked_at or now, now + timedelta(seconds=CLOCK_SKEW_SECONDS))
    now_local = local_time(target.timezone, now)
    phase = phase_of(window, now_local, local_time(target.timezone, moment))
    if phase is Phase.NOT_OPEN:
        return _refused(not_open_message(window[0], target.timezone, now_local))
    # after the window an operator's mark is a correction, and says so
    method = _method_in(phase)
    try:
        standing = apply_mark(
            Marking(target.id, target.status, session_id, target.region_code),
            tap.status,
            current_user,
            method=method,
            client_id=tap.client_id,
            marked_at=marked_at,
        )
    except AttendanceError as error:
        return _refused(str(error))
    view = RollView.read()
    if not is_partial():
        anchor = target.id
        if view.unmarked and standing.status is not Presence.BELUM:
            anchor = next_unmarked(session_id, target.event_id, view.q, target.name, target.id)
        browser_session[LAST_MARK] = {
            "session": session_id,
            "text": _mark_notice(target.name, tap.status, standing, method),
        }
        return redirect_after_post(_back_to_row(session_id, view, anchor))
    counts = moved(counts_from(target), target.standing or Presence.BELUM, standing.status)
    return render(
        "attendance/_mark.html",
        row=_row_of(target, standing, target.kim_name),
        counts=counts,
        **_row_links(session_id, True, view),
    )


@bp.post("/absensi/sesi/<int:session_id>/datang-langsung")
@roles_required(*OPERATOR_ROLES)
def walk_in(session_id: int):
    """Add someone who came without registering and mark them hadir; a double tap (the same
    client id) answers with the person added the first time."""
    session = managed_session(session_id)
    event = session.event
    form = WalkInForm()
    phase = session_phase(event, session, device_time(form.marked_at.data))
    if not attendance_open(event):
        form.form_errors.append(_closed_message(event.status))
    elif phase is Phase.NOT_OPEN:
        opens, _closes = attendance_window(event, session)
        form.form_errors.append(not_open_message(opens, event.timezone, local_now(event)))
    elif form.validate():
        try:
            with db.session.begin_nested():
                registration, added = _add_walk_in(session, form, _method_in(phase))
        except (EventError, AttendanceError) as error:
            attach_error(form, error)
        else:
            return _walk_in_done(session, registration, added)
    if is_partial():
        return render("attendance/_walk_in.html", status=422, walk_in=form, session=session)
    return _roll_page(session, walk_in=form, status=422)


def _method_in(phase: Phase) -> Method:
    """How an operator's mark is recorded: by roll call in the window, as a correction after."""
    return Method.KOREKSI if phase is Phase.CLOSED else Method.ROLL_CALL


def _add_walk_in(
    session: EventSession, form: WalkInForm, method: Method
) -> tuple[Registration, bool]:
    """``(the registration, whether it is a new person)``. The form's client id names the tap:
    sent again (the offline queue, a double tap, two at once) it finds the person it added."""
    client_id = (form.client_id.data or "").strip()
    earlier = walk_in_of(session, client_id)
    if earlier is not None:
        return earlier, False
    person = form.to_person()
    _name, phone = clean_person(person)
    known = find_registration(session.event, phone)
    added = known is None or known.status is not RegistrationStatus.TERDAFTAR
    try:
        with db.session.begin_nested():
            registration = add_walk_in(
                session.event,
                session,
                person,
                current_user,
                client_id=client_id,
                marked_at=device_time(form.marked_at.data),
                method=method,
            )
    except AttendanceError:
        # the same tap arrived twice at once and the other request won: keep its person only
        first = walk_in_of(session, client_id)
        if first is None:
            raise
        return first, False
    return registration, added


def _walk_in_done(session: EventSession, registration: Registration, added: bool) -> Response:
    notice = _("%(name)s tercatat hadir.", name=registration.name)
    if not is_partial():
        flash(notice, "success")
        return redirect_after_post(url_for("attendance.roll_call", session_id=session.id))
    return render(
        "attendance/_walk_in_done.html",
        walk_in=WalkInForm(formdata=None),
        row=_row_of(
            registration,
            standing_of(registration.id, session.id),
            registration.kim.name if registration.kim else None,
        ),
        added=added,
        counts=session_counts(session),
        notice=notice,
        **_row_context(session),
    )


# --- one person in one session ---------------------------------------------------------------------


@bp.route("/absensi/sesi/<int:session_id>/peserta/<int:registration_id>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def person(session_id: int, registration_id: int):
    """One person in one session: status, the history of marks (who, when, how, and whether a
    later mark from another device overrode it), and the signature pad when the event asks."""
    session = managed_session(session_id)
    event = session.event
    registration = registration_in(session, registration_id) or abort(404)
    form = SignatureForm()
    error = None
    if request.method == "POST" and event.signatures and form.validate():
        error = _sign(session, registration, form.tanda_tangan.data)
        if error is None:
            flash(_("Tanda tangan %(name)s disimpan.", name=registration.name), "success")
            return redirect_after_post(request.path)
    elif request.method == "POST":
        error = _("Tanda tangan tidak dapat disimpan.")
    history = mark_history(registration.id, session.id)
    recorder_ids = {m.recorded_by_id for m in history if m.recorded_by_id}
    recorders = (
        dict(
            db.session.execute(sa.select(User.id, User.name).where(User.id.in_(recorder_ids))).all()
        )
        if recorder_ids
        else {}
    )
    attendance = current_attendance(registration.id, session.id)
    standing = [m.id for m in history if m.applied]
    return render(
        "attendance/person.html",
        status=422 if error else 200,
        event=event,
        session=session,
        r=registration,
        attendance=attendance,
        status_now=attendance.status if attendance else Presence.BELUM,
        history=history,
        current_id=standing[-1] if standing and attendance else None,
        recorders=recorders,
        local_when=lambda moment: when(to_local(event, moment), event),
        session_when=session_when(session, event),
        form=form,
        error=error,
        open=attendance_open(event),
    )


def _sign(session: EventSession, registration: Registration, text: str | None) -> str | None:
    """Save a signature (marking the person hadir first if needed); the error message, if any."""
    event = session.event
    if not attendance_open(event):
        return _closed_message(event.status)
    phase = session_phase(event, session)
    if phase is Phase.NOT_OPEN:
        opens, _closes = attendance_window(event, session)
        return not_open_message(opens, event.timezone, local_now(event))
    try:
        path = clean_signature(text)
        if path is None:
            return _("Tanda tangan masih kosong. Minta peserta menandatangani di kotak.")
        with db.session.begin_nested():  # a refused signature leaves no mark behind either
            attendance = current_attendance(registration.id, session.id)
            if attendance is None or attendance.status is not Presence.HADIR:
                attendance, _new = mark_attendance(
                    registration, session, Presence.HADIR, current_user, method=_method_in(phase)
                )
            save_signature(event, attendance, path, current_user)
    except AttendanceError as error:
        return str(error)
    return None


# --- the service worker ----------------------------------------------------------------------------


# bump when the worker's caching changes, so phones drop copies made by the old one
SW_CACHE_VERSION = "2"


@bp.get("/absensi/sw.js")
def service_worker():
    """Keeps the roll call openable after a reload without signal: pages under /absensi/ network
    first with a cached copy as fallback, their static files cache first. Never caches a POST."""
    htmx = urlsplit(current_app.config["KIM_HTMX_URL"])
    htmx_origin = f"{htmx.scheme}://{htmx.netloc}" if htmx.netloc else ""
    body = render_template(
        "attendance/sw.js",
        htmx_origin=htmx_origin,
        version=SW_CACHE_VERSION,
    )
    response = make_response(body)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    # the worker's own policy: it fetches this site and the htmx origin, nothing else
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; connect-src 'self' {htmx_origin}".strip()
    )
    return response
