"""The hall's projector screen for self check-in: the event's check-in QR code and link, the venue
PIN in large type and the live count of those present in the session at hand.

For the operators of the event and its petugas absensi. The QR code is drawn once with the page;
the part that changes (session, PIN, count) is the page's fragment, which htmx asks for again
every 10 seconds; without JavaScript the whole page reloads itself (a meta refresh).
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kim_app.attendance import bp
from kim_app.attendance.models import Presence
from kim_app.attendance.operations import (
    attendance_open,
    checkin_window,
    counts_of,
    current_session,
    may_take_attendance,
    session_for_checkin,
)
from kim_app.auth.models import OPERATOR_ROLES, Role
from kim_app.documents import PRIVATE, qr_svg
from kim_app.events.models import Event, EventSession, EventStatus
from kim_app.events.operations import local_now
from kim_app.extensions import db
from kim_app.formatting import clock, session_when, when
from kim_app.htmx import is_partial, render
from kim_app.security import MAX_RECORD_ID, roles_required

POLL_SECONDS = 10
# without JavaScript the whole page (with its QR code) comes again, so a little less often
REFRESH_SECONDS = 20


def _shown_event(event_id: int) -> Event:
    """The event if the current user takes its attendance (operators in scope, its petugas)."""
    event = db.session.get(Event, event_id) if event_id <= MAX_RECORD_ID else None
    if event is None or not may_take_attendance(current_user, event):
        abort(404)
    return event


def screen_state(event: Event, now: datetime) -> dict:
    """What the screen says at ``now`` (local): the session it counts, whether self check-in
    takes marks for it, and a line on why not or when it opens."""
    if not attendance_open(event):
        closed = (
            _("Kegiatan ini dibatalkan.")
            if event.status is EventStatus.DIBATALKAN
            else _("Presensi belum dibuka.")
        )
        return {"session": None, "open": False, "note": closed}
    if event.checkin_opens_minutes is None:
        return {
            "session": current_session(event, now),
            "open": False,
            "note": _("Presensi mandiri tidak dipakai di kegiatan ini."),
        }
    taking = session_for_checkin(event, now)
    if taking is not None:
        return {"session": taking, "open": True, "note": ""}
    ahead = [s for s in event.sessions if checkin_window(event, s)[0] > now]
    if ahead:
        opens = checkin_window(event, ahead[0])[0]
        note = _(
            "Presensi mandiri dibuka pukul %(time)s %(zone)s.",
            time=clock(opens),
            zone=event.zone_label,
        )
        if opens.date() != now.date():
            note = _("Presensi mandiri dibuka lagi pada %(when)s.", when=when(opens, event))
        return {"session": ahead[0], "open": False, "note": note}
    return {
        "session": event.sessions[-1] if event.sessions else None,
        "open": False,
        "note": _("Semua sesi kegiatan ini sudah selesai; presensi mandiri sudah ditutup."),
    }


def _count(event: Event, session: EventSession | None) -> dict:
    """Present (hadir) and registered in the session, from the tallies."""
    if session is None:
        return {"present": 0, "registered": 0}
    counts = counts_of(session.id, event.id)
    return {"present": counts[Presence.HADIR], "registered": sum(counts.values())}


def _pin_groups(pin: str) -> str:
    """``482913`` → ``482 913``: easier to read from the back of a hall."""
    return " ".join(pin[i : i + 3] for i in range(0, len(pin), 3))


@bp.get("/absensi/kegiatan/<int:event_id>/layar")
@roles_required(*OPERATOR_ROLES, Role.PETUGAS_ABSENSI)
def projector(event_id: int):
    """The projector screen; an htmx partial request gets its live part only."""
    event = _shown_event(event_id)
    now = local_now(event)
    state = screen_state(event, now)
    session = state["session"]
    checkin_url = url_for("attendance.self_check_in", code=event.code, _external=True)
    # the QR code never changes: drawn for the whole page only, not for each poll
    qr = "" if is_partial() else qr_svg(checkin_url, _("Kode QR presensi mandiri"))
    response = render(
        "attendance/projector.html",
        "attendance/_projector_live.html",
        event=event,
        state=state,
        number=event.sessions.index(session) + 1 if session is not None else 0,
        session_text=session_when(session, event) if session is not None else "",
        pin=_pin_groups(event.venue_pin),
        count=_count(event, session),
        updated=f"{clock(now)} {event.zone_label}",
        here=url_for("attendance.projector", event_id=event.id),
        poll=POLL_SECONDS,
        refresh=REFRESH_SECONDS,
        checkin_url=checkin_url,
        short_url=checkin_url.split("://", 1)[-1],
        qr=qr,
    )
    response.headers.update(PRIVATE)
    return response
