"""Views of a KIM's activity reports: the KIM's list, the report form (on a phone, with photos,
sent once even when the outbox tries again), a report with the operator's review, the operator's
review list, photos, and the kinds the KIM shows in public."""

from __future__ import annotations

import secrets

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from kim_app import queryargs
from kim_app.activity import bp
from kim_app.activity.forms import PublicKindsForm, ReportForm, ReviewForm
from kim_app.activity.models import (
    ActivityKind,
    ActivityPhoto,
    ActivityReport,
    Channel,
    ReportStatus,
)
from kim_app.activity.operations import (
    MAX_PHOTOS,
    PHOTO_MAX_BYTES,
    REVIEWS,
    ActivityError,
    ReportData,
    change_report,
    delete_report,
    find_sent,
    photo_path,
    public_kinds,
    review_report,
    send_report,
    set_public_kinds,
)
from kim_app.activity.queries import counts_by_status, kim_reports, review_list
from kim_app.auth.models import OPERATOR_ROLES, Role
from kim_app.documents import kept_file
from kim_app.errors import attach_error
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimStatus
from kim_app.groups.operations import get_kim_or_404
from kim_app.htmx import redirect_after_post, render
from kim_app.security import roles_required
from kim_app.timezones import local_today
from kim_app.uploads import upload_limit

VILLAGE_ROLES = (Role.KEPALA_DESA, Role.PENGURUS_KIM)
VIEWERS = (*OPERATOR_ROLES, *VILLAGE_ROLES)
UPLOAD_OVERHEAD = 64 * 1024  # the form's other fields around the photos


def _kim(kim_id: int) -> Kim:
    return get_kim_or_404(kim_id, current_user)


def _report(kim: Kim, report_id: int) -> ActivityReport:
    report = db.session.get(ActivityReport, report_id)
    if report is None or report.kim_id != kim.id:
        abort(404)
    return report


def _report_page(kim: Kim, report: ActivityReport, form: ReviewForm | None = None, status=200):
    """One report, its photos and its review; an operator's review form (``form``: the one
    refused)."""
    if form is None and current_user.role in OPERATOR_ROLES:
        form = ReviewForm(formdata=None)
    return render(
        "activity/report.html",
        status=status,
        kim=kim,
        report=report,
        review_form=form,
        reviews=REVIEWS,
    )


@bp.get("/kim/<int:kim_id>/aktivitas")
@roles_required(*VIEWERS)
def kim_reports_view(kim_id: int):
    """A KIM's reports with where each stands, and what the KIM shows in public."""
    kim = _kim(kim_id)
    shown = public_kinds(kim.id)
    form = PublicKindsForm(formdata=None, kinds=[k.value for k in shown])
    return render(
        "activity/kim_reports.html",
        kim=kim,
        page=kim_reports(kim),
        counts=counts_by_status(kim),
        kinds_form=form,
    )


def _photos_sent() -> list[bytes]:
    files = [f for f in request.files.getlist("foto") if f and f.filename]
    if len(files) > MAX_PHOTOS:
        raise ActivityError(_("Paling banyak %(n)d foto per laporan.", n=MAX_PHOTOS), "foto")
    return [f.read(PHOTO_MAX_BYTES + 1) for f in files]


def _data(form: ReportForm) -> ReportData:
    return ReportData(
        kind=ActivityKind(form.kind.data),
        done_on=form.done_on.data,
        text=form.text.data or "",
        channels=tuple(Channel(v) for v in form.channels.data or []),
        link=form.link.data or "",
        reach=form.reach.data or 0,
        keep_location=form.keep_location.data,
    )


def _future(form: ReportForm, kim: Kim) -> bool:
    """A date after today where the KIM is (a report tells of what was done)."""
    if form.done_on.data and form.done_on.data > local_today(kim.village_code):
        form.done_on.errors = [_("Tanggal kegiatan tidak boleh setelah hari ini.")]
        return True
    return False


def _form_page(kim: Kim, form: ReportForm, report: ActivityReport | None, status: int = 200):
    return render(
        "activity/report_form.html",
        status=status,
        kim=kim,
        form=form,
        report=report,
        max_photos=MAX_PHOTOS,
    )


