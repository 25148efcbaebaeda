"""Participation history: a KIM's events, delegates and attendance rate (on its page, for its
pengurus and village head), and a person's registrations for operators; exports, access,
page weight and query counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.events.models import (
    Event,
    EventSession,
    EventStatus,
    Invitation,
)
from kim_app.extensions import db
from tests.budget import PAGE_BUDGET, counted_queries, page_weight
from tests.conftest import PPU, PPU_OTHER_VILLAGE, PPU_VILLAGE, html_of
from tests.scenes import HISTORY_PHONE as PHONE
from tests.scenes import delegate, invite_kim

SCOPE_CHECKED = {
    "reports.kim_history",
    "reports.kim_history_export",
    "reports.people",
    "reports.person",
    "reports.person_export",
}
WEIGHED = {"reports.kim_history", "reports.people", "reports.person"}
NOT_PAGES = {"reports.kim_history_export", "reports.person_export"}

TITLE = re.compile(r"<li><strong>([^<]+)</strong>")
RATE = re.compile(r"<dt>Kehadiran</dt><dd>([^<]+)</dd>")


# --- data ------------------------------------------------------------------------------------------


def signed_in(make_user, login, role: Role, scope: str | None = PPU, **extra):
    user = make_user(role, scope, **extra)
    login(user)
    return user


# --- the KIM history ---------------------------------------------------------------------------------


def test_kim_history_rows_and_rates_exact(app, client, make_user, login, history_dataset):
    """Newest first, drafts left out, every figure as built: 75 %, 0 %, 50 %, no rate; overall
    4 hadir marks of 8 expected = 50 %."""
    signed_in(make_user, login, Role.OPERATOR_KABKOTA)
    html = html_of(client.get(f"/kim/{history_dataset['a'].id}/riwayat"))
    assert TITLE.findall(html) == ["Kegiatan E3", "Kegiatan E5", "Kegiatan E2", "Kegiatan E1"]
    assert RATE.findall(html) == ["75%", "0%", "50%", "—"]
    assert "Kegiatan Draf" not in html
    figures = re.findall(
        r"<dt>Kuota</dt><dd>([^<]+)</dd></div>\s*<div><dt>Terdaftar</dt><dd>(\d+)</dd></div>\s*"
        r"<div><dt>Tunggu/batal</dt><dd>(\d+)/(\d+)</dd></div>\s*<div><dt>Hadir</dt><dd>(\d+)</dd>",
        html,
    )
    assert figures == [
        ("3", "2", "1", "0", "2"),
        ("—", "1", "0", "0", "0"),
        ("2", "1", "0", "1", "1"),
        ("2", "0", "0", "0", "0"),
    ]
    assert "4 kegiatan · 4 delegasi terdaftar · 3 hadir" in html
    assert "kehadiran 50%" in html and "(4/8)" in html


def test_kim_history_query_figures(app, ctx, history_dataset):
    """The query itself: 2 delegates × 2 sessions with 3 hadir marks → 0.75; B's marks and the
    cancelled delegate's mark do not count."""
    from kim_app.reports.history import kim_history_page

    page, totals = kim_history_page(history_dataset["a"].id, 1)
    first = page.items[0]
    assert (first.registered, first.sessions, first.marks, first.expected) == (2, 2, 3, 4)
    assert first.rate == pytest.approx(0.75)
    assert (totals.events, totals.marks, totals.expected) == (4, 4, 8)
    assert totals.rate == pytest.approx(0.5)
    other, _totals = kim_history_page(history_dataset["b"].id, 1)
    assert [(r.title, r.registered, r.marks, r.rate) for r in other.items] == [
        ("Kegiatan E3", 1, 2, 1.0)
    ]


