"""The regional dashboard on a known dataset: every figure on the page, in the SVG and in the
XLSX and CSV exports agrees with it; the scope rule, drill-down, the date range, page weight and
a query count that does not grow with the data."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from html import unescape

import openpyxl
import pytest
import sqlalchemy as sa

from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.events.models import (
    Event,
    EventKind,
)
from kim_app.events.operations import local_now
from kim_app.extensions import db
from kim_app.groups.models import Gender
from tests.budget import PAGE_BUDGET, counted_queries, page_weight
from tests.conftest import JATIM, PPU, PPU_VILLAGE, html_of
from tests.helpers import table_rows
from tests.scenes import KALTIM, H, dashboard_event, dashboard_person

SCOPE_CHECKED = {"reports.dashboard", "reports.export"}
WEIGHED = {"reports.dashboard"}
NOT_PAGES = {"reports.export"}

YEAR = "dari=2025-01-01&sampai=2025-12-31"
BABULU = "64.09.03"


# --- the known dataset ---------------------------------------------------------------------------


# --- reading the page ----------------------------------------------------------------------------


def _desc(html: str, chart: str) -> str:
    match = re.search(rf'<desc id="grafik-{chart}-d">([^<]*)</desc>', html)
    assert match, chart
    return unescape(match.group(1))


def _get(client, make_user, login, role, scope, query=""):
    login(make_user(role, scope))
    response = client.get(f"/laporan/?{query}")
    return response, html_of(response)


STATUS_PPU = {"Draf": "1", "Diajukan": "1", "Perlu perbaikan": "0", "Terverifikasi": "4", "Ditolak": "0", "Nonaktif": "1"}  # fmt: skip


def test_regency_dashboard_shows_every_known_figure(client, make_user, login, dashboard_data):
    """PPU operator, 2025: status, coverage, events per month, participants, attendance, gender
    and the active KIM lists match the dataset; Majalengka and the province's event never count."""
    response, page = _get(client, make_user, login, Role.OPERATOR_KABKOTA, PPU, YEAR)
    assert response.status_code == 200
    # KIM by status: a stock, the range does not apply
    rows = table_rows(page, "Jumlah KIM per status")
    assert {r[0]: r[1] for r in rows[1:-1]} == STATUS_PPU and rows[-1] == ["Total", "7"]
    assert _desc(page, "status") == (
        "Draf: 1; Diajukan: 1; Perlu perbaikan: 0; Terverifikasi: 4; Ditolak: 0; Nonaktif: 1."
    )
    # coverage per district (rows by code) and the total
    rows = table_rows(page, "Cakupan KIM per wilayah")
    assert rows[1:] == [
        ["Penajam", "23", "1", "4,3"],
        ["Waru", "4", "0", "0,0"],
        ["Babulu", "12", "2", "16,7"],
        ["Sepaku", "15", "1", "6,7"],
        ["Total", "54", "4", "7,4"],
    ]
    assert "Babulu: 16,7% (2/12)" in _desc(page, "cakupan")
    assert ">16,7% (2/12)</text>" in page  # the label on the bar
    assert f'href="/laporan/?wilayah={BABULU}&amp;dari=2025-01-01&amp;sampai=2025-12-31"' in page
    # events by kind per month: 12 months, only March and May have events
    rows = table_rows(page, "Kegiatan per bulan dan jenis")
    assert rows[0] == ["Bulan", "Pelatihan", "Sosialisasi", "Total"]
    assert ["Mar 2025", "1", "1", "2"] in rows and ["Mei 2025", "1", "0", "1"] in rows
    assert ["Apr 2025", "0", "0", "0"] in rows and rows[-1] == ["Total", "2", "1", "3"]
    assert len(rows) == 1 + 12 + 1
    desc = _desc(page, "kegiatan")
    assert "Mar 2025: 2 kegiatan (Pelatihan 1, Sosialisasi 1)" in desc
    assert "Mei 2025: 1 kegiatan (Pelatihan 1)" in desc and "Jun 2025: 0 kegiatan;" in desc
    # participants and attendance: 8 registrations, 7 people, 7 hadir of 13 = 53,8 %
    rows = table_rows(page, "Peserta dan kehadiran")
    assert [r[1] for r in rows[1:]] == ["3", "8", "7", "4", "4", "13", "7", "53,8"]
    assert "<dd>53,8%</dd>" in page and "<dd>7</dd>" in page
    # gender: L 4, P 3, not given 1
    rows = table_rows(page, "Pendaftaran menurut jenis kelamin")
    assert rows[1:] == [
        ["Laki-laki", "4", "50,0"],
        ["Perempuan", "3", "37,5"],
        ["Tidak diisi", "1", "12,5"],
        ["Total", "8", "100,0"],
    ]
    assert (
        _desc(page, "gender")
        == "Laki-laki: 4 (50,0%); Perempuan: 3 (37,5%); Tidak diisi: 1 (12,5%)."
    )
    # active KIM: hadir marks in 2025 sessions of any counted event (the province forum too)
    most = table_rows(page, "KIM paling aktif")
    assert most[1:] == [
        ["KIM AlfaSebakung Jaya", "5"],
        ["KIM BravoBabulu Darat", "1"],
        ["KIM CharlieGiri Mukti", "1"],
        ["KIM GolfBukit Raya", "0"],
    ]
    least = table_rows(page, "KIM paling kurang aktif")
    assert [r[0] for r in least[1:]] == [
        "KIM GolfBukit Raya",
        "KIM BravoBabulu Darat",
        "KIM CharlieGiri Mukti",
        "KIM AlfaSebakung Jaya",
    ]
    assert "Luar" not in page and "Majalengka" not in page


