"""The public directory of active KIM and their public profiles: open to everyone, only verified
KIM, searchable and paginated, never a phone number and no member names beyond an opted-in ketua."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from kim_app.extensions import db
from kim_app.groups.models import Bidang, KimStatus, Member, Position
from kim_app.phones import display_phone
from tests.budget import counted_queries, page_weight
from tests.conftest import MAJALENGKA_VILLAGE, PPU_OTHER_VILLAGE, PPU_VILLAGE, html_of
from tests.helpers import BUDGET

JATIM_VILLAGE = "35.14.01.2001"


def names_listed(html: str) -> list[str]:
    return re.findall(r'<a href="/direktori/\d+"><strong>([^<]+)</strong>', html)


def test_only_verified_kim_are_listed(client, make_kim):
    """Drafts, submitted, returned, rejected and deactivated KIM stay out of the directory."""
    make_kim(name="KIM Aktif")
    for status in KimStatus:
        if status is not KimStatus.TERVERIFIKASI:
            make_kim(name=f"KIM {status.value}", status=status)
    response = client.get("/direktori")
    assert response.status_code == 200
    assert names_listed(html_of(response)) == ["KIM Aktif"]


def test_search_by_kim_name_or_village_name(client, make_kim):
    """Every word must match the KIM's name or its village's; the word 'KIM' itself is ignored."""
    make_kim(name="KIM Sebakung Maju")
    make_kim(name="KIM Giri Mukti Bersatu", village=PPU_OTHER_VILLAGE)
    make_kim(name="KIM Maju Jaya", village=MAJALENGKA_VILLAGE)
    assert names_listed(html_of(client.get("/direktori?q=maju"))) == [
        "KIM Maju Jaya",
        "KIM Sebakung Maju",
    ]
    assert names_listed(html_of(client.get("/direktori?q=KIM+bersatu"))) == [
        "KIM Giri Mukti Bersatu"
    ]
    # "sebakung" is also the village's name; "Giri Mukti" is the other village
    assert names_listed(html_of(client.get("/direktori?q=Giri+mukti"))) == [
        "KIM Giri Mukti Bersatu"
    ]
    assert names_listed(html_of(client.get("/direktori?q=tidak-ada-sama-sekali"))) == []


def test_filter_by_province_and_regency(client, make_kim):
    """A province narrows to its villages; a regency further; a regency of another province is ignored."""
    make_kim(name="KIM PPU")
    make_kim(name="KIM Majalengka", village=MAJALENGKA_VILLAGE)
    make_kim(name="KIM Jatim", village=JATIM_VILLAGE)
    assert names_listed(html_of(client.get("/direktori?provinsi=64"))) == ["KIM PPU"]
    html = html_of(client.get("/direktori?provinsi=35&kabupaten=35.14"))
    assert names_listed(html) == ["KIM Jatim"]
    assert '<option value="35.14" selected>' in html
    assert names_listed(html_of(client.get("/direktori?provinsi=64&kabupaten=35.14"))) == [
        "KIM PPU"
    ]


@pytest.mark.parametrize(
    "query",
    [
        "provinsi=xx",
        "provinsi=64.09",
        "kabupaten=64.09",
        "halaman=abc",
        "halaman=-3",
        "halaman=99999999999999999999999",
        "q=" + "%25_%5C" * 80,
        "q=%00",
        "provinsi=%27%3B--",
    ],
)
def test_malformed_search_is_ignored_not_an_error(client, make_kim, query):
    """Anything odd in the URL is dropped or clamped: always 200, never a 500."""
    make_kim(name="KIM Aman")
    response = client.get("/direktori?" + query)
    assert response.status_code == 200
    assert "KIM ditemukan" in html_of(response)


def test_twenty_per_page_with_bookmarkable_pager(client, make_kim):
    """25 matches: 20 on page 1 and 5 on page 2; the pager keeps the search in the URL."""
    for n in range(25):
        make_kim(name=f"KIM Lestari {n:02d}")
    make_kim(name="KIM Lain", village=MAJALENGKA_VILLAGE)
    first = html_of(client.get("/direktori?q=lestari&provinsi=64"))
    assert len(names_listed(first)) == 20 and "25 KIM ditemukan" in first
    assert "Halaman 1 dari 2" in first
    link = re.search(r'<a href="(/direktori\?[^"]+)" hx-get="[^"]+"[^>]*>Berikutnya', first).group(
        1
    )
    assert "q=lestari" in link and "provinsi=64" in link and "halaman=2" in link
    assert "kabupaten" not in link
    second = html_of(client.get(link.replace("&amp;", "&")))
    assert names_listed(second) == [f"KIM Lestari {n:02d}" for n in range(20, 25)]


def test_a_page_past_the_last_shows_the_last(client, make_kim):
    """From the trial: ``halaman=10000`` of 25 matches (an old link, a typed number) shows page 2
    of 2 with its five KIM, not "Halaman 10000 dari 2" above an empty list."""
    for n in range(25):
        make_kim(name=f"KIM Lestari {n:02d}")
    page = html_of(client.get("/direktori?q=lestari&halaman=10000"))
    assert "Halaman 2 dari 2" in page and "25 KIM ditemukan" in page
    assert names_listed(page) == [f"KIM Lestari {n:02d}" for n in range(20, 25)]


def test_htmx_gets_the_results_fragment_and_a_plain_request_the_page(
    client, make_kim, partial_headers
):
    """Active search swaps #hasil (filters, results, pager); the same URL is a full page too."""
    make_kim(name="KIM Sebakung Maju")
    fragment = html_of(client.get("/direktori?q=sebakung&provinsi=64", headers=partial_headers))
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="hasil">')
    assert names_listed(fragment) == ["KIM Sebakung Maju"]
    assert '<option value="64.09">' in fragment  # the regencies of the chosen province
    page = html_of(client.get("/direktori?q=sebakung&provinsi=64"))
    assert "<html" in page and 'value="sebakung"' in page and '<div id="hasil">' in page


