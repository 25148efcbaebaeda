"""Operators' registry of KIM (search, filters, pagination) and coverage per area."""

from kim_app.groups import bp  # noqa: F401
