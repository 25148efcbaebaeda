"""Certificates: the event's attendance and certificate settings, issuing to the eligible, the PDFs, and the public verification page /v/<code>."""

from kim_app.attendance import bp  # noqa: F401
