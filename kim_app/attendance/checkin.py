"""Self check-in by participants on the public event page, in a session's check-in window, with the venue PIN and an optional signature."""

from kim_app.attendance import bp  # noqa: F401
