"""Certificates, the views: the event's attendance and certificate settings, the certificates
page and issuing, the PDFs (all, one participant's, the ticket holder's), the logo and signature
images, and the public verification page /v/<code>, which shows only the holder's name and
institution, the event and the verdict."""

from __future__ import annotations

import secrets

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from kim_app import queryargs
from kim_app.attendance import bp
from kim_app.attendance.certificates.documents import AT_ONCE, certificate_pdf
from kim_app.attendance.certificates.forms import PIN_DIGITS, SettingsForm, settings_form_for
from kim_app.attendance.certificates.operations import (
    IMAGE_MAX_BYTES,
    IMAGE_PARTS,
    UPLOAD_OVERHEAD,
    CertificateError,
    image_path,
    issue_certificates,
    update_settings,
)
from kim_app.attendance.certificates.queries import (
    PER_PAGE,
    certificate_rows,
    certificate_rule,
    find_certificate,
    format_certificate_number,
    listed_count,
    normalise_code,
    not_yet_text,
    number_format_problem,
    participant_certificate_of,
    printable_count,
    rule_text,
    summary,
    ticket_certificate_of,
)
from kim_app.attendance.checkin import pins_locked_minutes
from kim_app.attendance.models import Certificate
from kim_app.attendance.operations import to_local
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.documents import kept_file, pdf_response
from kim_app.events.documents import event_days
from kim_app.events.models import Event
from kim_app.events.operations import get_event_or_404, local_now
from kim_app.extensions import db, limiter
from kim_app.files.routes import deliver
from kim_app.formatting import day
from kim_app.htmx import redirect_after_post, render
from kim_app.i18n import document_locale
from kim_app.security import roles_required
from kim_app.uploads import upload_limit

# --- settings ---------------------------------------------------------------------------------------


def _example(event: Event, fmt: str) -> dict:
    """The live example under the number format: the number or why it cannot be made."""
    problem = number_format_problem(fmt)
    if problem:
        return {"example": "", "problem": problem}
    return {
        "example": format_certificate_number(fmt, 1, event, local_now(event).date()),
        "problem": "",
    }


def _settings_page(event: Event, form: SettingsForm, status: int = 200) -> Response:
    return render(
        "attendance/settings.html",
        "attendance/_settings_form.html",
        status,
        event=event,
        form=form,
        short_pin=0 < len(event.venue_pin) < PIN_DIGITS,
        pins_locked=pins_locked_minutes(event),
        **_example(event, form.certificate_number_format.data or ""),
    )


@bp.route("/absensi/kegiatan/<int:event_id>/pengaturan", methods=["GET", "POST"])
@upload_limit(2 * IMAGE_MAX_BYTES + UPLOAD_OVERHEAD)
@roles_required(*OPERATOR_ROLES)
def settings(event_id: int):
    """Self check-in window, venue PIN, signatures, the signing official (name, NIP, signature
    image), the agency's logo and certificates."""
    event = get_event_or_404(event_id, current_user, manage=True)
    if request.method == "GET":
        if queryargs.flag("contoh"):  # the live example while typing the number format
            return render(
                "attendance/settings.html",
                "attendance/_number_example.html",
                event=event,
                form=settings_form_for(event),
                **_example(event, queryargs.text("certificate_number_format", 80)),
            )
        return _settings_page(event, settings_form_for(event))
    form = SettingsForm()
    if "_pin" in request.form:  # "Buat PIN acak": fill in a PIN, save nothing yet
        form.venue_pin.raw_data = [f"{secrets.randbelow(10**6):06d}"]
        form.venue_pin.data = form.venue_pin.raw_data[0]
        return _settings_page(event, form)
    if not form.validate_on_submit():
        return _settings_page(event, form, 422)
    changes = update_settings(event, form, current_user)
    flash(_("Pengaturan absensi disimpan.") if changes else _("Tidak ada yang berubah."), "success")
    return redirect_after_post(url_for("attendance.settings", event_id=event.id))


# --- certificates -----------------------------------------------------------------------------------


