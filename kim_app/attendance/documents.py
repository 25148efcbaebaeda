"""The daftar hadir of a session as a printable A4 PDF (filled and blank for paper), and the attendance export (XLSX)."""

from kim_app.attendance import bp  # noqa: F401
