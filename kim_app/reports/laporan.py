"""The laporan kegiatan of an event: the narrative the operator writes, facts from the data, documentation photos, the daftar hadir; PDF and DOCX."""

from kim_app.reports import bp  # noqa: F401
