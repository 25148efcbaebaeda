"""Operators' registry of KIM (search, filters, pagination) and coverage per area.

Every filter state is a plain GET URL, so the page works without JavaScript, can be bookmarked,
and the back button restores it; htmx only swaps the results in place and pushes that URL.
"""

from __future__ import annotations

from flask import abort, redirect, url_for
from flask_login import current_user

from kim_app import queryargs
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.groups import bp
from kim_app.groups.models import KimStatus
from kim_app.groups.queries import (
    AREA_LEVELS,
    RegistryFilter,
    Sort,
    bidang_for_filter,
    coverage,
    region_at,
    registry_page,
    villages_without_kim,
)
from kim_app.htmx import is_partial, render
from kim_app.regions.models import Region, RegionLevel
from kim_app.regions.operations import lineage
from kim_app.regions.picker import RegionPicker
from kim_app.security import roles_required, scope_of, user_may_reach

AREA_PREFIX = "wilayah"


def filters_from_request() -> tuple[RegistryFilter, RegionPicker, Region | None]:
    """The registry's filters from the query string, with the area selects behind them.

    The list and its exports read the same parameters through this one function, so an export
    holds exactly what the list shows.
    """
    picker = RegionPicker.from_values(
        queryargs.values(), current_user, prefix=AREA_PREFIX, deepest=RegionLevel.KECAMATAN
    )
    # the deepest area picked; levels fixed by the user's scope do not narrow anything
    picked = [lvl.selected for lvl in picker.levels if lvl.selected and not lvl.fixed]
    area = picked[-1] if picked else None
    return RegistryFilter.from_args(queryargs.values(), area.code if area else None), picker, area


def _link_args(filters: RegistryFilter, area: Region | None) -> dict[str, str]:
    """The query string of this filter state, without empty values (for pager links)."""
    args = {
        "q": filters.q,
        "status": filters.status.value if filters.status else "",
        "bidang": filters.bidang or "",
        "urut": filters.sort.value if filters.sort is not Sort.NAMA else "",
    }
    if area is not None:
        args[f"{AREA_PREFIX}_{area.level.value}"] = area.code
    return {key: value for key, value in args.items() if value}


@bp.get("/kim/")
@roles_required(*OPERATOR_ROLES)
def registry():
    """All KIM in the operator's scope, any status: search, filters, sort and 25 per page."""
    filters, picker, area = filters_from_request()
    page = registry_page(filters, current_user, queryargs.page())
    return render(
        "groups/registry.html",
        "groups/_registry_results.html",
        page=page,
        filters=filters,
        picker=picker,
        link_args=_link_args(filters, area),
        statuses=list(KimStatus),
        bidang_choices=bidang_for_filter(current_user),
        sorts=list(Sort),
        oob=is_partial(),
    )


def _lineage(region: Region | None) -> list[tuple[Region, bool]]:
    """The regions above ``region`` with whether the user may open their coverage table."""
    if region is None:
        return []
    return [(r, user_may_reach(current_user, r.code)) for r in lineage(region.code)[:-1]]


@bp.get("/kim/cakupan", endpoint="coverage")
@roles_required(*OPERATOR_ROLES)
def coverage_table():
    """Villages with an active KIM per area of the scope, with a total; ``wilayah`` drills down."""
    code = queryargs.code("wilayah") or scope_of(current_user) or None
    area = None
    if code is not None:
        if not user_may_reach(current_user, code):
            abort(404)
        area = region_at(code, AREA_LEVELS)
        if area is None:
            abort(404)
        if area.level is RegionLevel.KECAMATAN:  # one row per village: the list serves better
            return redirect(url_for("groups.coverage_missing", code=area.code))
    return render(
        "groups/coverage.html",
        area=area,
        report=coverage(area, current_user),
        lineage=_lineage(area),
    )


@bp.get("/kim/cakupan/<code>/tanpa-kim")
@roles_required(*OPERATOR_ROLES)
def coverage_missing(code: str):
    """Villages of an area (province, regency or district) that have no active KIM yet."""
    if not user_may_reach(current_user, code):
        abort(404)
    area = region_at(code, AREA_LEVELS)
    if area is None:
        abort(404)
    page = villages_without_kim(area, current_user, queryargs.page())
    return render(
        "groups/coverage.html",
        "groups/_coverage_missing.html",
        area=area,
        page=page,
        lineage=_lineage(area),
    )
