"""The regional dashboard: KIM by status, coverage, events by kind per month, participants,
attendance rate, gender split, most and least active KIM, for the user's scope with drill-down
and a date range; every table also as XLSX and CSV.

The figures are defined in ``kim_app/reports/queries.py`` and read through
``kim_app/reports/figures.py`` (from the year tallies for a calendar year). The area is ``?wilayah=<code>`` (default:
the user's scope, the whole country for the admin) and must lie in the scope (else 404); the
range is ``?dari=YYYY-MM-DD&sampai=YYYY-MM-DD`` (default: this calendar year). Every state is a
plain GET URL: bookmarkable, and the page works without JavaScript.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import get_month_names
from flask import abort, current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from kim_app import audit, queryargs, tables
from kim_app.auth.models import OPERATOR_ROLES
from kim_app.evaluation import two_decimals
from kim_app.groups.models import Gender, KimStatus
from kim_app.groups.queries import AREA_LEVELS, region_at
from kim_app.htmx import render
from kim_app.i18n import count, one_decimal
from kim_app.regions.models import Region, RegionLevel
from kim_app.regions.operations import lineage
from kim_app.reports import bp, charts
from kim_app.reports.figures import dashboard
from kim_app.reports.forms import RangeForm
from kim_app.reports.queries import Dashboard, DateRange
from kim_app.security import roles_required, scope_of, user_may_reach

MAX_MONTHS = 36
TABLES = (
    "status",
    "cakupan",
    "kegiatan",
    "evaluasi",
    "peserta",
    "asal",
    "luar",
    "gender",
    "kim_aktif",
)


def _this_year() -> DateRange:
    today = datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
    return DateRange(date(today.year, 1, 1), date(today.year, 12, 31))


def date_range() -> tuple[DateRange, str]:
    """The range asked for, or this year with a message saying why the request was not used."""
    default = _this_year()
    start, end = queryargs.day("dari"), queryargs.day("sampai")
    if (start is None and queryargs.given("dari")) or (end is None and queryargs.given("sampai")):
        return default, _(
            "Tanggal tidak dapat dibaca atau di luar tahun %(first)d–%(last)d. "
            "Ditampilkan tahun ini.",
            first=queryargs.EARLIEST.year,
            last=queryargs.LATEST.year,
        )
    start, end = start or default.start, end or default.end
    if start > end:
        return default, _("Tanggal awal sesudah tanggal akhir. Ditampilkan tahun ini.")
    if len(DateRange(start, end).months()) > MAX_MONTHS:
        return default, _("Rentang paling lama %(n)d bulan. Ditampilkan tahun ini.", n=MAX_MONTHS)
    return DateRange(start, end), ""


def area_from_request() -> Region | None:
    """The area in ``wilayah`` (default: the scope); 404 outside the scope or not an area."""
    code = queryargs.code("wilayah") or scope_of(current_user) or None
    if code is None:
        return None
    if not user_may_reach(current_user, code):
        abort(404)
    area = region_at(code, AREA_LEVELS)
    if area is None:
        abort(404)
    return area


def _filters() -> tuple[Region | None, DateRange, str, RangeForm]:
    dates, problem = date_range()
    return area_from_request(), dates, problem, RangeForm(formdata=None)


@cache
def _months_of(locale: str) -> tuple[str, ...]:
    names = get_month_names("abbreviated", "stand-alone", locale)
    return tuple(names[m] for m in range(1, 13))


def month_names() -> tuple[str, ...]:
    """The months' short names in the reader's language (``Mei`` or ``May``)."""
    return _months_of(str(get_locale() or "id"))


def _month(key: tuple[int, int]) -> str:
    return f"{month_names()[key[1] - 1]} {key[0]}"


def _gender_label(gender: Gender | None) -> str:
    return gender.label if gender else _("Tidak diisi")


def _cell(value) -> str:
    """A table cell as the page writes it: shares with one decimal, counts grouped, text as is
    (a plain function: the page draws about a hundred cells, a template macro cost ten times as
    much per call)."""
    if isinstance(value, Decimal):  # an index, written to two decimals
        return two_decimals(value)
    if isinstance(value, float):
        return one_decimal(value)
    if isinstance(value, int):
        return count(value)
    if value is None:
        return "—"
    return value


# --- the tables: the page and the exports read the same rows -------------------------------------


def table(name: str, d: Dashboard) -> tuple[list[str], list[list]]:
    """Headers and rows of one table of the page, as raw values (numbers stay numbers)."""
    if name == "status":
        rows = [[s.label, n] for s, n in d.statuses.items()]
        return [_("Status"), _("Jumlah KIM")], [*rows, [_("Total"), sum(d.statuses.values())]]
    if name == "cakupan":
        c = d.coverage
        rows = [
            [r.region.code, r.region.name, r.villages, r.active, round(r.percent, 1)]
            for r in c.rows
        ]
        total = c.total
        rows.append(["", _("Total"), total.villages, total.active, round(total.percent, 1)])
        level = (
            c.child_level.label
            if d.area is None or d.area.level is not RegionLevel.KECAMATAN
            else RegionLevel.DESA.label
        )
        return [_("Kode"), level, _("Desa/Kel."), _("Ber-KIM aktif"), "%"], rows
    if name == "kegiatan":
        e = d.events
        headers = [_("Bulan")] + [k.label for k in e.kinds] + [_("Total")]
        rows = [
            [_month(m)] + [e.counts.get(m, {}).get(k, 0) for k in e.kinds] + [e.total(m)]
            for m in e.months
        ]
        rows.append([_("Total")] + [e.kind_total(k) for k in e.kinds] + [e.grand_total])
        return headers, rows
    if name == "evaluasi":
        rows = [
            [
                f.kind.label,
                f.tested,
                None if f.gain is None else round(f.gain, 1),
                f.respondents,
                None if f.index is None else f.index.converted,
                "" if f.index is None else f.index.grade,
            ]
            for f in d.evaluations
        ]
        headers = [
            _("Jenis kegiatan"),
            _("Mengerjakan pre- dan post-test"),
            _("Kenaikan rata-rata"),
        ]
        return [*headers, _("Responden survei"), _("IKM"), _("Mutu")], rows
    if name == "peserta":
        p = d.participation
        rows = [
            [_("Kegiatan"), d.events.grand_total],
            [_("Pendaftaran (terdaftar)"), p.registrations],
            [_("Orang (nomor berbeda)"), p.people],
            [_("Sesi dalam rentang"), p.sessions],
            [_("Sesi yang sudah selesai"), p.ended],
            [_("Kehadiran yang diharapkan (peserta × sesi selesai)"), p.expected],
            [_("Tanda hadir di sesi selesai"), p.present],
            [_("Tingkat kehadiran di sesi selesai (%)"), round(p.rate, 1)],
        ]
        return [_("Ukuran"), _("Nilai")], rows
    if name == "asal":
        o = d.origins
        rows = [[r.code, r.name, n] for r, n in o.rows]
        rows.append(["", _("Dari luar wilayah ini"), o.outside])
        rows.append(["", _("Tidak diketahui"), o.unknown])
        rows.append(["", _("Total"), o.total])
        return [_("Kode"), _("Asal daerah"), _("Jumlah pendaftaran")], rows
    if name == "luar":
        e = d.elsewhere
        if e is None:
            return [_("Ukuran"), _("Nilai")], []
        rows = [
            [_("Kegiatan wilayah lain"), e.events],
            [_("Pendaftaran (terdaftar)"), e.registrations],
            [_("Orang (nomor berbeda)"), e.people],
            [_("Kehadiran yang diharapkan (peserta × sesi selesai)"), e.expected],
            [_("Tanda hadir di sesi selesai"), e.present],
            [_("Tingkat kehadiran di sesi selesai (%)"), round(e.rate, 1)],
        ]
        return [_("Ukuran"), _("Nilai")], rows
    if name == "gender":
        total = sum(d.participation.genders.values())
        rows = [
            [_gender_label(g), n, round(100 * n / total, 1) if total else 0.0]
            for g, n in d.participation.genders.items()
        ]
        rows.append([_("Total"), total, 100.0 if total else 0.0])
        return [_("Jenis kelamin"), _("Jumlah pendaftaran"), "%"], rows
    rows = [[_("Paling aktif"), i, k.name, k.village, k.present] for i, k in enumerate(d.most, 1)]
    rows += [
        [_("Paling kurang aktif"), i, k.name, k.village, k.present]
        for i, k in enumerate(d.least, 1)
    ]
    return [_("Daftar"), _("Peringkat"), _("KIM"), _("Desa/Kel."), _("Tanda hadir")], rows


# --- the charts ----------------------------------------------------------------------------------


def _words(pairs: list[tuple[str, str]]) -> str:
    return "; ".join(f"{label}: {text}" for label, text in pairs) + "."


def build_charts(d: Dashboard) -> dict[str, charts.Markup]:
    n = count
    status_bars = [charts.Bar(s.label, v, n(v)) for s, v in d.statuses.items()]
    cover_bars = [
        charts.Bar(
            r.region.name, r.percent, f"{one_decimal(r.percent)}% ({n(r.active)}/{n(r.villages)})"
        )
        for r in d.coverage.rows
    ]
    e = d.events
    kinds = e.kinds
    columns = [
        charts.Stack(
            month_names()[m[1] - 1] if len(e.months) <= 12 else f"{m[1]}/{m[0] % 100:02d}",
            tuple(
                (i, e.counts.get(m, {}).get(k, 0), n(e.counts.get(m, {}).get(k, 0)))
                for i, k in enumerate(kinds)
            ),
            n(e.total(m)),
        )
        for m in e.months
    ]
    month_words = [
        (
            _month(m),
            _("%(n)s kegiatan", n=n(e.total(m)))
            + (
                # in the order of the chart's key, whatever order the database gave
                " ("
                + ", ".join(f"{k.label} {n(e.counts[m][k])}" for k in kinds if k in e.counts[m])
                + ")"
                if e.counts.get(m)
                else ""
            ),
        )
        for m in e.months
    ]
    total = sum(d.participation.genders.values())
    parts = [
        charts.Bar(_gender_label(g), v, f"{n(v)} ({one_decimal(100 * v / total if total else 0)}%)")
        for g, v in d.participation.genders.items()
    ]
    return {
        "status": charts.bars(
            "grafik-status",
            _("KIM menurut status"),
            _words([(b.label, b.text) for b in status_bars]),
            status_bars,
        ),
        "cakupan": charts.bars(
            "grafik-cakupan",
            _("Persentase desa/kelurahan ber-KIM aktif"),
            _words([(b.label, b.text) for b in cover_bars]),
            cover_bars,
            maximum=100,
        ),
        "kegiatan": charts.stacked_columns(
            "grafik-kegiatan",
            _("Kegiatan per bulan menurut jenis"),
            _words(month_words),
            columns,
            [k.label for k in kinds],
        ),
        "gender": charts.share_bar(
            "grafik-gender",
            _("Peserta menurut jenis kelamin"),
            _words([(p.label, p.text) for p in parts]),
            parts,
        ),
    }


def _link_args(area: Region | None, dates: DateRange) -> dict[str, str]:
    """The query string of this state (area and the range shown), for links and downloads."""
    args = {"dari": dates.start.isoformat(), "sampai": dates.end.isoformat()}
    return {"wilayah": area.code, **args} if area else args


def _crumbs(area: Region | None) -> list[Region]:
    """The areas above ``area`` the user may open (never above their scope)."""
    if area is None or (not current_user.is_admin and area.code == scope_of(current_user)):
        return []  # the country, or the user's own scope: nothing above it is theirs to open
    return [r for r in lineage(area.code)[:-1] if user_may_reach(current_user, r.code)]


@bp.get("/laporan/", endpoint="dashboard")
@roles_required(*OPERATOR_ROLES)
def dashboard_page():
    """The dashboard of an area for a date range; an htmx partial request gets the body only."""
    area, dates, problem, form = _filters()
    form.dari.data, form.sampai.data = dates.start, dates.end  # the range shown, always
    data = dashboard(area, current_user, dates)
    return render(
        "reports/dashboard.html",
        "reports/_dashboard_body.html",
        status=422 if problem else 200,
        d=data,
        form=form,
        problem=problem,
        charts=build_charts(data),
        tables={name: table(name, data) for name in TABLES},
        crumbs=_crumbs(area),
        args=_link_args(area, dates),
        statuses=list(KimStatus),
        cell=_cell,
        month=_month,
        gender_label=_gender_label,
    )


@bp.get(
    "/laporan/ekspor/<any(status, cakupan, kegiatan, evaluasi, peserta, asal, luar, gender,"
    " kim_aktif):name>"
    ".<any(xlsx, csv):fmt>"
)
@roles_required(*OPERATOR_ROLES)
def export(name: str, fmt: str) -> Response:
    """One table of the dashboard for the same area and range, as XLSX or CSV (audited)."""
    area, dates, _problem, _form = _filters()
    headers, rows = table(name, dashboard(area, current_user, dates))
    place = area.code if area else "indonesia"
    stem = f"laporan-{name}-{place}-{dates.start.isoformat()}-{dates.end.isoformat()}"
    response = tables.table_download(stem, name, fmt, headers, rows)
    # audited once the file is made: SQLite's write lock is then held for one insert only
    audit.record(
        "report.export",
        "report",
        name,
        region_code=area.code if area else None,
        changes={"format": fmt, "dari": dates.start.isoformat(), "sampai": dates.end.isoformat()},
    )
    return response
