"""A KIM at work between events (issue 26): the activities its people report from the village
and the operator's review of them. Accepted reports of the kinds a KIM chooses appear on its
public profile; the KIM's page and the home page link here."""

from flask import Blueprint

bp = Blueprint("activity", __name__)

from kim_app.activity import routes  # noqa: E402,F401
from kim_app.activity.dissemination import routes as _dissemination  # noqa: E402,F401
from kim_app.activity.monev import documents as _monev_documents  # noqa: E402,F401
from kim_app.activity.monev import routes as _monev  # noqa: E402,F401


@bp.app_template_global()
def public_activity_of(kim) -> list:
    """The accepted reports a KIM's public profile shows."""
    from kim_app.activity.queries import public_reports

    return public_reports(kim)
