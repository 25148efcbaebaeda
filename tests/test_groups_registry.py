"""The operators' KIM registry: scope, search, filters, sort, pagination, URL state, weight, queries."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.groups.models import Bidang, Kim, KimStatus, Member
from tests.budget import counted_queries, page_weight
from tests.conftest import JATIM, MAJALENGKA_VILLAGE, PPU, PPU_OTHER_VILLAGE, PPU_VILLAGE, html_of
from tests.helpers import BUDGET

SCOPE_CHECKED = {"groups.registry"}
WEIGHED = {"groups.registry"}

JATIM_VILLAGE = "35.14.01.2001"
SEPAKU_VILLAGE = "64.09.04.2001"
# role → its scope
ACTORS = {
    Role.ADMIN: None,
    Role.OPERATOR_PROVINSI: JATIM,
    Role.OPERATOR_KABKOTA: PPU,
    Role.KEPALA_DESA: PPU_VILLAGE,
    Role.PENGURUS_KIM: PPU_VILLAGE,
    Role.PETUGAS_ABSENSI: PPU,
}


def _names(html: str) -> list[str]:
    """KIM names in the order the results list shows them."""
    return re.findall(r'<a href="/kim/\d+"><strong>([^<]+)</strong></a>', html)


# --- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(ACTORS), ids=lambda r: r.value)
def test_registry_access_by_role_and_scope(client, make_user, make_kim, login, role):
    """Operators see the KIM of their wilayah and never one outside it; other roles get 403."""
    inside = make_kim(
        village=JATIM_VILLAGE if role is Role.OPERATOR_PROVINSI else PPU_VILLAGE, name="KIM Dalam"
    )
    make_kim(village=MAJALENGKA_VILLAGE, name="KIM Majalengka")
    login(make_user(role, ACTORS[role], kim_id=inside.id if role is Role.PENGURUS_KIM else None))
    response = client.get("/kim/")
    if role not in (Role.ADMIN, Role.OPERATOR_PROVINSI, Role.OPERATOR_KABKOTA):
        assert response.status_code == 403
        return
    assert response.status_code == 200
    page = html_of(response)
    assert "KIM Dalam" in page
    assert ("KIM Majalengka" in page) is (role is Role.ADMIN)
    # an area outside the scope in the URL is ignored, never a way around the rule
    page = html_of(client.get("/kim/?wilayah_kecamatan=32.10.01&wilayah_kabupaten=32.10"))
    assert ("KIM Majalengka" in page) is (role is Role.ADMIN)
    assert ("KIM Dalam" in page) is (role is not Role.ADMIN)


def test_visitor_is_sent_to_sign_in(client):
    """The registry is behind sign-in."""
    response = client.get("/kim/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# --- what a row shows ------------------------------------------------------------------------------


def test_row_shows_village_district_status_members_and_number(app, client, operator, make_kim):
    """A row links to the KIM and shows its village, district, status, active members and number."""
    kim = make_kim(name="KIM Sebakung Maju", members=5)
    draft = make_kim(village=PPU_OTHER_VILLAGE, status=KimStatus.DRAFT, name="KIM Giri Draf")
    with app.app_context():
        first = db.session.scalars(
            sa.select(Member).where(Member.kim_id == kim.id).order_by(Member.id)
        ).first()
        first.active = False
        db.session.commit()
    page = html_of(client.get("/kim/"))
    assert f'href="/kim/{kim.id}"' in page and f'href="/kim/{draft.id}"' in page
    row = page.split("KIM Sebakung Maju", 1)[1].split("</li>", 1)[0]
    assert "Terverifikasi" in row and 'class="tag' in row
    assert "Desa Sebakung Jaya" in row and "Kec. Babulu" in row
    assert "4 anggota aktif" in row
    assert kim.registration_number in row
    draft_row = page.split("KIM Giri Draf", 1)[1].split("</li>", 1)[0]
    assert "Draf" in draft_row and "Desa Giri Mukti" in draft_row and "No." not in draft_row
    assert "2 KIM ditemukan" in page


def test_phone_numbers_never_appear(client, operator, make_kim):
    """Members' and KIM's WhatsApp numbers are not part of the registry."""
    make_kim(whatsapp="+6281234567890")
    page = html_of(client.get("/kim/"))
    assert "+62" not in page and "0812" not in page


# --- search and filters ---------------------------------------------------------------------------


@pytest.fixture
def three_kim(make_kim):
    """Three KIM of Penajam Paser Utara in two districts, different statuses and fields."""
    make_kim(name="KIM Cahaya Desa", bidang=(Bidang.PERTANIAN,))  # Sebakung Jaya, Babulu
    make_kim(
        village=PPU_OTHER_VILLAGE,
        status=KimStatus.DIAJUKAN,
        name="KIM Mandiri",
        bidang=(Bidang.LITERASI_DIGITAL, Bidang.KESEHATAN),
    )  # Giri Mukti, Penajam
    make_kim(village=SEPAKU_VILLAGE, status=KimStatus.NONAKTIF, name="KIM Bumi Harapan")
    make_kim(village=MAJALENGKA_VILLAGE, name="KIM Cahaya Majalengka")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cahaya", {"KIM Cahaya Desa"}),  # KIM name
        ("SEBAKUNG", {"KIM Cahaya Desa"}),  # village name, any case
        ("penajam", {"KIM Mandiri"}),  # district name
        ("giri mandiri", {"KIM Mandiri"}),  # every word must match somewhere
        ("kim", {"KIM Cahaya Desa", "KIM Mandiri", "KIM Bumi Harapan"}),
        ("100%_", set()),  # LIKE wildcards are taken literally
        (
            "kim\x00\x07",
            {"KIM Cahaya Desa", "KIM Mandiri", "KIM Bumi Harapan"},
        ),  # control chars dropped
        ("tidakada", set()),
    ],
)
def test_search_matches_kim_village_or_district_name(client, operator, three_kim, query, expected):
    """The search box matches the KIM's name, its village or its district, case-insensitively."""
    page = html_of(client.get("/kim/", query_string={"q": query}))
    assert set(_names(page)) == expected
    if not expected:
        assert "Tidak ada KIM yang cocok" in page


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"status": "diajukan"}, {"KIM Mandiri"}),
        ({"status": "nonaktif"}, {"KIM Bumi Harapan"}),
        ({"bidang": "kesehatan"}, {"KIM Mandiri"}),
        ({"bidang": "pertanian"}, {"KIM Cahaya Desa"}),
        ({"wilayah_kecamatan": "64.09.03"}, {"KIM Cahaya Desa"}),
        ({"wilayah_kecamatan": "64.09.04", "status": "nonaktif"}, {"KIM Bumi Harapan"}),
        ({"wilayah_kecamatan": "64.09.04", "status": "diajukan"}, set()),
        ({"status": "bukan-status", "bidang": "x", "urut": "y", "page": "abc"}, None),
        ({"wilayah_kecamatan": "\x00", "wilayah_pilih": "64.09\x00", "page": "\x00"}, None),
    ],
)
def test_filters_narrow_the_list(client, operator, three_kim, args, expected):
    """Status, bidang and kecamatan filters combine; unknown values are ignored, not an error."""
    response = client.get("/kim/", query_string=args)
    assert response.status_code == 200
    names = set(_names(html_of(response)))
    assert names == (
        expected if expected is not None else {"KIM Cahaya Desa", "KIM Mandiri", "KIM Bumi Harapan"}
    )


