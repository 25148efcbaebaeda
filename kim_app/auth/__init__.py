"""Accounts: sign-in, sign-out, password change, and user administration within a scope."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from kim_app.auth import routes  # noqa: E402,F401  (routes attach to bp)
