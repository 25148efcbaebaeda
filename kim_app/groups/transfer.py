"""Import of KIM and members from XLSX/CSV (preview, mapping, confirm) and export of the registry."""

from kim_app.groups import bp  # noqa: F401
