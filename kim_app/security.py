"""Who may see what: the wilayah-scope rule (DESIGN §2), role checks and security headers,
and request values without NUL (query) or any control character (form).

The scope rule lives here and only here. A user with scope ``64.09`` may act on a record whose
region code is ``64.09`` or starts with ``64.09.``; an admin (no scope) on everything. Lists use
``scope_filter`` in their query; single objects go through ``ensure_in_scope``, which answers 404
so that nobody learns that a record outside their scope exists. A registration has two codes: its
event's owner (who organises, and may change it) and its person's origin ("asal daerah"), whose
operators may see it read-only (``registration_filter``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, Request, abort, current_app, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, iter_multi_items
from werkzeug.formparser import FormDataParser

from kim_app.text import printable


def scope_of(user) -> str:
    """The user's scope code; empty for the whole country (admin) and for nobody signed in."""
    return getattr(user, "scope_code", None) or ""


def code_in_scope(code: str | None, scope: str) -> bool:
    """True when ``code`` lies inside ``scope`` (the same code, or below it)."""
    if not scope:
        return True
    return bool(code) and (code == scope or code.startswith(scope + "."))


@dataclass(frozen=True)
class Viewer:
    """What the scope rule reads of a user; ``scope_filter`` and ``kim_filter`` take it as they
    take a user, so a statement can be built once per viewer rather than once per request."""

    role: str  # a Role
    scope_code: str | None
    kim_id: int | None
    is_admin: bool

    @classmethod
    def of(cls, user) -> Viewer:
        return cls(user.role, user.scope_code, user.kim_id, user.is_admin)


def codes_below(column, code: str | None = None, *, name: str = "area") -> sa.ColumnElement[bool]:
    """SQL condition: ``column`` holds a region code strictly below ``code``.

    Written as a range (``code.`` < column < ``code/``) so it uses the index on any database.
    Without ``code`` the range is left to bind: a statement built once passes
    ``code_range(name, code)`` with each execution.
    """
    low, high = f"{name}_from", f"{name}_to"
    if code is None:
        return sa.and_(column > sa.bindparam(low), column < sa.bindparam(high))
    return sa.and_(
        column > sa.bindparam(low, code + ".", unique=True),
        column < sa.bindparam(high, code + "/", unique=True),
    )


def codes_within(column, code: str | None = None, *, name: str = "area") -> sa.ColumnElement[bool]:
    """SQL condition: ``column`` holds ``code`` itself or a code below it (bound like
    ``codes_below``)."""
    same = sa.bindparam(name) if code is None else sa.bindparam(name, code, unique=True)
    return sa.or_(column == same, codes_below(column, code, name=name))


def code_range(name: str, code: str) -> dict[str, str]:
    """The parameters of a range ``codes_below``/``codes_within`` left to bind as ``name``."""
    return {name: code, f"{name}_from": code + ".", f"{name}_to": code + "/"}


def scope_filter(column, user, *, reach_up: bool = False) -> sa.ColumnElement[bool]:
    """SQL condition: ``column`` holds a region code inside the user's scope.

    ``reach_up`` also admits the scope's own ancestors, for pickers that show them as fixed.
    """
    if getattr(user, "is_admin", False):
        return sa.true()
    scope = scope_of(user)
    if not scope:
        return sa.false()
    condition = codes_within(column, scope)
    if reach_up:
        parts = scope.split(".")
        condition = sa.or_(
            condition, column.in_([".".join(parts[:i]) for i in range(1, len(parts))])
        )
    return condition


def registration_filter(event_region, origin, user) -> sa.ColumnElement[bool]:
    """SQL condition: a registration ``user`` may see — its event's owner lies in the scope (the
    organiser's view, with everything it may change), or its person's origin does (the people of
    the user's area at events of the province or the nation: read-only, never changed from there).

    ``event_region`` and ``origin`` are the columns of the event's owning region and of the
    registration's ``origin_code``."""
    return sa.or_(scope_filter(event_region, user), scope_filter(origin, user))


def origin_filter(origin, user) -> sa.ColumnElement[bool]:
    """SQL condition: the registration's person comes from the user's area (the read-only part of
    ``registration_filter``, for the lists that show only that part)."""
    return scope_filter(origin, user)


