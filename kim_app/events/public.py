"""Public event pages (no sign-in): the page behind the link ``/e/<code>`` with its registration
form, the private ticket (QR code, calendar file, cancel button), "Tiket hilang?" (the ticket found
again by number and name), and the poster for operators.

The ticket token in the URL is the only key to a registration, so ticket responses are never
cached or indexed. Nobody sees another participant's name or number: the public page shows only
counts, the ticket only its own person.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import contains_eager
from werkzeug.wrappers import Response

from kim_app.auth.models import OPERATOR_ROLES
from kim_app.documents import PRIVATE, pdf_response, qr_svg
from kim_app.errors import attach_error
from kim_app.events import bp
from kim_app.events.documents import (
    event_days,
    ics_calendar,
    organiser_contact,
    poster_pdf,
    share_links,
)
from kim_app.events.forms import LostTicketForm, RegistrationForm
from kim_app.events.models import (
    Event,
    EventStatus,
    Registration,
    RegistrationMode,
    RegistrationStatus,
    Source,
)
from kim_app.events.names import same_name
from kim_app.events.operations import (
    EventError,
    cancel_registration,
    find_lost_ticket,
    get_event_or_404,
    get_public_event_or_404,
    local_now,
    record_consent,
    register_person,
    registration_open,
)
from kim_app.extensions import db, limiter
from kim_app.formatting import when
from kim_app.htmx import redirect_after_post, render
from kim_app.ratelimits import left, secret_tag, take
from kim_app.security import roles_required

REQUIRED = _l("Wajib diisi.")
TOO_LONG = _l("Paling banyak %(max)d karakter.")


def _closed_reason(event: Event) -> str:
    """Why the public form is not shown (empty while registration is open)."""
    if registration_open(event, Source.MANDIRI):
        return ""
    if event.status is EventStatus.DIBATALKAN:
        return _("Kegiatan ini dibatalkan.")
    if event.status is EventStatus.SELESAI or (
        event.ends_at is not None and local_now(event) > event.ends_at
    ):
        return _("Kegiatan ini sudah selesai.")
    if event.registration_mode is RegistrationMode.UNDANGAN:
        return _("Peserta kegiatan ini hanya yang diundang; tidak ada pendaftaran terbuka.")
    if event.registration_deadline and local_now(event) > event.registration_deadline:
        return _(
            "Pendaftaran sudah ditutup pada %(when)s.",
            when=when(event.registration_deadline, event),
        )
    return _("Pendaftaran belum dibuka.")


def _helpers(event: Event) -> dict:
    return {"event": event, "days": event_days(event)}


def _event_page(event: Event, form: RegistrationForm, status: int = 200) -> Response:
    return render(
        "events/public_event.html",
        "events/_register_form.html",
        status,
        form=form,
        closed=_closed_reason(event),
        share=share_links(event),
        **_helpers(event),
    )


@bp.get("/e/<code>")
def public_event(code: str):
    """The event as anyone may see it, with the registration form while registration is open."""
    event = get_public_event_or_404(code)
    return _event_page(event, RegistrationForm(formdata=None).for_event(event))


def _guess_count(event: Event, phone: str) -> tuple[str, str, str]:
    """The limit on a number's wrong names at an event and the count's name (a keyed digest:
    no number is stored in the rate-limit store)."""
    tag = secret_tag(f"{event.id}:{phone}")
    return current_app.config["KIM_RATELIMIT_NAME_GUESSES"], "name-guess", tag


def name_guess_left(event: Event, phone: str) -> bool:
    """Whether a name may still be tried with this number at this event. A number is no secret
    and a name can be guessed, so wrong names given with one number — on the registration form
    and in "Tiket hilang?" together, from any address — are counted, and once the allowance is
    spent even the right name opens nothing there (the organiser still can)."""
    return left(*_guess_count(event, phone))


def spend_name_guess(event: Event, phone: str) -> None:
    take(*_guess_count(event, phone))


def _too_many_names() -> str:
    """Why the ticket of a number is not opened here any more today (the same for any number)."""
    return _(
        "Terlalu banyak nama dicoba dengan nomor ini hari ini, jadi tiketnya tidak dibuka di "
        "sini sampai besok. Hubungi panitia: mereka dapat mencari nama Anda di daftar peserta."
    )


def _same_person(event: Event, registration: Registration, typed: str) -> bool:
    """The number's registration is the typer's own: the same name (a wrong name spends one of
    the number's name guesses; the caller has checked that one is left)."""
    if same_name(registration.name, typed):
        return True
    spend_name_guess(event, registration.phone or "")
    return False


def _register_limit() -> str:
    return current_app.config.get("KIM_RATELIMIT_REGISTER", "30 per hour")


@bp.post("/e/<code>")
@limiter.limit(_register_limit)
def public_register(code: str):
    """Register through the public link; the same number again leads to its existing ticket."""
    event = get_public_event_or_404(code)
    form = RegistrationForm().for_event(event)
    if not registration_open(event, Source.MANDIRI):
        return _event_page(event, form, 409)
    if form.validate_on_submit():
        try:
            registration, new = register_person(event, form.to_person(), Source.MANDIRI)
        except EventError as error:
            db.session.rollback()  # undone before the page renders (no savepoint on this busy path)
            attach_error(form, error)
        else:
            if new:
                record_consent(registration, event)
            if not new and not name_guess_left(event, registration.phone or ""):
                form.phone.errors.append(_too_many_names())
                return _event_page(event, form, 422)
            if not new and not _same_person(event, registration, form.name.data or ""):
                # a number is no secret: the ticket (and its cancel button) is shown only to the
                # person who registered it, recognised by number and name together; the answer
                # names nobody
                form.phone.errors.append(
                    _(
                        "Nomor ini sudah dipakai mendaftar di kegiatan ini; setiap peserta "
                        "mendaftar dengan nomornya sendiri. Bila ini nomor Anda, buka lagi tiket "
                        "Anda lewat “Tiket hilang?”."
                    )
                )
                return _event_page(event, form, 422)
            if not new:  # the person themself, recognised: their consent is theirs to give
                record_consent(registration, event)
                flash(_("Nomor ini sudah terdaftar. Ini tiket pendaftaran Anda."), "info")
            elif registration.status is RegistrationStatus.DAFTAR_TUNGGU:
                flash(_("Kursi sudah penuh; Anda masuk daftar tunggu."), "info")
            else:
                flash(_("Pendaftaran berhasil. Simpan tautan halaman tiket ini."), "success")
            return redirect_after_post(
                url_for("events.ticket", code=event.code, ticket=registration.ticket)
            )
    return _event_page(event, form, 422)


# --- the ticket --------------------------------------------------------------------------------------


def _registration_or_404(code: str, ticket: str) -> Registration:
    """The registration whose token is ``ticket``, in the published event whose code is ``code``.

    One query loads both (the event comes along, as the ticket page needs it).
    """
    registration = db.session.scalar(
        sa.select(Registration)
        .join(Registration.event)
        .options(contains_eager(Registration.event))
        .where(
            Event.code == code,
            Event.status != EventStatus.DRAFT,
            Registration.ticket == ticket,
        )
    )
    if registration is None:
        abort(404)
    return registration


def waiting_position(registration: Registration) -> int:
    """1 for the next person to get a seat: the same order in which cancellations promote."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.DAFTAR_TUNGGU,
            sa.or_(
                Registration.created_at < registration.created_at,
                sa.and_(
                    Registration.created_at == registration.created_at,
                    Registration.id <= registration.id,
                ),
            ),
        )
    )


def _may_cancel(registration: Registration) -> bool:
    return registration.status is not RegistrationStatus.BATAL and registration.event.status in (
        EventStatus.TERBIT,
        EventStatus.BERLANGSUNG,
    )


def _private(response: Response) -> Response:
    response.headers.update(PRIVATE)
    return response


@bp.get("/e/<code>/tiket/<ticket>")
def ticket(code: str, ticket: str):
    """The person's own ticket: status, QR code, agenda, calendar file and cancellation."""
    registration = _registration_or_404(code, ticket)
    event = registration.event
    waiting = (
        waiting_position(registration)
        if registration.status is RegistrationStatus.DAFTAR_TUNGGU
        else None
    )
    online = (
        event.online_link if event.online_link.lower().startswith(("http://", "https://")) else ""
    )
    return _private(
        render(
            "events/ticket.html",
            registration=registration,
            waiting=waiting,
            qr=qr_svg(registration.ticket, _("Kode QR tiket"))
            if registration.status is not RegistrationStatus.BATAL
            else "",
            may_cancel=_may_cancel(registration),
            online=online,
            **_helpers(event),
        )
    )


@bp.get("/e/<code>/tiket/<ticket>.ics")
def ticket_ics(code: str, ticket: str):
    """The event's sessions as a calendar file (one entry per session, times in UTC)."""
    registration = _registration_or_404(code, ticket)
    response = make_response(ics_calendar(registration))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="kegiatan-{code}.ics"'
    return _private(response)


@bp.post("/e/<code>/tiket/<ticket>/batal")
def ticket_cancel(code: str, ticket: str):
    """Cancel one's registration; the longest-waiting person, if any, takes the seat."""
    registration = _registration_or_404(code, ticket)
    target = url_for("events.ticket", code=code, ticket=ticket)
    if registration.status is RegistrationStatus.BATAL:
        flash(_("Pendaftaran ini sudah dibatalkan."), "info")
    elif not _may_cancel(registration):
        flash(
            _("Kegiatan ini sudah selesai atau dibatalkan; pendaftaran tidak dapat diubah."),
            "error",
        )
    else:
        cancel_registration(registration, None)
        flash(_("Pendaftaran Anda dibatalkan."), "success")
    return _private(redirect_after_post(target))


# --- a lost ticket ----------------------------------------------------------------------------------


def _lost_ticket_limit() -> str:
    return current_app.config["KIM_RATELIMIT_LOST_TICKET"]


def _lost_ticket_page(
    event: Event,
    form: LostTicketForm,
    status: int = 200,
    *,
    not_found: bool = False,
    locked: bool = False,
) -> Response:
    """The form; after a search that found nothing (``not_found``) or that may not be tried any
    more today for this number (``locked``), the way to the organiser as well."""
    contact = organiser_contact(event, form.name.data or "") if not_found or locked else None
    page = render(
        "events/lost_ticket.html",
        "events/_lost_ticket.html",
        status,
        form=form,
        not_found=not_found,
        locked=locked,
        too_many_names=_too_many_names() if locked else "",
        contact=contact,
        **_helpers(event),
    )
    return _private(page)


@bp.route("/e/<code>/tiket-hilang", methods=["GET", "POST"])
@limiter.limit(_lost_ticket_limit, methods=["POST"])
def lost_ticket(code: str):
    """Find one's own ticket again by number and name; failing that, the way to the organiser.

    An unknown number and a name that does not match get the same answer, so the form tells
    nobody whether a number is registered, or under which name.
    """
    event = get_public_event_or_404(code)
    if request.method == "GET":
        return _lost_ticket_page(event, LostTicketForm(formdata=None))
    form = LostTicketForm()
    if not form.validate_on_submit():
        return _lost_ticket_page(event, form, 422)
    if not name_guess_left(event, form.e164):
        # said for a number nobody registered as well: it tells nothing about the holder
        return _lost_ticket_page(event, form, 429, locked=True)
    registration = find_lost_ticket(event, form.e164, form.name.data or "")
    if registration is None:
        spend_name_guess(event, form.e164)
        return _lost_ticket_page(event, form, not_found=True)
    flash(_("Tiket Anda ditemukan. Simpan tautan halaman ini."), "success")
    return _private(
        redirect_after_post(url_for("events.ticket", code=event.code, ticket=registration.ticket))
    )


# --- the poster (operators) ----------------------------------------------------------------------------


@bp.get("/kegiatan/<int:event_id>/poster.pdf")
@roles_required(*OPERATOR_ROLES)
def poster(event_id: int):
    """An A4 poster with a large QR code to the public page, to print and pin up."""
    event = get_event_or_404(event_id, current_user, manage=True)
    return pdf_response(poster_pdf(event), f"poster-{event.code}.pdf")
