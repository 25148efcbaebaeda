"""KIM competitions (lomba KIM, issue 27): a regency's, a province's or the nation's competition
with categories and rubrics, the KIM's entries and the committee's administrative check, and
the public page of the competition."""

from flask import Blueprint

bp = Blueprint("competitions", __name__)

from kim_app.competitions import routes  # noqa: E402,F401


@bp.app_template_global()
def area_name(code: str) -> str:
    """The name of a competition's area: its region's, or Indonesia for the whole country."""
    from flask_babel import gettext as _

    from kim_app.extensions import db
    from kim_app.regions.models import Region

    region = db.session.get(Region, code) if code else None
    return region.display_name if region else _("Indonesia")
