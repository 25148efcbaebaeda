"""Participation history: of a KIM (events invited to, delegates sent, attendance rate) on its page and for its pengurus, and of one person across events for operators."""

from kim_app.reports import bp  # noqa: F401