def may_see_registration(user, event_region: str, origin: str | None) -> bool:
    """The single-object form of ``registration_filter``."""
    return user_may_reach(user, event_region) or (
        origin is not None and user_may_reach(user, origin)
    )


def user_may_reach(user, code: str | None) -> bool:
    """The single-object form of the rule, for code already loaded."""
    if getattr(user, "is_admin", False):
        return True
    scope = scope_of(user)
    return bool(scope) and code_in_scope(code, scope)


def ensure_in_scope(code: str | None, user=None) -> None:
    """Abort with 404 unless ``code`` is inside the (current) user's scope."""
    if not user_may_reach(user if user is not None else current_user, code):
        abort(404)


def roles_required(*roles) -> Callable:
    """View decorator: signed in and holding one of ``roles``, else 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


# the largest id an id column holds (INTEGER: 32 bits on PostgreSQL, which refuses a larger
# number in a query on it); larger ones in a URL or a form are simply not found
MAX_RECORD_ID = 2**31 - 1


def is_safe_next(target: str | None) -> bool:
    """Only local paths are followed after sign-in (no scheme, no host, no ``//``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def content_security_policy() -> str:
    """Scripts only from this site and the configured htmx origin; no inline code anywhere."""
    htmx = urlsplit(current_app.config["KIM_HTMX_URL"])
    script_src = "'self'" + (f" {htmx.scheme}://{htmx.netloc}" if htmx.netloc else "")
    return (
        f"default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["KIM_SECURE_COOKIES"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
        # the session says who is signed in; asking current_user would load the user again
        # after the request's commit expired it
        headers.setdefault("Cache-Control", "no-store" if "_user_id" in session else "no-cache")
    return response


class SessionOverHttps(SecureCookieSessionInterface):
    """The session cookie (the app's only cookie) is ``Secure`` whenever the request came over
    HTTPS, also when HTTPS ends at a trusted proxy that says so (``KIM_PROXY_COUNT``), so the
    browser never sends it back over plain HTTP; ``KIM_SECURE_COOKIES`` makes it always so."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def _without_nul(value):
    if isinstance(value, FileStorage):
        value.filename = _without_nul(value.filename)
        return value
    return value.replace("\x00", "") if isinstance(value, str) else value


class ValuesWithoutNul(ImmutableMultiDict):
    """Query values with every NUL character dropped, before any view reads them: no browser
    sends one, text never needs one, and PostgreSQL cannot store one. (Query values choose what
    to show; form values, which are kept, lose every control character: ``PrintableValues``.)"""

    def __init__(self, mapping=None) -> None:
        if mapping is not None:
            mapping = [(_without_nul(k), _without_nul(v)) for k, v in iter_multi_items(mapping)]
        super().__init__(mapping)


def _printable(value):
    if isinstance(value, FileStorage):
        # the name only: an upload's bytes are the file's own business
        value.filename = _printable(value.filename)
        return value
    return printable(value) if isinstance(value, str) else value


class PrintableValues(ImmutableMultiDict):
    """Form values and upload names without control characters (``kim_app.text.printable``),
    before any view reads them: no keyboard types one, stored text never needs one, PostgreSQL
    cannot store NUL and the XLSX and DOCX writers refuse the rest. Passwords too: one rule for
    every field, applied alike when a password is chosen and when it is typed at sign-in, so the
    two still match."""

    def __init__(self, mapping=None) -> None:
        if mapping is not None:
            mapping = [(_printable(k), _printable(v)) for k, v in iter_multi_items(mapping)]
        super().__init__(mapping)


class KimRequest(Request):
    parameter_storage_class = ValuesWithoutNul  # the query string

    def make_form_data_parser(self) -> FormDataParser:
        parser = super().make_form_data_parser()
        parser.cls = PrintableValues  # the form's fields and files
        return parser


def _nul_in_path() -> None:
    """A path part with a NUL names no record (and would break a PostgreSQL query): 404."""
    if "\x00" in request.path:
        abort(404)


def register(app: Flask) -> None:
    app.request_class = KimRequest
    app.session_interface = SessionOverHttps()
    app.before_request(_nul_in_path)
    app.after_request(_security_headers)
