"""The laporan kegiatan of an event: the narrative the operator writes, facts from the data,
documentation photos, the daftar hadir; PDF and DOCX, in Indonesian unless the download asks for
another language (``?bahasa=en``). Operators who manage the event only."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from kim_app import queryargs
from kim_app.attendance.documents import registered_count
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.documents import kept_file
from kim_app.evaluation import report_lines
from kim_app.evaluation.queries import findings
from kim_app.events.models import Event
from kim_app.events.operations import get_event_or_404
from kim_app.extensions import db
from kim_app.files.routes import deliver
from kim_app.htmx import redirect_after_post, render
from kim_app.reports import bp
from kim_app.reports.documents import AT_ONCE, material_lines, rate_text, venue
from kim_app.reports.forms import NarrativeForm, PhotoForm
from kim_app.reports.models import NARRATIVE_FIELDS, ReportPhoto
from kim_app.reports.operations import (
    MAX_PHOTOS,
    PHOTO_MAX_BYTES,
    ReportError,
    add_photo,
    delete_photo,
    event_facts,
    event_photos,
    get_report,
    photo_path,
    save_narrative,
)
from kim_app.security import roles_required
from kim_app.uploads import upload_limit

# the form fields around a file
UPLOAD_OVERHEAD = 16 * 1024


def _event(event_id: int) -> Event:
    return get_event_or_404(event_id, current_user, manage=True)


def _page(
    event: Event,
    form: NarrativeForm | None = None,
    photo_form: PhotoForm | None = None,
    status: int = 200,
    photo_error: str | None = None,
) -> Response:
    report = get_report(event)
    if form is None:
        form = NarrativeForm(obj=report)
    photos = event_photos(event)
    facts = event_facts(event)
    found = findings(event)
    return render(
        "reports/laporan.html",
        "reports/_laporan_form.html" if photo_form is None else "reports/_laporan_photos.html",
        status=status,
        event=event,
        report=report,
        form=form,
        photo_form=photo_form or PhotoForm(),
        photo_error=photo_error,
        photos=photos,
        may_add=len(photos) < MAX_PHOTOS,
        max_photos=MAX_PHOTOS,
        facts=facts,
        evaluation_lines=report_lines(found) if found else [],
        material=material_lines(facts),
        rate=rate_text,
        venue=venue(event),
    )


@bp.route("/kegiatan/<int:event_id>/laporan", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def laporan(event_id: int):
    """The narrative form beside the facts from the data, the photos and the downloads."""
    event = _event(event_id)
    if request.method == "GET":
        return _page(event)
    form = NarrativeForm()
    if not form.validate_on_submit():
        return _page(event, form, status=422)
    texts = {name: form[name].data or "" for name in NARRATIVE_FIELDS}
    changed = save_narrative(event, texts, current_user)
    flash(_("Laporan disimpan.") if changed else _("Tidak ada yang berubah."), "success")
    return redirect_after_post(url_for("reports.laporan", event_id=event.id))


@bp.post("/kegiatan/<int:event_id>/laporan/foto")
@upload_limit(PHOTO_MAX_BYTES + UPLOAD_OVERHEAD)
@roles_required(*OPERATOR_ROLES)
def photo_upload(event_id: int):
    """Add a documentation photo (JPEG or PNG, up to 5 MB; cleaned and downscaled)."""
    event = _event(event_id)
    form = PhotoForm()
    if not form.validate_on_submit():
        return _page(event, photo_form=form, status=422)
    upload = request.files.get("foto")
    try:
        add_photo(event, upload.read() if upload else b"", form.caption.data or "", current_user)
    except ReportError as error:
        return _page(event, photo_form=form, status=422, photo_error=str(error))
    flash(_("Foto ditambahkan."), "success")
    return redirect_after_post(url_for("reports.laporan", event_id=event.id) + "#foto")


def _photo_or_404(event: Event, photo_id: int) -> ReportPhoto:
    photo = db.session.get(ReportPhoto, photo_id)
    if photo is None or photo.event_id != event.id:
        abort(404)
    return photo


@bp.post("/kegiatan/<int:event_id>/laporan/foto/<int:photo_id>/hapus")
@roles_required(*OPERATOR_ROLES)
def photo_delete(event_id: int, photo_id: int):
    event = _event(event_id)
    photo = _photo_or_404(event, photo_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    delete_photo(event, photo, current_user)
    flash(_("Foto dihapus."), "success")
    return redirect_after_post(url_for("reports.laporan", event_id=event.id) + "#foto")


@bp.get("/kegiatan/<int:event_id>/laporan/foto/<int:photo_id>")
@roles_required(*OPERATOR_ROLES)
def photo(event_id: int, photo_id: int):
    """A photo of the report, after the scope check; always an image, never cached publicly.
    ``?ukuran=kecil`` gives the 480 px copy the page shows."""
    event = _event(event_id)
    small = queryargs.one_of("ukuran", ["kecil"]) == "kecil"
    path = photo_path(_photo_or_404(event, photo_id), small=small)
    return kept_file(path, "image/jpeg", f"foto-{photo_id}.jpg", cache="private, max-age=3600")


def _laporan(event_id: int, kind: str, extension: str) -> Response:
    event = _event(event_id)
    sessions = len(event.sessions)
    return deliver(
        kind,
        {"event_id": event.id},
        size=registered_count(event) * sessions,
        at_once=AT_ONCE,
        title=" · ".join(
            [_("Laporan kegiatan (%(format)s)", format=extension.upper()), event.title]
        ),
        filename=f"laporan-{event.code}.{extension}",
        region_code=event.region_code,
    )


@bp.route("/kegiatan/<int:event_id>/laporan.pdf", methods=["GET", "POST"], endpoint="laporan_pdf")
@roles_required(*OPERATOR_ROLES)
def laporan_pdf_view(event_id: int):
    """The laporan kegiatan with the daftar hadir of every session; made by the worker when the
    lists hold more than ``AT_ONCE`` rows."""
    return _laporan(event_id, "laporan_pdf", "pdf")


@bp.route("/kegiatan/<int:event_id>/laporan.docx", methods=["GET", "POST"], endpoint="laporan_docx")
@roles_required(*OPERATOR_ROLES)
def laporan_docx_view(event_id: int):
    return _laporan(event_id, "laporan_docx", "docx")
