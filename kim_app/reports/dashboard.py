"""The regional dashboard: KIM by status, coverage, events by kind per month, participants, attendance rate, gender split, most and least active KIM, for the user's scope with drill-down and a date range; every table also as XLSX and CSV."""

from kim_app.reports import bp  # noqa: F401