def test_directory_queries_do_not_grow_with_results(app, client, make_kim):
    """3 or 20 KIM on a page: the same number of SQL queries."""
    for n in range(3):
        make_kim(name=f"KIM Kecil {n}", village=PPU_OTHER_VILLAGE if n % 2 else PPU_VILLAGE)
    for n in range(20):
        make_kim(name=f"KIM Besar {n}", village=PPU_OTHER_VILLAGE if n % 2 else JATIM_VILLAGE)
    counts = []
    for word, total in (("kecil", 3), ("besar", 20)):
        with counted_queries(app) as seen:
            html = html_of(client.get(f"/direktori?q={word}"))
        assert len(names_listed(html)) == total
        counts.append(len(seen))
    print(f"directory queries: {counts}")
    assert counts[0] == counts[1]


def _profile_kim(make_kim, **overrides):
    values = {
        "name": "KIM Sebakung Maju",
        "members": 6,
        "bidang": (Bidang.INFORMASI_PUBLIK, Bidang.PERTANIAN),
        "potensi": "Sawit dan padi.\nWisata air terjun.",
        "whatsapp": "+6281399998888",
        "email": "kim.sebakung@desa.example",
        "website": "https://sebakung.desa.id",
        "social_links": "https://instagram.com/kimsebakung\njavascript:alert(1)\nfacebook.com/kimsebakung",
        "public_contact": True,
        "show_ketua": True,
    }
    values.update(overrides)
    return make_kim(**values)


def _members(app, kim_id):
    with app.app_context():
        rows = db.session.scalars(sa.select(Member).where(Member.kim_id == kim_id)).all()
        return [(m.name, m.position, m.phone) for m in rows]


def _phone_forms(e164: str) -> list[str]:
    """Every way the number might be printed."""
    local = "0" + e164[3:]
    return [e164, e164[1:], local, display_phone(e164), local[:4] + " " + local[4:8]]


def test_profile_shows_what_the_kim_made_public(client, make_kim):
    """Name, number, every region level, bidang, potensi, contacts and the opted-in ketua."""
    kim = _profile_kim(make_kim)
    response = client.get(f"/direktori/{kim.id}")
    assert response.status_code == 200
    html = html_of(response)
    for text in (
        "KIM Sebakung Maju",
        kim.registration_number,
        "Desa Sebakung Jaya",
        "Kec. Babulu",
        "Kabupaten Penajam Paser Utara",
        "Kalimantan Timur",
        "Informasi publik",
        "Pertanian/perikanan",
        "Wisata air terjun.",
        "kim.sebakung@desa.example",
        "<dt>Ketua</dt>",
    ):
        assert text in html


