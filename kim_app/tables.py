"""Reading and writing spreadsheets: the one place an XLSX or CSV file is opened or built.

``read_table(data)`` tells the type from the bytes (never the name) and returns a ``Table``: the
header row and the data rows as text. Every upload goes through the bounds here first:
``check_workbook`` refuses an XLSX from its zip directory (part count and sizes) or while
streaming each part once through expat, counting cells, rows, shared strings and their text as it
goes: a hostile workbook is refused after at most one bound's worth of reading, before openpyxl
builds anything (openpyxl reads the shared strings, styles and every sheet's head whole when it
opens a workbook). ``Budget.tick`` then keeps the time of the row-by-row read inside the same
budget, for CSV and XLSX alike. A refusal is a ``TableRefused`` whose message is for the person
who uploaded the file.

``to_csv``, ``to_xlsx`` and ``to_xlsx_sheets`` build files (text never becomes a formula), and
``table_download`` sends one as a dated attachment; every export uses them.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from xml.parsers import expat
from zoneinfo import ZoneInfo

from flask import Response, current_app
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from kim_app.i18n import count
from kim_app.text import printable

log = logging.getLogger(__name__)

MB = 1024 * 1024
XML_CHUNK = 64 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 60
MAX_CELL = 500
MAX_BLANK_RUN = 1000  # this many empty rows in a row end the sheet (formatted but unused rows)
FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True)
class Limits:
    """What reading one upload may cost. The defaults fit the largest file an import takes (5,000
    rows of 60 columns, every cell a different text) with room for formatting, and keep any
    file's read to a few seconds of one worker."""

    parts: int = 1_000  # files inside the archive
    part_bytes: int = 32 * MB  # one part, unpacked
    unpacked_bytes: int = 100 * MB  # all parts, unpacked (images included)
    xml_bytes: int = 64 * MB  # all parts read as XML
    elements: int = 1_500_000  # XML elements in all parts
    cells: int = 320_000  # <c> elements
    rows: int = 50_000  # <row> elements, formatted empty rows included
    shared_strings: int = 320_000  # <si> elements
    text_chars: int = 16_000_000  # all cell text
    cell_chars: int = 32_767  # one cell, as Excel itself allows
    seconds: float = 10.0  # the whole read, well inside gunicorn's timeout


LIMITS = Limits()


class TableRefused(ValueError):
    """A spreadsheet this app will not read; the message says why, for the uploader."""


class Budget:
    """The running count of one read against its ``Limits``, started when the upload arrives."""

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.bytes_read = 0  # unpacked bytes taken out of the archive
        self.elements = self.cells = self.rows = self.strings = self.chars = 0

    def tick(self) -> None:
        """Refuse once the read has taken its time; called for every row and every XML chunk."""
        if time.monotonic() >= self.deadline:
            raise TableRefused(
                _("Berkas ini terlalu lama dibaca. Bagi menjadi beberapa berkas yang lebih kecil.")
            )


def check_workbook(archive: zipfile.ZipFile, budget: Budget) -> None:
    """Refuse a workbook whose parts, cells, rows or texts exceed ``budget``'s limits, reading each
    part at most once and no further than the first limit it reaches."""
    limits = budget.limits
    parts = archive.infolist()
    if len(parts) > limits.parts:
        raise _unreadable()
    if (
        any(part.file_size > limits.part_bytes for part in parts)
        or sum(part.file_size for part in parts) > limits.unpacked_bytes
    ):
        raise _too_big()
    for part in parts:
        _scan(archive, part, budget)


def _unreadable() -> TableRefused:
    return TableRefused(_("Workbook Excel ini rusak dan tidak dapat dibaca."))


def _too_big() -> TableRefused:
    return TableRefused(_("Isi workbook terlalu besar. Bagi menjadi beberapa berkas."))


# what the counting handlers look for, by element name (a prefix such as ``x:`` is dropped)
TEXT, CELL, STRING, ROW = 1, 2, 3, 4
KINDS = {"t": TEXT, "v": TEXT, "c": CELL, "si": STRING, "row": ROW}


