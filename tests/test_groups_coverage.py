"""Coverage: villages with an active KIM per area of the scope, drill-down, and the villages still
without one — counted in SQL on a known dataset, scoped, light, with a constant number of queries."""

from __future__ import annotations

import re

import pytest

from kim_app.auth.models import Role
from kim_app.groups.models import KimStatus
from tests.budget import PAGE_BUDGET as BUDGET
from tests.budget import counted_queries, page_weight
from tests.conftest import JATIM, MAJALENGKA_VILLAGE, PPU, PPU_OTHER_VILLAGE, PPU_VILLAGE, html_of

SCOPE_CHECKED = {"groups.coverage", "groups.coverage_missing"}
WEIGHED = {"groups.coverage", "groups.coverage_missing"}

JATIM_VILLAGE = "35.14.01.2001"
ROW = re.compile(
    r'<tr><th scope="row">(?:<a href="([^"]+)">)?([^<]+)(?:</a>)?</th>'
    r"<td>([\d.]+)</td><td>([\d.]+)</td><td>([\d,]+)</td></tr>"
)


def _table(html: str) -> dict[str, tuple[str, str, str]]:
    """Rows of the coverage table by name: (villages, active villages, percent) as shown."""
    return {
        name: (villages, active, pct) for _href, name, villages, active, pct in ROW.findall(html)
    }


def _links(html: str) -> dict[str, str]:
    return {name: href for href, name, *_rest in ROW.findall(html)}


@pytest.fixture
def dataset(make_kim):
    """Known KIM: PPU has 3 villages with a verified KIM (one with two), one submitted, one inactive;
    one verified KIM each in Jawa Timur and in Majalengka, outside PPU."""
    make_kim(village=PPU_VILLAGE)  # Babulu, Sebakung Jaya
    make_kim(village=PPU_VILLAGE)  # a second KIM in the same village counts once
    make_kim(village="64.09.03.2001")  # Babulu, Babulu Darat
    make_kim(village="64.09.03.2002", status=KimStatus.DIAJUKAN)  # Babulu, Labangka: not yet
    make_kim(village=PPU_OTHER_VILLAGE)  # Penajam, Giri Mukti
    make_kim(village="64.09.04.2001", status=KimStatus.NONAKTIF)  # Sepaku: inactive, not counted
    make_kim(village=JATIM_VILLAGE)
    make_kim(village=MAJALENGKA_VILLAGE)


def _as(make_user, login, role, scope=None):
    login(make_user(role, scope))


# --- counts -----------------------------------------------------------------------------------


def test_regency_operator_sees_one_row_per_district_and_a_total(client, make_user, login, dataset):
    """PPU: villages and villages with a verified KIM per district, percent with one decimal."""
    _as(make_user, login, Role.OPERATOR_KABKOTA, PPU)
    response = client.get("/kim/cakupan")
    assert response.status_code == 200
    page = html_of(response)
    assert _table(page) == {
        "Penajam": ("23", "1", "4,3"),
        "Waru": ("4", "0", "0,0"),
        "Babulu": ("12", "2", "16,7"),
        "Sepaku": ("15", "0", "0,0"),
        "Total": ("54", "3", "5,6"),  # Majalengka and Jawa Timur never counted here
    }
    assert list(_table(page)) == ["Penajam", "Waru", "Babulu", "Sepaku", "Total"]
    assert "Kecamatan" in page and "Kabupaten Penajam Paser Utara" in page
    # a district's row leads to its villages without an active KIM
    assert _links(page)["Babulu"] == "/kim/cakupan/64.09.03/tanpa-kim"
    assert (
        'href="/kim/cakupan/64.09/tanpa-kim"' in page
        and "51 desa/kelurahan tanpa KIM aktif" in page
    )


def test_province_operator_sees_one_row_per_regency(client, make_user, login, dataset):
    """Jawa Timur: 38 regencies/cities; only its own KIM counts."""
    _as(make_user, login, Role.OPERATOR_PROVINSI, JATIM)
    table = _table(html_of(client.get("/kim/cakupan")))
    assert len(table) == 38 + 1
    villages, active, pct = table["Kabupaten Pasuruan"]  # 35.14
    assert (active, pct) == ("1", _pct(1, int(villages.replace(".", ""))))
    assert table["Total"][1] == "1"
    assert sum(
        int(v.replace(".", "")) for name, (v, _a, _p) in table.items() if name != "Total"
    ) == int(table["Total"][0].replace(".", ""))


def _pct(active: int, villages: int) -> str:
    return f"{100 * active / villages:.1f}".replace(".", ",")