def test_kim_history_pages_of_20_and_constant_queries(app, client, make_user, login, make_kim):
    """30 events: 20 on the first page, 10 on the second, newest first; the page, the fragment
    and the export run as many queries for 2 events as for 30."""
    signed_in(make_user, login, Role.OPERATOR_KABKOTA)
    counts = []
    for n in (2, 30):
        kim = make_kim()
        with app.app_context():
            base = datetime(2026, 1, 1, 9)
            for i in range(n):
                event = Event(
                    code=f"h{kim.id}x{i}",
                    kind="pelatihan",
                    title=f"Riwayat {i:02d}",
                    region_code=PPU,
                    timezone="Asia/Makassar",
                    status=EventStatus.SELESAI,
                    starts_on=base + timedelta(days=i),
                    sessions=[
                        EventSession(
                            starts_at=base + timedelta(days=i),
                            ends_at=base + timedelta(days=i, hours=2),
                        )
                    ],
                )
                db.session.add(event)
                db.session.flush()
                db.session.add(Invitation(event_id=event.id, kim_id=kim.id, quota=2))
            db.session.commit()
        url = f"/kim/{kim.id}/riwayat"
        with counted_queries(app) as page_queries:
            html = html_of(client.get(url))
        with counted_queries(app) as fragment_queries:
            client.get(url, headers={"HX-Request": "true", "HX-Request-Type": "partial"})
        with counted_queries(app) as export_queries:
            client.get(url + ".xlsx")
        counts.append((len(page_queries), len(fragment_queries), len(export_queries)))
        if n == 30:
            assert TITLE.findall(html) == [f"Riwayat {i:02d}" for i in range(29, 9, -1)]
            assert "Halaman 1 dari 2" in html
            second = html_of(client.get(url, query_string={"halaman": "2"}))
            assert TITLE.findall(second) == [f"Riwayat {i:02d}" for i in range(9, -1, -1)]
    print(f"KIM history queries (page, fragment, export) for 2 and 30 events: {counts}")
    assert counts[0] == counts[1]


def test_kim_page_loads_history_lazily_and_fragment(app, client, make_user, login, history_dataset):
    """The KIM page carries a link that htmx loads when revealed; the fragment answers a partial
    request without the page around it and the full page to a plain one."""
    kim_id = history_dataset["a"].id
    signed_in(make_user, login, Role.OPERATOR_KABKOTA)
    page = html_of(client.get(f"/kim/{kim_id}"))
    assert (
        f'href="/kim/{kim_id}/riwayat" hx-get="/kim/{kim_id}/riwayat" hx-trigger="revealed"' in page
    )
    fragment = client.get(
        f"/kim/{kim_id}/riwayat", headers={"HX-Request": "true", "HX-Request-Type": "partial"}
    )
    assert "<html" not in html_of(fragment)
    assert html_of(fragment).startswith('<section id="riwayat-kim"')
    assert "Kegiatan E3" in html_of(fragment)
    assert "<html" in html_of(client.get(f"/kim/{kim_id}/riwayat"))


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", 200),
        ("operator_provinsi", 200),
        ("operator_kabkota", 200),
        ("operator_other", 404),
        ("kepala_desa", 200),
        ("kepala_desa_other", 404),
        ("pengurus", 200),
        ("pengurus_other", 404),
        ("petugas", 403),
        ("anonymous", 302),
    ],
)
def test_kim_history_access(app, client, make_user, login, history_dataset, who, expected):
    """Whoever may see the KIM page sees its history and export: operators in scope, its village
    head, its own pengurus; another village's head or KIM 404; petugas absensi 403."""
    kim = history_dataset["a"]
    users = {
        "admin": (Role.ADMIN, None, {}),
        "operator_provinsi": (Role.OPERATOR_PROVINSI, "64", {}),
        "operator_kabkota": (Role.OPERATOR_KABKOTA, PPU, {}),
        "operator_other": (Role.OPERATOR_KABKOTA, "32.10", {}),
        "kepala_desa": (Role.KEPALA_DESA, PPU_VILLAGE, {}),
        "kepala_desa_other": (Role.KEPALA_DESA, PPU_OTHER_VILLAGE, {}),
        "pengurus": (Role.PENGURUS_KIM, PPU_VILLAGE, {"kim_id": kim.id}),
        "pengurus_other": (
            Role.PENGURUS_KIM,
            PPU_OTHER_VILLAGE,
            {"kim_id": history_dataset["b"].id},
        ),
        "petugas": (Role.PETUGAS_ABSENSI, PPU, {"event_id": history_dataset["events"]["E3"]}),
    }
    if who in users:
        role, scope, extra = users[who]
        signed_in(make_user, login, role, scope, **extra)
    for url in (f"/kim/{kim.id}/riwayat", f"/kim/{kim.id}/riwayat.csv"):
        response = client.get(url)
        assert response.status_code == expected, url
    if expected == 200:
        assert RATE.findall(html_of(client.get(f"/kim/{kim.id}/riwayat")))[0] == "75%"


