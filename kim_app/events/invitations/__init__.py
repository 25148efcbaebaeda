"""Invitations, a topic of events: KIM invited by filter with a quota each, guests added by
hand, and the delegates a KIM names. Its views register on the events blueprint."""

from kim_app.events.invitations import routes  # noqa: F401
