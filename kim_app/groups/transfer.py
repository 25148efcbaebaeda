"""Import of KIM and members from XLSX/CSV (upload, column mapping with preview, confirm) and
export of the registry and its members as XLSX or CSV. Operators only; imports and exports are
audited. The work itself lives in ``kim_app.groups.importing``."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from kim_app import queryargs
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.extensions import db
from kim_app.groups import bp, importing
from kim_app.groups.importing import ImportFileError, ImportKind, Plan, Upload
from kim_app.groups.models import Kim
from kim_app.groups.registry import filters_from_request
from kim_app.groups.registry_queries import RegistryFilter
from kim_app.groups.services import get_kim_or_404
from kim_app.htmx import redirect_after_post, render
from kim_app.security import roles_required
from kim_app.uploads import upload_limit

UPLOAD_OVERHEAD = 16 * 1024  # the form fields around the file


class UploadForm(FlaskForm):
    """The file of an import (KIM, members or an event's participants)."""

    berkas = FileField(
        _l("Berkas XLSX atau CSV"),
        validators=[FileRequired(_l("Pilih berkas XLSX atau CSV."))],
        description=_l("Paling besar 5 MB dan 5.000 baris. Baris pertama berisi judul kolom."),
        render_kw={"accept": ".xlsx,.csv," + importing.XLSX_TYPE + ",text/csv"},
    )

    def store(self, kind: ImportKind) -> str | None:
        """Read and check the file and keep it for its preview: the preview's token, or None
        with the reason on the file field."""
        upload = self.berkas.data
        data = upload.read(importing.MAX_BYTES + 1)
        try:
            if len(data) > importing.MAX_BYTES:
                raise ImportFileError(_("Berkas paling besar 5 MB."))
            table = importing.read_table(data)
        except ImportFileError as error:
            self.berkas.errors.append(str(error))
            return None
        return importing.save_upload(kind, table, upload.filename or "", current_user)


class ImportForm(UploadForm):
    jenis = RadioField(
        _l("Yang diimpor"),
        choices=[
            SelectChoice(
                ImportKind.KIM.value, _l("Data KIM: satu baris per KIM, dengan pengurusnya")
            ),
            SelectChoice(ImportKind.ANGGOTA.value, _l("Anggota KIM: satu baris per anggota")),
        ],
        default=ImportKind.KIM.value,
        validators=[InputRequired(_l("Pilih jenis data yang diimpor."))],
    )


@bp.route("/kim/impor", methods=["GET", "POST"])
@upload_limit(importing.MAX_BYTES + UPLOAD_OVERHEAD)
@roles_required(*OPERATOR_ROLES)
def import_upload():
    """Upload a list of KIM or members (XLSX or CSV, up to 5 MB), then go to its preview."""
    form = ImportForm()
    if form.validate_on_submit():
        token = form.store(ImportKind(form.jenis.data))
        if token:
            return redirect_after_post(url_for("groups.import_preview", token=token))
    status = 422 if request.method == "POST" else 200
    return render("groups/import_upload.html", form=form, status=status)


@bp.route("/kim/impor/<token>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def import_preview(token: str):
    """Map the file's columns, see every invalid row and what the valid ones will do, confirm.

    Changing a column re-checks the file (htmx swaps ``#hasil``; without JavaScript a button
    posts the form). ``aksi=impor`` imports the valid rows, ``aksi=batal`` deletes the upload.
    """
    upload = importing.load_upload(token, current_user)
    if upload is None or upload.kind not in (ImportKind.KIM, ImportKind.ANGGOTA):
        return importing.upload_gone()  # a participant upload belongs to its event's importer
    action = request.form.get("aksi", "") if request.method == "POST" else ""
    if action == "batal":
        importing.discard(upload)
        flash(_("Impor dibatalkan dan berkasnya dihapus."), "info")
        return redirect_after_post(url_for("groups.import_upload"))
    if request.method == "POST":
        mapping = importing.mapping_from_form(upload.kind, upload.table.headers, request.form)
        if mapping != upload.mapping and not importing.save_mapping(upload, mapping):
            return importing.upload_gone()
    if action == "impor":
        return _confirm(upload)
    plan = importing.plan_import(upload.kind, upload.table, upload.mapping, current_user)
    return _preview(upload, plan)


def _preview(upload: Upload, plan: Plan, status: int = 200, message: str = "") -> Response:
    return render(
        "groups/import_preview.html",
        "groups/_import_results.html",
        status,
        here=url_for("groups.import_preview", token=upload.token),
        **importing.preview_context(upload, plan, queryargs.page("halaman"), message),
    )


def _confirm(upload: Upload) -> Response:
    """Import the valid rows in one transaction; the upload is claimed so it runs only once."""
    if not importing.claim(upload):
        return importing.upload_gone()
    try:
        plan = importing.plan_import(upload.kind, upload.table, upload.mapping, current_user)
        if not plan.ready:
            db.session.rollback()
            importing.release(upload)
            return _preview(
                upload, plan, 422, _("Tidak ada baris valid yang dapat diimpor. Periksa kolomnya.")
            )
        result = importing.apply_plan(plan, current_user, upload.filename)
        db.session.commit()
    except Exception:
        db.session.rollback()
        importing.release(upload)
        raise
    importing.discard(upload)
    flash(
        _(
            "Impor %(what)s selesai: %(new)d baru, %(updated)d diperbarui, %(same)d tidak berubah, "
            "%(skipped)d baris tidak valid dilewati.",
            what=upload.kind.label,
            new=result.created,
            updated=result.updated,
            same=result.unchanged,
            skipped=result.skipped,
        ),
        "success",
    )
    return redirect_after_post(url_for("groups.import_upload"))


# --- export ---------------------------------------------------------------------------------------


def _summary(filters: RegistryFilter, kim: Kim | None = None) -> dict:
    """The filters of an export, for the audit log."""
    summary = {
        "q": filters.q,
        "status": filters.status.value if filters.status else "",
        "bidang": filters.bidang or "",
        "wilayah": filters.area or "",
        "kim": kim.id if kim else "",
    }
    return {key: value for key, value in summary.items() if value}


def _download(what: str, fmt: str, headers: list[str], rows: list, summary: dict) -> Response:
    """Audit the export, then send it as a dated attachment (XLSX, or CSV with a BOM)."""
    importing.record_export(what, fmt, len(rows), summary, current_user)
    name, sheet = ("kim", _("KIM")) if what == "kim" else ("anggota-kim", _("Anggota"))
    return importing.table_download(name, sheet, fmt, headers, rows)


@bp.get("/kim/ekspor.<any(xlsx, csv):fmt>")
@roles_required(*OPERATOR_ROLES)
def export(fmt: str):
    """The KIM in scope, filtered like the registry list, with their pengurus inti."""
    filters, _picker, _area = filters_from_request()
    headers, rows = importing.kim_export(filters, current_user)
    return _download("kim", fmt, headers, rows, _summary(filters))


@bp.get("/kim/anggota/ekspor.<any(xlsx, csv):fmt>")
@roles_required(*OPERATOR_ROLES)
def export_members(fmt: str):
    """Members of the KIM in scope (the registry filters apply), or of one KIM with ``kim=<id>``."""
    kim = None
    if queryargs.given("kim"):
        kim = get_kim_or_404(queryargs.record_id("kim") or 0, current_user)
    filters, _picker, _area = filters_from_request()
    headers, rows = importing.member_export(filters, current_user, kim)
    return _download("member", fmt, headers, rows, _summary(filters, kim))
