"""Import of KIM and members from XLSX/CSV (upload, column mapping with preview, confirm) and
export of the registry and its members as XLSX or CSV. Operators only; imports and exports are
audited. The import runs through ``kim_app.importing`` with the importers of ``imports.py``; the
exported rows come from ``documents.py``."""

from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from kim_app import importing, queryargs, tables
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.files.routes import deliver
from kim_app.groups import bp
from kim_app.groups.documents import EXPORT_AT_ONCE, export_size, filter_values
from kim_app.groups.forms import ImportForm
from kim_app.groups.imports import REGISTRY_IMPORTERS
from kim_app.groups.models import Kim
from kim_app.groups.operations import get_kim_or_404
from kim_app.groups.queries import RegistryFilter
from kim_app.groups.registry import filters_from_request
from kim_app.htmx import redirect_after_post, render
from kim_app.security import roles_required, scope_of
from kim_app.uploads import upload_limit


@bp.route("/kim/impor", methods=["GET", "POST"])
@upload_limit(importing.UPLOAD_LIMIT)
@roles_required(*OPERATOR_ROLES)
def import_upload():
    """Upload a list of KIM or members (XLSX or CSV, up to 5 MB), then go to its preview."""
    form = ImportForm()
    if form.validate_on_submit():
        token = form.store(form.importer())
        if token:
            return redirect_after_post(url_for("groups.import_preview", token=token))
    status = 422 if request.method == "POST" else 200
    return render("groups/import_upload.html", form=form, status=status)


@bp.route("/kim/impor/<token>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def import_preview(token: str):
    """Map the file's columns, see every invalid row and what the valid ones will do, confirm
    (``aksi=impor``) or cancel (``aksi=batal``). A participant upload is not taken here."""
    upload_page = url_for("groups.import_upload")
    wizard = importing.Wizard(
        importers=REGISTRY_IMPORTERS,
        template="groups/import_preview.html",
        here=lambda token: url_for("groups.import_preview", token=token),
        back=upload_page,
        done=upload_page,
    )
    return wizard.preview(token)


# --- export ---------------------------------------------------------------------------------------


def _export(what: str, fmt: str, filters: RegistryFilter, kim: Kim | None = None) -> Response:
    """The export of ``what`` (``kim`` or ``anggota``): made at once up to ``EXPORT_AT_ONCE``
    rows, else by the worker; audited where it is made, with its filters."""
    label = (
        _("Ekspor KIM (%(format)s)", format=fmt.upper())
        if what == "kim"
        else _("Ekspor anggota KIM (%(format)s)", format=fmt.upper())
    )
    return deliver(
        f"ekspor_{what}",
        {"fmt": fmt, "filters": filter_values(filters), "kim": kim.id if kim else None},
        size=export_size(what, filters, current_user, kim),
        at_once=EXPORT_AT_ONCE,
        title=" · ".join([label, kim.name] if kim else [label]),
        filename=tables.dated_name("kim" if what == "kim" else "anggota-kim", fmt),
        region_code=scope_of(current_user) or None,
    )


@bp.route("/kim/ekspor.<any(xlsx, csv):fmt>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def export(fmt: str):
    """The KIM in scope, filtered like the registry list, with their pengurus inti."""
    filters, _picker, _area = filters_from_request()
    return _export("kim", fmt, filters)


@bp.route("/kim/anggota/ekspor.<any(xlsx, csv):fmt>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def export_members(fmt: str):
    """Members of the KIM in scope (the registry filters apply), or of one KIM with ``kim=<id>``."""
    kim = None
    if queryargs.given("kim"):
        kim = get_kim_or_404(queryargs.record_id("kim") or 0, current_user)
    filters, _picker, _area = filters_from_request()
    return _export("anggota", fmt, filters, kim)