def test_pengurus_sees_own_kim_history_on_kim_page(app, client, make_user, login, history_dataset):
    """A pengurus account: its KIM page links the history and the fragment shows its figures."""
    kim = history_dataset["a"]
    signed_in(make_user, login, Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id)
    assert f'hx-get="/kim/{kim.id}/riwayat"' in html_of(client.get(f"/kim/{kim.id}"))
    fragment = html_of(
        client.get(
            f"/kim/{kim.id}/riwayat", headers={"HX-Request": "true", "HX-Request-Type": "partial"}
        )
    )
    assert RATE.findall(fragment) == ["75%", "0%", "50%", "—"]


def read_xlsx(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    return [row + [None] * (len(rows[0]) - len(row)) for row in rows]


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_kim_history_exports_equal_the_page(app, client, make_user, login, history_dataset):
    """XLSX and CSV hold the page's rows in its order with the same figures; each export is
    audited."""
    kim = history_dataset["a"]
    signed_in(make_user, login, Role.KEPALA_DESA, PPU_VILLAGE)
    response = client.get(f"/kim/{kim.id}/riwayat.xlsx")
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = read_xlsx(response.data)
    assert rows[0][0] == "Kegiatan" and rows[0][-1] == "Tingkat kehadiran (%)"
    assert [r[0] for r in rows[1:]] == ["Kegiatan E3", "Kegiatan E5", "Kegiatan E2", "Kegiatan E1"]
    assert [r[6:] for r in rows[1:]] == [
        [3, 2, 1, 0, 2, 2, 3, 75],
        [None, 1, 0, 0, 0, 2, 0, 0],
        [2, 1, 0, 1, 1, 2, 1, 50],
        [2, 0, 0, 0, 0, 2, 0, None],
    ]
    assert rows[1][2].date().isoformat() == "2026-04-10"
    assert rows[1][3].date().isoformat() == "2026-04-11"
    text = read_csv(client.get(f"/kim/{kim.id}/riwayat.csv").data)
    assert [r[0] for r in text[1:]] == [r[0] for r in rows[1:]]
    assert [r[-1] for r in text[1:]] == ["75.0", "0.0", "50.0", ""]
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.object_id == str(kim.id))
        ).all()
    assert actions.count("kim.history_export") == 2


# --- people ----------------------------------------------------------------------------------------------


def test_person_search_by_name_and_phone_in_any_spelling(
    app, client, make_user, login, history_dataset
):
    """A name part finds the person once (same phone = one person, 2 events); the number in any
    spelling, or part of it, finds the same person; another regency's operator finds nobody."""
    signed_in(make_user, login, Role.OPERATOR_KABKOTA)
    latest = max(history_dataset["people"]["d1"], history_dataset["people"]["d4"])
    for q in (
        "siti",
        "AMINAH",
        "0812-3456-7890",
        "+62 812 3456 7890",
        "6281234567890",
        "3456-7890",
    ):
        html = html_of(client.get("/laporan/orang", query_string={"q": q}))
        assert "1 orang ditemukan" in html, q
        assert f'<a href="/laporan/orang/{latest}"><strong>Siti Aminah</strong>' in html
        assert "2 kegiatan" in html and "0812-3456-7890" in html
    assert "0 orang ditemukan" in html_of(client.get("/laporan/orang", query_string={"q": "zzz"}))
    assert "Ketik nama" in html_of(client.get("/laporan/orang"))
    partial = client.get(
        "/laporan/orang",
        query_string={"q": "budi"},
        headers={"HX-Request": "true", "HX-Request-Type": "partial"},
    )
    assert "<html" not in html_of(partial) and "Budi Santoso" in html_of(partial)