def test_admin_sees_every_province_and_the_national_total(client, make_user, login, dataset):
    """The admin's table has 38 provinces and the country's 83,762 villages."""
    _as(make_user, login, Role.ADMIN)
    page = html_of(client.get("/kim/cakupan"))
    table = _table(page)
    assert len(table) == 38 + 1
    assert table["Total"] == ("83.762", "5", _pct(5, 83762))
    assert table["Kalimantan Timur"][1] == "3"
    assert table["Jawa Barat"][1] == "1" and table["Jawa Timur"][1] == "1"
    assert table["Aceh"][1:] == ("0", "0,0")
    assert _links(page)["Jawa Barat"] == "/kim/cakupan?wilayah=32"


def test_drill_down_one_level(client, make_user, login, dataset):
    """``wilayah`` opens the next level: a province's regencies, a regency's districts."""
    _as(make_user, login, Role.ADMIN)
    table = _table(html_of(client.get("/kim/cakupan?wilayah=64")))
    assert table["Kabupaten Penajam Paser Utara"] == ("54", "3", "5,6")
    page = html_of(client.get("/kim/cakupan?wilayah=32.10"))
    assert _table(page)["Lemahsugih"][1] == "1"  # 32.10.01
    assert 'href="/kim/cakupan">Seluruh Indonesia</a>' in page
    assert 'href="/kim/cakupan?wilayah=32">Jawa Barat</a>' in page


def test_a_district_opens_its_list_of_villages(client, make_user, login):
    """A district has no table of its own: it sends the operator to its villages without a KIM."""
    _as(make_user, login, Role.OPERATOR_KABKOTA, PPU)
    response = client.get("/kim/cakupan?wilayah=64.09.03")
    assert response.status_code == 302
    assert response.headers["Location"] == "/kim/cakupan/64.09.03/tanpa-kim"


@pytest.mark.parametrize(
    "wilayah",
    [
        "32.10",
        "64",
        "32",
        "64.09.03.2006",
        "abc",
        "99",
        "64.9",
        "64.09.99",
        "' OR 1=1",
        "64.09\x01",  # (a NUL is dropped before any view reads the value)
    ],
)
def test_drill_down_outside_the_scope_or_malformed_is_404(client, make_user, login, wilayah):
    """Outside the regency, above it, a village, or nonsense: 404, never a 500 (admin too)."""
    _as(make_user, login, Role.OPERATOR_KABKOTA, PPU)
    assert client.get("/kim/cakupan", query_string={"wilayah": wilayah}).status_code == 404
    if wilayah not in {"32.10", "64", "32"}:  # these exist: the admin may open them
        _as(make_user, login, Role.ADMIN)
        assert client.get("/kim/cakupan", query_string={"wilayah": wilayah}).status_code == 404


# --- villages without an active KIM -----------------------------------------------------------


def _villages(html: str) -> list[str]:
    return re.findall(r'<a href="/wilayah/([\d.]+)">', html)


def test_villages_without_an_active_kim_in_a_district(client, make_user, login, dataset):
    """Babulu has 12 villages, 2 with a verified KIM: the other 10 are listed, submitted ones too."""
    _as(make_user, login, Role.OPERATOR_KABKOTA, PPU)
    page = html_of(client.get("/kim/cakupan/64.09.03/tanpa-kim"))
    codes = _villages(page)
    assert len(codes) == 10 and "10 desa/kelurahan belum punya KIM aktif" in page
    assert PPU_VILLAGE not in codes and "64.09.03.2001" not in codes
    assert "64.09.03.2002" in codes  # only submitted: still without an active KIM
    assert codes == sorted(codes)
    assert "desa_kim_pilih=64.09.03.2002" in page  # a shortcut to register one there


def test_villages_without_kim_are_paginated(client, make_user, login, dataset, partial_headers):
    """PPU: 51 villages without an active KIM, 25 per page; htmx gets only the list fragment."""
    _as(make_user, login, Role.OPERATOR_KABKOTA, PPU)
    first = html_of(client.get("/kim/cakupan/64.09/tanpa-kim"))
    assert "51 desa/kelurahan" in first and "halaman 1 dari 3" in first
    assert len(_villages(first)) == 25
    assert 'href="/kim/cakupan/64.09/tanpa-kim?halaman=2"' in first
    response = client.get("/kim/cakupan/64.09/tanpa-kim?halaman=3", headers=partial_headers)
    fragment = html_of(response)
    assert response.status_code == 200 and "<html" not in fragment
    assert fragment.startswith('<section id="tanpa-kim"')
    assert len(_villages(fragment)) == 1 and "halaman 3 dari 3" in fragment
    everything = set()
    for n in (1, 2, 3, 9):
        everything |= set(
            _villages(html_of(client.get(f"/kim/cakupan/64.09/tanpa-kim?halaman={n}")))
        )
    assert len(everything) == 51
    full = html_of(client.get("/kim/cakupan/64.09/tanpa-kim?halaman=3"))
    assert "<html" in full and "Desa tanpa KIM aktif" in full


