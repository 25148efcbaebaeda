"""The monev's files: every KIM's row (XLSX, CSV) and the summary in the laporan's style (PDF,
DOCX). The page, the files and their builders read the same queries, so they state the same
figures."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import BinaryIO

from flask import render_template
from flask_babel import gettext as _

from kim_app.activity.monev.operations import LEVELS, PARTS, weights_for
from kim_app.activity.monev.queries import (
    KimRow,
    Monev,
    children,
    every_kim,
    inactive,
    least_active,
    most_active,
    summary,
)
from kim_app.documents import render_pdf
from kim_app.extensions import db
from kim_app.files.operations import FileGone, Progress, builder
from kim_app.i18n import count, one_decimal
from kim_app.regions.models import Region
from kim_app.tables import dated, to_csv, to_xlsx
from kim_app.text import printable
from kim_app.timezones import utcnow


def level_label(points: float) -> str:
    labels = {
        "sangat_aktif": _("Sangat aktif"),
        "aktif": _("Aktif"),
        "kurang_aktif": _("Kurang aktif"),
        "tidak_aktif": _("Tidak aktif"),
    }
    for lowest, key in LEVELS:
        if points >= lowest:
            return labels[key]
    return labels["tidak_aktif"]


def formula_text(weights: dict[str, int]) -> str:
    """The score's formula with the weights that hold, in words a report can print."""
    total = sum(weights.values()) or 1
    terms = [
        _(
            "%(w)d × min(%(part)s ÷ %(target)d; 1)",
            w=weights[p.key],
            part=str(p.label).lower(),
            target=p.target,
        )
        for p in PARTS
        if weights.get(p.key)
    ]
    if total == 100:  # the weights are already shares of 100
        return _("Skor = %(terms)s", terms=" + ".join(terms))
    return _("Skor = (%(terms)s) ÷ %(total)d × 100", terms=" + ".join(terms), total=total)


def kim_headers(m: Monev) -> list[str]:
    return [
        _("No."),
        _("KIM"),
        _("No. registrasi"),
        _("Kode desa"),
        _("Desa/Kelurahan"),
        *[str(p.label) for p in PARTS[:4]],
        _("Orang dijangkau"),
        _("Anggota aktif"),
        _("Kelengkapan data (%)"),
        _("Skor"),
        _("Tingkat"),
        _("Kegiatan terakhir"),
        _("Tanpa kegiatan %(n)d bulan", n=m.months),
    ]


def kim_cells(m: Monev, n: int, row: KimRow) -> list:
    t = row.tally
    idle = t.last_active is None or t.last_active < m.cutoff
    return [
        n,
        row.kim.name,
        row.kim.registration_number or "",
        row.kim.village_code,
        row.kim.village.display_name,
        t.reports,
        t.relays,
        t.hadir,
        t.certificates,
        t.reach,
        t.members,
        t.completeness,
        round(row.score, 1),
        level_label(row.score),
        t.last_active,
        _("Ya") if idle else _("Tidak"),
    ]


def _monev_of(params: dict) -> Monev:
    code = params["area"]
    area = db.session.get(Region, code) if code else None
    if code and area is None:
        raise FileGone
    weights, _source = weights_for(code)
    return Monev(
        area, params["year"], weights, params["months"], date.fromisoformat(params["cutoff"])
    )


def _area_name(m: Monev) -> str:
    return m.area.display_name if m.area else _("Seluruh Indonesia")


def _rows(m: Monev, progress: Progress) -> list[list]:
    found = every_kim(m)
    progress(0, len(found))
    rows = [kim_cells(m, n, row) for n, row in enumerate(found, 1)]
    progress(len(found), len(found))
    return rows


@builder("monev_xlsx")
def monev_xlsx_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    m = _monev_of(params)
    out.write(to_xlsx(_("Monev KIM"), kim_headers(m), _rows(m, progress), params.get("asked_at")))


@builder("monev_csv")
def monev_csv_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    m = _monev_of(params)
    out.write(to_csv(kim_headers(m), _rows(m, progress)))


def _summary_rows(m: Monev) -> list[tuple[str, str]]:
    total = summary(m)
    return [
        (_("KIM terverifikasi"), count(total.kims)),
        (_("Skor rata-rata"), one_decimal(float(total.score))),
        *[(label, count(getattr(total, key))) for key, label in level_names()],
        (_("Tanpa kegiatan %(n)d bulan terakhir", n=m.months), count(total.inactive)),
        (str(PARTS[0].label), count(total.reports)),
        (str(PARTS[1].label), count(total.relays)),
        (_("Orang dijangkau"), count(total.reach)),
        (str(PARTS[2].label), count(total.hadir)),
        (str(PARTS[3].label), count(total.certificates)),
    ]