def _xlsx(client, name, query):
    response = client.get(f"/laporan/ekspor/{name}.xlsx?{query}")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _csv(client, name, query):
    response = client.get(f"/laporan/ekspor/{name}.csv?{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))


def test_exports_hold_the_same_numbers(client, make_user, login, dashboard_data, app):
    """Each table as XLSX (read back with openpyxl) and CSV has the page's numbers; audited."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    status = _xlsx(client, "status", YEAR)
    assert status[0] == ["Status", "Jumlah KIM"]
    assert {r[0]: r[1] for r in status[1:-1]} == {k: int(v) for k, v in STATUS_PPU.items()}
    assert status[-1] == ["Total", 7]
    cover = _xlsx(client, "cakupan", YEAR)
    assert cover[1:] == [
        ["64.09.01", "Penajam", 23, 1, 4.3],
        ["64.09.02", "Waru", 4, 0, 0.0],
        ["64.09.03", "Babulu", 12, 2, 16.7],
        ["64.09.04", "Sepaku", 15, 1, 6.7],
        [None, "Total", 54, 4, 7.4],
    ]
    events = _xlsx(client, "kegiatan", YEAR)
    assert events[0] == ["Bulan", "Pelatihan", "Sosialisasi", "Total"]
    assert ["Mar 2025", 1, 1, 2] in events and events[-1] == ["Total", 2, 1, 3]
    people = _xlsx(client, "peserta", YEAR)
    assert [r[1] for r in people[1:]] == [3, 8, 7, 4, 4, 13, 7, 53.8]
    assert _xlsx(client, "gender", YEAR)[1:] == [
        ["Laki-laki", 4, 50.0],
        ["Perempuan", 3, 37.5],
        ["Tidak diisi", 1, 12.5],
        ["Total", 8, 100.0],
    ]
    active = _xlsx(client, "kim_aktif", YEAR)
    assert active[1] == ["Paling aktif", 1, "KIM Alfa", "Sebakung Jaya", 5]
    assert active[5] == ["Paling kurang aktif", 1, "KIM Golf", "Bukit Raya", 0]
    # CSV: the same rows as text
    assert _csv(client, "cakupan", YEAR)[3] == ["64.09.03", "Babulu", "12", "2", "16.7"]
    assert _csv(client, "peserta", YEAR)[-1][1] == "53.8"
    assert _csv(client, "gender", YEAR)[-1] == ["Total", "8", "100.0"]
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "report.export")
            .order_by(AuditEntry.id)
        ).all()
        assert len(entries) == 9
        assert entries[0].object_id == "status" and entries[0].region_code == PPU
        assert entries[0].changes == {
            "format": "xlsx",
            "dari": "2025-01-01",
            "sampai": "2025-12-31",
        }


def test_district_counts_events_by_its_kims_participants(client, make_user, login, dashboard_data):
    """Babulu owns no events: the events its KIM's people registered for count (the province
    forum too), and only their registrations; coverage lists its villages."""
    response, page = _get(
        client, make_user, login, Role.OPERATOR_KABKOTA, PPU, f"wilayah={BABULU}&{YEAR}"
    )
    assert response.status_code == 200
    rows = table_rows(page, "Kegiatan per bulan dan jenis")
    assert rows[0] == ["Bulan", "Pelatihan", "Sosialisasi", "Forum kemitraan", "Total"]
    assert ["Jun 2025", "0", "0", "1", "1"] in rows and rows[-1] == ["Total", "2", "1", "1", "4"]
    assert [r[1] for r in table_rows(page, "Peserta dan kehadiran")[1:]] == [
        "4", "6", "5", "5", "5", "9", "6", "66,7",
    ]  # fmt: skip
    assert table_rows(page, "Pendaftaran menurut jenis kelamin")[-1] == ["Total", "6", "100,0"]
    cover = table_rows(page, "Cakupan KIM per wilayah")
    assert len(cover) == 1 + 12 + 1 and cover[-1] == ["Total", "12", "2", "16,7"]
    assert ["Sebakung Jaya", "1", "1", "100,0"] in cover
    status = {r[0]: r[1] for r in table_rows(page, "Jumlah KIM per status")[1:]}
    assert status["Terverifikasi"] == "2" and status["Diajukan"] == "1" and status["Total"] == "3"
    # the breadcrumb goes back up to the scope, never above it
    assert '<a href="/laporan/?wilayah=64.09&amp;dari=2025-01-01&amp;sampai=2025-12-31">' in page
    assert "wilayah=64&amp;" not in page and "Kalimantan Timur" not in page


def test_province_operator_drills_down_to_regency_and_district(
    client, make_user, login, dashboard_data
):
    """Kalimantan Timur: regencies, with PPU's row leading to its districts, then to Babulu."""
    response, page = _get(client, make_user, login, Role.OPERATOR_PROVINSI, KALTIM, YEAR)
    assert response.status_code == 200
    cover = {r[0]: r[1:] for r in table_rows(page, "Cakupan KIM per wilayah")[1:]}
    assert cover["Kabupaten Penajam Paser Utara"] == ["54", "4", "7,4"]
    assert cover["Total"][1] == "4"
    # the province owns the forum, so it counts four events
    assert table_rows(page, "Kegiatan per bulan dan jenis")[-1][-1] == "4"
    assert 'href="/laporan/?wilayah=64.09&amp;dari=2025-01-01&amp;sampai=2025-12-31"' in page
    page = html_of(client.get(f"/laporan/?wilayah=64.09&{YEAR}"))
    assert table_rows(page, "Cakupan KIM per wilayah")[3] == ["Babulu", "12", "2", "16,7"]
    assert '<a href="/laporan/?wilayah=64&amp;dari=2025-01-01&amp;sampai=2025-12-31">' in page
    page = html_of(client.get(f"/laporan/?wilayah={BABULU}&{YEAR}"))
    assert table_rows(page, "Cakupan KIM per wilayah")[-1] == ["Total", "12", "2", "16,7"]


