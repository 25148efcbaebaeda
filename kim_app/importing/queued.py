"""Imports bigger than a page's worth of valid rows, applied by the job worker.

Confirming such an import claims the upload as a small one does, then asks ``kim_app.files`` for
a file of kind ``impor`` instead of writing the rows in the request: the person goes to its
progress page and is told when it is done. The worker finds the importer again by its ``kind``
and ``params``, checks every row once more against the data as it now is, writes the valid ones
in one transaction, and makes the file: a workbook with each row's outcome, its summary the
message a small import shows. When the rows no longer fit (changed meanwhile), nothing is
written and the upload goes back to its preview. A worker that dies mid-import wrote nothing
(one transaction); the run is tried again on the upload it still holds. A run thought dead
but still alive commits nothing once a later run has the file (``Progress.own``).
"""

from __future__ import annotations

from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import gettext as _

from kim_app import tables
from kim_app.auth.models import User
from kim_app.extensions import db
from kim_app.files.models import PreparedFile
from kim_app.files.operations import (
    FileGone,
    FileRefused,
    FileSuperseded,
    Progress,
    builder,
    prepare,
)
from kim_app.i18n import select_locale
from kim_app.importing.importer import IMPORTERS, Importer, Plan
from kim_app.importing.staging import TOKEN, Upload, discard, load_upload, release

KIND = "impor"
AT_ONCE = (
    100  # valid rows written inside the request (a fraction of a second); more go to the worker
)


def on_worker(plan: Plan) -> bool:
    """Whether confirming ``plan`` goes to the worker."""
    return len(plan.valid) > min(AT_ONCE, current_app.config["KIM_FILES_AT_ONCE_MAX"])


def queue(importer: Importer, upload: Upload, plan: Plan, *, user, here: str) -> PreparedFile:
    """The worker's file for a claimed upload (the one already on its way after a double tap)."""
    name = upload.filename or _("berkas tanpa nama")
    return prepare(
        KIND,
        {
            "token": upload.token,
            "kind": importer.kind,
            **importer.params(),
            "lang": select_locale(),  # the person's own language: not an official document
            "base": request.host_url,
        },
        user=user,
        region_code=importer.region_of(user),
        title=_("Impor %(what)s: %(name)s", what=importer.label, name=name),
        filename=tables.dated_name(f"hasil-impor-{importer.kind}", "xlsx"),
        total=len(plan.rows),
        source=here,
    )


def file_of(token: str, user) -> PreparedFile | None:
    """The worker's file of the upload ``token`` (claimed by its confirmation), if any: where a
    second tap on "Impor", or the way back to the preview, leads."""
    if not TOKEN.fullmatch(token or ""):
        return None
    return db.session.scalar(
        sa.select(PreparedFile)
        .where(
            PreparedFile.user_id == user.id,
            PreparedFile.kind == KIND,
            PreparedFile.params.contains(f'"token":"{token}"', autoescape=True),
        )
        .order_by(PreparedFile.id.desc())
        .limit(1)
    )


@builder(KIND, retry_by_link=True)
def import_rows(params: dict, out: BinaryIO, progress: Progress) -> str:
    """Apply the claimed upload ``params["token"]``; the file is each row's outcome."""
    user = db.session.get(User, params["user_id"])
    upload = load_upload(params["token"], user, claimed=True) if user else None
    kind = IMPORTERS.get(params["kind"])
    importer = kind.from_params(params) if kind else None
    if upload is None or importer is None:
        if upload is not None:
            discard(upload)  # what it was for is gone
        raise FileGone
    progress(0, len(upload.table.rows))  # before anything is written (see Progress)
    try:
        plan = importer.plan(upload.table, upload.mapping, user)
        if not plan.ready:
            raise FileRefused("changed")
        try:
            result = importer.apply(plan, user, upload.filename)
            progress.own()  # the rows are written by one run only, even after a reap
            db.session.commit()
        except FileSuperseded:
            raise
        except Exception as error:
            refusal = importer.refusal(error)
            if refusal is None:
                raise
            raise FileRefused("changed", refusal) from error
    except FileSuperseded:
        db.session.rollback()  # the upload stays claimed, for the run that has the file now
        raise
    except Exception:
        db.session.rollback()
        release(upload)  # back to its preview, to be looked at and confirmed again
        raise
    discard(upload)
    out.write(outcomes(plan, params["asked_at"]))
    return importer.finished(result)


def outcomes(plan: Plan, moment) -> bytes:
    """Every row of the file with what became of it, as a workbook."""
    headers = [_("Baris"), _("Data"), _("Tempat"), _("Hasil"), _("Keterangan")]
    rows = [
        [
            row.line,
            row.label,
            row.place,
            row.action.label if not row.errors and row.action else _("dilewati"),
            " ".join(row.errors),
        ]
        for row in plan.rows
    ]
    return tables.table_bytes("xlsx", _("Hasil impor"), headers, rows, moment)
