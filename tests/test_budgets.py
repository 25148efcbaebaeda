"""Page weight (DESIGN §6): every full page, HTML + own CSS + own JS, gzip-compressed ≤ 14 KB.

The worst cases are included on purpose: the region with the most children in the whole country,
the province list for an admin, a full picker with every level open.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.regions.models import Region
from tests.budget import page_weight
from tests.conftest import PPU, PPU_VILLAGE, html_of
from tests.helpers import BUDGET

PICKER_FULL = f"wilayah_provinsi=64&wilayah_kabupaten={PPU}&wilayah_kecamatan=64.09.03&wilayah_desa={PPU_VILLAGE}"


def _largest_parent(app) -> str:
    """The region with the most direct children in the real data."""
    with app.app_context():
        return db.session.execute(
            sa.select(Region.parent_code, sa.func.count().label("n"))
            .where(Region.parent_code.is_not(None))
            .group_by(Region.parent_code)
            .order_by(sa.desc("n"))
            .limit(1)
        ).scalar_one()


PAGES = [
    (None, "/"),
    (None, "/login"),
    (None, "/tidak-ada"),
    (Role.OPERATOR_KABKOTA, "/"),
    (Role.OPERATOR_KABKOTA, "/wilayah/"),
    (Role.OPERATOR_KABKOTA, "/wilayah/?" + PICKER_FULL),
    (Role.OPERATOR_KABKOTA, "/wilayah/pilih?" + PICKER_FULL + "&wilayah_q=a"),
    (Role.OPERATOR_KABKOTA, f"/wilayah/{PPU}"),
    (Role.OPERATOR_KABKOTA, f"/wilayah/{PPU_VILLAGE}"),
    (Role.OPERATOR_KABKOTA, "/pengguna"),
    (Role.OPERATOR_KABKOTA, "/pengguna/baru"),
    (Role.OPERATOR_KABKOTA, "/kata-sandi"),
    (Role.ADMIN, "/wilayah/"),
    (Role.ADMIN, "/wilayah/35"),
    (Role.ADMIN, "LARGEST"),
    (Role.KEPALA_DESA, "/"),
]


@pytest.mark.parametrize(
    ("role", "path"), PAGES, ids=[f"{r.value if r else 'tamu'} {p}" for r, p in PAGES]
)
def test_full_page_fits_in_14_kb_compressed(app, client, make_user, login, role, path):
    """One round trip on a slow link: the page and its own assets fit in 14 KB gzip."""
    if role is not None:
        login(make_user(role, PPU_VILLAGE if role is Role.KEPALA_DESA else PPU))
    if path == "LARGEST":
        path = f"/wilayah/{_largest_parent(app)}"
    response = client.get(path)
    assert response.status_code in (200, 404)
    html = html_of(response)
    assert "<html" in html
    size = page_weight(response)
    print(f"page weight {path}: {size} bytes gzip")
    assert size <= BUDGET, f"{path}: {size} bytes"


WEIGHED = {
    "main.home",
    "auth.login",
    "regions.index",
    "regions.picker",
    "regions.detail",
    "auth.users",
    "auth.user_new",
    "auth.password",
}
NOT_PAGES = {"static", "main.healthz", "main.language", "auth.logout", "auth.user_status"}


def test_every_page_endpoint_is_weighed(app):
    """A GET endpoint must be in some module's WEIGHED (or NOT_PAGES: files, redirects, posts)."""
    from tests.coverage import declared

    gets = {r.endpoint for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    assert gets - declared("WEIGHED") - declared("NOT_PAGES") == set()