def test_profile_never_shows_phone_numbers_or_other_member_names(app, client, make_kim):
    """No number of any member nor the KIM's own WhatsApp, in any format; only the ketua is named."""
    kim = _profile_kim(make_kim)
    members = _members(app, kim.id)
    html = html_of(client.get(f"/direktori/{kim.id}"))
    ketua = next(name for name, position, _phone in members if position is Position.KETUA)
    assert f"<dd>{ketua}</dd>" in html
    for name, position, phone in members:
        assert phone
        for written in _phone_forms(phone):
            assert written not in html
        if position is not Position.KETUA:
            assert name not in html
    for written in _phone_forms("+6281399998888"):
        assert written not in html
    assert "tel:" not in html and "wa.me" not in html


def test_private_kim_shows_neither_ketua_nor_email_nor_website(app, client, make_kim):
    """Without the opt-ins no member is named and the email and website stay hidden."""
    kim = _profile_kim(make_kim, public_contact=False, show_ketua=False)
    html = html_of(client.get(f"/direktori/{kim.id}"))
    for name, _position, _phone in _members(app, kim.id):
        assert name not in html
    assert "kim.sebakung@desa.example" not in html and "sebakung.desa.id" not in html
    assert "Ketua" not in html
    assert "https://instagram.com/kimsebakung" in html  # social pages are public by nature


def test_only_http_links_are_links_and_they_carry_rel(client, make_kim):
    """http(s) addresses become links with rel="noopener nofollow ugc"; others are plain text."""
    kim = _profile_kim(make_kim)
    html = html_of(client.get(f"/direktori/{kim.id}"))
    hrefs = re.findall(r'<a href="([^"]+)" rel="noopener nofollow ugc">', html)
    assert hrefs == ["https://sebakung.desa.id", "https://instagram.com/kimsebakung"]
    assert 'href="javascript' not in html and "javascript:alert(1)" in html
    assert 'href="facebook.com' not in html and "facebook.com/kimsebakung" in html


def test_directory_list_shows_no_phone_numbers(app, client, make_kim):
    """The list itself shows names and places only."""
    kim = _profile_kim(make_kim)
    html = html_of(client.get("/direktori"))
    for _name, _position, phone in _members(app, kim.id):
        for written in _phone_forms(phone):
            assert written not in html


@pytest.mark.parametrize("status", [s for s in KimStatus if s is not KimStatus.TERVERIFIKASI])
def test_profile_of_a_kim_that_is_not_active_is_404(client, make_kim, status):
    """Only verified KIM have a public page; the rest (and unknown ids) are not found."""
    kim = make_kim(status=status)
    assert client.get(f"/direktori/{kim.id}").status_code == 404
    assert client.get("/direktori/987654").status_code == 404
    assert client.get("/direktori/99999999999999999999").status_code == 404


def _weigh(response) -> int:
    html = html_of(response)
    assert "<html" in html
    return page_weight(response)


def test_directory_and_profile_fit_in_14_kb(client, make_kim):
    """A full results page (20 KIM, the regency list of Jawa Timur open) and a rich profile."""
    for n in range(22):
        make_kim(
            name=f"KIM Nama Cukup Panjang Untuk Uji {n:02d}",
            village=JATIM_VILLAGE,
            bidang=tuple(Bidang)[:4],
        )
    kim = _profile_kim(make_kim, potensi="Potensi desa yang panjang. " * 70)
    for path in ("/direktori", "/direktori?provinsi=35&q=uji", f"/direktori/{kim.id}"):
        response = client.get(path)
        assert response.status_code == 200
        size = _weigh(response)
        print(f"page weight {path}: {size} bytes gzip")
        assert size <= BUDGET


PUBLIC = {"groups.directory", "groups.public_profile"}
WEIGHED = {"groups.directory", "groups.public_profile"}
