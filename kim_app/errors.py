"""Error pages: translated, with the right status, as a fragment for htmx requests; and the one
base class of the errors operations raise (``OperationError``), shown on a form by ``attach_error``.

For htmx the message is swapped into the page's message area (``#pesan``) instead of whatever
the request targeted, so a failed action never replaces part of a form with an error page.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, g, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from kim_app import transactions
from kim_app.extensions import db, limiter
from kim_app.htmx import is_htmx

log = logging.getLogger(__name__)

# how long a client is asked to wait after a database outage (a PostgreSQL restart takes seconds)
RETRY_AFTER_SECONDS = 10
# the database cannot be reached or answer: the server is down or restarting, a connection was
# cut (the pool is invalidated and reconnects with pre-ping), SQLite stayed locked past its busy
# timeout, or no pooled connection was free in time
DATABASE_DOWN = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


class OperationError(ValueError):
    """An operation that cannot be done: the message is for the user, ``field`` names the input
    it is about (``pengurus-2-phone``: a row of a list of fields), or None for the whole form."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def decision_note(note: str, *, passed: bool, fix: bool, error: type[OperationError]) -> str:
    """The note of a reviewer's decision, spaces tidied and at most 500 characters; required
    unless the thing passed: what to fix (``fix``), or why it is refused."""
    note = " ".join(note.split())[:500]
    if not passed and not note:
        raise error(_("Tulis apa yang perlu diperbaiki.") if fix else _("Tulis alasannya."), "note")
    return note


def attach_error(form, error: OperationError, field: str | None = None) -> None:
    """Show ``error`` on the form field it names (``field`` overrides ``error.field``): a field,
    a row's field of a list (``name-N-sub``), else a ``<field>_error`` the form shows by itself
    (a part that is not a field), else above the form."""
    message = str(error)
    name = error.field if field is None else field
    target = _form_field(form, name) if name else None
    if target is not None:
        target.errors = [*target.errors, message]
    elif name and hasattr(form, f"{name}_error"):
        setattr(form, f"{name}_error", message)
    else:
        form.form_errors.append(message)


def _form_field(form, name: str):
    if name in form:
        return form[name]
    head, _sep, rest = name.partition("-")
    index, _sep, sub = rest.partition("-")
    if head in form and index.isdigit() and sub:
        entries = getattr(form[head], "entries", [])
        if int(index) < len(entries) and sub in entries[int(index)].form:
            return entries[int(index)].form[sub]
    return None


def _messages(code: int) -> tuple[str, str]:
    return {
        400: (
            _("Permintaan tidak dapat diproses"),
            _("Data yang dikirim tidak lengkap atau rusak."),
        ),
        403: (_("Akses ditolak"), _("Akun Anda tidak memiliki izin untuk membuka halaman ini.")),
        404: (
            _("Halaman tidak ditemukan"),
            _("Alamat ini tidak ada atau berada di luar wilayah kerja Anda."),
        ),
        405: (
            _("Cara akses tidak didukung"),
            _("Halaman ini tidak dapat dibuka dengan cara tersebut."),
        ),
        413: (
            _("Berkas terlalu besar"),
            _("Ukuran kiriman melebihi batas %(mb)s MB. Kecilkan berkas lalu kirim ulang."),
        ),
        429: (_("Terlalu banyak percobaan"), _("Tunggu sebentar sebelum mencoba lagi.")),
        500: (
            _("Terjadi kesalahan"),
            _("Maaf, ada kesalahan di server. Kesalahan ini sudah dicatat; silakan coba lagi."),
        ),
        503: (
            _("Layanan sedang tidak tersedia"),
            _("Basis data tidak dapat dihubungi. Coba lagi beberapa saat lagi."),
        ),
    }.get(code, (_("Terjadi kesalahan"), ""))


def error_response(code: int, title: str | None = None, message: str | None = None, headers=None):
    """Render the error page (full) or its fragment (htmx, retargeted to the message area)."""
    default_title, default_message = _messages(code)
    context = {"code": code, "title": title or default_title, "message": message or default_message}
    if is_htmx():
        response = make_response(render_template("errors/_error.html", **context), code)
        response.headers["HX-Retarget"] = "#pesan"
        response.headers["HX-Reswap"] = "innerHTML show:top"  # in view, however far down
    else:
        response = make_response(render_template("errors/error.html", **context), code)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_error(error: HTTPException):
    code = error.code or 500
    if code == 413:
        limit = request.max_content_length or 0  # this request's limit (an upload may set its own)
        title, template = _messages(413)
        return error_response(413, title, template % {"mb": f"{limit / 1024 / 1024:.0f}"})
    if code == 429:
        seconds = _retry_after()
        # the title already says "too many attempts": the message says when to come back
        if seconds < 120:
            message = _("Coba lagi dalam %(n)d detik.", n=seconds)
        else:
            message = _("Coba lagi dalam %(n)d menit.", n=-(-seconds // 60))
        return error_response(429, None, message, headers={"Retry-After": str(seconds)})
    if code in (400, 403, 404, 405, 500, 503):
        return error_response(code)
    return error_response(code, error.name, error.description)


def _retry_after() -> int:
    """Seconds until the exceeded limit resets (sent as ``Retry-After`` too)."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


def _csrf_error(_error: CSRFError):
    return error_response(
        400,
        _("Formulir kedaluwarsa"),
        _(
            "Formulir ini sudah kedaluwarsa atau tidak sah. Muat ulang halaman, lalu kirim sekali lagi."
        ),
    )


def _database_down(error: Exception):
    """503 with ``Retry-After``; the session is rolled back so the next request starts clean."""
    transactions.roll_back()  # also when the outage came before the view (loading the user)
    g._login_user = AnonymousUserMixin()  # the page must not try to load the user again
    cause = getattr(error, "orig", None) or error
    # the endpoint, not the path: a path may hold a ticket token
    log.error("database unavailable (%s): %s", request.endpoint or "-", type(cause).__name__)
    return error_response(503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _end_session(_error: BaseException | None) -> None:
    """Close the request's session before Flask-SQLAlchemy would. Closing rolls back, which
    fails when the server cut the connection after the response was made (a restart); closing
    once more hands the dead connection back to the pool, which discards it."""
    try:
        db.session.remove()
    except DATABASE_DOWN:
        log.warning("database connection lost after the response; discarded")
        db.session.remove()


def _unexpected(error: InternalServerError):
    log.error(
        "unhandled error on %s %s", request.method, request.path, exc_info=error.original_exception
    )
    transactions.roll_back()  # the page must be shown, whatever state the session is in
    return error_response(500)


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    for kind in DATABASE_DOWN:
        app.register_error_handler(kind, _database_down)
    app.register_error_handler(InternalServerError, _unexpected)
    # registered after Flask-SQLAlchemy's own teardown, so it runs before it
    app.teardown_appcontext(_end_session)
    app.register_error_handler(HTTPException, _http_error)