class _Counter:
    """expat handlers that count one part's elements into the budget and refuse at a limit; kept
    lean, as they run for every element of a sheet."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.in_text = 0
        self.cell_chars = 0

    def start(self, name: str, _attributes) -> None:
        budget = self.budget
        budget.elements += 1
        if budget.elements > budget.limits.elements:
            raise _too_big()
        kind = KINDS.get(name)
        if kind is None and ":" in name:
            kind = KINDS.get(name.rpartition(":")[2])
        if kind is None:
            return
        if kind == TEXT:
            self.in_text += 1
        elif kind == CELL:
            self.cell_chars = 0
            budget.cells += 1
            if budget.cells > budget.limits.cells:
                raise TableRefused(
                    _(
                        "Workbook berisi lebih dari %(n)s sel. Hapus kolom dan lembar yang "
                        "tidak diperlukan, atau bagi menjadi beberapa berkas.",
                        n=count(budget.limits.cells),
                    )
                )
        elif kind == STRING:
            self.cell_chars = 0
            budget.strings += 1
            if budget.strings > budget.limits.shared_strings:
                raise TableRefused(
                    _(
                        "Workbook berisi lebih dari %(n)s teks berbeda. Bagi menjadi "
                        "beberapa berkas.",
                        n=count(budget.limits.shared_strings),
                    )
                )
        else:
            budget.rows += 1
            if budget.rows > budget.limits.rows:
                raise TableRefused(
                    _(
                        "Lembar kerja berisi lebih dari %(n)s baris, termasuk baris kosong yang "
                        "diformat. Hapus baris yang tidak diperlukan atau bagi menjadi beberapa "
                        "berkas.",
                        n=count(budget.limits.rows),
                    )
                )

    def end(self, name: str) -> None:
        if self.in_text and KINDS.get(name.rpartition(":")[2]) == TEXT:
            self.in_text -= 1

    def text(self, data: str) -> None:
        if not self.in_text:
            return
        budget, limits = self.budget, self.budget.limits
        self.cell_chars += len(data)
        budget.chars += len(data)
        if self.cell_chars > limits.cell_chars:
            raise TableRefused(
                _(
                    "Satu sel berisi lebih dari %(n)s karakter, melebihi batas Excel sendiri. "
                    "Periksa berkasnya.",
                    n=count(limits.cell_chars),
                )
            )
        if budget.chars > limits.text_chars:
            raise _too_big()


def _refuse_declarations(*_args) -> None:
    """A workbook's XML never declares a document type or entities; one that does is refused."""
    raise _unreadable()


def _scan(archive: zipfile.ZipFile, part: zipfile.ZipInfo, budget: Budget) -> None:
    """Stream one part through expat with the counting handlers. A part that is not XML (an
    image) ends at its first bytes; openpyxl reads no such part."""
    counter = _Counter(budget)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.ordered_attributes = True
    parser.StartElementHandler = counter.start
    parser.EndElementHandler = counter.end
    parser.CharacterDataHandler = counter.text
    parser.StartDoctypeDeclHandler = _refuse_declarations
    parser.EntityDeclHandler = _refuse_declarations
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(XML_CHUNK):
                budget.tick()
                budget.bytes_read += len(chunk)
                if budget.bytes_read > budget.limits.xml_bytes:
                    raise _too_big()
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError:
        return  # not XML: openpyxl fails on it too if the workbook points to it
    # what zipfile raises for a member it cannot give back whole, each a file to refuse, not a
    # 500: a bad CRC or a part longer than its entry says (BadZipFile), broken deflate data
    # (zlib.error), a truncated stream (EOFError, OSError), an encrypted part (RuntimeError: a
    # password is needed) and a compression method it does not know (NotImplementedError)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError):
        raise _unreadable() from None


# --- reading ------------------------------------------------------------------------------------


@dataclass
class Table:
    """A sheet as text: the header row, the data rows (same width) and their row numbers."""

    headers: list[str]
    rows: list[list[str]]
    lines: list[int]


