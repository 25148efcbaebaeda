"""Issue 26, part 3: monitoring (monev) of KIM activity. Reports and relays count when they are
reviewed or recorded; the score the page states is the formula it prints, recomputed here by
hand from the stored figures; an area's weights change it; idle KIM are flagged; a province
sees its regencies side by side; the exports say what the page says."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import openpyxl
import sqlalchemy as sa
from docx import Document

from kim_app.activity.dissemination.operations import ItemData, relay_item, send_item
from kim_app.activity.models import (
    ActivityKind,
    ActivityReport,
    Channel,
    MonevArea,
    MonevTally,
    ReportStatus,
)
from kim_app.activity.monev.operations import PARTS, refresh_area, weights_for
from kim_app.activity.operations import ReportData, review_report, send_report
from kim_app.auth.models import Role, User
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimStatus
from kim_app.timezones import local_today
from tests.budget import PAGE_BUDGET, counted_queries, page_weight
from tests.conftest import MAJALENGKA_VILLAGE, PPU, PPU_OTHER_VILLAGE, PPU_VILLAGE, html_of
from tests.helpers import pdf_text

WEIGHED = {"activity.monev", "activity.monev_weights"}
NOT_PAGES = {
    "activity.monev_file",
    "activity.monev_refresh",
}
OTHER_KALTIM_VILLAGE = "64.01.01.2009"  # a village of Kab. Paser, Kalimantan Timur


def activity(app, kim_id: int, reports: int, relays: int, by: User, operator: User, days_ago=10):
    """``reports`` accepted reports and ``relays`` relays of one KIM, through the operations the
    pages call."""
    with app.test_request_context():
        kim = db.session.get(Kim, kim_id)
        day = local_today(kim.village_code) - timedelta(days=days_ago)
        if day.year != local_today(kim.village_code).year:
            day = date(local_today(kim.village_code).year, 1, 1)
        for n in range(reports):
            data = ReportData(ActivityKind.INFORMASI, day, f"Laporan {n}", (), "", 10)
            report, _new = send_report(kim, data, [], f"r-{kim_id}-{n}", by)
            review_report(report, ReportStatus.DITERIMA, "", operator)
        for n in range(relays):
            item = send_item(
                ItemData(kim.village_code, "", f"Info {kim_id}-{n}", "Isi.", "", "", False),
                None,
                operator,
            )
            relay_item(item, kim, (Channel.WHATSAPP,), 20, "", by)
        db.session.commit()


def hand_score(tally: MonevTally, weights: dict[str, int]) -> float:
    figures = {
        "reports": tally.reports,
        "relays": tally.relays,
        "hadir": tally.hadir,
        "certificates": tally.certificates,
        "data": tally.completeness,
    }
    total = sum(weights.values())
    return sum(weights[p.key] * min(figures[p.key] / p.target, 1) for p in PARTS) / total * 100


def tallies(app) -> dict[int, MonevTally]:
    with app.app_context():
        rows = db.session.scalars(sa.select(MonevTally)).all()
        for row in rows:
            db.session.expunge(row)
        return {row.kim_id: row for row in rows}


def test_the_page_states_the_score_its_formula_gives(app, client, make_kim, make_user, login):
    """Accepted reports and relays count at once; the page's ranking shows each KIM's score as
    the printed formula computes it from the stored figures; a waiting report does not count;
    a KIM without activity is flagged; another regency's KIM is not in the page."""
    busy = make_kim(name="KIM Rajin")
    some = make_kim(village=PPU_OTHER_VILLAGE, name="KIM Sedang")
    idle = make_kim(village="64.09.03.2007", name="KIM Diam")
    make_kim(village=MAJALENGKA_VILLAGE, name="KIM Majalengka")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    activity(app, busy.id, 30, 14, head, operator)
    activity(app, some.id, 6, 3, head, operator)
    with app.test_request_context():
        kim = db.session.get(Kim, some.id)
        send_report(
            kim,
            ReportData(ActivityKind.HOAKS, local_today(PPU), "Menunggu", (), "", 5),
            [],
            "menunggu",
            head,
        )
        refresh_area(PPU, local_today(PPU).year)  # the worker's half-hourly recount
        db.session.commit()
    kept = tallies(app)
    assert (kept[busy.id].reports, kept[busy.id].relays) == (30, 14)
    assert (kept[some.id].reports, kept[some.id].relays) == (6, 3)
    assert kept[idle.id].last_active is None
    login(operator)
    page = html_of(client.get(f"/monev?wilayah={PPU}"))
    with app.app_context():
        weights, _source = weights_for(PPU)
    assert "Skor = 35 × min(laporan kegiatan diterima ÷ 24; 1) + 25 × min(" in page
    top = re.search(r'id="teraktif".*?</section>', page, re.S)[0]
    names = re.findall(r">(KIM [A-Za-z]+)</a> · [^—]+— ([\d,]+)</li>", top)
    expected = sorted(
        ((k.name, hand_score(kept[k.id], weights)) for k in (busy, some, idle)),
        key=lambda pair: -pair[1],
    )
    assert [(n, float(s.replace(",", "."))) for n, s in names] == [
        (n, round(s, 1)) for n, s in expected
    ]
    assert "KIM Majalengka" not in page
    idle_section = re.search(r'id="tanpa-kegiatan".*?</section>', page, re.S)[0]
    assert "KIM Diam" in idle_section and "KIM Rajin" not in idle_section


