"""Region pages: browse the tree within one's scope, and the picker fragment."""

from __future__ import annotations

from flask import abort, redirect, url_for
from flask_login import current_user, login_required

from kim_app import queryargs
from kim_app.extensions import db
from kim_app.htmx import render
from kim_app.regions import bp
from kim_app.regions.models import Region, RegionLevel, ancestors_of
from kim_app.regions.operations import children_of
from kim_app.regions.picker import RegionPicker
from kim_app.security import ensure_in_scope, user_may_reach


def picker_from_request(**kwargs) -> RegionPicker:
    """The picker for this request, honouring a ``_picker`` spec (``prefix:level``) sent with it."""
    values = queryargs.values()
    prefix, _, level = (values.get("_picker") or "wilayah:desa").partition(":")
    deepest = (
        RegionLevel(level) if level in {lvl.value for lvl in RegionLevel} else RegionLevel.DESA
    )
    kwargs.setdefault("prefix", prefix if prefix.isidentifier() else "wilayah")
    kwargs.setdefault("deepest", deepest)
    return RegionPicker.from_values(values, current_user, **kwargs)


@bp.get("/")
@login_required
def index():
    """Browse regions with the picker; "Lihat" opens the chosen region."""
    picker = picker_from_request()
    if queryargs.flag("lihat") and picker.chosen is not None:
        return redirect(url_for("regions.detail", code=picker.chosen.code), 303)
    return render("regions/index.html", picker=picker)


@bp.get("/pilih")
@login_required
def picker():
    """The picker fragment for htmx; a plain request gets the browse page."""
    picker = picker_from_request()
    fragment = (
        "regions/_picker_results.html"
        if queryargs.one_of("bagian", ["hasil"])
        else "regions/_picker.html"
    )
    return render("regions/index.html", fragment, picker=picker)


@bp.get("/<code>")
@login_required
def detail(code: str):
    """One region: its place in the tree and the regions below it."""
    ensure_in_scope(code)
    region = db.get_or_404(Region, code)
    lineage = [
        (db.session.get(Region, c), user_may_reach(current_user, c))
        for c in ancestors_of(code)[:-1]
    ]
    if any(r is None for r, _ in lineage):
        abort(404)
    children = children_of(code, current_user) if region.level is not RegionLevel.DESA else []
    return render("regions/detail.html", region=region, lineage=lineage, children=children)
