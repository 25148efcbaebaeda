"""The home page, the language switch and the health check."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from kim_app.main import routes  # noqa: E402,F401  (routes attach to bp)
