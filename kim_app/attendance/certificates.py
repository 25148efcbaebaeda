"""Certificates: the event's attendance and certificate settings, issuing to the eligible, the PDFs, and the public verification page /v/<code>.

A participant earns a certificate by being marked hadir in at least the event's minimum share of
its sessions. Issuing is repeatable: it adds certificates for the newly eligible (numbers run on
from the event's highest), revokes those whose attendance no longer meets the rule and restores
revoked ones that meet it again. A certificate's public code opens ``/v/<code>``, which shows
only the holder's name and institution, the event and the verdict.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from babel.dates import format_date
from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import contains_eager
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms import BooleanField, FileField, IntegerField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from kim_app import audit, queryargs
from kim_app.attendance import bp
from kim_app.attendance.checkin import pins_locked_minutes
from kim_app.attendance.models import Attendance, Certificate, Presence
from kim_app.attendance.operations import to_local
from kim_app.auth.models import OPERATOR_ROLES, User
from kim_app.documents import PRIVATE, pdf_response, qr_svg, render_pdf
from kim_app.errors import OperationError
from kim_app.events.documents import event_days
from kim_app.events.models import (
    CHECKIN_ALPHABET,
    CertificateRule,
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from kim_app.events.operations import get_event_or_404, local_now
from kim_app.extensions import db, limiter
from kim_app.formatting import day, when
from kim_app.htmx import redirect_after_post, render
from kim_app.i18n import document_locale
from kim_app.security import roles_required
from kim_app.timezones import utcnow
from kim_app.uploads import (
    ImageError,
    ImageTooLarge,
    reencode_image,
    sniff_type,
    upload_folder,
    upload_limit,
)

CODE_LENGTH = 10
ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
KNOWN_PLACEHOLDER = re.compile(r"no(?::0[1-9])?|tahun|bulan|kode")


class CertificateError(OperationError):
    """Certificates cannot be issued now; the message is for the user."""


# --- numbers -----------------------------------------------------------------------------------------


def number_format_problem(fmt: str) -> str | None:
    """Why ``fmt`` cannot number certificates (a message), or None when it can.

    Placeholders: ``{no}`` (required; ``{no:03}`` pads to 3 digits), ``{tahun}``, ``{bulan}``
    (the month in Roman numerals) and ``{kode}`` (the event's code).
    """
    unknown = [
        "{" + name + "}"
        for name in PLACEHOLDER.findall(fmt)
        if not KNOWN_PLACEHOLDER.fullmatch(name)
    ]
    if unknown:
        return _(
            "Kode %(codes)s tidak dikenal. Gunakan {no}, {no:03}, {tahun}, {bulan} atau {kode}.",
            codes=", ".join(unknown),
        )
    if "{" in PLACEHOLDER.sub("", fmt) or "}" in PLACEHOLDER.sub("", fmt):
        return _("Tanda kurung kurawal { } harus berpasangan, misalnya {no}.")
    if not any(name.startswith("no") for name in PLACEHOLDER.findall(fmt)):
        return _("Format harus memuat {no}, nomor urut sertifikat.")
    return None


def format_certificate_number(fmt: str, serial: int, event: Event, issued_on: date) -> str:
    """The certificate number: ``{no:03}/SERT-KIM/{bulan}/{tahun}`` → ``007/SERT-KIM/XI/2026``.

    Only the known placeholders are replaced (no ``str.format``, so a format cannot reach any
    attribute); anything else is copied as written.
    """

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name == "no":
            return str(serial)
        if name.startswith("no:0") and KNOWN_PLACEHOLDER.fullmatch(name):
            return str(serial).zfill(int(name[4:]))
        if name == "tahun":
            return str(issued_on.year)
        if name == "bulan":
            return ROMAN_MONTHS[issued_on.month - 1]
        if name == "kode":
            return event.code.upper()
        return match.group(0)

    return PLACEHOLDER.sub(replace, fmt)[:120]


# --- who earned one -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """The event's certificate rule as it stands at one moment: only sessions that have ended
    count. ``units`` is what can be attended so far (ended sessions, or days with an ended
    session under the every-day rule) and ``needed`` how many of them earn a certificate."""

    by_day: bool
    total: int  # every session of the event
    ended: tuple[int, ...]  # ids of the sessions that have ended
    days: dict[int, int]  # ended session id → its day's number (the every-day rule)
    units: int
    needed: int
    final: bool  # every session has ended: issuing may go ahead


def certificate_rule(event: Event, now: datetime | None = None) -> Rule | None:
    """The rule at ``now`` (local time; the event's clock by default); None when certificates
    are off or the event has no sessions."""
    if event.certificate_min_percent is None or not event.sessions:
        return None
    now = now or local_now(event)
    ended = [s for s in event.sessions if s.ends_at <= now]
    dates = sorted({s.starts_at.date() for s in ended})
    days = {s.id: dates.index(s.starts_at.date()) for s in ended}
    by_day = event.certificate_rule is CertificateRule.SETIAP_HARI
    if by_day:
        units = needed = len(dates)
    else:  # the least n with n × 100 ≥ min × ended
        units = len(ended)
        needed = -(-event.certificate_min_percent * units // 100)
    return Rule(
        by_day=by_day,
        total=len(event.sessions),
        ended=tuple(s.id for s in ended),
        days=days,
        units=units,
        needed=needed,
        final=len(ended) == len(event.sessions),
    )


def _attended(event: Event, rule: Rule):
    """SELECT registration_id, n — n the ended sessions attended (hadir), or under the every-day
    rule the days with at least one of them — for one event, grouped once."""
    n = (
        sa.func.count(sa.distinct(sa.case(rule.days, value=Attendance.session_id)))
        if rule.by_day and rule.days
        else sa.func.count()
    )
    return (
        sa.select(Attendance.registration_id.label("registration_id"), n.label("n"))
        .join(EventSession, EventSession.id == Attendance.session_id)
        .where(
            EventSession.event_id == event.id,
            Attendance.status == Presence.HADIR,
            Attendance.session_id.in_(rule.ended) if rule.ended else sa.false(),
        )
        .group_by(Attendance.registration_id)
    )


def attended_counts(event: Event, now: datetime | None = None) -> dict[int, int]:
    """What counts toward the rule per registration (sessions, or days), for those with any,
    in one query; empty when certificates are off."""
    rule = certificate_rule(event, now)
    if rule is None:
        return {}
    return {rid: n for rid, n in db.session.execute(_attended(event, rule))}


def _meets(attended, rule: Rule):
    """Whether ``attended`` earns a certificate: something has ended and enough of it was attended."""
    return attended >= rule.needed if rule.needed else sa.false()


def eligible_registrations(event: Event, now: datetime | None = None) -> list[Registration]:
    """Registered (terdaftar) people who meet the rule over the sessions ended by ``now``, by
    name; empty when certificates are off, no session has ended, or the event has no sessions."""
    rule = certificate_rule(event, now)
    if rule is None or not rule.needed:
        return []
    counts = _attended(event, rule).subquery()
    return list(
        db.session.scalars(
            sa.select(Registration)
            .join(counts, counts.c.registration_id == Registration.id)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.TERDAFTAR,
                Registration.erased_at.is_(None),  # an erased person is a count, not a holder
                _meets(counts.c.n, rule),
            )
            .order_by(Registration.name, Registration.id)
        )
    )


def rule_text(event: Event, rule: Rule) -> str:
    """The rule in one sentence, for the certificates page."""
    if rule.by_day:
        days = len({s.starts_at.date() for s in event.sessions})
        return _(
            "Syarat: hadir setiap hari, minimal satu sesi tiap hari (%(days)d hari).", days=days
        )
    return _(
        "Syarat: hadir minimal %(percent)d%% sesi, yaitu %(needed)d dari %(total)d sesi.",
        percent=event.certificate_min_percent,
        needed=-(-event.certificate_min_percent * rule.total // 100),
        total=rule.total,
    )


# --- issuing ------------------------------------------------------------------------------------------


@dataclass
class Issued:
    """What one round of issuing did."""

    issued: int = 0
    revoked: int = 0
    restored: int = 0


def _new_codes(n: int) -> list[str]:
    """``n`` random codes (31¹⁰ ≈ 8 × 10¹⁴ possible), none already taken."""
    codes: set[str] = set()
    while len(codes) < n:
        wanted = {
            "".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(CODE_LENGTH))
            for _ in range(n - len(codes))
        }
        taken = set(
            db.session.scalars(sa.select(Certificate.code).where(Certificate.code.in_(wanted)))
        )
        codes |= wanted - taken
    return sorted(codes, key=lambda _c: secrets.randbelow(1 << 30))


def not_yet_text(event: Event) -> str:
    """Why certificates wait: the last session has not ended yet."""
    return _(
        "Sertifikat dapat diterbitkan setelah sesi terakhir selesai, %(when)s. Hanya sesi yang "
        "sudah selesai yang dihitung.",
        when=when(event.ends_at, event),
    )


def issue_certificates(event: Event, by: User | None) -> Issued:
    """Bring the event's certificates in line with attendance: issue to the newly eligible,
    revoke those no longer eligible, restore revoked ones eligible again. Audited. Only once
    every session has ended, so that attendance still to come cannot be missed."""
    if event.certificate_min_percent is None:
        raise CertificateError(_("Sertifikat belum diaktifkan di pengaturan absensi kegiatan ini."))
    if not event.sessions:
        raise CertificateError(_("Kegiatan ini belum memiliki sesi."))
    if event.status is EventStatus.DIBATALKAN:
        raise CertificateError(_("Kegiatan ini dibatalkan; sertifikat tidak diterbitkan."))
    now = local_now(event)
    if event.ends_at > now:
        raise CertificateError(not_yet_text(event))
    # one issuer at a time per event (PostgreSQL row lock; SQLite writes are serial anyway)
    db.session.execute(sa.select(Event.id).where(Event.id == event.id).with_for_update())
    eligible = eligible_registrations(event, now)
    existing = {
        c.registration_id: c
        for c in db.session.scalars(sa.select(Certificate).where(Certificate.event_id == event.id))
    }
    eligible_ids = {r.id for r in eligible}
    result = Issued()
    now = utcnow()
    for registration_id, certificate in existing.items():
        if registration_id not in eligible_ids and certificate.revoked_at is None:
            certificate.revoked_at = now
            result.revoked += 1
        elif registration_id in eligible_ids and certificate.revoked_at is not None:
            certificate.revoked_at = None
            result.restored += 1
    newcomers = [r for r in eligible if r.id not in existing]
    serial = max((c.serial for c in existing.values()), default=0)
    issued_on = local_now(event).date()
    for registration, code in zip(newcomers, _new_codes(len(newcomers)), strict=True):
        serial += 1
        db.session.add(
            Certificate(
                registration_id=registration.id,
                event_id=event.id,
                serial=serial,
                number=format_certificate_number(
                    event.certificate_number_format, serial, event, issued_on
                ),
                code=code,
                issued_at=now,
                issued_by_id=getattr(by, "id", None),
            )
        )
        result.issued += 1
    db.session.flush()
    audit.record(
        "certificate.issue",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"issued": result.issued, "revoked": result.revoked, "restored": result.restored},
        actor=by,
    )
    return result


# --- finding and drawing ------------------------------------------------------------------------------


def normalise_code(text: str) -> str:
    """What a person typed (``k7m4-qxp2 ab``) as a stored code: upper case, letters and digits."""
    return "".join(c for c in (text or "").upper() if c.isalnum())[:16]


def find_certificate(code: str) -> Certificate | None:
    """The certificate with this public code (valid or revoked), its registration and event
    loaded in the same query; None when there is none."""
    code = normalise_code(code)
    if not code:
        return None
    return db.session.scalar(
        sa.select(Certificate)
        .options(contains_eager(Certificate.registration).contains_eager(Registration.event))
        .join(Certificate.registration)
        .join(Registration.event)
        .where(Certificate.code == code)
    )


def valid_certificate(registration_id: int) -> Certificate | None:
    """The registration's certificate when it has one that is not revoked (for the ticket page)."""
    return db.session.scalar(
        sa.select(Certificate).where(
            Certificate.registration_id == registration_id, Certificate.revoked_at.is_(None)
        )
    )


def verify_url(certificate: Certificate) -> str:
    return url_for("attendance.verify", code=certificate.code, _external=True)


# --- the logo and the signature -----------------------------------------------------------------------

IMAGE_MAX_BYTES = 2 * 1024 * 1024
UPLOAD_OVERHEAD = 16 * 1024  # the settings form's other fields around the two files
# the longest side kept: sharp enough printed 3 cm (logo) or 6 cm (signature) wide at 300 dpi
IMAGE_SIDES = {"certificate_logo": 600, "signer_signature": 900}
IMAGE_SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg"}
IMAGE_FOLDER = "sertifikat"
# the URL part of each image (/absensi/kegiatan/<id>/sertifikat/<part>)
IMAGE_PARTS = {"logo": "certificate_logo", "tanda-tangan": "signer_signature"}


def clean_image(data: bytes, column: str) -> tuple[bytes, str]:
    """A logo or signature as it will be kept: a JPEG or PNG, re-encoded without metadata and
    at most ``IMAGE_SIDES`` pixels long; returns ``(bytes, suffix)``. Raises CertificateError
    with a message for the person who uploaded it."""
    if len(data) > IMAGE_MAX_BYTES:
        raise CertificateError(_("Gambar paling besar 2 MB."))
    mime = sniff_type(data[:16])
    if mime not in IMAGE_SUFFIXES:
        raise CertificateError(_("Gambar harus berupa berkas PNG atau JPEG."))
    try:
        body, _w, _h = reencode_image(data, mime, IMAGE_SIDES[column])
    except ImageTooLarge as error:
        raise CertificateError(str(error)) from None
    except ImageError:
        raise CertificateError(
            _("Gambar tidak dapat dibaca. Unggah ulang sebagai PNG atau JPEG.")
        ) from None
    return body, IMAGE_SUFFIXES[mime]


def image_path(event: Event, column: str) -> Path | None:
    """Where the event's logo or signature is kept; None when it has none."""
    name = getattr(event, column)
    if not name:
        return None
    path = upload_folder(IMAGE_FOLDER) / Path(name).name
    return path if path.is_file() else None


def set_image(event: Event, column: str, cleaned: tuple[bytes, str] | None) -> None:
    """Keep a cleaned image under a new random name (``None`` removes it); the old file goes."""
    old = image_path(event, column)
    name = ""
    if cleaned is not None:
        body, suffix = cleaned
        name = secrets.token_hex(16) + suffix
        (upload_folder(IMAGE_FOLDER) / name).write_bytes(body)
    setattr(event, column, name)
    if old is not None:
        old.unlink(missing_ok=True)


def _data_uri(event: Event, column: str) -> str:
    """The image as a data: URI for WeasyPrint (no file path reaches the renderer)."""
    path = image_path(event, column)
    if path is None:
        return ""
    mime = "image/png" if path.suffix == ".png" else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


# --- the PDF ------------------------------------------------------------------------------------------


def certificate_pdf(certificates: list[Certificate]) -> bytes:
    """One A4 landscape page per certificate (WeasyPrint, ``attendance/certificate.html``),
    each with the agency's logo, a QR code to its verification page and the code written under
    it, and the signing official's name, NIP and signature image."""
    pages, images = [], {}
    for certificate in certificates:
        event = certificate.registration.event
        if event.id not in images:  # read each image once, however many pages
            images[event.id] = {column: _data_uri(event, column) for column in IMAGE_SIDES}
        url = verify_url(certificate)
        pages.append(
            {
                "certificate": certificate,
                "registration": certificate.registration,
                "event": event,
                "days": event_days(event),
                "issued_on": format_date(
                    to_local(event, certificate.issued_at).date(),
                    "long",  # the document's language's long date, as on every document
                    locale=str(get_locale() or "id"),
                ),
                "url": url,
                "short_url": url.split("://", 1)[-1],
                "qr": qr_svg(url, _("Kode QR verifikasi sertifikat"), namespace=True),
                "logo": images[event.id]["certificate_logo"],
                "signature": images[event.id]["signer_signature"],
            }
        )
    return render_pdf(render_template("attendance/certificate.html", pages=pages))


# --- views: settings ----------------------------------------------------------------------------------

BAD_NUMBER = _l("Tuliskan angka saja.")
TOO_LONG = _l("Paling banyak %(max)d karakter.")


def _digits(_form, field) -> None:
    field.data = (field.data or "").strip()
    if field.data and not field.data.isdigit():
        raise ValidationError(_l("Hanya angka, tanpa spasi atau titik."))


# a new venue PIN has at least six digits: a million to try, against the per-event limit on wrong
# PINs at self check-in (KIM_RATELIMIT_PIN). Four-digit PINs saved before still work; the settings
# page asks for a new one.
PIN_DIGITS = 6


def _pin(_form, field) -> None:
    if field.data and field.data.isdigit() and not PIN_DIGITS <= len(field.data) <= 8:
        raise ValidationError(_l("PIN terdiri dari 6–8 angka, atau kosongkan."))


def _number_format(_form, field) -> None:
    field.data = (field.data or "").strip()
    problem = number_format_problem(field.data)
    if problem:
        raise ValidationError(problem)


class SettingsForm(FlaskForm):
    """The attendance and certificate settings of one event."""

    checkin_on = BooleanField(_l("Peserta boleh presensi mandiri dari ponselnya"))
    checkin_opens_minutes = IntegerField(
        _l("Presensi mandiri dibuka (menit sebelum sesi mulai)"),
        validators=[
            Optional(),
            NumberRange(0, 240, _l("Antara 0 dan 240 menit.")),
        ],
        invalid_value_message=BAD_NUMBER,
        render_kw={"min": 0, "max": 240, "inputmode": "numeric"},
        description=_l("Ditutup saat sesi berakhir. 0 = dibuka tepat saat sesi mulai."),
    )
    venue_pin = StringField(
        _l("PIN lokasi"),
        validators=[_digits, _pin],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 8},
        description=_l(
            "6–8 angka yang ditampilkan di ruangan, agar tidak ada yang presensi dari rumah. "
            "Kosongkan bila tidak perlu."
        ),
    )
    signatures = BooleanField(_l("Minta tanda tangan peserta saat presensi"))
    signer_name = StringField(
        _l("Nama pejabat penandatangan"), validators=[Length(max=120, message=TOO_LONG)]
    )
    signer_position = StringField(
        _l("Jabatan"),
        validators=[Length(max=200, message=TOO_LONG)],
        description=_l("Misalnya Kepala Dinas Komunikasi dan Informatika."),
    )
    signer_nip = StringField(
        _l("NIP (boleh kosong)"),
        validators=[_digits, Length(max=30, message=TOO_LONG)],
        render_kw={"inputmode": "numeric"},
        description=_l("Angka saja; NIP PNS terdiri dari 18 angka."),
    )
    signer_signature = FileField(
        _l("Gambar tanda tangan pejabat (boleh kosong)"),
        description=_l(
            "PNG atau JPEG, paling besar 2 MB; tanda tangan di kertas putih, difoto atau dipindai."
        ),
        render_kw={"accept": "image/png,image/jpeg"},
    )
    remove_signer_signature = BooleanField(_l("Hapus gambar tanda tangan"))
    certificate_logo = FileField(
        _l("Logo instansi (boleh kosong)"),
        description=_l("PNG atau JPEG, paling besar 2 MB; dicetak di atas sertifikat."),
        render_kw={"accept": "image/png,image/jpeg"},
    )
    remove_certificate_logo = BooleanField(_l("Hapus logo"))
    certificates_on = BooleanField(_l("Terbitkan sertifikat bagi peserta yang cukup hadir"))
    certificate_rule = RadioField(
        _l("Syarat kehadiran"), default=CertificateRule.PERSEN.value, validate_choice=False
    )
    certificate_min_percent = IntegerField(
        _l("Kehadiran minimal (persen dari jumlah sesi)"),
        validators=[Optional(), NumberRange(1, 100, _l("Antara 1 dan 100."))],
        invalid_value_message=BAD_NUMBER,
        render_kw={"min": 1, "max": 100, "inputmode": "numeric"},
    )
    certificate_number_format = StringField(
        _l("Format nomor sertifikat"),
        validators=[_number_format, Length(max=80, message=TOO_LONG)],
        description=_l(
            "{no} nomor urut ({no:03} menjadi 001), {bulan} bulan dalam angka Romawi, "
            "{tahun} tahun, {kode} kode kegiatan."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # labels in the reader's language, so made per request
        self.certificate_rule.choices = [SelectChoice(r.value, r.label) for r in CertificateRule]

    def validate_checkin_opens_minutes(self, field) -> None:
        if self.checkin_on.data and field.data is None:
            raise ValidationError(_l("Isi berapa menit sebelum sesi presensi dibuka."))

    def validate_certificate_rule(self, field) -> None:
        if field.data not in {rule.value for rule in CertificateRule}:
            field.data = CertificateRule.PERSEN.value
            raise ValidationError(_l("Pilih salah satu syarat kehadiran."))

    def validate_certificate_min_percent(self, field) -> None:
        if (
            self.certificates_on.data
            and self.certificate_rule.data == CertificateRule.PERSEN
            and field.data is None
        ):
            raise ValidationError(_l("Isi kehadiran minimal, misalnya 75."))

    def validate_signer_signature(self, field) -> None:
        field.cleaned = _uploaded_image(field, "signer_signature")

    def validate_certificate_logo(self, field) -> None:
        field.cleaned = _uploaded_image(field, "certificate_logo")


def _uploaded_image(field, column: str) -> tuple[bytes, str] | None:
    """The cleaned image a file field carries, or None when no file was chosen."""
    upload = field.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None
    try:
        return clean_image(upload.read(IMAGE_MAX_BYTES + 1), column)
    except CertificateError as error:
        raise ValidationError(_("%(problem)s Pilih berkasnya lagi.", problem=str(error))) from None


SETTING_FIELDS = (
    "checkin_opens_minutes",
    "venue_pin",
    "signatures",
    "signer_name",
    "signer_position",
    "signer_nip",
    "certificate_min_percent",
    "certificate_rule",
    "certificate_number_format",
)


def _form_for(event: Event) -> SettingsForm:
    form = SettingsForm(formdata=None, obj=event)
    form.checkin_on.data = event.checkin_opens_minutes is not None
    form.checkin_opens_minutes.data = event.checkin_opens_minutes
    if form.checkin_opens_minutes.data is None:
        form.checkin_opens_minutes.data = 60
    form.certificates_on.data = event.certificate_min_percent is not None
    if event.certificate_min_percent is None:
        form.certificate_min_percent.data = 75
    form.certificate_rule.data = (event.certificate_rule or CertificateRule.PERSEN).value
    return form


def _min_percent(event: Event, form: SettingsForm) -> int | None:
    """The stored share: None turns certificates off. The every-day rule does not use it, so an
    empty field there keeps what was saved (or 100)."""
    if not form.certificates_on.data:
        return None
    if form.certificate_min_percent.data is not None:
        return form.certificate_min_percent.data
    return event.certificate_min_percent or 100


def update_settings(event: Event, form: SettingsForm, by: User) -> dict:
    """Apply the form to the event; returns (and audits) the fields that changed."""
    values = {
        "checkin_opens_minutes": form.checkin_opens_minutes.data if form.checkin_on.data else None,
        "venue_pin": form.venue_pin.data or "",
        "signatures": bool(form.signatures.data),
        "signer_name": (form.signer_name.data or "").strip(),
        "signer_position": (form.signer_position.data or "").strip(),
        "signer_nip": form.signer_nip.data or "",
        "certificate_min_percent": _min_percent(event, form),
        "certificate_rule": CertificateRule(form.certificate_rule.data),
        "certificate_number_format": form.certificate_number_format.data,
    }
    changes = {}
    for name, value in values.items():
        old = getattr(event, name)
        if old != value:
            # the PIN itself stays out of the log: only that it changed
            changes[name] = "diubah" if name == "venue_pin" else [old, value]
            setattr(event, name, value)
    for column in IMAGE_SIDES:  # the files themselves stay out of the log
        cleaned = getattr(form[column], "cleaned", None)
        if cleaned is not None:
            set_image(event, column, cleaned)
            changes[column] = "diubah"
        elif form["remove_" + column].data and getattr(event, column):
            set_image(event, column, None)
            changes[column] = "dihapus"
    if changes:
        audit.record(
            "event.attendance_settings",
            "event",
            event.id,
            region_code=event.region_code,
            changes=changes,
            actor=by,
        )
    return changes


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
                form=_form_for(event),
                **_example(event, queryargs.text("certificate_number_format", 80)),
            )
        return _settings_page(event, _form_for(event))
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


# --- views: certificates ------------------------------------------------------------------------------

PER_PAGE = 50


def _summary(event: Event, rule: Rule | None) -> dict:
    """Participants, eligible (so far), valid and revoked certificates — one aggregate query."""
    if rule is not None:
        counts = _attended(event, rule).subquery()
        eligible = _meets(sa.func.coalesce(counts.c.n, 0), rule)
    else:
        counts, eligible = None, sa.false()
    terdaftar = Registration.status == RegistrationStatus.TERDAFTAR
    query = sa.select(
        sa.func.count(Registration.id).filter(terdaftar),
        sa.func.count(Registration.id).filter(terdaftar, eligible),
        sa.func.count(Certificate.id).filter(Certificate.revoked_at.is_(None)),
        sa.func.count(Certificate.id).filter(Certificate.revoked_at.is_not(None)),
    ).select_from(Registration)
    if counts is not None:
        query = query.outerjoin(counts, counts.c.registration_id == Registration.id)
    row = db.session.execute(
        query.outerjoin(Certificate, Certificate.registration_id == Registration.id).where(
            Registration.event_id == event.id
        )
    ).one()
    return dict(zip(("participants", "eligible", "valid", "revoked"), row, strict=True))


def _rows(event: Event, rule: Rule | None, page: int) -> list:
    """One page of participants (registered, or holding a certificate) with what they attended
    of the ended sessions (sessions, or days) and their certificate, by name — one query."""
    if rule is not None:
        counts = _attended(event, rule).subquery()
        attended = sa.func.coalesce(counts.c.n, 0)
    else:
        counts, attended = None, sa.literal(0)
    query = sa.select(
        Registration.id,
        Registration.name,
        Registration.institution,
        Registration.status,
        attended,
        Certificate.number,
        Certificate.revoked_at,
    ).select_from(Registration)
    if counts is not None:
        query = query.outerjoin(counts, counts.c.registration_id == Registration.id)
    return list(
        db.session.execute(
            query.outerjoin(Certificate, Certificate.registration_id == Registration.id)
            .where(*_listed(event))
            .order_by(Registration.name, Registration.id)
            .limit(PER_PAGE + 1)
            .offset((page - 1) * PER_PAGE)
        )
    )


def _listed(event: Event) -> tuple:
    """Who the list holds: the event's registered people and anyone holding a certificate
    (with ``Certificate`` outer-joined)."""
    return (
        Registration.event_id == event.id,
        sa.or_(Registration.status == RegistrationStatus.TERDAFTAR, Certificate.id.is_not(None)),
    )


def _listed_count(event: Event) -> int:
    """How many people the list holds, for its last page."""
    return db.session.scalar(
        sa.select(sa.func.count(Registration.id))
        .outerjoin(Certificate, Certificate.registration_id == Registration.id)
        .where(*_listed(event))
    )


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
    rows = _rows(event, rule, page)
    if not rows and page > 1:  # past the last page (an old link, a typed number): the last one
        page = max(1, -(-_listed_count(event) // PER_PAGE))
        rows = _rows(event, rule, page)
    return render(
        "attendance/certificates.html",
        "attendance/_certificate_rows.html",
        event=event,
        total=len(event.sessions),
        done=len(rule.ended) if rule else 0,
        rule=rule,
        rule_text=rule_text(event, rule) if rule else "",
        not_yet=not_yet_text(event) if rule and not rule.final else "",
        summary=_summary(event, rule),
        rows=rows[:PER_PAGE],
        more=len(rows) > PER_PAGE,
        page=page,
        here=here,
        form=FlaskForm(),
    )


@bp.get("/absensi/kegiatan/<int:event_id>/sertifikat.pdf")
@roles_required(*OPERATOR_ROLES)
def certificates_pdf(event_id: int):
    """Every valid certificate of the event, one page each, in one PDF to print."""
    event = get_event_or_404(event_id, current_user, manage=True)
    valid = list(
        db.session.scalars(
            sa.select(Certificate)
            .options(contains_eager(Certificate.registration))
            .join(Certificate.registration)
            .where(Certificate.event_id == event.id, Certificate.revoked_at.is_(None))
            .order_by(Certificate.serial)
        )
    )
    if not valid:
        flash(_("Belum ada sertifikat yang berlaku untuk dicetak."), "error")
        return redirect(url_for("attendance.certificates", event_id=event.id), 303)
    with document_locale():
        body = certificate_pdf(valid)
    return pdf_response(body, f"sertifikat-{event.code}.pdf")


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
    certificate = db.session.scalar(
        sa.select(Certificate)
        .options(contains_eager(Certificate.registration))
        .join(Certificate.registration)
        .where(
            Certificate.event_id == event.id,
            Certificate.registration_id == registration_id,
            Certificate.revoked_at.is_(None),
        )
    )
    return _certificate_file(certificate)


@bp.get("/absensi/kegiatan/<int:event_id>/sertifikat/<any(logo, 'tanda-tangan'):part>")
@roles_required(*OPERATOR_ROLES)
def certificate_image(event_id: int, part: str):
    """The logo or the signature image kept for the event's certificates (settings preview)."""
    event = get_event_or_404(event_id, current_user, manage=True)
    path = image_path(event, IMAGE_PARTS[part])
    if path is None:
        abort(404)
    response = make_response(path.read_bytes())
    response.headers["Content-Type"] = "image/png" if path.suffix == ".png" else "image/jpeg"
    response.headers.update(PRIVATE)
    return response


@bp.get("/e/<code>/tiket/<ticket>/sertifikat.pdf")
def ticket_certificate(code: str, ticket: str):
    """The ticket holder's own certificate (the ticket token is the key); 404 when none or revoked."""
    certificate = db.session.scalar(
        sa.select(Certificate)
        .options(contains_eager(Certificate.registration).contains_eager(Registration.event))
        .join(Certificate.registration)
        .join(Registration.event)
        .where(
            Event.code == code,
            Event.status != EventStatus.DRAFT,
            Registration.ticket == ticket,
            Certificate.revoked_at.is_(None),
        )
    )
    return _certificate_file(certificate)


# --- views: public verification ----------------------------------------------------------------------


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