def test_admin_sees_the_country(client, make_user, login, dashboard_data):
    """The admin's default is the whole country: 38 provinces, Majalengka's KIM and event too."""
    _response, page = _get(client, make_user, login, Role.ADMIN, None, YEAR)
    cover = table_rows(page, "Cakupan KIM per wilayah")
    assert len(cover) == 1 + 38 + 1 and cover[-1][1:3] == ["83.762", "5"]
    assert table_rows(page, "Kegiatan per bulan dan jenis")[-1][-1] == "5"  # E1 E2 E3 E8 Majalengka
    assert {r[0]: r[1] for r in table_rows(page, "Jumlah KIM per status")[1:]}["Total"] == "8"


# --- the date range ------------------------------------------------------------------------------


def test_default_range_is_this_year(client, make_user, login, dashboard_data):
    """Without dates the page covers this calendar year (the 2025 events are then not counted)."""
    _response, page = _get(client, make_user, login, Role.OPERATOR_KABKOTA, PPU)
    year = date.today().year
    assert f'name="dari" value="{year}-01-01"' in page and f'value="{year}-12-31"' in page
    assert f"Periode 01/01/{year} – 31/12/{year}." in page


@pytest.mark.parametrize(
    "query",
    ["dari=2025-13-01", "dari=kemarin&sampai=2025-01-01", "dari=2025-06-01&sampai=2025-01-01",
     "dari=2020-01-01&sampai=2025-12-31", "dari=%00&sampai=9999999-1-1"],
)  # fmt: skip
def test_invalid_dates_say_so_and_use_the_defaults(client, make_user, login, dashboard_data, query):
    """A date that cannot be read, a reversed or overlong range: a message, this year, no 500."""
    response, page = _get(client, make_user, login, Role.OPERATOR_KABKOTA, PPU, query)
    assert response.status_code == 422
    assert 'role="alert"' in page and "Ditampilkan tahun ini" in page
    assert f"Periode 01/01/{date.today().year}" in page


