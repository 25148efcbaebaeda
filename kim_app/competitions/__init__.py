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


@bp.app_template_global()
def competitions_to_enter(kim) -> list:
    """Competitions taking entries that ``kim`` may enter and the signed-in operator manages:
    from the KIM's page, the committee keeps an entry for a KIM that sent it by WhatsApp."""
    import sqlalchemy as sa
    from flask_login import current_user

    from kim_app.auth.models import OPERATOR_ROLES
    from kim_app.competitions.models import Competition, Stage
    from kim_app.competitions.operations import may_manage, open_to, taking_entries
    from kim_app.competitions.queries import for_village
    from kim_app.extensions import db

    if getattr(current_user, "role", None) not in OPERATOR_ROLES:
        return []
    found = db.session.scalars(
        sa.select(Competition)
        .where(for_village(kim.village_code), Competition.stage == Stage.PENDAFTARAN)
        .order_by(Competition.closes_on, Competition.id)
        .limit(5)
    )
    return [
        c for c in found if may_manage(current_user, c) and open_to(kim, c) and taking_entries(c)
    ]
