"""Reports: regional dashboards with server-drawn SVG charts, the laporan kegiatan of an event
(PDF and DOCX), and participation histories of KIM and people (DESIGN §4)."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

# each module attaches its views to bp
from kim_app.reports import dashboard, history, laporan, privacy  # noqa: E402,F401
