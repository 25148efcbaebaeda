"""Prepared files: documents and exports too big to make inside a request, made by the job
worker with a progress its owner can watch, then kept for a day (``operations``)."""

from flask import Blueprint

bp = Blueprint("files", __name__)

from kim_app.files import routes  # noqa: E402,F401
