"""Regions: the importer (counts, re-runs, malformed files) and the picker, search and pages."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.regions.models import Region, RegionLevel, ancestors_of, level_of, parent_of
from kim_app.regions.operations import import_regions, region_counts
from tests.conftest import MAJALENGKA_VILLAGE, PPU, PPU_VILLAGE, html_of


def test_all_regions_are_loaded(ctx):
    """The real data: 38 provinces, 514 regencies, 7,285 districts, 83,762 villages (91,599)."""
    counts = region_counts()
    assert counts == {
        RegionLevel.PROVINSI: 38,
        RegionLevel.KABUPATEN: 514,
        RegionLevel.KECAMATAN: 7285,
        RegionLevel.DESA: 83762,
    }
    assert sum(counts.values()) == 91_599


def test_codes_parse_by_level():
    """Codes are recognised by shape; anything else is not a region code."""
    assert level_of("35") is RegionLevel.PROVINSI
    assert level_of("35.14") is RegionLevel.KABUPATEN
    assert level_of("35.14.01") is RegionLevel.KECAMATAN
    assert level_of("35.14.01.2001") is RegionLevel.DESA
    for bad in (
        "",
        "3",
        "35.1",
        "35.14.1",
        "35.14.01.201",
        "3a.14",
        "35..14",
        "35.14.01.2001.1",
        "٣٥",
    ):
        assert level_of(bad) is None, bad
    assert parent_of("35.14.01") == "35.14" and parent_of("35") is None
    assert ancestors_of("35.14.01.2001") == ["35", "35.14", "35.14.01", "35.14.01.2001"]


def test_village_names_show_desa_or_kelurahan(ctx):
    """Kelurahan (last group 1xxx) and desa (2xxx) are named as people write them."""
    assert db.session.get(Region, "64.09.01.1009").display_name == "Kel. Nipah-Nipah"
    assert db.session.get(Region, PPU_VILLAGE).display_name == "Desa Sebakung Jaya"
    assert db.session.get(Region, "64.09.03").display_name == "Kec. Babulu"


def test_reimport_changes_nothing(ctx, region_data_dir):
    """Importing the same files again adds and renames nothing."""
    result = import_regions(region_data_dir)
    assert (result.added, result.renamed, result.unchanged) == (0, 0, 91_599)


def _copy(region_data_dir, tmp_path):
    target = tmp_path / "data"
    target.mkdir()
    for name in ("provinces.csv", "regencies.csv", "districts.csv", "villages.csv"):
        shutil.copy(region_data_dir / name, target / name)
    return target


def test_reimport_updates_names_and_adds_new_codes(ctx, region_data_dir, tmp_path):
    """A renamed village is updated and a new code is added, without duplicates."""
    source = _copy(region_data_dir, tmp_path)
    villages = source / "villages.csv"
    text = villages.read_text(encoding="utf-8")
    text = text.replace(
        f"{PPU_VILLAGE},64.09.03,Sebakung Jaya", f"{PPU_VILLAGE},64.09.03,Sebakung Jaya Baru"
    )
    text += "64.09.03.2099,64.09.03,Desa Pemekaran\n"
    villages.write_text(text, encoding="utf-8")
    result = import_regions(source)
    assert (result.added, result.renamed) == (1, 1)
    assert db.session.get(Region, PPU_VILLAGE).name == "Sebakung Jaya Baru"
    assert db.session.get(Region, "64.09.03.2099").parent_code == "64.09.03"
    db.session.rollback()  # leave the shared data as it was


@pytest.mark.parametrize(
    ("filename", "bad_line", "expected"),
    [
        ("villages.csv", "64.09.03.20x1,64.09.03,Rusak\n", "is not a desa code"),
        (
            "villages.csv",
            "64.09.03.2098,64.09.04,Salah Induk\n",
            "district_code of 64.09.03.2098 must be 64.09.03",
        ),
        (
            "villages.csv",
            "99.01.01.2001,99.01.01,Tanpa Induk\n",
            "parent 99.01.01 of 99.01.01.2001 is not in the data",
        ),
        ("districts.csv", "11.01.01,11.01,Bakongan\n", "appears twice"),
        ("regencies.csv", "64.98,64,\n", "is empty"),
    ],
)
def test_malformed_file_stops_with_file_and_line_and_changes_nothing(
    app, region_data_dir, tmp_path, filename, bad_line, expected
):
    """The command names the file and line, exits 2, and the table is as it was."""
    source = _copy(region_data_dir, tmp_path)
    path = source / filename
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(3, bad_line)  # becomes line 4 of the file
    path.write_text("".join(lines), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["kim", "import-regions", "--from", str(source)])
    assert result.exit_code == 2
    assert f"{path}:4:" in result.output
    assert expected in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Region)) == 91_599


def test_missing_file_is_reported(app, tmp_path):
    """An empty folder is reported by name, with exit code 2."""
    result = app.test_cli_runner().invoke(args=["kim", "import-regions", "--from", str(tmp_path)])
    assert result.exit_code == 2
    assert "provinces.csv" in result.output and "file not found" in result.output


def test_import_command_reports_counts(app, region_data_dir):
    """The command prints what it did."""
    result = app.test_cli_runner().invoke(
        args=["kim", "import-regions", "--from", str(region_data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "91599 rows (0 added, 0 renamed, 91599 unchanged)" in result.output


def test_picker_for_regency_operator_fixes_province_and_regency(client, make_user, login):
    """A Penajam Paser Utara operator sees province and regency fixed and chooses a district."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    page = html_of(client.get("/wilayah/"))
    assert "Kalimantan Timur" in page and "Kabupaten Penajam Paser Utara" in page
    assert 'name="wilayah_provinsi" value="64"' in page
    assert 'name="wilayah_kabupaten" value="64.09"' in page
    assert "Kec. Babulu" in page
    assert "Kabupaten Paser" not in page  # a neighbouring regency is not offered


