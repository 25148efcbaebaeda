"""Attendance: marks per registration and session (roll call, QR scan, self check-in), applied
once per client-generated id so that offline queues and replays never double-count; the daftar
hadir and certificates that come out of them."""

from flask import Blueprint

bp = Blueprint("attendance", __name__)

# each module attaches its views to bp
from kim_app.attendance import (  # noqa: E402,F401
    certificates,
    checkin,
    documents,
    projector,
    routes,
    scan,
)
