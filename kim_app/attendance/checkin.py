"""Self check-in by participants on the public event page, in a session's check-in window, with
the venue PIN and an optional signature.

Anyone may open ``/e/<code>/hadir``; what they type (a WhatsApp number, the 8-character check-in
code or the ticket link) names one registration, and the only thing the answer tells about it is
the person's own name, as the confirmation. A device in the hall is not trusted for the time: the
mark takes the server's clock. Posts are rate-limited per address, so numbers cannot be tried in
bulk; wrong venue PINs are limited per event as well, from whatever addresses they come, so the
PIN cannot be guessed while the event lasts.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from kim_app import queryargs
from kim_app.attendance import bp
from kim_app.attendance.forms import SelfCheckInForm
from kim_app.attendance.models import Method
from kim_app.attendance.operations import (
    AttendanceError,
    CheckIn,
    Verdict,
    attendance_open,
    check_in,
    clean_signature,
    find_ticket,
    session_for_checkin,
    ticket_elsewhere,
    to_local,
    verdict_text,
)
from kim_app.documents import PRIVATE
from kim_app.errors import error_response
from kim_app.events.models import Event, EventSession, EventStatus, Registration
from kim_app.events.names import name_words
from kim_app.events.operations import find_registration, get_public_event_or_404, local_now
from kim_app.extensions import db, limiter
from kim_app.formatting import clock, when
from kim_app.htmx import is_partial, redirect_after_post, render
from kim_app.phones import PhoneError, normalise_phone
from kim_app.ratelimits import give_back, left, seconds_left, secret_tag, take

CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,24}")
RESULT_KEY = "presensi"  # the verdict of a plain (non-htmx) post, shown once after the redirect


def _ticket_registration(event: Event, token: str | None) -> Registration | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(
        sa.select(Registration).where(
            Registration.event_id == event.id, Registration.ticket == token
        )
    )


def find_person(event: Event, text: str) -> tuple[Registration | None, bool]:
    """A ticket link, ticket token or check-in code first; then a phone number in any spelling.
    The flag says the person was found by number alone, which is no secret."""
    registration = find_ticket(event, text)
    if registration is not None:
        return registration, False
    try:
        phone = normalise_phone(text)
    except PhoneError:
        return None, False
    return find_registration(event, phone), True


def not_found(event: Event, text: str) -> str:
    """Why nobody was found: nothing typed, a ticket of another event, or an unknown code."""
    if not text.strip():
        return _("Wajib diisi.")
    if ticket_elsewhere(event, text) is not None:
        return _("Tiket untuk kegiatan lain. Tunjukkan tiket kegiatan ini, atau ketik nomor Anda.")
    return _("Nomor atau kode tidak terdaftar di kegiatan ini.")


def initials(name: str) -> str:
    """``Siti Rahmawati`` → ``S. R.``: enough for the person to recognise their own check-in,
    too little for someone else to learn who holds a number."""
    return " ".join(word[0].upper() + "." for word in name_words(name))


def _next_opening(event: Event, now: datetime) -> datetime | None:
    """When the next check-in window opens (local), or None when no session is ahead."""
    if event.checkin_opens_minutes is None:
        return None
    opens = [
        s.starts_at - timedelta(minutes=event.checkin_opens_minutes)
        for s in event.sessions
        if s.starts_at - timedelta(minutes=event.checkin_opens_minutes) > now
    ]
    return min(opens, default=None)


def _closed_reason(event: Event, now: datetime) -> str:
    """Why there is no form right now (only called when no window holds ``now``)."""
    if event.status is EventStatus.DIBATALKAN:
        return _("Kegiatan ini dibatalkan.")
    if event.checkin_opens_minutes is None:
        return _("Presensi mandiri tidak dipakai di kegiatan ini. Silakan lapor ke meja panitia.")
    if not attendance_open(event):
        return _("Presensi belum dibuka.")
    opening = _next_opening(event, now)
    if opening is None:
        return _("Semua sesi kegiatan ini sudah selesai; presensi mandiri sudah ditutup.")
    return _("Presensi mandiri dibuka lagi pada %(when)s.", when=when(opening, event))


def open_session(event: Event) -> EventSession | None:
    """The session taking self check-ins now, if any (also used by the public event page)."""
    if event.checkin_opens_minutes is None or not attendance_open(event):
        return None
    return session_for_checkin(event, local_now(event))


def _page(
    event: Event,
    form: SelfCheckInForm,
    *,
    status: int = 200,
    person: Registration | None = None,
    result: dict | None = None,
) -> Response:
    now = local_now(event)
    current = open_session(event)
    response = render(
        "attendance/self_check_in.html",
        "attendance/_self_check_in.html",
        status,
        event=event,
        form=form,
        current=current,
        closed="" if current else _closed_reason(event, now),
        person=person,
        result=result,
    )
    response.headers.update(PRIVATE)
    return response


def _result(
    event: Event, outcome: CheckIn, current: EventSession, *, by_number: bool = False
) -> dict:
    """What the verdict block shows: plain values, so it also survives a redirect in the session.
    A person found by number alone is named by initials only."""
    attendance = outcome.attendance
    moment = to_local(event, attendance.marked_at) if attendance is not None else None
    name = outcome.registration.name if outcome.registration else ""
    return {
        "event": event.id,
        "verdict": outcome.verdict.value,
        "name": initials(name) if by_number else name,
        "session": current.id,
        "time": f"{clock(moment)} {event.zone_label}" if moment else "",
        "text": verdict_text(outcome, event, current),
    }


def _shown_result(event: Event) -> dict | None:
    """The verdict a plain post left in the session, once, for this event."""
    result = session.pop(RESULT_KEY, None)
    if not isinstance(result, dict) or result.get("event") != event.id:
        return None
    result = dict(result)
    if result.get("verdict") not in {v.value for v in Verdict}:  # left by an older version
        return None
    result["verdict"] = Verdict(result["verdict"])
    result["session"] = db.session.get(EventSession, result["session"])
    return result


def _client_id(page_id: str | None, person: Registration) -> str | None:
    """The mark's id: the form's own random id joined to the person, so a form sent twice is
    applied once, while the same page sent back for someone else (a shared phone, the back
    button) is a new mark."""
    if not page_id or not CLIENT_ID.fullmatch(page_id):
        return None  # the service makes one
    return f"{page_id}-{person.id}"


def _checkin_limit() -> str:
    return current_app.config["KIM_RATELIMIT_CHECKIN"]


def _pin_count(event: Event) -> tuple[str, str, str]:
    """The limit on the event's wrong PINs and the count's name. A new PIN starts a new count
    (the guesses so far were at the old one), so an operator can end a lock-out at once."""
    return (
        current_app.config["KIM_RATELIMIT_PIN"],
        "pin",
        f"{event.id}-{secret_tag(event.venue_pin)}",
    )


def pin_right(event: Event, typed: str) -> bool | None:
    """Whether ``typed`` is the venue PIN; None when the event's wrong PINs are used up (then
    not even the right one is let through, or it would tell a guesser they found it)."""
    limit, *count = _pin_count(event)
    if not take(limit, *count):
        return None
    if hmac.compare_digest(typed.strip().encode(), event.venue_pin.encode()):
        give_back(limit, *count)  # only wrong PINs count
        return True
    return False


def pins_locked_minutes(event: Event) -> int:
    """Minutes until self check-in takes PINs again after too many wrong ones; 0 when it does."""
    if not event.venue_pin or left(*_pin_count(event)):
        return 0
    return -(-seconds_left(*_pin_count(event)) // 60)


def pins_locked(event: Event) -> Response:
    limit, *count = _pin_count(event)
    minutes = -(-seconds_left(limit, *count) // 60)
    message = _(
        "Terlalu banyak PIN salah di kegiatan ini. Coba lagi dalam %(n)d menit, "
        "atau minta panitia di meja registrasi mencatat kehadiran Anda.",
        n=minutes,
    )
    return error_response(429, None, message, headers={"Retry-After": str(minutes * 60)})


@bp.route("/e/<code>/hadir", methods=["GET", "POST"])
@limiter.limit(_checkin_limit, methods=["POST"])
def self_check_in(code: str):
    """The participant's own check-in: number or code, the venue PIN, perhaps a signature."""
    event = get_public_event_or_404(code)
    if request.method == "GET":
        result = _shown_result(event)
        form = SelfCheckInForm(formdata=None, client_id=secrets.token_urlsafe(12))
        person = _ticket_registration(event, queryargs.code("tiket", 64))
        if person is not None:
            form.tiket.data = person.ticket
        return _page(event, form, person=person, result=result)

    form = SelfCheckInForm()
    current = open_session(event)
    person = _ticket_registration(event, form.tiket.data)
    if current is None or not form.validate_on_submit():
        return _page(event, form, status=422, person=person)
    if event.venue_pin:
        right = pin_right(event, form.pin.data or "")
        if right is None:
            return pins_locked(event)
        if not right:
            form.pin.errors.append(_("PIN salah. Lihat PIN di layar ruangan."))
            return _page(event, form, status=422, person=person)
    by_number = False
    if person is None:
        person, by_number = find_person(event, form.who.data or "")
        if person is None:
            form.who.errors.append(not_found(event, form.who.data or ""))
            return _page(event, form, status=422)
    try:
        signature = clean_signature(form.tanda_tangan.data) if event.signatures else None
        outcome = check_in(
            person,
            current,
            None,
            method=Method.SELF,
            client_id=_client_id(form.client_id.data, person),
            marked_at=None,  # the server's clock: a public device's time is not trusted
            signature=signature,
        )
    except AttendanceError as error:
        form.tanda_tangan.data = ""
        form.tanda_tangan.errors.append(str(error))
        return _page(event, form, status=422, person=person)
    result = _result(event, outcome, current, by_number=by_number)
    if is_partial():
        result |= {"verdict": outcome.verdict, "session": current}
        return _page(event, form, person=person, result=result)
    session[RESULT_KEY] = result
    return redirect_after_post(url_for("attendance.self_check_in", code=event.code))
