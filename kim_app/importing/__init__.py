"""The one import pipeline: a file is uploaded (``forms.UploadForm``), read into a table
(``kim_app.tables``) and staged under a token (``staging``); its columns are mapped to fields,
guessed from the headers first (``mapping``); the preview checks every row and shows what the
valid ones will do; confirming claims the staged upload (so it runs once), applies the valid rows
in one transaction and discards it; cancelling discards it (``wizard``).

What differs between imports is an ``Importer`` (``importer``): its fields, how a header is
guessed, how rows are checked (``plan``) and written (``apply``), and its messages. Each
capability keeps its importers beside its other code (``groups/imports.py``,
``events/imports.py``) and its views hand them to a ``Wizard``.
"""

from kim_app.importing.forms import MAX_BYTES, UPLOAD_LIMIT, UploadForm
from kim_app.importing.importer import Action, Importer, Plan, Row, RowPlan, Target, rows_of
from kim_app.importing.mapping import guess_mapping, mapping_from_form
from kim_app.importing.staging import (
    Upload,
    claim,
    discard,
    load_upload,
    release,
    save_mapping,
    save_upload,
)
from kim_app.importing.wizard import Wizard, preview_context, upload_gone

__all__ = [
    "MAX_BYTES",
    "UPLOAD_LIMIT",
    "Action",
    "Importer",
    "Plan",
    "Row",
    "RowPlan",
    "Target",
    "Upload",
    "UploadForm",
    "Wizard",
    "claim",
    "discard",
    "guess_mapping",
    "load_upload",
    "mapping_from_form",
    "preview_context",
    "release",
    "rows_of",
    "save_mapping",
    "save_upload",
    "upload_gone",
]