def level_names() -> list[tuple[str, str]]:
    return [
        ("sangat_aktif", _("Sangat aktif (skor ≥ 70)")),
        ("aktif", _("Aktif (40–69)")),
        ("kurang_aktif", _("Kurang aktif (10–39)")),
        ("tidak_aktif", _("Tidak aktif (< 10)")),
    ]


def _area_rows(m: Monev) -> tuple[list[str], list[list]]:
    headers = [
        _("Wilayah"),
        _("KIM"),
        _("Skor rata-rata"),
        _("Sangat aktif"),
        _("Tanpa kegiatan"),
        _("Laporan"),
        _("Penyebaran"),
    ]
    rows = [
        [
            r.region.display_name,
            count(r.figures.kims),
            one_decimal(float(r.figures.score)),
            count(r.figures.sangat_aktif),
            count(r.figures.inactive),
            count(r.figures.reports),
            count(r.figures.relays),
        ]
        for r in children(m)
    ]
    return headers, rows


def _ranking_rows(found: list[KimRow]) -> list[list]:
    return [
        [n, r.kim.name, r.kim.village.display_name, one_decimal(r.score), level_label(r.score)]
        for n, r in enumerate(found, 1)
    ]


def _sections(m: Monev) -> dict:
    headers, areas = _area_rows(m)
    return {
        "title": _area_name(m),
        "formula": formula_text(m.weights),
        "parts": [(str(p.label), p.target, m.weights.get(p.key, 0)) for p in PARTS],
        "summary": _summary_rows(m),
        "area_headers": headers,
        "areas": areas,
        "top": _ranking_rows(most_active(m)),
        "bottom": _ranking_rows(least_active(m)),
        "idle": [
            [n, r.kim.name, r.kim.village.display_name, r.tally.last_active]
            for n, r in enumerate(inactive(m), 1)
        ],
    }


@builder("monev_pdf")
def monev_pdf_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    m = _monev_of(params)
    html = render_template(
        "activity/monev_pdf.html", m=m, s=_sections(m), printed=params.get("asked_at") or utcnow()
    )
    render_pdf(html, target=out)


@builder("monev_docx")
def monev_docx_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    m = _monev_of(params)
    s = _sections(m)
    moment = params.get("asked_at") or utcnow()
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    doc = Document()
    page = doc.sections[0]
    page.page_width, page.page_height = Cm(21), Cm(29.7)
    page.left_margin = page.right_margin = Cm(2.5)
    doc.styles["Normal"].font.size = Pt(11)
    doc.core_properties.created = doc.core_properties.modified = moment
    for text, size in [
        (_("LAPORAN MONITORING DAN EVALUASI KEAKTIFAN KIM"), 15),
        (f"{s['title']} · {m.year}", 13),
    ]:
        line = doc.add_paragraph()
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = line.add_run(printable(text))
        run.bold, run.font.size = True, Pt(size)

    def table(headers, rows):
        grid = doc.add_table(rows=1, cols=len(headers))
        grid.style = "Table Grid"
        for cell, text in zip(grid.rows[0].cells, headers, strict=True):
            cell.text = printable(str(text))
        for row in rows:
            cells = grid.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                cell.text = printable("" if value is None else str(value))

    doc.add_heading(_("1. Rumus skor keaktifan"), level=1)
    doc.add_paragraph(printable(s["formula"]))
    table([_("Bagian"), _("Target setahun"), _("Bobot")], s["parts"])
    doc.add_heading(_("2. Ringkasan"), level=1)
    table([_("Ukuran"), _("Nilai")], s["summary"])
    number = 3
    if s["areas"]:
        doc.add_heading(_("%(n)d. Perbandingan wilayah", n=number), level=1)
        table(s["area_headers"], s["areas"])
        number += 1
    ranking = [_("No."), _("KIM"), _("Desa/Kelurahan"), _("Skor"), _("Tingkat")]
    doc.add_heading(_("%(n)d. KIM paling aktif", n=number), level=1)
    table(ranking, s["top"])
    doc.add_heading(_("%(n)d. KIM paling kurang aktif", n=number + 1), level=1)
    table(ranking, s["bottom"])
    doc.add_heading(
        _("%(n)d. KIM tanpa kegiatan %(m)d bulan terakhir", n=number + 2, m=m.months), level=1
    )
    table([_("No."), _("KIM"), _("Desa/Kelurahan"), _("Kegiatan terakhir")], s["idle"])
    buffer = io.BytesIO()
    doc.save(buffer)
    out.write(dated(buffer.getvalue(), moment))
