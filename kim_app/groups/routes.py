"""KIM registry views."""

from kim_app.groups import models  # noqa: F401