@bp.route("/kim/<int:kim_id>/aktivitas/baru", methods=["GET", "POST"])
@upload_limit(MAX_PHOTOS * PHOTO_MAX_BYTES + UPLOAD_OVERHEAD)
@roles_required(*VIEWERS)
def new(kim_id: int):
    """Report an activity. The form carries its own id, so the same report sent twice (a double
    tap, the phone's outbox trying again after a lost answer) is stored once."""
    kim = _kim(kim_id)
    if kim.status is not KimStatus.TERVERIFIKASI:
        flash(_("Hanya KIM yang sudah terverifikasi yang dapat melaporkan kegiatan."), "error")
        return redirect_after_post(url_for("groups.detail", kim_id=kim.id))
    if request.method == "GET":
        form = ReportForm(
            formdata=None,
            client_id=secrets.token_urlsafe(18),
            done_on=local_today(kim.village_code),
        )
        return _form_page(kim, form, None)
    form = ReportForm()
    sent = find_sent(kim, form.client_id.data or "") if form.client_id.data else None
    if sent is not None:  # already here: the answer to the first try was lost
        flash(_("Laporan ini sudah terkirim sebelumnya."), "success")
        return redirect_after_post(url_for("activity.report", kim_id=kim.id, report_id=sent.id))
    if not form.validate_on_submit() or _future(form, kim):
        return _form_page(kim, form, None, 422)
    try:
        with db.session.begin_nested():
            report, _made = send_report(
                kim, _data(form), _photos_sent(), form.client_id.data, current_user
            )
    except ActivityError as error:
        attach_error(form, error)
        return _form_page(kim, form, None, 422)
    flash(_("Laporan terkirim. Diskominfo akan meninjaunya."), "success")
    return redirect_after_post(url_for("activity.report", kim_id=kim.id, report_id=report.id))


@bp.get("/kim/<int:kim_id>/aktivitas/<int:report_id>")
@roles_required(*VIEWERS)
def report(kim_id: int, report_id: int):
    """One report, its photos and its review; the operator decides here."""
    kim = _kim(kim_id)
    return _report_page(kim, _report(kim, report_id))


@bp.route("/kim/<int:kim_id>/aktivitas/<int:report_id>/ubah", methods=["GET", "POST"])
@upload_limit(MAX_PHOTOS * PHOTO_MAX_BYTES + UPLOAD_OVERHEAD)
@roles_required(*VIEWERS)
def edit(kim_id: int, report_id: int):
    """Change a report that waits for review or was returned; a returned one is sent again."""
    kim = _kim(kim_id)
    found = _report(kim, report_id)
    if not found.editable:
        flash(_("Laporan yang sudah ditinjau tidak dapat diubah lagi."), "error")
        return redirect_after_post(url_for("activity.report", kim_id=kim.id, report_id=found.id))
    if request.method == "GET":
        form = ReportForm(
            formdata=None,
            client_id=found.client_id,
            kind=found.kind.value,
            done_on=found.done_on,
            text=found.text,
            channels=[c.value for c in found.channel_list],
            link=found.link,
            reach=found.reach or None,
            keep_location=any(p.latitude is not None for p in found.photos),
        )
        return _form_page(kim, form, found)
    form = ReportForm()
    if not form.validate_on_submit() or _future(form, kim):
        return _form_page(kim, form, found, 422)
    remove = {int(v) for v in request.form.getlist("hapus_foto") if v.isdigit()}
    was_returned = found.status is ReportStatus.PERLU_PERBAIKAN
    try:
        with db.session.begin_nested():
            change_report(found, _data(form), _photos_sent(), remove, current_user)
    except ActivityError as error:
        attach_error(form, error)
        db.session.refresh(found)
        return _form_page(kim, form, found, 422)
    flash(
        _("Perbaikan terkirim. Diskominfo akan meninjaunya lagi.")
        if was_returned
        else _("Laporan disimpan."),
        "success",
    )
    return redirect_after_post(url_for("activity.report", kim_id=kim.id, report_id=found.id))


