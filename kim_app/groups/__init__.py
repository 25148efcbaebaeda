"""The KIM registry: registration and verification, members, registry search, coverage,
the public directory, and import/export."""

from flask import Blueprint

bp = Blueprint("groups", __name__)

# each module attaches its views to bp
from kim_app.groups import bidang, directory, members, registry, routes, transfer  # noqa: E402,F401
