"""The operators' participant list of one event: search and filters in the URL, counts, inline
edit, cancel and restore; import from XLSX/CSV (upload, column mapping, preview, confirm) and
export. Managers of the event only; everything is audited.

Every action is a plain form or link that works without JavaScript; htmx swaps the results, one
row, or the row's form, and sends changed counts and messages out of band.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from kim_app import importing, queryargs, tables
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.errors import error_response
from kim_app.events import bp
from kim_app.events.documents import EXPORT_AT_ONCE, participant_count
from kim_app.events.forms import PersonForm
from kim_app.events.imports import ParticipantImporter
from kim_app.events.models import Event, Registration, RegistrationStatus, Source
from kim_app.events.operations import EventError, cancel_registration, get_event_or_404
from kim_app.events.participants.operations import (
    ensure_editable,
    restore_registration,
    update_participant,
)
from kim_app.events.queries import (
    ParticipantFilter,
    participant_counts,
    participants_page,
    people_editable,
    registration_of,
)
from kim_app.extensions import db
from kim_app.files.routes import deliver
from kim_app.formatting import when
from kim_app.groups.models import Gender
from kim_app.htmx import is_partial, redirect_after_post, render
from kim_app.phones import display_phone
from kim_app.security import roles_required
from kim_app.uploads import upload_limit

REQUIRED = _l("Wajib diisi.")
TOO_LONG = _l("Paling banyak %(max)d karakter.")


def managed_event(event_id: int) -> Event:
    """The event if the current user manages it (an operator whose scope holds it); 404 otherwise."""
    return get_event_or_404(event_id, current_user, manage=True)


def event_link(event: Event) -> str | None:
    """The event's own page, when the blueprint has one."""
    try:
        return url_for("events.detail", event_id=event.id)
    except BuildError:
        return None


def common(event: Event) -> dict:
    """What every page of this area shows about the event."""
    first = event.sessions[0].starts_at if event.sessions else event.starts_on
    return {
        "event": event,
        "event_url": event_link(event),
        "when": when(first, event) if first else "",
        "editable": people_editable(event),
    }


# --- the list ------------------------------------------------------------------------------------


def _row_context(event: Event) -> dict:
    return {
        "event": event,
        "phone": display_phone,
        "RS": RegistrationStatus,
        "editable": people_editable(event),
    }


def _list_page(event: Event, status: int = 200, **extra) -> Response:
    filters = ParticipantFilter.from_args(queryargs.values())
    page = participants_page(event, filters, queryargs.page())
    partial = is_partial() and "edit_form" not in extra
    return render(
        "events/participants.html",
        "events/_participant_results.html",
        status,
        page=page,
        filters=filters,
        link_args=filters.args(),
        counts=None if partial else participant_counts(event),
        sources=list(Source),
        statuses=list(RegistrationStatus),
        genders=list(Gender),
        **(common(event) | _row_context(event)),
        **extra,
    )


@bp.get("/kegiatan/<int:event_id>/peserta")
@roles_required(*OPERATOR_ROLES)
def participants(event_id: int):
    """Everyone registered for the event, 50 per page: search (name, institution, phone digits),
    filters (source, status, KIM/institution, gender), counts per status and source.

    An htmx request with ``?baris=<id>`` gets that one row back (cancelling an inline edit).
    """
    event = managed_event(event_id)
    row = queryargs.record_id("baris")
    if row is not None and is_partial():
        registration = registration_of(event, row) or abort(404)
        return _row(event, registration, refocus=True)
    return _list_page(event)


def _row(event: Event, registration: Registration, status: int = 200, **extra) -> Response:
    kim_name = registration.kim.name if registration.kim_id else None
    return render(
        "events/_participant_row.html",
        status=status,
        r=registration,
        kim_name=kim_name,
        **_row_context(event),
        **extra,
    )


def _registration(event: Event, registration_id: int) -> Registration:
    registration = registration_of(event, registration_id)
    if registration is None:
        abort(404)
    return registration


def _back_to_list(event: Event, anchor: str | None = None) -> Response:
    """After a plain form post: back to the list as it was (the same filters and page) when
    the browser came from it, else to its first page."""
    target = url_for("events.participants", event_id=event.id)
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path == target:
        target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return redirect_after_post(target + (f"#{anchor}" if anchor else ""))