def test_an_areas_weights_change_its_score_and_bad_weights_are_refused(
    app, client, make_kim, make_user, login
):
    """The regency's operator sets weights (only reports count): the formula and the score
    follow; a negative, a huge or a malformed weight, or all zero, is refused with a message."""
    kim = make_kim(name="KIM Bobot")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    activity(app, kim.id, 12, 0, make_user(Role.KEPALA_DESA, PPU_VILLAGE), operator)
    login(operator)
    path = f"/monev/bobot?wilayah={PPU}"
    zero = {p.key: "0" for p in PARTS}
    for bad, message in (
        ({"reports": "-1"}, "Setiap bobot antara 0 dan 100."),
        ({"reports": "1000"}, "Setiap bobot antara 0 dan 100."),
        ({"reports": "1e3"}, "Tuliskan angka saja."),
        ({}, "Paling sedikit satu bobot lebih dari 0."),
    ):
        response = client.submit(path, {**zero, **bad})
        assert response.status_code == 422, bad
        assert message in html_of(response), bad
    done = client.submit(path, {**zero, "reports": "50"})
    assert done.status_code == 303
    page = html_of(client.get(done.headers["Location"]))
    assert "Skor = (50 × min(laporan kegiatan diterima ÷ 24; 1)) ÷ 50 × 100" in page
    assert "KIM Bobot</a> · " in page and "— 50,0</li>" in page  # 12 of 24 reports
    assert "Bobot ditetapkan oleh Kabupaten Penajam Paser Utara" in page
    # back to the inherited weights
    client.submit(path, {**zero, "aksi": "bawaan"})
    assert "Bobot bawaan aplikasi." in html_of(client.get(f"/monev?wilayah={PPU}"))


def test_a_province_sees_its_regencies_side_by_side(app, client, make_kim, make_user, login):
    """The province's page lists its regencies by average score; another province's operator
    gets 404 for it."""
    ppu = make_kim(name="KIM PPU")
    paser = make_kim(village=OTHER_KALTIM_VILLAGE, name="KIM Paser")
    operator = make_user(Role.OPERATOR_PROVINSI, "64")
    activity(app, ppu.id, 24, 12, make_user(Role.KEPALA_DESA, PPU_VILLAGE), operator)
    with app.test_request_context():
        refresh_area("64", local_today("64").year)
        db.session.commit()
    login(operator)
    page = html_of(client.get("/monev?wilayah=64"))
    areas = re.search(r'id="wilayah".*?</section>', page, re.S)[0]
    assert areas.index("Penajam Paser Utara") < areas.index("Kabupaten Paser")
    assert paser.name in page
    login(make_user(Role.OPERATOR_PROVINSI, "32"))
    assert client.get("/monev?wilayah=64").status_code == 404


def test_the_exports_state_what_the_page_states(app, client, make_kim, make_user, login):
    """The XLSX and CSV have one row per KIM with the page's figures and scores; the PDF and
    DOCX summaries print the formula, the totals and the rankings, in Indonesian unless asked."""
    busy = make_kim(name="KIM Ekspor")
    make_kim(village=PPU_OTHER_VILLAGE, name="KIM Lain")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    activity(app, busy.id, 8, 2, make_user(Role.KEPALA_DESA, PPU_VILLAGE), operator)
    with app.test_request_context():
        refresh_area(PPU, local_today(PPU).year)
        db.session.commit()
    login(operator)
    page = html_of(client.get(f"/monev?wilayah={PPU}"))
    response = client.get(f"/monev.xlsx?wilayah={PPU}")
    assert response.status_code == 200, html_of(response)
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == 2
    first = dict(zip(header, body[0], strict=True))
    assert first["KIM"] == "KIM Ekspor" and first["Laporan kegiatan diterima"] == 8
    assert first["Informasi disebarkan"] == 2
    assert f"— {str(first['Skor']).replace('.', ',')}</li>" in page
    csv = client.get(f"/monev.csv?wilayah={PPU}").data.decode("utf-8-sig")
    assert csv.count("\r\n") == 3 and "KIM Ekspor;" in csv
    text = pdf_text(client.get(f"/monev.pdf?wilayah={PPU}").data)
    assert "MONITORING DAN EVALUASI KEAKTIFAN KIM" in text and "KIM Ekspor" in text
    english = pdf_text(client.get(f"/monev.pdf?wilayah={PPU}&bahasa=en").data)
    assert "MONITORING AND EVALUATION" in english
    doc = Document(io.BytesIO(client.get(f"/monev.docx?wilayah={PPU}").data))
    words = "\n".join(p.text for p in doc.paragraphs)
    assert "Skor = 35 × min(" in words
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "KIM Ekspor" in cells