def test_partial_request_gets_the_body_only(
    client, make_user, login, dashboard_data, partial_headers
):
    """htmx swaps #laporan: the fragment has the figures, not the page around them."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.get(f"/laporan/?{YEAR}", headers=partial_headers)
    body = html_of(response)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="laporan"') and "grafik-status" in body
    assert "<html" in html_of(client.get(f"/laporan/?{YEAR}"))


# --- charts --------------------------------------------------------------------------------------


def test_charts_are_accessible_svg_without_style(client, make_user, login, dashboard_data):
    """Every chart: role=img labelled by its title and description, a caption, then its table."""
    _response, page = _get(client, make_user, login, Role.OPERATOR_KABKOTA, PPU, YEAR)
    for chart in ("status", "cakupan", "kegiatan", "gender"):
        assert f'role="img" aria-labelledby="grafik-{chart}-t grafik-{chart}-d"' in page, chart
        assert f'<title id="grafik-{chart}-t">' in page
    assert page.count("<figure>") == 4 and page.count("</figcaption></figure>") == 4
    tables = (
        r"</figcaption></figure>\s*<div class=\"scroll\" tabindex=\"0\" role=\"region\"[^>]*><table"
    )
    assert len(re.findall(tables, page)) == 4
    assert "style=" not in page
    assert 'viewBox="0 0 320 ' in page


# --- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "scope", "query", "expected"),
    [
        (Role.ADMIN, None, "", 200),
        (Role.ADMIN, None, "wilayah=32.10", 200),
        (Role.OPERATOR_PROVINSI, KALTIM, "wilayah=64.09", 200),
        (Role.OPERATOR_PROVINSI, JATIM, "wilayah=64.09", 404),
        (Role.OPERATOR_KABKOTA, PPU, f"wilayah={BABULU}", 200),
        (Role.OPERATOR_KABKOTA, PPU, "wilayah=32.10", 404),
        (Role.OPERATOR_KABKOTA, PPU, "wilayah=64", 404),  # above the scope
        (Role.OPERATOR_KABKOTA, "32.10", "", 200),
        (Role.OPERATOR_KABKOTA, PPU, f"wilayah={PPU_VILLAGE}", 404),  # not an area
        (Role.OPERATOR_KABKOTA, PPU, "wilayah=64.09.99", 404),  # no such district
        (Role.KEPALA_DESA, PPU_VILLAGE, "", 403),
        (Role.PENGURUS_KIM, PPU_VILLAGE, "", 403),
        (Role.PETUGAS_ABSENSI, PPU, "", 403),
    ],
)
@pytest.mark.parametrize("path", ["/laporan/", "/laporan/ekspor/status.csv"])
def test_scope_matrix(client, make_user, make_kim, login, role, scope, query, expected, path):
    """Operators in their scope; another area or one above the scope 404; other roles 403."""
    # a pengurus account always belongs to a KIM
    kim = {"kim_id": make_kim(scope).id} if role is Role.PENGURUS_KIM else {}
    login(make_user(role, scope, **kim))
    assert client.get(f"{path}?{query}").status_code == expected


@pytest.mark.parametrize("path", ["/laporan/", "/laporan/ekspor/kim_aktif.xlsx"])
def test_anonymous_is_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unknown_table_or_format_is_not_found(client, make_user, login):
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    assert client.get("/laporan/ekspor/rahasia.csv").status_code == 404
    assert client.get("/laporan/ekspor/status.pdf").status_code == 404


def test_other_regency_operator_never_sees_ppu(client, make_user, login, dashboard_data):
    """Majalengka's operator counts only Majalengka: one KIM, one event, one hadir."""
    _response, page = _get(client, make_user, login, Role.OPERATOR_KABKOTA, "32.10", YEAR)
    assert {r[0]: r[1] for r in table_rows(page, "Jumlah KIM per status")[1:]}["Total"] == "1"
    assert [r[1] for r in table_rows(page, "Peserta dan kehadiran")[1:]][:3] == ["1", "1", "1"]
    assert "KIM Alfa" not in page and "KIM Luar" in page


