"""Certificates, the PDF: one A4 landscape page per certificate, with the agency's logo, a QR
code to its verification page and the signing official."""

from __future__ import annotations

import base64
import re
import zipfile
from collections.abc import Callable
from typing import BinaryIO

from babel.dates import format_date
from flask import render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from kim_app.attendance.certificates.operations import IMAGE_SIDES, image_path
from kim_app.attendance.certificates.queries import printable_certificates
from kim_app.attendance.models import Certificate
from kim_app.attendance.operations import to_local
from kim_app.documents import qr_svg, render_pdf
from kim_app.events.documents import event_days
from kim_app.events.models import Event
from kim_app.extensions import db
from kim_app.files.operations import FileGone, Progress, builder


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


# pages laid out at a time: the progress a prepared file shows moves every chunk
CHUNK = 20


def _page(certificate: Certificate, images: dict) -> dict:
    event = certificate.registration.event
    if event.id not in images:  # read each image once, however many pages
        images[event.id] = {column: _data_uri(event, column) for column in IMAGE_SIDES}
    url = verify_url(certificate)
    return {
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


def certificate_pdf(
    certificates: list[Certificate],
    *,
    progress: Callable[[int, int], None] | None = None,
    target: BinaryIO | None = None,
) -> bytes | None:
    """One A4 landscape page per certificate (WeasyPrint, ``attendance/certificate.html``),
    each with the agency's logo, a QR code to its verification page and the code written under
    it, and the signing official's name, NIP and signature image. Laid out ``CHUNK`` pages at a
    time, telling ``progress(certificates done, all)``; written to ``target`` when given."""
    images: dict = {}
    documents = [
        render_template(
            "attendance/certificate.html",
            pages=[_page(c, images) for c in certificates[i : i + CHUNK]],
        )
        for i in range(0, len(certificates), CHUNK)
    ]
    total = len(certificates)

    def chunks_done(done: int, _documents: int) -> None:
        if progress is not None:
            progress(min(done * CHUNK, total), total)

    return render_pdf(*documents, progress=chunks_done, target=target)


def zip_name(certificate: Certificate) -> str:
    """``0007 Siti Aminah.pdf``: the number in the event's order, then the person's name, with
    nothing a file system could read as a folder or a device."""
    name = re.sub(r"[^\w .,'-]+", " ", certificate.registration.name, flags=re.UNICODE)
    name = " ".join(name.split())[:80].strip(" .") or certificate.code
    return f"{certificate.serial:04d} {name}.pdf"


def certificates_zip(
    certificates: list[Certificate],
    target: BinaryIO,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """A ZIP of one PDF per certificate, named by person (``zip_name``), in number order. The
    entries carry a fixed date, so the same certificates make the same bytes."""
    images: dict = {}
    total = len(certificates)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for done, certificate in enumerate(certificates, 1):
            html = render_template(
                "attendance/certificate.html", pages=[_page(certificate, images)]
            )
            entry = zipfile.ZipInfo(zip_name(certificate), date_time=(2026, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, render_pdf(html))
            if progress is not None:
                progress(done, total)


# --- as prepared files (kim_app.files): the worker makes the big ones --------------------------------

# made inside the request up to this many certificates (about half a second); more go to the worker
AT_ONCE = 20


def _valid_of(params: dict) -> list[Certificate]:
    event = db.session.get(Event, params["event_id"])
    certificates = printable_certificates(event) if event is not None else []
    if not certificates:
        raise FileGone
    return certificates


@builder("sertifikat_pdf")
def certificates_pdf_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    """Every valid certificate of ``params["event_id"]`` in one PDF."""
    certificate_pdf(_valid_of(params), progress=progress, target=out)


@builder("sertifikat_zip")
def certificates_zip_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    """Every valid certificate of ``params["event_id"]``, one PDF each, in a ZIP."""
    certificates_zip(_valid_of(params), out, progress)
