"""Roll call per session: the list with search, one-tap marks, undo, walk-ins, counters, one person's history and signature; the overview of an event's sessions; the service worker that keeps the page openable offline."""

from kim_app.attendance import bp  # noqa: F401