def test_district_select_lists_only_districts_in_scope(client, operator):
    """A regency operator picks among their own districts; province and regency are not asked."""
    page = html_of(client.get("/kim/"))
    options = re.findall(r'<option value="(64\.09\.\d\d)"', page)
    assert options == ["64.09.01", "64.09.02", "64.09.03", "64.09.04"]
    assert 'name="wilayah_provinsi"' not in page and 'name="wilayah_kabupaten"' not in page


def test_province_operator_picks_regency_then_district(client, make_user, make_kim, login):
    """A province operator first chooses a regency; its districts then appear and filter the list."""
    make_kim(village=JATIM_VILLAGE, name="KIM Pasuruan")
    make_kim(village="35.15.01.2001", name="KIM Sidoarjo")
    login(make_user(Role.OPERATOR_PROVINSI, JATIM))
    page = html_of(client.get("/kim/"))
    assert 'name="wilayah_kabupaten"' in page and 'name="wilayah_kecamatan"' not in page
    assert len(re.findall(r'<option value="35\.\d\d"', page)) == 38
    page = html_of(client.get("/kim/?wilayah_kabupaten=35.14"))
    assert re.findall(r'<option value="(35\.\d\d\.\d\d)"', page)[0] == "35.14.01"
    assert set(_names(page)) == {"KIM Pasuruan"}
    page = html_of(client.get("/kim/?wilayah_kabupaten=35.14&wilayah_kecamatan=35.14.02"))
    assert _names(page) == []
    # a district of another regency left in the URL does not count
    page = html_of(client.get("/kim/?wilayah_kabupaten=35.15&wilayah_kecamatan=35.14.01"))
    assert set(_names(page)) == {"KIM Sidoarjo"}


