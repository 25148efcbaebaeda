"""The pages of an import after its upload, the same for every importer: the preview (column
mapping, every invalid row with its reason, a sample of what the valid ones will do), the
confirmation that imports the valid rows once, and cancelling.

A capability's view builds a ``Wizard`` with its importers, templates and links and returns
``wizard.preview(token)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from kim_app import queryargs
from kim_app.errors import OperationError, error_response
from kim_app.extensions import db
from kim_app.htmx import redirect_after_post, render
from kim_app.importing import queued
from kim_app.importing.importer import Action, Importer, Plan
from kim_app.importing.mapping import mapping_from_form
from kim_app.importing.staging import (
    Upload,
    claim,
    discard,
    load_upload,
    release,
    save_mapping,
)
from kim_app.pagination import Page, clamped
from kim_app.tables import column_letter

RESULTS = "importing/_results.html"  # the fragment htmx swaps when the mapping changes
ERRORS_PER_PAGE = 25
SAMPLE_ROWS = 5


def preview_context(
    importer: Importer, upload: Upload, plan: Plan, page: int, message: str = ""
) -> dict:
    """Template values of a preview: one page of invalid rows, a few valid ones, the mapping."""
    invalid = plan.invalid
    page = clamped(page, len(invalid), ERRORS_PER_PAGE)
    start = (page - 1) * ERRORS_PER_PAGE
    return {
        "importer": importer,
        "upload": upload,
        "plan": plan,
        "targets": importer.targets,
        "errors": Page(
            invalid[start : start + ERRORS_PER_PAGE], len(invalid), page, ERRORS_PER_PAGE
        ),
        "sample": plan.valid[:SAMPLE_ROWS],
        "message": message,
        "on_worker": queued.on_worker(plan),
        "letter": column_letter,
        "Action": Action,
    }


def upload_gone() -> Response:
    """The page for an upload that was used, expired, or belongs to someone else."""
    return error_response(
        404,
        _("Impor tidak ditemukan"),
        _(
            "Berkas impor ini sudah diproses, sudah lewat 24 jam, atau diunggah oleh akun lain. "
            "Unggah berkasnya lagi bila perlu."
        ),
    )


@dataclass
class Wizard:
    """One import's preview page and what its buttons do.

    ``importers`` are the kinds of upload this page takes (another kind's token is "gone");
    ``here`` gives the preview's URL for a token; ``back`` is the upload page (after
    cancelling), ``done`` the page after a finished import; ``context`` adds what the page
    shows besides (an event's heading).
    """

    importers: Sequence[Importer]
    template: str
    here: Callable[[str], str]
    back: str
    done: str
    context: Callable[[], dict] = field(default=dict)

    def preview(self, token: str) -> Response:
        """Map the file's columns, see every invalid row and what the valid ones will do, confirm.

        Changing a column re-checks the file (htmx swaps ``#hasil``; without JavaScript a button
        posts the form). ``aksi=impor`` imports the valid rows, ``aksi=batal`` deletes the upload.
        """
        upload = load_upload(token, current_user)
        importer = self._importer_of(upload)
        if upload is None and (file := queued.file_of(token, current_user)) is not None:
            # confirmed already, the worker has it: a second tap, or the way back, leads there
            return redirect_after_post(url_for("files.status", token=file.token))
        if upload is None or importer is None:
            return upload_gone()
        action = request.form.get("aksi", "") if request.method == "POST" else ""
        if action == "batal":
            discard(upload)
            flash(_("Impor dibatalkan dan berkasnya dihapus."), "info")
            return redirect_after_post(self.back)
        if request.method == "POST":
            mapping = mapping_from_form(importer, upload.table.headers, request.form)
            if mapping != upload.mapping and not save_mapping(upload, mapping):
                return upload_gone()
        if action == "impor":
            return self._confirm(importer, upload)
        plan = importer.plan(upload.table, upload.mapping, current_user)
        return self._page(importer, upload, plan)

    def _importer_of(self, upload: Upload | None) -> Importer | None:
        if upload is None:
            return None
        return next((i for i in self.importers if i.kind == upload.kind), None)

    def _page(
        self, importer: Importer, upload: Upload, plan: Plan, status: int = 200, message: str = ""
    ) -> Response:
        return render(
            self.template,
            RESULTS,
            status,
            here=self.here(upload.token),
            **preview_context(importer, upload, plan, queryargs.page(), message),
            **self.context(),
        )

    def _confirm(self, importer: Importer, upload: Upload) -> Response:
        """Import the valid rows in one transaction; the upload is claimed so it runs only once.
        When the rows changed meanwhile the preview comes back (422) with the reason."""
        if not claim(upload):
            return upload_gone()
        try:
            plan = importer.plan(upload.table, upload.mapping, current_user)
            if not plan.ready:
                release(upload)
                return self._page(
                    importer,
                    upload,
                    plan,
                    422,
                    _("Tidak ada baris valid yang dapat diimpor. Periksa kolomnya."),
                )
            if queued.on_worker(plan):
                return self._queue(importer, upload, plan)
            try:
                result = importer.apply(plan, current_user, upload.filename)
                # committed here, not at the end of the request: the claimed upload is deleted
                # below only once its rows are saved, so a failed commit gives the file back
                db.session.commit()
            except Exception as error:
                message = importer.refusal(error)
                if message is None:
                    raise
                db.session.rollback()
                release(upload)
                plan = importer.plan(upload.table, upload.mapping, current_user)
                return self._page(importer, upload, plan, 422, message)
        except Exception:
            release(upload)
            raise
        discard(upload)
        flash(importer.finished(result), "success")
        return redirect_after_post(self.done)

    def _queue(self, importer: Importer, upload: Upload, plan: Plan) -> Response:
        """Hand the claimed upload to the worker and go to its progress."""
        try:
            file = queued.queue(
                importer, upload, plan, user=current_user, here=self.here(upload.token)
            )
        except OperationError as error:  # too many files of this account on their way
            release(upload)
            return self._page(importer, upload, plan, 422, str(error))
        return redirect_after_post(url_for("files.status", token=file.token))
