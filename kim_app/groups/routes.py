"""Registering a KIM, its page, its SK document and the verification workflow."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import abort, flash, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from kim_app import queryargs
from kim_app.auth.models import OPERATOR_ROLES, Role
from kim_app.errors import attach_error
from kim_app.extensions import db
from kim_app.groups import bp
from kim_app.groups.forms import KimForm, StatusForm
from kim_app.groups.models import (
    REQUIRED_POSITIONS,
    Gender,
    Kim,
    KimStatus,
    Position,
    SkSigner,
)
from kim_app.groups.operations import (
    SK_MAX_BYTES,
    KimData,
    KimError,
    MemberData,
    VillageTaken,
    change_status,
    get_kim_or_404,
    kim_filter,
    may_edit_kim,
    may_keep_members,
    missing_for_submission,
    next_steps,
    offered_bidang,
    register_kim,
    similar_kims,
    sk_may_show,
    sk_path,
    store_sk,
    update_kim,
    verification_queue,
    village_holders,
)
from kim_app.htmx import redirect_after_post, render
from kim_app.regions.operations import lineage
from kim_app.regions.picker import RegionPicker
from kim_app.security import roles_required, scope_of
from kim_app.uploads import upload_limit

EDITORS = (Role.KEPALA_DESA, *OPERATOR_ROLES)
# an upload may carry the form fields around the file too
UPLOAD_OVERHEAD = 16 * 1024


def _picker(kim: Kim | None = None) -> RegionPicker:
    return RegionPicker.from_values(
        queryargs.values(),
        current_user,
        prefix="desa_kim",
        initial=kim.village_code if kim else None,
    )


def _kim_data(form: KimForm, picker: RegionPicker) -> KimData:
    return KimData(
        name=form.name.data or "",
        village_code=picker.chosen.code if picker.chosen else "",
        address=form.address.data or "",
        founded_on=form.founded_on.data,
        sk_number=form.sk_number.data or "",
        sk_date=form.sk_date.data,
        sk_signer=SkSigner(form.sk_signer.data) if form.sk_signer.data else None,
        bidang=tuple(form.bidang.data or ()),
        potensi=form.potensi.data or "",
        whatsapp=form.whatsapp.data or "",
        email=form.email.data or "",
        website=form.website.data or "",
        social_links=form.social_links.data or "",
        public_contact=bool(form.public_contact.data),
        show_ketua=bool(form.show_ketua.data),
        second_reason=form.second_reason_given() if current_user.role in OPERATOR_ROLES else "",
    )


def _offer_bidang(form: KimForm, picker: RegionPicker, kim: Kim | None = None) -> None:
    """The fields of the chosen village's area (or, before a village is chosen, the user's)."""
    code = picker.chosen.code if picker.chosen else (kim.village_code if kim else None)
    held = {f.field for f in kim.fields} if kim else set()
    form.set_bidang_choices(offered_bidang(code or scope_of(current_user), keep=held))


def _holders(picker: RegionPicker, kim: Kim | None = None) -> list[Kim]:
    """Other KIM holding the chosen village, named on the form before anything is typed."""
    if picker.chosen is None or (kim is not None and kim.second_allowed_note is not None):
        return []
    if kim is not None and kim.status is KimStatus.DITOLAK:
        return []
    return village_holders(picker.chosen.code, kim.id if kim else None)


def _pengurus_data(form: KimForm) -> list[tuple[int, MemberData]]:
    """Filled officer rows with their row number in the form (blank rows are skipped)."""
    rows = []
    for index, entry in enumerate(form.pengurus.entries):
        row = entry.form
        if (row.name.data or "").strip():
            rows.append(
                (
                    index,
                    MemberData(
                        name=row.name.data,
                        position=Position(row.position.data),
                        gender=Gender(row.gender.data) if row.gender.data else None,
                        phone=row.phone.data or "",
                    ),
                )
            )
    return rows


def _change_rows(form: KimForm, action: str) -> None:
    """Add an empty officer row, or remove row ``hapus-N`` (buttons work with and without htmx)."""
    if action == "tambah":
        form.pengurus.append_entry({"position": Position.ANGGOTA.value})
        return
    index = action.removeprefix("hapus-")
    if (
        index.isascii()
        and index.isdigit()
        and len(index) < 4
        and int(index) < len(form.pengurus.entries)
    ):
        kept = [e.data for i, e in enumerate(form.pengurus.entries) if i != int(index)]
        while form.pengurus.entries:
            form.pengurus.pop_entry()
        for data in kept:
            form.pengurus.append_entry(data)


def _officer_field(error: KimError, rows: list[tuple[int, MemberData]]) -> str | None:
    """The form's name of the field an error is about: the service counts only the filled
    officer rows (``pengurus-2-phone``: the 3rd filled row), the form counts every row."""
    field = error.field or ""
    if field.startswith("pengurus-") and rows:
        _prefix, index, name = field.split("-", 2)
        return f"pengurus-{rows[int(index)][0]}-{name}"
    return error.field


@bp.route("/kim/baru", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new():
    """Register a KIM as a draft: the village head for their village, an operator for any in scope."""
    form = KimForm()
    if request.method == "GET":
        for position in REQUIRED_POSITIONS:
            form.pengurus.append_entry({"position": position.value})
    picker = _picker()
    _offer_bidang(form, picker)
    holders = _holders(picker)
    action = request.form.get("_baris", "")
    if request.method == "POST" and (action or "_pick" in request.form):
        _change_rows(form, action)
        return render(
            "groups/kim_form.html",
            "groups/_kim_form.html",
            form=form,
            picker=picker,
            kim=None,
            holders=holders,
        )
    if form.validate_on_submit():
        rows = _pengurus_data(form)
        try:
            with db.session.begin_nested():
                kim = register_kim(
                    _kim_data(form, picker), [data for _i, data in rows], current_user
                )
        except KimError as error:
            if not isinstance(error, VillageTaken):  # the form names the village's other KIM
                attach_error(form, error, _officer_field(error, rows))
        else:
            flash(
                _("Draf KIM %(name)s tersimpan. Lengkapi dokumen SK lalu ajukan.", name=kim.name),
                "success",
            )
            return redirect_after_post(url_for("groups.detail", kim_id=kim.id))
    status = 422 if request.method == "POST" else 200
    return render(
        "groups/kim_form.html",
        "groups/_kim_form.html",
        status,
        form=form,
        picker=picker,
        kim=None,
        holders=holders,
    )


@bp.route("/kim/<int:kim_id>/ubah", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(kim_id: int):
    """Change a KIM's details (officers are kept on the members page)."""
    kim = get_kim_or_404(kim_id, current_user)
    if not may_edit_kim(current_user, kim):
        abort(403)
    form = KimForm(obj=kim if request.method == "GET" else None)
    if request.method == "GET":
        form.bidang.data = [f.field for f in kim.fields]
        form.sk_signer.data = kim.sk_signer.value if kim.sk_signer else ""
        form.whatsapp.data = kim.whatsapp or ""
    picker = _picker(kim)
    _offer_bidang(form, picker, kim)
    holders = _holders(picker, kim)
    if request.method == "POST" and "_pick" in request.form:
        return render(
            "groups/kim_form.html",
            "groups/_kim_form.html",
            form=form,
            picker=picker,
            kim=kim,
            holders=holders,
        )
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                update_kim(kim, _kim_data(form, picker), current_user)
        except KimError as error:
            if not isinstance(error, VillageTaken):  # the form names the village's other KIM
                attach_error(form, error)
        else:
            flash(_("Perubahan disimpan."), "success")
            return redirect_after_post(url_for("groups.detail", kim_id=kim.id))
    status = 422 if request.method == "POST" else 200
    return render(
        "groups/kim_form.html",
        "groups/_kim_form.html",
        status,
        form=form,
        picker=picker,
        kim=kim,
        holders=holders,
    )