def test_picker_fragment_cascades_to_villages(client, make_user, login, partial_headers):
    """Choosing a district over htmx returns the picker fragment with that district's villages."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.get(
        "/wilayah/pilih",
        query_string={
            "wilayah_provinsi": "64",
            "wilayah_kabupaten": PPU,
            "wilayah_kecamatan": "64.09.03",
        },
        headers=partial_headers,
    )
    fragment = html_of(response)
    assert response.status_code == 200
    assert "<html" not in fragment and fragment.lstrip().startswith("{#") is False
    assert 'id="wilayah-picker"' in fragment
    assert "Desa Sebakung Jaya" in fragment
    assert "Desa Api-api" not in fragment  # a village of another district


def test_picker_without_htmx_is_the_full_page(client, make_user, login):
    """The same URL without htmx headers is the full browse page (JavaScript off)."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.get("/wilayah/pilih", query_string={"wilayah_kecamatan": "64.09.03"})
    assert "<html" in html_of(response)


def test_picker_ignores_out_of_scope_choices(client, make_user, login, partial_headers):
    """A Majalengka village sent to a Penajam Paser Utara operator's picker is not selected."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    fragment = html_of(
        client.get(
            "/wilayah/pilih",
            query_string={"wilayah_pilih": MAJALENGKA_VILLAGE},
            headers=partial_headers,
        )
    )
    assert MAJALENGKA_VILLAGE not in fragment
    assert "Kabupaten Majalengka" not in fragment


def test_village_search_shows_district_and_stays_in_scope(
    client, make_user, login, partial_headers
):
    """Search by name lists matching villages in scope with their district and regency."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    fragment = html_of(
        client.get(
            "/wilayah/pilih",
            query_string={"bagian": "hasil", "wilayah_q": "sebakung"},
            headers=partial_headers,
        )
    )
    assert "Desa Sebakung Jaya" in fragment
    assert "Kec. Babulu, Kabupaten Penajam Paser Utara" in fragment
    fragment = html_of(
        client.get(
            "/wilayah/pilih",
            query_string={"bagian": "hasil", "wilayah_q": "Majalengka"},
            headers=partial_headers,
        )
    )
    assert "Tidak ada desa/kelurahan" in fragment


def test_choosing_a_search_result_sets_every_level(client, make_user, login, partial_headers):
    """Picking a search result selects its district too and clears the search."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    fragment = html_of(
        client.get(
            "/wilayah/pilih",
            query_string={"wilayah_pilih": PPU_VILLAGE, "wilayah_q": "sebakung"},
            headers=partial_headers,
        )
    )
    assert 'value="64.09.03" selected' in fragment
    assert f'value="{PPU_VILLAGE}" selected' in fragment
    assert 'type="radio"' not in fragment


def test_lihat_opens_the_chosen_region(client, make_user, login):
    """The browse form's button opens the deepest chosen region."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.get("/wilayah/", query_string={"wilayah_kecamatan": "64.09.03", "lihat": "1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/wilayah/64.09.03"


def test_region_page_lists_children_and_lineage(client, make_user, login):
    """A district page links its villages; ancestors above one's scope are plain text."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    page = html_of(client.get("/wilayah/64.09.03"))
    assert "Kec. Babulu" in page
    assert f'href="/wilayah/{PPU_VILLAGE}"' in page
    assert 'href="/wilayah/64.09"' in page
    assert 'href="/wilayah/64"' not in page  # the province is above this operator's scope


def test_region_pages_need_sign_in(client):
    """Visitors are sent to sign in, with the page to return to."""
    response = client.get("/wilayah/64.09")
    assert response.status_code == 302
    assert "/login?next=%2Fwilayah%2F64.09" in response.headers["Location"]


def test_unknown_region_code_is_404(client, make_user, login):
    """A code that does not exist is a 404 page, even for an admin."""
    login(make_user(Role.ADMIN))
    assert client.get("/wilayah/99.99").status_code == 404
