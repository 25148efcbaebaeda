"""Fields of activity (bidang) kept per area: the operator of a province or regency adds, renames
and retires the fields its KIM may choose beside the national list.

The list of an area is a plain page of small forms (JavaScript or not: POST → 303 back). An
operator keeps the lists of the areas in scope (a province's operator also its regencies'); the
lists of the areas above are shown read-only, as the KIM form offers them too.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kim_app import queryargs
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.errors import attach_error
from kim_app.extensions import db
from kim_app.groups import bp
from kim_app.groups.forms import BidangOptionForm
from kim_app.groups.models import Bidang, BidangOption, KimField
from kim_app.groups.operations import (
    KimError,
    add_bidang,
    areas_above,
    rename_bidang,
    set_bidang_retired,
)
from kim_app.htmx import redirect_after_post, render
from kim_app.regions.models import Region, RegionLevel
from kim_app.regions.operations import children_of
from kim_app.security import MAX_RECORD_ID, roles_required, scope_of, user_may_reach

AREA_LEVELS = (RegionLevel.PROVINSI, RegionLevel.KABUPATEN)


def _area() -> Region | None:
    """The area whose list is kept: ``wilayah`` (a province or regency in scope) or the user's own;
    None for the admin who has not chosen one yet."""
    code = queryargs.code("wilayah") or scope_of(current_user) or ""
    if not code:
        return None
    if not user_may_reach(current_user, code):
        abort(404)
    area = db.session.get(Region, code)
    if area is None:
        abort(404)
    if area.level not in AREA_LEVELS:  # a village head's scope never gets here; a district's
        abort(404)
    return area


def _page(area: Region | None, form: BidangOptionForm, status: int = 200):
    above = areas_above(area.code)[:-1] if area else []
    options = db.session.scalars(
        sa.select(BidangOption)
        .where(BidangOption.area_code.in_([*above, *([area.code] if area else [])]))
        .order_by(BidangOption.retired, BidangOption.label)
    ).all()
    used = (
        dict(
            db.session.execute(
                sa.select(KimField.field, sa.func.count())
                .where(KimField.field.in_([o.key for o in options]))
                .group_by(KimField.field)
            ).all()
        )
        if options
        else {}
    )
    below = (
        children_of(area.code if area else None, current_user)
        if area is None or area.level is RegionLevel.PROVINSI
        else []
    )
    return render(
        "groups/bidang.html",
        status=status,
        area=area,
        national=[b.label for b in Bidang],
        inherited=[o for o in options if area is None or o.area_code != area.code],
        own=[o for o in options if area is not None and o.area_code == area.code],
        used=used,
        below=below,
        form=form,
    )


@bp.route("/kim/bidang", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def bidang():
    """The fields of activity of an area: the national list, those of the areas above, and the
    area's own, which may be added here."""
    area = _area()
    form = BidangOptionForm()
    if area is not None and form.validate_on_submit():
        try:
            with db.session.begin_nested():
                option = add_bidang(area, form.label.data, form.label_en.data or "", current_user)
        except KimError as error:
            attach_error(form, error, error.field or "label")
        else:
            flash(_("Bidang %(label)s ditambahkan.", label=option.label), "success")
            return redirect_after_post(url_for("groups.bidang", wilayah=area.code))
    return _page(area, form, 422 if request.method == "POST" else 200)


@bp.post("/kim/bidang/<int:option_id>")
@roles_required(*OPERATOR_ROLES)
def bidang_option(option_id: int):
    """Rename a field of the area, retire it (no longer offered; KIM keep it) or offer it again."""
    option = db.session.get(BidangOption, option_id) if option_id <= MAX_RECORD_ID else None
    if option is None or not user_may_reach(current_user, option.area_code):
        abort(404)
    form = BidangOptionForm()
    back = url_for("groups.bidang", wilayah=option.area_code)
    action = request.form.get("aksi", "simpan")
    if action == "simpan" and not form.validate_on_submit():
        for error in [*form.label.errors, *form.label_en.errors]:
            flash(f"{option.label}: {error}", "error")
        return redirect_after_post(back)
    try:
        with db.session.begin_nested():
            if action == "pensiun":
                set_bidang_retired(option, True, current_user)
                message = _(
                    "Bidang %(label)s tidak lagi ditawarkan; KIM yang memilikinya tetap.",
                    label=option.label,
                )
            elif action == "aktifkan":
                set_bidang_retired(option, False, current_user)
                message = _("Bidang %(label)s ditawarkan lagi.", label=option.label)
            else:
                rename_bidang(option, form.label.data, form.label_en.data or "", current_user)
                message = _("Bidang %(label)s disimpan.", label=option.label)
    except KimError as error:
        flash(str(error), "error")
    else:
        flash(message, "success")
    return redirect_after_post(back)