@bp.get("/kim/<int:kim_id>")
@login_required
def detail(kim_id: int):
    """A KIM's page: where its registration stands, its details, officers and history."""
    kim = get_kim_or_404(kim_id, current_user)
    is_operator = current_user.role in OPERATOR_ROLES
    return render(
        "groups/detail.html",
        kim=kim,
        places=lineage(kim.village_code),
        steps=next_steps(kim, current_user),
        missing=missing_for_submission(kim)
        if kim.status in (KimStatus.DRAFT, KimStatus.PERLU_PERBAIKAN)
        else [],
        similar=similar_kims(kim) if is_operator else [],
        holders=village_holders(kim.village_code, kim.id)
        if kim.status is not KimStatus.DITOLAK and current_user.role is not Role.PENGURUS_KIM
        else [],
        may_edit=may_edit_kim(current_user, kim),
        may_members=may_keep_members(current_user, kim),
        active_members=[m for m in kim.members if m.active],
        status_form=StatusForm(),
    )


@bp.post("/kim/<int:kim_id>/status")
@roles_required(*EDITORS)
def set_status(kim_id: int):
    """Submit, verify, return for fixes, reject, deactivate or reactivate — with a note."""
    kim = get_kim_or_404(kim_id, current_user)
    form = StatusForm()
    wanted = request.form.get("to", "")
    if not form.validate_on_submit() or wanted not in {s.value for s in KimStatus}:
        abort(400)
    try:
        with db.session.begin_nested():
            change_status(kim, KimStatus(wanted), current_user, form.note.data or "")
    except KimError as error:
        flash(str(error), "error")
        # back to the checklist, whose every item links to where it is fixed
        return redirect_after_post(url_for("groups.detail", kim_id=kim_id, _anchor="lengkapi"))
    flash(_("Status KIM sekarang: %(status)s.", status=kim.status.label), "success")
    return redirect_after_post(url_for("groups.detail", kim_id=kim_id))