@bp.post("/kim/<int:kim_id>/aktivitas/<int:report_id>/hapus")
@roles_required(*VIEWERS)
def delete(kim_id: int, report_id: int):
    kim = _kim(kim_id)
    found = _report(kim, report_id)
    if not ReviewForm().validate_on_submit():
        abort(400)
    try:
        with db.session.begin_nested():
            delete_report(found, current_user)
    except ActivityError as error:
        flash(str(error), "error")
        return redirect_after_post(url_for("activity.report", kim_id=kim.id, report_id=found.id))
    flash(_("Laporan dihapus."), "success")
    return redirect_after_post(url_for("activity.kim_reports_view", kim_id=kim.id))


@bp.post("/kim/<int:kim_id>/aktivitas/<int:report_id>/tinjau")
@roles_required(*OPERATOR_ROLES)
def review(kim_id: int, report_id: int):
    """Accept, ask for a fix or hide, with a note (required for the last two)."""
    kim = _kim(kim_id)
    found = _report(kim, report_id)
    form = ReviewForm()
    wanted = request.form.get("status", "")
    if not form.validate_on_submit() or wanted not in {s.value for s in REVIEWS}:
        return _report_page(kim, found, form, 422)
    try:
        with db.session.begin_nested():
            review_report(found, ReportStatus(wanted), form.note.data or "", current_user)
    except ActivityError as error:
        attach_error(form, error)
        db.session.refresh(found)
        return _report_page(kim, found, form, 422)
    flash(_("Laporan kini: %(status)s.", status=found.status.label), "success")
    return redirect_after_post(url_for("activity.queue"))


@bp.post("/kim/<int:kim_id>/aktivitas/publik")
@roles_required(*VIEWERS)
def public_kinds_view(kim_id: int):
    """Which kinds of accepted reports the KIM's public profile shows."""
    kim = _kim(kim_id)
    form = PublicKindsForm()
    if not form.validate_on_submit():
        abort(400)
    set_public_kinds(kim, [ActivityKind(v) for v in form.kinds.data or []], current_user)
    flash(_("Pilihan profil publik disimpan."), "success")
    return redirect_after_post(
        url_for("activity.kim_reports_view", kim_id=kim.id, _anchor="publik")
    )


def _photo_response(photo: ActivityPhoto, public: bool) -> Response:
    small = queryargs.one_of("ukuran", ["kecil"]) == "kecil"
    return kept_file(
        photo_path(photo, small=small),
        "image/jpeg",
        f"foto-{photo.id}.jpg",
        cache="public, max-age=86400" if public else "private, max-age=3600",
    )


def _photo_of(report: ActivityReport, photo_id: int) -> ActivityPhoto:
    photo = next((p for p in report.photos if p.id == photo_id), None)
    if photo is None:
        abort(404)
    return photo


@bp.get("/kim/<int:kim_id>/aktivitas/<int:report_id>/foto/<int:photo_id>")
@roles_required(*VIEWERS)
def photo(kim_id: int, report_id: int, photo_id: int):
    """A photo of a report, after the scope check; ``?ukuran=kecil`` its small copy."""
    found = _report(_kim(kim_id), report_id)
    return _photo_response(_photo_of(found, photo_id), public=False)


@bp.get("/direktori/<int:kim_id>/aktivitas/<int:report_id>/foto/<int:photo_id>")
def public_photo(kim_id: int, report_id: int, photo_id: int):
    """A photo of a report the KIM's public profile shows; 404 for any other."""
    kim = db.session.get(Kim, kim_id)
    if kim is None or kim.status is not KimStatus.TERVERIFIKASI:
        abort(404)
    found = _report(kim, report_id)
    if found.status is not ReportStatus.DITERIMA or found.kind not in public_kinds(kim.id):
        abort(404)
    return _photo_response(_photo_of(found, photo_id), public=True)


@bp.get("/aktivitas")
@roles_required(*OPERATOR_ROLES)
def queue():
    """The reports of KIM in the operator's wilayah: by default those waiting for review."""
    wanted = queryargs.one_of("status", [*(s.value for s in ReportStatus), "semua"]) or "dikirim"
    kind = queryargs.one_of("jenis", [k.value for k in ActivityKind])
    status = None if wanted == "semua" else ReportStatus(wanted)
    return render(
        "activity/queue.html",
        "activity/_queue_results.html",
        page=review_list(current_user, status, ActivityKind(kind) if kind else None),
        wanted=wanted,
        kind=kind,
        statuses=list(ReportStatus),
        kinds=list(ActivityKind),
    )