def test_admin_narrows_by_province(client, make_user, login, three_kim):
    """The admin starts with the province select and sees every province's KIM until one is picked."""
    login(make_user(Role.ADMIN))
    page = html_of(client.get("/kim/"))
    assert len(re.findall(r'<option value="\d\d"', page)) == 38
    assert "KIM Cahaya Majalengka" in _names(page)
    page = html_of(client.get("/kim/?wilayah_provinsi=32"))
    assert _names(page) == ["KIM Cahaya Majalengka"]


# --- sorting ------------------------------------------------------------------------------------


def test_sort_orders(app, client, operator, make_kim):
    """Sort by name (default), by village, by newest registration and by workflow status."""
    a = make_kim(village=SEPAKU_VILLAGE, name="KIM Anggrek", status=KimStatus.DIAJUKAN)
    b = make_kim(village=PPU_VILLAGE, name="kim bakau", status=KimStatus.DRAFT)
    c = make_kim(village=PPU_OTHER_VILLAGE, name="KIM Cempaka")
    with app.app_context():
        for kim, days in ((a, 3), (b, 1), (c, 2)):
            db.session.execute(
                sa.update(Kim)
                .where(Kim.id == kim.id)
                .values(created_at=datetime(2026, 1, 1) + timedelta(days=days))
            )
        db.session.commit()
    order = {
        "": ["KIM Anggrek", "kim bakau", "KIM Cempaka"],
        "nama": ["KIM Anggrek", "kim bakau", "KIM Cempaka"],
        # Desa Giri Mukti, Desa Sebakung Jaya, then Sepaku's first village
        "desa": ["KIM Cempaka", "kim bakau", "KIM Anggrek"],
        "terbaru": ["KIM Anggrek", "KIM Cempaka", "kim bakau"],
        "status": ["kim bakau", "KIM Anggrek", "KIM Cempaka"],  # draf, diajukan, terverifikasi
    }
    for sort, expected in order.items():
        assert _names(html_of(client.get("/kim/", query_string={"urut": sort}))) == expected, sort


# --- pagination and URL state -----------------------------------------------------------------


def test_pagination_25_per_page_with_count_and_filter_kept(client, operator, make_kim):
    """30 matches: 25 on page 1, 5 on page 2; pager links keep the filters; pages clamp."""
    for n in range(30):
        make_kim(name=f"KIM Pager {n:02d}", members=0)
    make_kim(name="KIM Lain", status=KimStatus.DRAFT, members=0)
    page = html_of(client.get("/kim/?q=pager&status=terverifikasi"))
    assert "30 KIM ditemukan" in page and "halaman 1 dari 2" in page
    assert len(_names(page)) == 25 and _names(page)[0] == "KIM Pager 00"
    nxt = re.search(r'<a href="([^"]+)" hx-get="[^"]+"[^>]*>Berikutnya', page).group(1)
    assert "halaman=2" in nxt and "q=pager" in nxt and "status=terverifikasi" in nxt
    page2 = html_of(client.get(nxt.replace("&amp;", "&")))
    assert _names(page2) == [f"KIM Pager {n}" for n in range(25, 30)]
    assert "Sebelumnya" in page2 and "Berikutnya" not in page2
    assert _names(html_of(client.get("/kim/?q=pager&status=terverifikasi&halaman=99"))) == _names(
        page2
    )


