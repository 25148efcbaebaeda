"""The participant list, a topic of events: its views (list, inline edit, cancel and restore,
import and export) and its writes; its reads are ``events/queries.py``. Its views register on
the events blueprint."""

from kim_app.events.participants import routes  # noqa: F401
