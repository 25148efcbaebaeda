"""The public directory of active KIM (no sign-in)."""

from kim_app.groups import bp  # noqa: F401
