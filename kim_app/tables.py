"""Bounds on the work reading an uploaded spreadsheet may cause.

Every XLSX or CSV upload is read by ``kim_app.groups.importing.read_table``, and that goes through
here. ``check_workbook`` refuses an XLSX from its zip directory (part count and sizes) or while
streaming each part once through expat, counting cells, rows, shared strings and their text as it
goes: a hostile workbook is refused after at most one bound's worth of reading, before openpyxl
builds anything (openpyxl reads the shared strings, styles and every sheet's head whole when it
opens a workbook). ``Budget.tick`` then keeps the time of the row-by-row read inside the same
budget, for CSV and XLSX alike. A refusal is a ``TableRefused`` whose message is for the person
who uploaded the file.
"""

from __future__ import annotations

import time
import zipfile
import zlib
from dataclasses import dataclass
from xml.parsers import expat

from flask_babel import gettext as _

from kim_app.i18n import count

MB = 1024 * 1024
XML_CHUNK = 64 * 1024


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
