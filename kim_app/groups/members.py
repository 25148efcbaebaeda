"""Members and pengurus of one KIM: list, add, edit, deactivate inline."""

from kim_app.groups import bp  # noqa: F401
