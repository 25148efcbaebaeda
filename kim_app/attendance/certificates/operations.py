"""Certificates, the writes: issuing to the eligible (repeatable), the event's attendance and
certificate settings, and the logo and signature images kept for the PDF.

Issuing is repeatable: it adds certificates for the newly eligible (numbers run on from the
event's highest), revokes those whose attendance no longer meets the rule and restores revoked
ones that meet it again. Operations flush; the request commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import gettext as _

from kim_app import audit
from kim_app.attendance.certificates.queries import (
    eligible_registrations,
    format_certificate_number,
    not_yet_text,
)
from kim_app.attendance.models import Certificate
from kim_app.auth.models import User
from kim_app.errors import OperationError
from kim_app.events.models import CHECKIN_ALPHABET, CertificateRule, Event, EventStatus
from kim_app.events.operations import local_now
from kim_app.extensions import db
from kim_app.timezones import utcnow
from kim_app.uploads import (
    ImageError,
    ImageTooLarge,
    reencode_image,
    sniff_type,
    upload_folder,
)

if TYPE_CHECKING:
    from kim_app.attendance.certificates.forms import SettingsForm

CODE_LENGTH = 10


class CertificateError(OperationError):
    """Certificates cannot be issued now; the message is for the user."""


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


# --- the settings ----------------------------------------------------------------------------------


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
