"""Views of the monev: the page of an area and a year (``?wilayah=``, ``?tahun=``, ``?bulan=``:
the months without activity after which a KIM is flagged), the weights of an area's score, a
recount on request, and the exports (XLSX, CSV, and the summary as PDF and DOCX)."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from kim_app import jobs, queryargs
from kim_app.activity import bp
from kim_app.activity.monev.documents import formula_text, level_names
from kim_app.activity.monev.forms import WeightsForm
from kim_app.activity.monev.operations import (
    AREA_JOB,
    IDLE_MONTHS,
    LEVELS,
    PARTS,
    MonevError,
    months_before,
    refresh_area,
    set_weights,
    weights_for,
)
from kim_app.activity.monev.operations import (
    AT_ONCE as REFRESH_AT_ONCE,
)
from kim_app.activity.monev.queries import (
    Monev,
    children,
    inactive,
    kim_count,
    least_active,
    most_active,
    summary,
)
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.errors import attach_error
from kim_app.extensions import db
from kim_app.files.routes import deliver
from kim_app.htmx import redirect_after_post, render
from kim_app.regions.models import Region
from kim_app.regions.operations import lineage
from kim_app.reports.dashboard import area_from_request
from kim_app.security import roles_required, scope_of
from kim_app.timezones import local_today

MONTH_CHOICES = IDLE_MONTHS
FIRST_YEAR = 2020
AT_ONCE = 2000  # KIM rows an export makes inside the request; more go to the worker


def _today() -> date:
    return local_today(scope_of(current_user) or "")


def years() -> list[int]:
    return list(range(_today().year, FIRST_YEAR - 1, -1))


def asked() -> Monev:
    """The area (in the scope, else 404), the year and the months the request names, or the
    defaults: the scope, this year, three months."""
    area = area_from_request()
    year = int(queryargs.one_of("tahun", [str(y) for y in years()]) or _today().year)
    months = int(queryargs.one_of("bulan", [str(m) for m in MONTH_CHOICES]) or 3)
    weights, _source = weights_for(area.code if area else "")
    return Monev(area, year, weights, months, months_before(_today(), months))


def _args(m: Monev) -> dict:
    return {"wilayah": m.code or None, "tahun": m.year, "bulan": m.months}


@bp.get("/monev")
@roles_required(*OPERATOR_ROLES)
def monev():
    """Monitoring of KIM activity for an area and a year: the score's formula and weights, the
    totals, the areas below side by side, the most and least active KIM, those idle for months."""
    m = asked()
    _weights, source = weights_for(m.code)
    source_area = db.session.get(Region, source) if source else None
    return render(
        "activity/monev.html",
        m=m,
        args=_args(m),
        parts=PARTS,
        levels=LEVELS,
        source=source,
        source_area=source_area,
        places=lineage(m.code) if m.code else [],
        total=summary(m),
        rows=children(m),
        top=most_active(m),
        bottom=least_active(m),
        idle=inactive(m),
        years=years(),
        month_choices=MONTH_CHOICES,
        formula=formula_text(m.weights),
        level_names=level_names(),
    )


def _weights_area() -> tuple[str, Region | None]:
    area = area_from_request()
    return (area.code if area else ""), area


@bp.route("/monev/bobot", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def monev_weights():
    """The weights of an area's activity score (its own, or back to the inherited ones)."""
    code, area = _weights_area()
    weights, source = weights_for(code)
    if request.method == "GET":
        form = WeightsForm(formdata=None, data=weights)
        return render(
            "activity/monev_weights.html", form=form, area=area, source=source, parts=PARTS
        )
    form = WeightsForm()
    if not form.validate_on_submit():
        return render(
            "activity/monev_weights.html",
            status=422,
            form=form,
            area=area,
            source=source,
            parts=PARTS,
        )
    chosen = (
        None if request.form.get("aksi") == "bawaan" else {p.key: form[p.key].data for p in PARTS}
    )
    try:
        with db.session.begin_nested():
            done = set_weights(code, chosen, current_user)
    except MonevError as error:
        attach_error(form, error)
        return render(
            "activity/monev_weights.html",
            status=422,
            form=form,
            area=area,
            source=source,
            parts=PARTS,
        )
    flash(
        _("Bobot skor keaktifan disimpan.")
        if done
        else _("Bobot disimpan; skor wilayah ini sedang dihitung ulang oleh server."),
        "success",
    )
    return redirect_after_post(url_for("activity.monev", wilayah=code or None))


@bp.post("/monev/hitung")
@roles_required(*OPERATOR_ROLES)
def monev_refresh():
    """Ask the worker to recount the area's figures of the year now."""
    m = asked()
    from flask_wtf import FlaskForm

    if not FlaskForm().validate_on_submit():
        abort(400)
    if kim_count(m) <= REFRESH_AT_ONCE:
        refresh_area(m.code, m.year)
        flash(_("Angka dihitung ulang."), "success")
    else:
        jobs.after_commit(AREA_JOB, m.code, m.year)
        flash(_("Angka sedang dihitung ulang; muat ulang halaman ini sebentar lagi."), "success")
    return redirect_after_post(url_for("activity.monev", **_args(m)))


def _export(kind: str, extension: str) -> Response:
    m = asked()
    name = m.area.name if m.area else _("Indonesia")
    return deliver(
        kind,
        {"area": m.code, "year": m.year, "months": m.months, "cutoff": m.cutoff.isoformat()},
        size=kim_count(m),
        at_once=AT_ONCE
        if extension in ("xlsx", "csv")
        else current_app.config["KIM_FILES_AT_ONCE_MAX"],
        title=" · ".join(
            [_("Monev KIM (%(format)s)", format=extension.upper()), name, str(m.year)]
        ),
        filename=f"monev-kim-{(m.code or 'indonesia').replace('.', '')}-{m.year}.{extension}",
        region_code=m.code or None,
    )


@bp.route("/monev.<any(xlsx, csv, pdf, docx):fmt>", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def monev_file(fmt: str):
    """Every KIM of the area with its figures and score (XLSX, CSV), or the monev summary in
    the laporan's style: formula, totals, areas, rankings (PDF, DOCX)."""
    return _export(f"monev_{fmt}", fmt)