@bp.route("/absensi/kegiatan/<int:event_id>/sertifikat", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def certificates(event_id: int):
    """Who attended enough for a certificate, and issuing them ("Terbitkan sertifikat") once
    every session has ended."""
    event = get_event_or_404(event_id, current_user, manage=True)
    here = url_for("attendance.certificates", event_id=event.id)
    if request.method == "POST":
        form = FlaskForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            with db.session.begin_nested():
                done = issue_certificates(event, current_user)
        except CertificateError as error:
            flash(str(error), "error")
        else:
            flash(
                _(
                    "%(issued)d sertifikat baru diterbitkan, %(revoked)d dicabut, "
                    "%(restored)d dipulihkan.",
                    issued=done.issued,
                    revoked=done.revoked,
                    restored=done.restored,
                ),
                "success",
            )
        return redirect_after_post(here)
    page = min(queryargs.page(), 10_000)
    rule = certificate_rule(event)
    rows = certificate_rows(event, rule, page)
    if not rows and page > 1:  # past the last page (an old link, a typed number): the last one
        page = max(1, -(-listed_count(event) // PER_PAGE))
        rows = certificate_rows(event, rule, page)
    return render(
        "attendance/certificates.html",
        "attendance/_certificate_rows.html",
        event=event,
        total=len(event.sessions),
        done=len(rule.ended) if rule else 0,
        rule=rule,
        rule_text=rule_text(event, rule) if rule else "",
        not_yet=not_yet_text(event) if rule and not rule.final else "",
        summary=summary(event, rule),
        rows=rows[:PER_PAGE],
        more=len(rows) > PER_PAGE,
        page=page,
        here=here,
        form=FlaskForm(),
    )


def _all_certificates(event_id: int, kind: str, extension: str, title: str) -> Response:
    event = get_event_or_404(event_id, current_user, manage=True)
    valid = printable_count(event)
    if not valid:
        flash(_("Belum ada sertifikat yang berlaku untuk dicetak."), "error")
        return redirect(url_for("attendance.certificates", event_id=event.id), 303)
    return deliver(
        kind,
        {"event_id": event.id},
        size=valid,
        at_once=AT_ONCE,
        title=f"{title} · {event.title}",
        filename=f"sertifikat-{event.code}.{extension}",
        region_code=event.region_code,
    )


@bp.route("/absensi/kegiatan/<int:event_id>/sertifikat.pdf", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def certificates_pdf(event_id: int):
    """Every valid certificate of the event, one page each, in one PDF to print; made by the
    worker when there are more than ``AT_ONCE``."""
    return _all_certificates(event_id, "sertifikat_pdf", "pdf", _("Semua sertifikat (PDF)"))


@bp.route("/absensi/kegiatan/<int:event_id>/sertifikat.zip", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def certificates_zip(event_id: int):
    """Every valid certificate of the event as its own PDF, named by person, in one ZIP (to
    send each person theirs)."""
    return _all_certificates(event_id, "sertifikat_zip", "zip", _("Sertifikat per orang (ZIP)"))


def _certificate_file(certificate: Certificate | None) -> Response:
    """One valid certificate as its PDF, in the document's language; 404 when there is none."""
    if certificate is None:
        abort(404)
    with document_locale():
        body = certificate_pdf([certificate])
    return pdf_response(body, f"sertifikat-{certificate.code}.pdf")


@bp.get("/absensi/kegiatan/<int:event_id>/sertifikat/<int:registration_id>.pdf")
@roles_required(*OPERATOR_ROLES)
def participant_certificate(event_id: int, registration_id: int):
    """One participant's valid certificate, to send or print on its own; 404 when none."""
    event = get_event_or_404(event_id, current_user, manage=True)
    certificate = participant_certificate_of(event, registration_id)
    return _certificate_file(certificate)


@bp.get("/absensi/kegiatan/<int:event_id>/sertifikat/<any(logo, 'tanda-tangan'):part>")
@roles_required(*OPERATOR_ROLES)
def certificate_image(event_id: int, part: str):
    """The logo or the signature image kept for the event's certificates (settings preview)."""
    event = get_event_or_404(event_id, current_user, manage=True)
    path = image_path(event, IMAGE_PARTS[part])
    return kept_file(path, "image/png" if path and path.suffix == ".png" else "image/jpeg")


@bp.get("/e/<code>/tiket/<ticket>/sertifikat.pdf")
def ticket_certificate(code: str, ticket: str):
    """The ticket holder's own certificate (the ticket token is the key); 404 when none or revoked."""
    certificate = ticket_certificate_of(code, ticket)
    return _certificate_file(certificate)


# --- public verification ----------------------------------------------------------------------


def _verify_limit() -> str:
    return current_app.config["KIM_RATELIMIT_VERIFY"]


@bp.get("/v/")
def verify_form():
    """Type a certificate's code to check it; ``?kode=`` leads to its page."""
    code = normalise_code(queryargs.text("kode"))
    if code:
        return redirect(url_for("attendance.verify", code=code), 303)
    return render("attendance/verify.html", certificate=None, code="", missing=False)


@bp.get("/v/<code>")
@limiter.limit(_verify_limit)
def verify(code: str):
    """Whether a certificate is genuine: holder, event, number and "Sah" or "Dicabut"."""
    certificate = find_certificate(code)
    if certificate is None:
        response = render(
            "attendance/verify.html", status=404, certificate=None, code=code[:20], missing=True
        )
    else:
        event = certificate.registration.event
        response = render(
            "attendance/verify.html",
            certificate=certificate,
            registration=certificate.registration,
            event=event,
            days=event_days(event),
            revoked_on=day(to_local(event, certificate.revoked_at))
            if certificate.revoked_at
            else "",
            code=certificate.code,
            missing=False,
        )
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