@bp.post("/kim/<int:kim_id>/sk")
@upload_limit(SK_MAX_BYTES + UPLOAD_OVERHEAD)
@roles_required(*EDITORS)
def sk_upload(kim_id: int):
    """Upload (or replace) the SK document: PDF, JPEG or PNG up to 2 MB."""
    kim = get_kim_or_404(kim_id, current_user)
    form = StatusForm()  # only for its CSRF token
    if not form.validate_on_submit():
        abort(400)
    upload = request.files.get("sk")
    try:
        with db.session.begin_nested():
            store_sk(kim, upload.read() if upload else b"", current_user)
    except KimError as error:
        flash(str(error), "error")
    else:
        flash(_("Dokumen SK tersimpan."), "success")
    return redirect_after_post(url_for("groups.detail", kim_id=kim_id))


@bp.get("/kim/<int:kim_id>/sk")
@login_required
def sk_file(kim_id: int):
    """The SK document, only for those who may see the KIM: downloaded, or with ``lihat`` shown
    in the browser (an image on the KIM page, a PDF in the browser's viewer).

    Showing it is safe because of what was stored: images were decoded and re-encoded, PDFs
    with scripts, actions or embedded files were refused (``uploads.check_pdf``). The answer
    still carries the app's CSP (no script, no plugin), ``nosniff`` and DENY for framing; a PDF
    stored before that check is checked again and, if refused, only downloaded."""
    kim = get_kim_or_404(kim_id, current_user)
    path = sk_path(kim)
    if path is None:
        abort(404)
    data = path.read_bytes()  # small files; no handle left open
    response = send_file(
        io.BytesIO(data),
        mimetype=kim.sk_mime,
        as_attachment=not (queryargs.flag("lihat") and sk_may_show(kim, data)),
        download_name=f"SK-KIM-{kim.id}{path.suffix}",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/kim/verifikasi")
@roles_required(*OPERATOR_ROLES)
def queue():
    """KIM waiting for verification in the operator's scope, oldest first."""
    page = queryargs.paginate(verification_queue(current_user), per_page=25)
    return render("groups/queue.html", page=page)


@bp.get("/kim/desa")
@roles_required(Role.KEPALA_DESA, Role.PENGURUS_KIM)
def mine():
    """The village head's (or pengurus's) KIM, with where each registration stands."""
    kims = db.session.scalars(
        sa.select(Kim).where(kim_filter(current_user)).order_by(Kim.created_at)
    ).all()
    return render("groups/mine.html", kims=kims)
