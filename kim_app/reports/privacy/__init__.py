"""Personal data duties (UU 27/2022): everything held about one person as a file, erasing it,
and the audit-log viewer.

A person is who the participation history says (``history.py``): the same E.164 number is the
same person; a registration without a number is a person of its own. An operator exports or
erases the person only inside their wilayah. Erasing anonymises in place: attendance rows and
marks stay, so every count (dashboard, daftar hadir, laporan) stays as it was.
"""

from kim_app.reports.privacy import routes  # noqa: F401  (the views register on reports.bp)
