"""Regions (wilayah): the Kemendagri code tree, its importer and the region picker."""

from flask import Blueprint

bp = Blueprint("regions", __name__)

from kim_app.regions import routes  # noqa: E402,F401  (routes attach to bp)