def test_a_fully_covered_area_says_so(client, make_user, login, make_kim):
    """When every village of a district has a verified KIM, the list says so instead of being empty."""
    for code in ("64.09.02.1003", "64.09.02.2001", "64.09.02.2002", "64.09.02.2004"):
        make_kim(village=code, members=0)
    _as(make_user, login, Role.OPERATOR_KABKOTA, PPU)
    page = html_of(client.get("/kim/cakupan/64.09.02/tanpa-kim"))
    assert "Semua desa/kelurahan di wilayah ini sudah punya KIM aktif." in page
    assert _table(html_of(client.get("/kim/cakupan")))["Waru"] == ("4", "4", "100,0")


@pytest.mark.parametrize(
    "code", ["32.10", "32.10.01", "64", "64.09.03.2006", "zz", "64.09.77", "64.09%00"]
)
def test_villages_without_kim_outside_scope_or_malformed_is_404(client, make_user, login, code):
    """The list obeys the scope rule: outside, above, a village or nonsense answer 404."""
    _as(make_user, login, Role.OPERATOR_KABKOTA, PPU)
    assert client.get(f"/kim/cakupan/{code}/tanpa-kim").status_code == 404


# --- the access matrix ------------------------------------------------------------------------

ACTORS = {
    Role.ADMIN: (None, "64.09"),
    Role.OPERATOR_PROVINSI: (JATIM, "35.14"),
    Role.OPERATOR_KABKOTA: (PPU, "64.09"),
    Role.KEPALA_DESA: (PPU_VILLAGE, "64.09"),
    Role.PENGURUS_KIM: (PPU_VILLAGE, "64.09"),
    Role.PETUGAS_ABSENSI: (PPU, "64.09"),
}
OPERATORS = {Role.ADMIN, Role.OPERATOR_PROVINSI, Role.OPERATOR_KABKOTA}


@pytest.mark.parametrize(
    ("role", "endpoint", "inside"),
    [
        (role, endpoint, inside)
        for role in ACTORS
        for endpoint in ("coverage", "coverage_missing")
        for inside in (True, False)
    ],
    ids=lambda v: getattr(v, "value", str(v)),
)
def test_coverage_access_matrix(client, make_user, make_kim, login, role, endpoint, inside):
    """Operators reach coverage inside their wilayah (404 outside, admin everywhere); others 403."""
    scope, area = ACTORS[role]
    kim = make_kim(village=PPU_VILLAGE) if role is Role.PENGURUS_KIM else None
    login(make_user(role, scope, kim_id=kim.id if kim else None))
    code = area if inside else "32.10"
    path = (
        f"/kim/cakupan?wilayah={code}"
        if endpoint == "coverage"
        else f"/kim/cakupan/{code}/tanpa-kim"
    )
    response = client.get(path)
    allowed = 200 if inside or role is Role.ADMIN else 404
    assert response.status_code == (allowed if role in OPERATORS else 403)


@pytest.mark.parametrize("path", ["/kim/cakupan", "/kim/cakupan/64.09/tanpa-kim"])
def test_visitors_are_sent_to_sign_in(client, path):
    """Coverage is behind sign-in."""
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


# --- scale and weight ---------------------------------------------------------------------------


def test_query_count_is_constant_in_data_size(app, client, make_user, login, make_kim, dataset):
    """The table and the list cost the same SQL statements with 8 KIM as with 48."""
    _as(make_user, login, Role.ADMIN)
    paths = ["/kim/cakupan", "/kim/cakupan?wilayah=64.09", "/kim/cakupan/64.09/tanpa-kim?halaman=2"]

    def counts():
        result = []
        for path in paths:
            with counted_queries(app) as statements:
                assert client.get(path).status_code == 200
            result.append(len(statements))
        return result

    small = counts()
    villages = ["64.09.01.1001", "64.09.01.1004", "64.09.04.2002", "64.09.03.2003", "32.10.01.2002"]
    for n in range(40):
        make_kim(village=villages[n % 5], members=n % 7)
    assert counts() == small
    assert max(small) <= 6  # user, the nav's verification badge, and the page's own queries


@pytest.mark.parametrize(
    ("role", "scope", "path"),
    [
        (Role.ADMIN, None, "/kim/cakupan"),
        (Role.ADMIN, None, "/kim/cakupan/64/tanpa-kim"),
        (Role.OPERATOR_PROVINSI, JATIM, "/kim/cakupan"),
        (Role.OPERATOR_KABKOTA, PPU, "/kim/cakupan"),
        (Role.OPERATOR_KABKOTA, PPU, "/kim/cakupan/64.09/tanpa-kim"),
    ],
)
def test_coverage_pages_fit_in_14_kb(client, make_user, login, dataset, role, scope, path):
    """The national table (38 provinces), a province's, a regency's and a full list page ≤ 14 KB gzip."""
    _as(make_user, login, role, scope)
    response = client.get(path)
    assert response.status_code == 200
    html_of(response)
    size = page_weight(response)
    print(f"page weight {path} ({role.value}): {size} bytes gzip")
    assert size <= BUDGET
