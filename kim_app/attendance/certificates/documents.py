"""Certificates, the PDF: one A4 landscape page per certificate, with the agency's logo, a QR
code to its verification page and the signing official."""

from __future__ import annotations

import base64

from babel.dates import format_date
from flask import render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from kim_app.attendance.certificates.operations import IMAGE_SIDES, image_path
from kim_app.attendance.models import Certificate
from kim_app.attendance.operations import to_local
from kim_app.documents import qr_svg, render_pdf
from kim_app.events.documents import event_days
from kim_app.events.models import Event


def verify_url(certificate: Certificate) -> str:
    return url_for("attendance.verify", code=certificate.code, _external=True)


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
