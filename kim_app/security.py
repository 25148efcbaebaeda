"""Who may see what: the wilayah-scope rule (DESIGN §2), role checks and security headers.

The scope rule lives here and only here. A user with scope ``64.09`` may act on a record whose
region code is ``64.09`` or starts with ``64.09.``; an admin (no scope) on everything. Lists use
``scope_filter`` in their query; single objects go through ``ensure_in_scope``, which answers 404
so that nobody learns that a record outside their scope exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, abort, current_app
from flask_login import current_user, login_required


def scope_of(user) -> str:
    """The user's scope code; empty for the whole country (admin) and for nobody signed in."""
    return getattr(user, "scope_code", None) or ""


def code_in_scope(code: str | None, scope: str) -> bool:
    """True when ``code`` lies inside ``scope`` (the same code, or below it)."""
    if not scope:
        return True
    return bool(code) and (code == scope or code.startswith(scope + "."))


def scope_filter(column, user, *, reach_up: bool = False) -> sa.ColumnElement[bool]:
    """SQL condition: ``column`` holds a region code inside the user's scope.

    Written as a range (``scope.`` ≤ code < ``scope/``) so it uses the index on any database.
    ``reach_up`` also admits the scope's own ancestors, for pickers that show them as fixed.
    """
    if getattr(user, "is_admin", False):
        return sa.true()
    scope = scope_of(user)
    if not scope:
        return sa.false()
    condition = sa.or_(column == scope, sa.and_(column > scope + ".", column < scope + "/"))
    if reach_up:
        parts = scope.split(".")
        condition = sa.or_(
            condition, column.in_([".".join(parts[:i]) for i in range(1, len(parts))])
        )
    return condition


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


# the largest id a database integer holds; larger ones in a URL are simply not found
MAX_RECORD_ID = 2**63 - 1


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
        headers.setdefault(
            "Cache-Control", "no-store" if current_user.is_authenticated else "no-cache"
        )
    return response


def register(app: Flask) -> None:
    app.after_request(_security_headers)
