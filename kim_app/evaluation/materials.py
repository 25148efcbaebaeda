"""Materials: the files an operator hands to an event's participants, and their downloads — for
the operator, from a ticket, and from the public page when the operator shares them there. A
participant sees each file's size before downloading it, so on a weak signal they know what it
costs."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from kim_app.auth.models import OPERATOR_ROLES
from kim_app.documents import kept_file
from kim_app.evaluation import bp
from kim_app.evaluation.forms import MaterialForm
from kim_app.evaluation.models import Material
from kim_app.evaluation.operations import (
    MATERIAL_MAX_BYTES,
    EvaluationError,
    MaterialData,
    add_material,
    delete_material,
    material_path,
    materials_of,
    released,
)
from kim_app.events.models import Event, EventStatus, Registration, RegistrationStatus
from kim_app.events.operations import get_event_or_404, get_public_event_or_404, local_now
from kim_app.extensions import db
from kim_app.htmx import redirect_after_post, render
from kim_app.security import roles_required
from kim_app.uploads import upload_limit

UPLOAD_OVERHEAD = 16 * 1024  # the form's other fields around the file


def _event(event_id: int) -> Event:
    return get_event_or_404(event_id, current_user, manage=True)


def _page(event: Event, form: MaterialForm, status: int = 200) -> Response:
    now = local_now(event)
    materials = materials_of(event)
    return render(
        "evaluation/materials.html",
        status=status,
        event=event,
        form=form,
        materials=[(m, released(event, m, now)) for m in materials],
        sessions={s.id: n for n, s in enumerate(event.sessions, 1)},
        delete_form=FlaskForm(),
    )


@bp.route("/kegiatan/<int:event_id>/materi", methods=["GET", "POST"])
@upload_limit(MATERIAL_MAX_BYTES + UPLOAD_OVERHEAD)
@roles_required(*OPERATOR_ROLES)
def materials(event_id: int):
    """The event's materials with who sees them and from when, and the form that adds one."""
    event = _event(event_id)
    if request.method == "GET":
        return _page(event, MaterialForm(formdata=None).for_event(event))
    form = MaterialForm().for_event(event)
    if not form.validate_on_submit():
        return _page(event, form, 422)
    upload = request.files.get("berkas")
    details = MaterialData(
        title=(form.title.data or "").strip(),
        session_id=int(form.session_id.data) if form.session_id.data else None,
        public=form.public.data,
        from_start=form.from_start.data,
    )
    try:
        add_material(
            event, upload.read(MATERIAL_MAX_BYTES + 1) if upload else b"", details, current_user
        )
    except EvaluationError as error:
        form.berkas_error = str(error)
        return _page(event, form, 422)
    flash(_("Materi ditambahkan."), "success")
    return redirect_after_post(url_for("evaluation.materials", event_id=event.id))


def _material_or_404(event: Event, material_id: int) -> Material:
    material = db.session.get(Material, material_id)
    if material is None or material.event_id != event.id:
        abort(404)
    return material


@bp.post("/kegiatan/<int:event_id>/materi/<int:material_id>/hapus")
@roles_required(*OPERATOR_ROLES)
def material_delete(event_id: int, material_id: int):
    event = _event(event_id)
    material = _material_or_404(event, material_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    delete_material(event, material, current_user)
    flash(_("Materi dihapus."), "success")
    return redirect_after_post(url_for("evaluation.materials", event_id=event.id))


def _send(material: Material) -> Response:
    """The file as kept, named after its title; never cached by a shared cache."""
    path = material_path(material)
    stem = "".join(c if c.isalnum() else "-" for c in material.title.lower()).strip("-")[:60]
    name = f"{stem or 'materi'}{path.suffix if path else ''}"
    return kept_file(path, material.mime, name, inline=material.mime == "application/pdf")


@bp.get("/kegiatan/<int:event_id>/materi/<int:material_id>")
@roles_required(*OPERATOR_ROLES)
def material_download(event_id: int, material_id: int):
    """The operator's own copy, whenever."""
    event = _event(event_id)
    return _send(_material_or_404(event, material_id))


def _shared_or_404(event: Event, material_id: int, *, public_only: bool) -> Material:
    material = _material_or_404(event, material_id)
    if event.status is EventStatus.DIBATALKAN or (public_only and not material.public):
        abort(404)
    if not released(event, material, local_now(event)):
        abort(404)
    return material


@bp.get("/e/<code>/tiket/<ticket>/materi/<int:material_id>")
def material_ticket(code: str, ticket: str, material_id: int):
    """A registered person's download, from their ticket, once the file is released."""
    event = get_public_event_or_404(code)
    registration = db.session.scalar(
        db.select(Registration).where(
            Registration.event_id == event.id, Registration.ticket == ticket
        )
    )
    if registration is None or registration.status is not RegistrationStatus.TERDAFTAR:
        abort(404)
    return _send(_shared_or_404(event, material_id, public_only=False))


@bp.get("/e/<code>/materi/<int:material_id>")
def material_public(code: str, material_id: int):
    """Anyone's download of a file the operator shares on the public page."""
    event = get_public_event_or_404(code)
    return _send(_shared_or_404(event, material_id, public_only=True))