def read_table(data: bytes, limits: Limits = LIMITS) -> Table:
    """Read an XLSX workbook (first sheet) or a UTF-8 CSV; the type comes from the content. The
    work is bounded by ``limits``: over them the file is refused."""
    if not data:
        raise TableRefused(_("Berkas kosong."))
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableRefused(
            _("Format Excel lama (.xls) tidak didukung. Simpan sebagai .xlsx atau CSV UTF-8.")
        )
    budget = Budget(limits)
    if data.startswith(b"PK\x03\x04"):
        return _table(_xlsx_rows(data, budget), budget)
    return _table(_csv_rows(_as_text(data)), budget)


def _not_supported() -> TableRefused:
    return TableRefused(
        _("Berkas ini bukan workbook Excel (.xlsx) atau CSV. Unggah berkas .xlsx atau .csv.")
    )


BINARY_STARTS = (b"%PDF", b"MZ", b"\x7fELF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _as_text(data: bytes) -> str:
    """The bytes as UTF-8 text (a BOM is allowed), or an error saying what to do instead."""
    if data.startswith(BINARY_STARTS) or b"\x00" in data[:4096]:
        raise _not_supported()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if CONTROL.search(data[:4096].decode("latin-1")):
            raise _not_supported() from None
        raise TableRefused(
            _(
                "CSV harus disimpan dengan encoding UTF-8. Di Excel pilih Simpan Sebagai → "
                "CSV UTF-8 (dipisah koma)."
            )
        ) from None
    if CONTROL.search(text[:4096]):
        raise _not_supported()
    return text


def _csv_rows(text: str) -> Iterator[tuple]:
    """Rows of a CSV whose separator (comma, semicolon or tab) is read from its first line."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error:
        raise TableRefused(_("Berkas CSV rusak dan tidak dapat dibaca.")) from None


def _xlsx_rows(data: bytes, budget: Budget) -> Iterator[tuple]:
    """Rows of the first worksheet (its first ``MAX_COLUMNS`` columns), read in streaming mode
    after the archive has been checked against ``budget``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _not_supported() from None
    with archive:
        if "xl/workbook.xml" not in archive.namelist():
            raise _not_supported()
        check_workbook(archive, budget)
    workbook = _quietly(load_workbook, io.BytesIO(data), read_only=True, data_only=True)
    try:
        if not workbook.worksheets:
            raise TableRefused(_("Workbook ini tidak berisi lembar kerja."))
        rows = workbook.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True)
        while (row := _quietly(next, rows, None)) is not None:
            yield row
    finally:
        workbook.close()


def _quietly(call, *args, **kwargs):
    """Run an openpyxl step without its warnings (about features it drops, irrelevant here);
    any failure inside a damaged workbook becomes one clear message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call(*args, **kwargs)
        except Exception as error:  # openpyxl fails in many ways on a damaged file
            log.info("unreadable workbook: %s", type(error).__name__)
            raise TableRefused(_("Workbook Excel ini rusak dan tidak dapat dibaca.")) from None


def cell_text(value: Any) -> str:
    """A cell as text: whole numbers without ``.0`` (phone numbers typed as numbers), dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = printable(str(value)).strip()
    if text.startswith("'") and text[1:2] in FORMULA_START:  # our own export's formula guard
        text = text[1:]
    return text[:MAX_CELL]


def _table(source: Iterable[tuple], budget: Budget) -> Table:
    """The first non-empty row is the header; empty rows are skipped; row numbers are kept."""
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    blank_run = 0
    for number, cells in enumerate(source, start=1):
        budget.tick()
        values = [cell_text(c) for c in cells[:MAX_COLUMNS]]
        if not any(values):
            blank_run += 1
            if blank_run > MAX_BLANK_RUN:
                break
            continue
        blank_run = 0
        if header is None:
            header = values
            continue
        if len(rows) >= MAX_ROWS:
            raise TableRefused(
                _(
                    "Berkas berisi lebih dari %(n)s baris data. Bagi menjadi beberapa berkas.",
                    n=f"{MAX_ROWS:,}".replace(",", "."),
                )
            )
        rows.append(values)
        lines.append(number)
    width = max((i + 1 for i, h in enumerate(header or []) if h), default=0)
    if not width:
        raise TableRefused(_("Baris pertama harus berisi judul kolom."))
    if not rows:
        raise TableRefused(_("Berkas tidak berisi baris data di bawah judul kolom."))
    headers = [h or _("Kolom %(c)s", c=column_letter(i)) for i, h in enumerate(header[:width])]
    rows = [(row + [""] * width)[:width] for row in rows]
    return Table(headers=headers, rows=rows, lines=lines)


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``26`` → ``AA``, as the spreadsheet shows it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- writing ------------------------------------------------------------------------------------

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def table_bytes(
    fmt: str, sheet: str, headers: list[str], rows: list, moment: datetime | None = None
) -> bytes:
    """Rows as XLSX (one sheet, dated ``moment``) or as CSV with a BOM."""
    if fmt == "xlsx":
        return to_xlsx(sheet, headers, rows, moment)
    return to_csv(headers, rows)


