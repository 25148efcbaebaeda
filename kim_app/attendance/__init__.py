"""Attendance: marks per registration and session (roll call, QR scan, self check-in), applied
once per client-generated id so that offline queues and replays never double-count; the daftar
hadir and certificates that come out of them."""

from flask import Blueprint

bp = Blueprint("attendance", __name__)

# each module attaches its views to bp
from kim_app.attendance import (  # noqa: E402,F401
    area_people,
    certificates,
    checkin,
    documents,
    projector,
    routes,
    scan,
)

# What an events page shows of attendance. Attendance builds on events, so events never imports
# it; instead attendance lends the events templates these two facts as globals.
from kim_app.attendance.certificates.queries import valid_certificate  # noqa: E402


@bp.app_template_global()
def checkin_open(event) -> bool:
    """Whether the event takes self check-ins now (the public page and the ticket link to it)."""
    return checkin.open_session(event) is not None


bp.add_app_template_global(valid_certificate)
