"""The pages of prepared files: one file's progress (a page that refreshes itself without
JavaScript, a small fragment htmx polls), its download, and the account's files of the day;
and ``deliver``, which a package's document view returns."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from kim_app.documents import PRIVATE
from kim_app.errors import OperationError
from kim_app.files import bp
from kim_app.files.models import FileStatus
from kim_app.files.operations import (
    build_now,
    error_text,
    path_of,
    prepare,
    retried_by_link,
)
from kim_app.files.queries import own_file_or_404, own_files
from kim_app.htmx import redirect_after_post, render
from kim_app.i18n import document_language
from kim_app.tables import DOCX_TYPE, XLSX_TYPE


def _chunks(path: Path) -> Iterator[bytes]:
    """The file's bytes a quarter megabyte at a time; the file is closed however the answer
    ends (sent, or dropped by a client that went away)."""
    with path.open("rb") as file:
        while chunk := file.read(256 * 1024):
            yield chunk


# what a made file is, by its name
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "zip": "application/zip",
    "docx": DOCX_TYPE,
    "xlsx": XLSX_TYPE,
    "csv": "text/csv; charset=utf-8",
}


def _file_response(body: bytes | Path, filename: str) -> Response:
    """A made file, private; PDFs open in the browser's viewer, the rest download."""
    content_type = CONTENT_TYPES[filename.rsplit(".", 1)[-1]]
    if isinstance(body, bytes):
        response = Response(body, content_type=content_type)
    else:
        response = Response(_chunks(body), content_type=content_type, direct_passthrough=True)
        response.content_length = body.stat().st_size
    disposition = "inline" if filename.endswith(".pdf") else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers.update(PRIVATE)
    return response


def deliver(
    kind: str,
    params: dict,
    *,
    size: int,
    at_once: int,
    title: str,
    filename: str,
    region_code: str | None,
) -> Response:
    """What a document's view answers, after its own checks. A GET of a document of ``size``
    (people, pages) up to ``at_once`` is made now; a bigger one gets a page that offers to
    prepare it. A POST (that page's button) prepares it on the worker and goes to its progress.
    ``params`` are what the builder of ``kind`` makes it from; the document language and the
    address it was asked at (for the links a document prints) are added."""
    params = {**params, "lang": document_language(), "base": request.host_url}
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        try:
            file = prepare(
                kind,
                params,
                user=current_user,
                region_code=region_code,
                title=title,
                filename=filename,
                total=size,
                source=request.full_path.rstrip("?"),
            )
        except OperationError as error:
            flash(str(error), "error")
            return redirect_after_post(url_for("files.index"))
        return redirect_after_post(url_for("files.status", token=file.token))
    if size <= min(at_once, current_app.config["KIM_FILES_AT_ONCE_MAX"]):
        out = io.BytesIO()
        build_now(kind, params, current_user, out)
        return _file_response(out.getvalue(), filename)
    return render(
        "files/prepare.html",
        title=title,
        size=size,
        action=request.full_path.rstrip("?"),
        back=request.referrer if _same_site(request.referrer) else None,
        form=FlaskForm(),
    )


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


@bp.get("/berkas")
@login_required
def index():
    """The account's prepared files of the last day, newest first."""
    return render("files/index.html", files=own_files(current_user))


@bp.get("/berkas/<token>")
@login_required
def status(token: str):
    """One file's progress; the fragment (what htmx polls) while it is on its way."""
    file = own_file_or_404(token, current_user)
    return render(
        "files/status.html",
        "files/_status.html",
        file=file,
        error=error_text(file) if file.status is FileStatus.GAGAL else "",
        retry_by_link=retried_by_link(file),
        form=FlaskForm(),
    )


@bp.get("/berkas/<token>/unduh")
@login_required
def download(token: str):
    """The made file; its progress page until it is ready (or when its bytes are gone)."""
    file = own_file_or_404(token, current_user)
    path = path_of(file)
    if file.status is not FileStatus.SELESAI or not path.is_file():
        if file.status is FileStatus.SELESAI:
            flash(_("Berkas ini sudah tidak tersimpan. Minta sekali lagi."), "error")
        return redirect(url_for("files.status", token=file.token))
    return _file_response(path, file.filename)
