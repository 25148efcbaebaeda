"""The upload form every import starts with."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from kim_app import tables
from kim_app.importing.importer import Importer
from kim_app.importing.staging import save_upload

MAX_BYTES = 5 * 1024 * 1024
UPLOAD_LIMIT = MAX_BYTES + 16 * 1024  # the request: the file and the form fields around it


class UploadForm(FlaskForm):
    """The file of an import (KIM, members or an event's participants)."""

    berkas = FileField(
        _l("Berkas XLSX atau CSV"),
        validators=[FileRequired(_l("Pilih berkas XLSX atau CSV."))],
        description=_l("Paling besar 5 MB dan 5.000 baris. Baris pertama berisi judul kolom."),
        render_kw={"accept": ".xlsx,.csv," + tables.XLSX_TYPE + ",text/csv"},
    )

    def store(self, importer: Importer) -> str | None:
        """Read and check the file and keep it for its preview: the preview's token, or None
        with the reason on the file field."""
        upload = self.berkas.data
        data = upload.read(MAX_BYTES + 1)
        try:
            if len(data) > MAX_BYTES:
                raise tables.TableRefused(_("Berkas paling besar 5 MB."))
            table = tables.read_table(data)
        except tables.TableRefused as error:
            self.berkas.errors.append(str(error))
            return None
        return save_upload(importer, table, upload.filename or "", current_user)