def test_the_page_fits_the_budget_and_its_queries_do_not_grow(
    app, client, make_kim, make_user, login
):
    """The monev page of the country, a province and a regency fits 14 KB compressed; it asks
    the same number of queries for 2 KIM as for 12."""
    operator = make_user(Role.ADMIN, None)
    make_kim(name="KIM A")
    make_kim(village=PPU_OTHER_VILLAGE, name="KIM B")
    with app.test_request_context():
        refresh_area("", local_today(PPU).year)
        db.session.commit()
    login(operator)

    def count(url: str) -> int:
        with counted_queries(app) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    before = count(f"/monev?wilayah={PPU}")
    villages = [f"64.09.03.20{n:02d}" for n in range(1, 13) if n != 6][:10]
    for n, village in enumerate(villages):
        make_kim(village=village, name=f"KIM Tambahan {n}")
    with app.test_request_context():
        refresh_area("", local_today(PPU).year)
        db.session.commit()
    assert count(f"/monev?wilayah={PPU}") == before
    for url in ("/monev", "/monev?wilayah=64", f"/monev?wilayah={PPU}", "/monev/bobot"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert page_weight(response) <= PAGE_BUDGET, (url, page_weight(response))


def test_the_areas_sums_kept_by_each_change_equal_a_full_recount(
    app, client, make_kim, make_user, login
):
    """After reviews, relays, a report hidden again and a regency's own weights — each moving
    the areas' sums by its difference — every area's row equals what the worker's full recount
    of the country writes."""
    kims = [
        make_kim(name="KIM Satu"),
        make_kim(village=PPU_OTHER_VILLAGE, name="KIM Dua"),
        make_kim(village=OTHER_KALTIM_VILLAGE, name="KIM Tiga"),
        make_kim(village=MAJALENGKA_VILLAGE, name="KIM Empat"),
    ]
    operator = make_user(Role.ADMIN, None)
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    for n, kim in enumerate(kims):
        activity(app, kim.id, 3 * n + 1, n, head, operator)
    with app.test_request_context():
        report = db.session.scalars(
            sa.select(ActivityReport).where(ActivityReport.kim_id == kims[0].id)
        ).first()
        review_report(report, ReportStatus.DISEMBUNYIKAN, "Bukan kegiatan KIM.", operator)
        db.session.commit()
    login(operator)
    zero = {p.key: "10" for p in PARTS}
    assert (
        client.submit(f"/monev/bobot?wilayah={PPU}", {**zero, "reports": "90"}).status_code == 303
    )

    def areas() -> dict:
        with app.app_context():
            return {
                (a.area_code, a.year): {
                    c.key: round(getattr(a, c.key), 6)
                    if c.key == "score_sum"
                    else getattr(a, c.key)
                    for c in MonevArea.__table__.columns
                    if c.key != "refreshed_at"
                }
                for a in db.session.scalars(sa.select(MonevArea))
            }

    kept = areas()
    assert kept[("", local_today(PPU).year)]["kims"] == 4
    with app.test_request_context():
        refresh_area("", local_today(PPU).year)
        db.session.commit()
    assert areas() == kept


def test_a_kim_verified_or_deactivated_counts_at_once(app, client, make_kim, make_user, login):
    """Verifying a KIM puts it in its areas' monev without waiting for the recount; taking it
    out of service takes it out again (the page reads the kept sums)."""
    kim = make_kim(status=KimStatus.DIAJUKAN, name="KIM Baru")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    year = local_today(PPU).year

    def counted() -> int:
        with app.app_context():
            row = db.session.get(MonevArea, (PPU, year))
            return row.kims if row else 0

    assert counted() == 0
    verified = client.submit(
        f"/kim/{kim.id}/status", {"to": "terverifikasi"}, form_page=f"/kim/{kim.id}"
    )
    assert verified.status_code in (302, 303)
    assert counted() == 1
    assert "KIM Baru" in html_of(client.get(f"/monev?wilayah={PPU}"))
    client.submit(
        f"/kim/{kim.id}/status", {"to": "nonaktif", "note": "Bubar."}, form_page=f"/kim/{kim.id}"
    )
    assert counted() == 0
