"""Ticket scanning for operators and the petugas absensi of one event, and assigning petugas to an event."""

from kim_app.attendance import bp  # noqa: F401