@bp.route("/kegiatan/<int:event_id>/peserta/<int:registration_id>/ubah", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def participant_edit(event_id: int, registration_id: int):
    """GET: the row as a form (htmx), or the list with the form on top. POST: save it — the
    number normalised, a number another participant uses refused with 422."""
    event = managed_event(event_id)
    registration = _registration(event, registration_id)
    if request.method == "GET":
        form = PersonForm(formdata=None).for_event(event, registration)
        form.fill_from(registration)
        form.number_ids(str(registration.id))
        return _edit_response(event, registration, form)
    form = PersonForm().for_event(event, registration)
    form.number_ids(str(registration.id))
    if form.validate_on_submit():
        try:
            update_participant(registration, form.to_person(), current_user)
        except EventError as error:
            db.session.rollback()
            form.attach(error)
        else:
            notice = _("Data %(name)s disimpan.", name=registration.name)
            if not is_partial():
                flash(notice, "success")
                return _back_to_list(event, f"peserta-{registration.id}")
            return _row(event, registration, notice=notice, refocus=True)
    return _edit_response(event, registration, form, 422)


def _edit_response(event: Event, registration: Registration, form, status: int = 200):
    if is_partial():
        return render(
            "events/_participant_form.html",
            status=status,
            form=form,
            r=registration,
            inline=True,
            **_row_context(event),
        )
    return _list_page(event, status, edit_form=form, editing=registration)


@bp.post("/kegiatan/<int:event_id>/peserta/<int:registration_id>/status")
@roles_required(*OPERATOR_ROLES)
def participant_status(event_id: int, registration_id: int):
    """``status=batal`` cancels (the freed seat goes to the longest-waiting person);
    ``status=pulih`` restores (a seat if one is left, else the waiting list)."""
    event = managed_event(event_id)
    registration = _registration(event, registration_id)
    want = request.form.get("status")
    if want not in ("batal", "pulih"):
        abort(400)
    promoted = None
    try:
        ensure_editable(event)
        if want == "batal":
            if registration.status is RegistrationStatus.BATAL:
                raise EventError(_("%(name)s sudah batal.", name=registration.name))
            promoted = cancel_registration(registration, current_user)
            notice = _("Pendaftaran %(name)s dibatalkan.", name=registration.name)
            if promoted is not None:
                notice += " " + _(
                    "%(name)s naik dari daftar tunggu dan kini terdaftar.", name=promoted.name
                )
        else:
            if registration.status is not RegistrationStatus.BATAL:
                raise EventError(_("%(name)s tidak sedang batal.", name=registration.name))
            restored = restore_registration(registration, current_user)
            notice = (
                _("%(name)s terdaftar kembali.", name=registration.name)
                if restored is RegistrationStatus.TERDAFTAR
                else _("Kursi sudah penuh: %(name)s masuk daftar tunggu.", name=registration.name)
            )
    except EventError as error:
        db.session.rollback()
        return error_response(422, _("Tidak dapat diubah"), str(error))
    if not is_partial():
        flash(notice, "success")
        return _back_to_list(event, f"peserta-{registration.id}")
    return _row(
        event,
        registration,
        notice=notice,
        promoted=promoted,
        counts_oob=participant_counts(event),
    )


# --- import ------------------------------------------------------------------------------------


@bp.route("/kegiatan/<int:event_id>/peserta/impor", methods=["GET", "POST"])
@upload_limit(importing.UPLOAD_LIMIT)
@roles_required(*OPERATOR_ROLES)
def participants_import(event_id: int):
    """Upload a participant list (XLSX or CSV, up to 5 MB), then go to its preview."""
    event = managed_event(event_id)
    form = importing.UploadForm()
    if form.validate_on_submit():
        token = form.store(ParticipantImporter(event))
        if token:
            return redirect_after_post(
                url_for("events.participants_import_preview", event_id=event.id, token=token)
            )
    status = 422 if request.method == "POST" else 200
    return render("events/import_upload.html", form=form, status=status, **common(event))


@bp.route("/kegiatan/<int:event_id>/peserta/impor/<token>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def participants_import_preview(event_id: int, token: str):
    """Map the file's columns, see every invalid row with its reason and what the valid ones
    will do, confirm (``aksi=impor``) or cancel (``aksi=batal``)."""
    event = managed_event(event_id)
    wizard = importing.Wizard(
        importers=[ParticipantImporter(event)],
        template="events/import_preview.html",
        here=lambda token: url_for(
            "events.participants_import_preview", event_id=event.id, token=token
        ),
        back=url_for("events.participants_import", event_id=event.id),
        done=url_for("events.participants", event_id=event.id),
        context=lambda: common(event),
    )
    return wizard.preview(token)


# --- export ----------------------------------------------------------------------------------------


@bp.route("/kegiatan/<int:event_id>/peserta/ekspor.<any(xlsx, csv):fmt>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def participants_export(event_id: int, fmt: str):
    """The participant list as XLSX or CSV, narrowed like the list on screen; audited. Made by
    the worker over ``EXPORT_AT_ONCE`` rows."""
    event = managed_event(event_id)
    filters = ParticipantFilter.from_args(queryargs.values())
    return deliver(
        "ekspor_peserta",
        {"event_id": event.id, "fmt": fmt, "filters": filters.args()},
        size=participant_count(event, filters),
        at_once=EXPORT_AT_ONCE,
        title=" · ".join([_("Ekspor peserta (%(format)s)", format=fmt.upper()), event.title]),
        filename=tables.dated_name(f"peserta-{event.code}", fmt),
        region_code=event.region_code,
    )
