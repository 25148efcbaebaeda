"""The public directory of active KIM (no sign-in).

Only verified KIM appear. A profile shows what the KIM chose to make public and nothing about
its members beyond the ketua's name (when the KIM opted in); never a phone number.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import contains_eager

from kim_app import queryargs
from kim_app.db import contains_text, keyed_by
from kim_app.extensions import db
from kim_app.groups import bp
from kim_app.groups.models import Kim, KimStatus, Member, Position, name_key
from kim_app.htmx import render
from kim_app.pagination import Page, clamped
from kim_app.regions.models import Region, RegionLevel, ancestors_of, level_of
from kim_app.security import codes_below

PER_PAGE = 20
MAX_PAGE = 10_000
MAX_QUERY = 100


def _filters() -> dict:
    """The search as asked in the URL, with anything malformed dropped (never an error)."""
    q = queryargs.text("q", MAX_QUERY)
    provinsi = queryargs.code("provinsi")
    kabupaten = queryargs.code("kabupaten")
    if level_of(provinsi) is not RegionLevel.PROVINSI:
        provinsi = ""
    if level_of(kabupaten) is not RegionLevel.KABUPATEN or not kabupaten.startswith(provinsi + "."):
        kabupaten = ""
    return {
        "q": q,
        "provinsi": provinsi,
        "kabupaten": kabupaten,
        "page": min(queryargs.page(), MAX_PAGE),
    }


def directory_page(query: sa.Select, page: int) -> Page:
    """One page of the directory and the number of matches, in two queries: the page's ids in
    order with the count as a window over the same matches (narrow rows sort faster than whole
    KIM with their villages; docs/benchmarks.md), then those KIM with their villages."""
    rows = db.session.execute(
        query.add_columns(sa.func.count().over()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    if rows:
        ids = [row[0] for row in rows]
        found = db.session.scalars(
            sa.select(Kim)
            .join(Kim.village)
            .options(contains_eager(Kim.village))
            .where(Kim.id.in_(ids))
        )
        by_id = {kim.id: kim for kim in found}
        return Page([by_id[kim_id] for kim_id in ids], rows[0][1], page, PER_PAGE)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    last = clamped(page, total, PER_PAGE)
    if page > last:  # past the last page (an old link, a typed number): show the last one
        return directory_page(query, last)
    return Page([], total, page, PER_PAGE)


def _search(q: str, provinsi: str, kabupaten: str) -> sa.Select:
    """Ids of verified KIM by name, in the directory's order; every word of ``q`` must match the
    KIM's or its village's name."""
    query = (
        sa.select(Kim.id).where(Kim.status == KimStatus.TERVERIFIKASI).order_by(Kim.name, Kim.id)
    )
    area = kabupaten or provinsi
    if area:
        query = query.where(codes_below(Kim.village_code, area))
    for word in name_key(q).split():
        query = query.where(_named(word))
    return query


def _named(word: str) -> sa.ColumnElement[bool]:
    """The KIM's name, or its village's name, contains ``word``. On PostgreSQL the trigram
    indexes (migration 0008) find the names and the villages, the KIM of those villages come
    from the village index, and the two are ORed in one bitmap over the KIM table: no pass over
    every KIM (docs/benchmarks.md, "Measurements behind the code")."""
    return sa.or_(
        Kim.name_key.contains(word, autoescape=True),
        keyed_by(
            Kim.village_code,
            Region.code,
            contains_text(Region.name, word),
        ),
    )


def _region_names(codes: set[str]) -> dict[str, str]:
    """Display names of many regions in one query (no query per KIM)."""
    if not codes:
        return {}
    rows = db.session.scalars(sa.select(Region).where(Region.code.in_(codes)))
    return {r.code: r.display_name for r in rows}


def _options(level_parent: str | None) -> list[Region]:
    query = sa.select(Region).order_by(Region.name)
    if level_parent is None:  # the provinces: the only regions without a parent (indexed)
        query = query.where(Region.parent_code.is_(None))
    else:
        query = query.where(Region.parent_code == level_parent)
    return list(db.session.scalars(query))


@bp.get("/direktori")
def directory():
    """Active KIM, searchable by name or village and narrowed by province and regency."""
    asked = _filters()
    page = directory_page(_search(asked["q"], asked["provinsi"], asked["kabupaten"]), asked["page"])
    codes = {code for kim in page.items for code in ancestors_of(kim.village_code)[:3]}
    return render(
        "groups/directory.html",
        "groups/_directory_results.html",
        page=page,
        asked=asked,
        places=_region_names(codes),
        provinces=_options(None),
        regencies=_options(asked["provinsi"]) if asked["provinsi"] else [],
    )


def _web_link(url: str) -> bool:
    """Only http(s) addresses with a host become links; anything else is shown as text."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


@bp.get("/direktori/<int:kim_id>")
def public_profile(kim_id: int):
    """One active KIM as the public may see it."""
    kim = db.session.get(Kim, kim_id)
    if kim is None or kim.status is not KimStatus.TERVERIFIKASI:
        abort(404)
    ketua = None
    if kim.show_ketua:
        ketua = db.session.scalar(
            sa.select(Member.name)
            .where(Member.kim_id == kim.id, Member.active, Member.position == Position.KETUA)
            .order_by(Member.id)
            .limit(1)
        )
    lineage = ancestors_of(kim.village_code)[:3]
    names = _region_names(set(lineage))
    links = [(url, _web_link(url)) for url in kim.social_list]
    return render(
        "groups/public_profile.html",
        kim=kim,
        ketua=ketua,
        province=names.get(lineage[0], ""),
        regency=names.get(lineage[1], ""),
        district=names.get(lineage[2], ""),
        website=(kim.website, _web_link(kim.website))
        if kim.website and kim.public_contact
        else None,
        links=links,
    )