# --- budgets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "scope", "query"),
    [
        (Role.OPERATOR_KABKOTA, PPU, YEAR),
        (Role.ADMIN, None, YEAR),  # 38 provinces
        (Role.OPERATOR_PROVINSI, JATIM, YEAR),  # 38 regencies
        (Role.OPERATOR_KABKOTA, PPU, "dari=2023-01-01&sampai=2025-12-31"),  # 36 months
    ],
)
def test_page_weight(client, make_user, login, dashboard_data, role, scope, query):
    """The page with its SVG charts stays within the 14 KB budget, compressed, CSS included."""
    response, _page = _get(client, make_user, login, role, scope, query)
    assert response.status_code == 200
    assert page_weight(response) <= PAGE_BUDGET


def _more_data(app, make_kim, make_event, n):
    kims = [make_kim(village="64.09.01.2020", name=f"KIM Tambahan {i}") for i in range(n)]
    for i in range(n):
        e = dashboard_event(
            make_event, app, day=date(2025, 1 + i % 12, 3), sessions=2, kind=list(EventKind)[i % 8]
        )
        for j, kim in enumerate(kims):
            dashboard_person(app, e, 1000 + 100 * i + j, Gender.P if j % 2 else None, kim, (H, H))


def test_query_count_does_not_grow_with_data(app, client, make_user, login, make_kim, make_event):
    """The same number of statements for a small and a much larger dataset, page and export."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    _more_data(app, make_kim, make_event, 1)
    with counted_queries(app) as small:
        assert client.get(f"/laporan/?{YEAR}").status_code == 200
    with counted_queries(app) as small_export:
        client.get(f"/laporan/ekspor/kim_aktif.csv?{YEAR}")
    _more_data(app, make_kim, make_event, 8)
    with counted_queries(app) as large:
        page = html_of(client.get(f"/laporan/?{YEAR}"))
    with counted_queries(app) as large_export:
        client.get(f"/laporan/ekspor/kim_aktif.csv?{YEAR}")
    assert "<dt>Kegiatan</dt><dd>9</dd>" in page and "<dd>65</dd>" in page
    assert len(small) == len(large) and len(small_export) == len(large_export)
    assert len(large) <= 13, [str(q)[:80] for q in large]


# --- issue 22 item 17: only sessions that have ended count -------------------------------------------


def test_attendance_rate_counts_only_sessions_that_have_ended(
    app, client, make_user, login, make_event
):
    """An event of PPU (WITA) with a session that ended half an hour ago, one running (ends in half
    an hour) and one next week; the one person was hadir in the first. The headline reads 100 %,
    not 33 %: sessions still running or to come have nobody present yet. "Ended" is read on the
    event's own clock (by WIB's the first is still running, by WIT's the second is over)."""
    event = make_event(days=1, sessions_per_day=3)
    with app.app_context():
        ev = db.session.get(Event, event.id)
        now = local_now(ev).replace(second=0, microsecond=0)
        done, running, later = ev.sessions
        done.starts_at, done.ends_at = now - timedelta(hours=2), now - timedelta(minutes=30)
        running.starts_at, running.ends_at = (
            now - timedelta(minutes=20),
            now + timedelta(minutes=30),
        )
        later.starts_at = now + timedelta(days=7)
        later.ends_at = later.starts_at + timedelta(hours=3)
        ev.starts_on = done.starts_at
        db.session.commit()
        days = (now.date() - timedelta(days=30), now.date() + timedelta(days=30))
    dashboard_person(app, event.id, 1, Gender.P, None, (H,))
    query = f"dari={days[0].isoformat()}&sampai={days[1].isoformat()}"
    response, page = _get(client, make_user, login, Role.OPERATOR_KABKOTA, PPU, query)
    assert response.status_code == 200
    # the label says what the figure counts
    assert "<dt>Kehadiran (sesi selesai)</dt><dd>100,0%</dd>" in page
    rows = table_rows(page, "Peserta dan kehadiran")
    assert [r[0] for r in rows[4:9]] == [
        "Sesi dalam rentang",
        "Sesi yang sudah selesai",
        "Kehadiran yang diharapkan (peserta × sesi selesai)",
        "Tanda hadir di sesi selesai",
        "Tingkat kehadiran di sesi selesai (%)",
    ]
    assert [r[1] for r in rows[1:]] == ["1", "1", "1", "3", "1", "1", "1", "100,0"]
    assert _xlsx(client, "peserta", query)[-1][1] == 100.0