def test_filter_state_lives_in_the_url(client, operator, three_kim):
    """Opening a filtered URL shows the same filters filled in, the panel open, and the htmx push."""
    page = html_of(
        client.get(
            "/kim/?q=mandiri&status=diajukan&bidang=kesehatan&urut=desa&wilayah_kecamatan=64.09.01"
        )
    )
    assert 'value="mandiri"' in page
    assert '<option value="diajukan" selected>' in page
    assert '<option value="kesehatan" selected>' in page
    assert '<option value="desa" selected>' in page
    assert '<option value="64.09.01" selected>' in page
    assert "<details open>" in page
    assert 'method="get" action="/kim/"' in page and 'hx-push-url="true"' in page
    assert _names(page) == ["KIM Mandiri"]
    assert "<details open>" not in html_of(client.get("/kim/?q=mandiri"))


# --- htmx: fragment or page -----------------------------------------------------------------


def test_htmx_partial_gets_only_the_results_and_area_selects(
    client, operator, three_kim, partial_headers
):
    """A partial htmx request gets the results fragment plus the area selects out-of-band."""
    response = client.get("/kim/?status=diajukan", headers=partial_headers)
    html = html_of(response)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<section id="hasil"')
    assert _names(html) == ["KIM Mandiri"]
    assert (
        '<hx-partial hx-target="#saring-wilayah" hx-swap="outerHTML"><div id="saring-wilayah" class="pilihan">'
        in html
    )
    assert 'id="saring"' not in html
    assert "HX-Request" in response.headers["Vary"]


def test_plain_request_gets_the_full_page(client, operator, three_kim):
    """Without htmx the same URL is a whole page with the form and no out-of-band markup."""
    html = html_of(client.get("/kim/?status=diajukan"))
    assert "<html" in html and 'id="saring"' in html and 'id="hasil"' in html
    assert "<hx-partial" not in html


# --- scale --------------------------------------------------------------------------------------


def _queries_for(app, client, path: str) -> int:
    with counted_queries(app) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_query_count_does_not_grow_with_kim_or_members(app, client, operator, make_kim):
    """A registry page costs the same number of SQL statements with 3 KIM as with 60 (no N+1)."""
    for n in range(3):
        make_kim(name=f"KIM Kecil {n}", members=3)
    paths = ["/kim/", "/kim/?q=kim&status=terverifikasi&bidang=informasi_publik&urut=desa"]
    small = [_queries_for(app, client, p) for p in paths]
    villages = [PPU_VILLAGE, PPU_OTHER_VILLAGE, SEPAKU_VILLAGE]
    for n in range(57):
        make_kim(village=villages[n % 3], name=f"KIM Besar {n:02d}", members=3 + n % 12)
    large = [_queries_for(app, client, p) for p in paths]
    assert small == large
    # user, area selects (3), the area's own fields of activity (the bidang filter), rows, count
    assert max(large) <= 8
    # the rows query itself joins the regions and counts members in one statement
    with counted_queries(app) as statements:
        client.get("/kim/")
    assert sum("FROM kims" in s and "JOIN regions" in s for s in statements) == 1


# --- weight --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.OPERATOR_KABKOTA, "/kim/"),
        (
            Role.OPERATOR_KABKOTA,
            "/kim/?q=kim&status=terverifikasi&urut=desa&wilayah_kecamatan=64.09.03",
        ),
        (Role.ADMIN, "/kim/?wilayah_provinsi=64&wilayah_kabupaten=64.09"),
    ],
)
def test_registry_page_of_25_rows_fits_in_14_kb(client, make_user, make_kim, login, role, path):
    """A full registry page with 25 long rows, its CSS included, stays within 14 KB gzip."""
    villages = [PPU_VILLAGE, "64.09.03.2001", "64.09.03.2012"]
    for n in range(26):
        make_kim(
            village=villages[n % 3],
            name=f"KIM Komunitas Informasi Masyarakat Sejahtera Bersama {n:02d}",
            members=0,
        )
    login(make_user(role, PPU))
    response = client.get(path)
    html_of(response)
    assert response.status_code == 200
    size = page_weight(response)
    print(f"page weight {path}: {size} bytes gzip")
    assert size <= BUDGET