def test_person_search_groups_by_phone_and_pages_of_25(app, client, make_user, login, make_event):
    """People without a phone are one row per registration; 30 people make two pages; the
    query count does not grow with the number found."""
    signed_in(make_user, login, Role.OPERATOR_KABKOTA)
    counts = []
    for n in (3, 30):
        event = make_event()
        for i in range(n):
            delegate(app, event.id, None, f"Warga{n} {i:02d}", f"+62813{n:03d}{i:05d}")
        delegate(app, event.id, None, f"Warga{n} tanpa nomor", "")
        with counted_queries(app) as seen:
            html = html_of(client.get("/laporan/orang", query_string={"q": f"warga{n}"}))
        counts.append(len(seen))
        assert f"{n + 1} orang ditemukan" in html
    assert "halaman 1 dari 2" in html
    assert len(re.findall(r'<li><a href="/laporan/orang/\d+">', html)) == 25
    print(f"people search queries for 4 and 31 found: {counts}")
    assert counts[0] == counts[1]


def test_person_page_lists_only_events_in_scope(
    app, client, make_user, login, history_dataset, make_event
):
    """The same phone at a Majalengka event is on the admin's person page, not on the PPU
    operator's; each registration shows status, source, KIM, sessions and every mark."""
    majalengka = make_event(region="32.10", title="Kegiatan Majalengka")
    delegate(app, majalengka.id, None, "Siti A.", PHONE, hadir=(0,))
    person = history_dataset["people"]["d1"]
    signed_in(make_user, login, Role.OPERATOR_KABKOTA)
    html = html_of(client.get(f"/laporan/orang/{person}"))
    assert TITLE.findall(html) == [] and "Kegiatan Majalengka" not in html
    titles = re.findall(r"<strong>(Kegiatan [^<]+)</strong>", html)
    assert titles == ["Kegiatan E3", "Kegiatan E2"]
    assert "0812-3456-7890" in html and "KIM Sebakung Maju" in html
    assert "Hadir 2 dari 2 sesi" in html and "Hadir 1 dari 2 sesi" in html
    assert html.count('class="tag p-hadir"') == 3 and html.count('class="tag p-belum"') == 1
    signed_in(make_user, login, Role.ADMIN, None)
    html = html_of(client.get(f"/laporan/orang/{person}"))
    assert "Kegiatan Majalengka" in html and "terdaftar sebagai Siti A." in html


def test_person_export_equals_page_and_is_audited(app, client, make_user, login, history_dataset):
    """XLSX and CSV of the person page: the same rows, the phone, the per-session marks."""
    person = history_dataset["people"]["d1"]
    signed_in(make_user, login, Role.OPERATOR_KABKOTA)
    rows = read_xlsx(client.get(f"/laporan/orang/{person}.xlsx").data)
    assert [r[2] for r in rows[1:]] == ["Kegiatan E3", "Kegiatan E2"]
    assert rows[1][1] == "0812-3456-7890"
    assert rows[1][9:11] == [2, 2] and rows[2][9:11] == [1, 2]
    assert rows[1][8] == "KIM Sebakung Maju"
    assert rows[2][11] == "10/02/2026 09.00: Hadir; 11/02/2026 09.00: Belum"
    text = read_csv(client.get(f"/laporan/orang/{person}.csv").data)
    assert [r[2] for r in text[1:]] == ["Kegiatan E3", "Kegiatan E2"]
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "person.export")
            )
            == 2
        )