def dated_name(name: str, fmt: str) -> str:
    """``<name>-<YYYY-MM-DD>.<fmt>``, today in the app's time zone."""
    today = datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
    return f"{name}-{today.isoformat()}.{fmt}"


def table_download(name: str, sheet: str, fmt: str, headers: list[str], rows: list) -> Response:
    """Rows as a dated attachment ``<name>-<YYYY-MM-DD>.<fmt>``: XLSX, or CSV with a BOM. Exports
    hold personal data, so no copy is kept anywhere (private, no-store). The caller audits."""
    mimetype = XLSX_TYPE if fmt == "xlsx" else "text/csv"  # charset added
    response = Response(table_bytes(fmt, sheet, headers, rows), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{dated_name(name, fmt)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def to_csv(headers: list[str], rows: list[list[Any]]) -> bytes:
    """Semicolon-separated UTF-8 with a BOM: what Excel in Indonesian settings opens directly.

    Text that a spreadsheet would run as a formula gets a leading apostrophe.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = printable(str(value))
    return "'" + text if text.startswith(FORMULA_START) else text


def to_xlsx(
    sheet: str, headers: list[str], rows: list[list[Any]], moment: datetime | None = None
) -> bytes:
    """One worksheet (see ``to_xlsx_sheets``)."""
    return to_xlsx_sheets([(sheet, headers, rows)], moment)


def to_xlsx_sheets(
    sheets: list[tuple[str, list[str], list[list[Any]]]], moment: datetime | None = None
) -> bytes:
    """Worksheets ``(title, headers, rows)``, each with a bold header frozen on top and columns
    as wide as their first 200 values; text is always stored as text, never a formula. Dated
    ``moment`` (UTC, default now) to the minute, inside and on every part of the package: the
    same rows written twice in a minute are the same bytes."""
    moment = (moment or datetime.now(UTC).replace(tzinfo=None)).replace(second=0, microsecond=0)
    workbook = Workbook(write_only=True)
    workbook.properties.created = workbook.properties.modified = moment
    bold = Font(bold=True)
    for title, headers, rows in sheets:
        worksheet = workbook.create_sheet(title)
        worksheet.freeze_panes = "A2"
        for index, header in enumerate(headers):
            longest = max([len(header)] + [len(str(row[index])) for row in rows[:200]])
            worksheet.column_dimensions[column_letter(index)].width = max(12, min(48, longest)) + 2
        worksheet.append([_xlsx_cell(worksheet, h, bold) for h in headers])
        for row in rows:
            worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return dated(out.getvalue(), moment)


def dated(package: bytes, moment: datetime) -> bytes:
    """An Office package (XLSX, DOCX: a ZIP) again with every part dated ``moment``, and its
    "modified" property too: the libraries that write them put the second they save there."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            part = zipfile.ZipInfo(info.filename, date_time=moment.timetuple()[:6])
            part.compress_type = zipfile.ZIP_DEFLATED
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            target.writestr(part, data)
    return out.getvalue()


def _xlsx_cell(worksheet, value: Any, font: Font | None = None) -> WriteOnlyCell:
    if isinstance(value, str):
        value = printable(value)  # openpyxl refuses control characters
    cell = WriteOnlyCell(worksheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    if isinstance(value, date):
        cell.number_format = "DD/MM/YYYY"
    if font is not None:
        cell.font = font
    return cell
