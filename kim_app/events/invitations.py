"""Event views (invitations)."""

from kim_app.events import (
    bp,  # noqa: F401
    models,  # noqa: F401
)