@pytest.mark.parametrize(
    ("role", "scope", "search", "person"),
    [
        (Role.ADMIN, None, 200, 200),
        (Role.OPERATOR_PROVINSI, "64", 200, 200),
        (Role.OPERATOR_PROVINSI, "32", 200, 404),
        (Role.OPERATOR_KABKOTA, PPU, 200, 200),
        (Role.OPERATOR_KABKOTA, "32.10", 200, 404),
        (Role.KEPALA_DESA, PPU_VILLAGE, 403, 403),
        (Role.PENGURUS_KIM, PPU_VILLAGE, 403, 403),
        (Role.PETUGAS_ABSENSI, PPU, 403, 403),
        (None, None, 302, 302),
    ],
)
def test_people_access(app, client, make_user, login, history_dataset, role, scope, search, person):
    """Operators only; a registration outside the operator's scope is 404, and another region's
    operator finds nobody of PPU."""
    extra = {}
    if role is Role.PENGURUS_KIM:
        extra["kim_id"] = history_dataset["a"].id
    if role is Role.PETUGAS_ABSENSI:
        extra["event_id"] = history_dataset["events"]["E3"]
    if role is not None:
        signed_in(make_user, login, role, scope, **extra)
    registration = history_dataset["people"]["d1"]
    response = client.get("/laporan/orang", query_string={"q": "siti"})
    assert response.status_code == search
    if search == 200:
        found = "1 orang ditemukan" in html_of(response)
        assert found is (person == 200)
    for url in (f"/laporan/orang/{registration}", f"/laporan/orang/{registration}.xlsx"):
        assert client.get(url).status_code == person, url


def test_person_queries_constant(app, client, make_user, login, make_event):
    """The person page and its export cost the same queries for 2 registrations as for 20."""
    signed_in(make_user, login, Role.OPERATOR_KABKOTA)
    counts = []
    for n, phone in ((2, "+6281311112222"), (20, "+6281333334444")):
        first = None
        for _i in range(n):
            event = make_event()
            rid = delegate(app, event.id, None, "Orang Sama", phone, hadir=(0, 2))
            first = first or rid
        with counted_queries(app) as page_queries:
            html = html_of(client.get(f"/laporan/orang/{first}"))
        with counted_queries(app) as export_queries:
            client.get(f"/laporan/orang/{first}.csv")
        assert html.count("Hadir 2 dari 4 sesi") == n
        counts.append((len(page_queries), len(export_queries)))
    print(f"person page queries (page, export) for 2 and 20 registrations: {counts}")
    assert counts[0] == counts[1]


# --- weight ------------------------------------------------------------------------------------------------


def test_pages_fit_in_14_kb(app, client, make_user, login, make_kim, make_event):
    """Worst cases: the KIM page, a history page of 20 events with the longest titles, a search
    page of 25 people with long names and institutions, a person in 30 events of 4 sessions."""
    signed_in(make_user, login, Role.OPERATOR_KABKOTA)
    kim = make_kim(members=30)
    long = "Pelatihan Literasi Digital dan Penguatan Kapasitas Komunitas Informasi Masyarakat"
    phone = "+6281355556666"
    first = None
    for i in range(30):
        event = make_event(days=2, sessions_per_day=2, title=f"{long} Angkatan {i}"[:200])
        invite_kim(app, event.id, kim.id, 5)
        rid = delegate(
            app,
            event.id,
            kim.id,
            f"Nama Peserta Yang Cukup Panjang Sekali {i:02d}",
            phone,
            hadir=(0, 1, 3),
        )
        first = first or rid
        for j in range(3):
            delegate(
                app,
                event.id,
                kim.id,
                f"Nama Peserta Yang Cukup Panjang Sekali {i:02d}-{j}",
                f"+62813{i:03d}{j:05d}",
            )
    weights = {}
    for name, url in (
        ("kim page", f"/kim/{kim.id}"),
        ("history", f"/kim/{kim.id}/riwayat"),
        ("people", "/laporan/orang?q=nama+peserta"),
        ("person", f"/laporan/orang/{first}"),
    ):
        response = client.get(url)
        assert response.status_code == 200 and "<html" in html_of(response)
        weights[name] = page_weight(response)
    print(f"page weights (gzip, with CSS): {weights}")
    assert max(weights.values()) <= PAGE_BUDGET
