"""Import of KIM and members from XLSX/CSV files, and export of the registry and its members.

An import goes in four steps, each a plain function:

- ``read_table(data)`` tells the type from the bytes (never the name) and returns the header row
  and the data rows as text;
- ``guess_mapping(kind, headers)`` proposes a file column for each field, from header names in
  Indonesian or English;
- ``plan_import(kind, table, mapping, user)`` checks every row against the database with a
  handful of queries whatever the number of rows, and says what each valid row will do
  (new, update, unchanged) or why it is refused;
- ``apply_plan(plan, user, filename)`` writes the valid rows, flushes and audits the import once.

Uploaded files wait as JSON under a random token (``save_upload``) until confirmed or expired.
Exports build the whole file in memory from four queries, whatever the number of rows.
"""

from __future__ import annotations

import contextlib
import csv
import enum
import io
import json
import logging
import os
import re
import secrets
import time
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from math import ceil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy.orm import aliased

from kim_app import audit, tables
from kim_app.extensions import db
from kim_app.groups.models import (
    BIDANG_LABELS,
    POSITION_LABELS,
    REQUIRED_POSITIONS,
    Bidang,
    BidangOption,
    Gender,
    Kim,
    KimField,
    KimStatus,
    KimStatusChange,
    Member,
    Position,
    bidang_label,
    name_key,
)
from kim_app.groups.registry_queries import (
    RegistryFilter,
    district,
    registry_conditions,
    registry_order,
    village,
)
from kim_app.groups.services import kim_filter
from kim_app.labels import LabelledEnum, set_labels
from kim_app.phones import PhoneError, display_phone, normalise_phone
from kim_app.regions.models import Region, RegionLevel
from kim_app.security import scope_filter, scope_of, user_may_reach
from kim_app.text import printable
from kim_app.timezones import utcnow
from kim_app.uploads import upload_folder

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 60
MAX_CELL = 500
MAX_BLANK_RUN = 1000  # this many empty rows in a row end the sheet (formatted but unused rows)
IMPORT_TTL = timedelta(hours=24)
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
FORMULA_START = ("=", "+", "-", "@")


class ImportFileError(ValueError):
    """The uploaded file cannot be read; the message says why, for the person who uploaded it."""


class ImportKind(LabelledEnum):
    KIM = "kim"
    ANGGOTA = "anggota"
    PESERTA = "peserta"  # participants of one event (kim_app.events.people plans and applies them)


KIND_LABELS = set_labels(
    ImportKind,
    {
        ImportKind.KIM: _l("KIM"),
        ImportKind.ANGGOTA: _l("anggota KIM"),
        ImportKind.PESERTA: _l("peserta kegiatan"),
    },
)


# --- reading files ------------------------------------------------------------------------------


@dataclass
class Table:
    """A sheet as text: the header row, the data rows (same width) and their row numbers."""

    headers: list[str]
    rows: list[list[str]]
    lines: list[int]


def read_table(data: bytes, limits: tables.Limits = tables.LIMITS) -> Table:
    """Read an XLSX workbook (first sheet) or a UTF-8 CSV; the type comes from the content. The
    work is bounded by ``limits`` (``kim_app.tables``): over them the file is refused."""
    if not data:
        raise ImportFileError(_("Berkas kosong."))
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _("Format Excel lama (.xls) tidak didukung. Simpan sebagai .xlsx atau CSV UTF-8.")
        )
    budget = tables.Budget(limits)
    try:
        if data.startswith(b"PK\x03\x04"):
            return _table(_xlsx_rows(data, budget), budget)
        return _table(_csv_rows(_as_text(data)), budget)
    except tables.TableRefused as error:
        raise ImportFileError(str(error)) from None


def _not_supported() -> ImportFileError:
    return ImportFileError(
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
        raise ImportFileError(
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
        raise ImportFileError(_("Berkas CSV rusak dan tidak dapat dibaca.")) from None


def _xlsx_rows(data: bytes, budget: tables.Budget) -> Iterator[tuple]:
    """Rows of the first worksheet (its first ``MAX_COLUMNS`` columns), read in streaming mode
    after the archive has been checked against ``budget``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _not_supported() from None
    with archive:
        if "xl/workbook.xml" not in archive.namelist():
            raise _not_supported()
        tables.check_workbook(archive, budget)
    workbook = _quietly(load_workbook, io.BytesIO(data), read_only=True, data_only=True)
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("Workbook ini tidak berisi lembar kerja."))
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
            raise ImportFileError(_("Workbook Excel ini rusak dan tidak dapat dibaca.")) from None


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


def _table(source: Iterable[tuple], budget: tables.Budget) -> Table:
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
            raise ImportFileError(
                _(
                    "Berkas berisi lebih dari %(n)s baris data. Bagi menjadi beberapa berkas.",
                    n=f"{MAX_ROWS:,}".replace(",", "."),
                )
            )
        rows.append(values)
        lines.append(number)
    width = max((i + 1 for i, h in enumerate(header or []) if h), default=0)
    if not width:
        raise ImportFileError(_("Baris pertama harus berisi judul kolom."))
    if not rows:
        raise ImportFileError(_("Berkas tidak berisi baris data di bawah judul kolom."))
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


# --- column mapping -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A field an import fills, with its label for the mapping form."""

    key: str
    label: Any
    required: bool = False


KIM_TARGETS = (
    Target("name", _l("Nama KIM"), True),
    Target("village", _l("Desa/kelurahan (kode atau nama)"), True),
    Target("district", _l("Kecamatan (jika desa ditulis dengan nama)")),
    Target("registration_number", _l("Nomor registrasi (KIM yang sudah terdaftar)")),
    Target("ketua_name", _l("Nama ketua"), True),
    Target("ketua_phone", _l("No HP ketua")),
    Target("sekretaris_name", _l("Nama sekretaris")),
    Target("sekretaris_phone", _l("No HP sekretaris")),
    Target("bendahara_name", _l("Nama bendahara")),
    Target("bendahara_phone", _l("No HP bendahara")),
    Target("address", _l("Alamat")),
    Target("whatsapp", _l("WhatsApp KIM")),
    Target("email", _l("Email KIM")),
    Target("sk_number", _l("Nomor SK")),
    Target("sk_date", _l("Tanggal SK")),
    Target("bidang", _l("Bidang")),
)
MEMBER_TARGETS = (
    Target("name", _l("Nama anggota"), True),
    Target("registration_number", _l("Nomor registrasi KIM")),
    Target("kim_name", _l("Nama KIM (jika tanpa nomor registrasi)")),
    Target("village", _l("Desa/kelurahan KIM (kode atau nama)")),
    Target("district", _l("Kecamatan")),
    Target("position", _l("Jabatan")),
    Target("gender", _l("Jenis kelamin")),
    Target("phone", _l("No HP/WhatsApp")),
    Target("email", _l("Email")),
)

PARTICIPANT_TARGETS = (
    Target("name", _l("Nama"), True),
    Target("phone", _l("No HP/WhatsApp"), True),
    Target("institution", _l("Instansi/lembaga")),
    Target("position", _l("Jabatan")),
    Target("gender", _l("Jenis kelamin")),
    Target("kim_name", _l("Nama KIM (boleh kosong)")),
    Target("origin", _l("Asal daerah: kabupaten/kota (boleh kosong)")),
)


def targets_for(kind: ImportKind) -> tuple[Target, ...]:
    return {
        ImportKind.KIM: KIM_TARGETS,
        ImportKind.ANGGOTA: MEMBER_TARGETS,
        ImportKind.PESERTA: PARTICIPANT_TARGETS,
    }[kind]


def words(text: str) -> list[str]:
    """Lower-case ASCII words: ``"No. HP (WA) Ketua"`` → ``["no", "hp", "wa", "ketua"]``."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return [w for w in re.split(r"[^a-z0-9]+", ascii_text.lower()) if w]


PHONE_WORDS = {"hp", "wa", "whatsapp", "telepon", "telpon", "telp", "tlp", "ponsel", "phone"}
PHONE_WORDS |= {"handphone", "kontak", "nohp", "mobile"}
ROLE_WORDS = {"ketua": "ketua", "sekretaris": "sekretaris", "sekertaris": "sekretaris"}
ROLE_WORDS |= {"bendahara": "bendahara", "chair": "ketua", "secretary": "sekretaris"}
ROLE_WORDS |= {"treasurer": "bendahara"}
REGISTRATION_WORDS = {"registrasi", "register", "registration", "reg", "noreg"}
DISTRICT_WORDS = {"kecamatan", "kec", "district"}
VILLAGE_WORDS = {"desa", "kelurahan", "kel", "village", "kemendagri", "wilayah"}
EMAIL_WORDS = {"email", "surel", "mail"}
NAME_WORDS = {"nama", "name"}


def _kim_target(w: set[str]) -> str | None:
    for word, role in ROLE_WORDS.items():
        if word in w:
            if w & {"wakil", "vice"}:
                return None
            return f"{role}_phone" if w & PHONE_WORDS else f"{role}_name"
    if w & REGISTRATION_WORDS:
        return "registration_number"
    if "sk" in w:
        return "sk_date" if w & {"tanggal", "tgl", "date"} else "sk_number"
    if w & DISTRICT_WORDS:
        return "district"
    if w & VILLAGE_WORDS:
        return "village"
    if w & {"alamat", "address", "sekretariat"}:
        return "address"
    if w & EMAIL_WORDS:
        return "email"
    if w & PHONE_WORDS:
        return "whatsapp"
    if w & {"bidang", "field", "fields"}:
        return "bidang"
    if w & (NAME_WORDS | {"kim"}):
        return "name"
    return None


def _member_target(w: set[str]) -> str | None:
    if w & REGISTRATION_WORDS:
        return "registration_number"
    if w & DISTRICT_WORDS:
        return "district"
    if w & VILLAGE_WORDS:
        return "village"
    if w & {"kim", "komunitas", "kelompok"}:
        return "kim_name"
    if w & {"jabatan", "posisi", "position", "peran", "kedudukan"}:
        return "position"
    if w & {"kelamin", "gender", "jk", "sex"} or w == {"l", "p"}:
        return "gender"
    if w & EMAIL_WORDS:
        return "email"
    if w & PHONE_WORDS:
        return "phone"
    if w & NAME_WORDS:
        return "name"
    return None


INSTITUTION_WORDS = {"instansi", "lembaga", "institusi", "institution", "organisasi", "opd"}
INSTITUTION_WORDS |= {"dinas", "kantor", "asal", "unit", "organization", "agency"}


def _participant_target(w: set[str]) -> str | None:
    if w & {"kim", "komunitas", "kelompok"}:
        return "kim_name"
    if w & {"daerah", "kabupaten", "kab", "kota", "domisili", "origin"}:
        return "origin"
    if w & INSTITUTION_WORDS:
        return "institution"
    if w & {"jabatan", "posisi", "position", "peran", "kedudukan"}:
        return "position"
    if w & {"kelamin", "gender", "jk", "sex"} or w == {"l", "p"}:
        return "gender"
    if w & PHONE_WORDS:
        return "phone"
    if w & NAME_WORDS:
        return "name"
    return None


def guess_mapping(kind: ImportKind, headers: list[str]) -> dict[str, int]:
    """Field → column index, guessed from header names; the first fitting column wins."""
    rule = {
        ImportKind.KIM: _kim_target,
        ImportKind.ANGGOTA: _member_target,
        ImportKind.PESERTA: _participant_target,
    }[kind]
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        target = rule(set(words(header)))
        if target and target not in mapping:
            mapping[target] = index
    return mapping


def mapping_from_form(kind: ImportKind, headers: list[str], form) -> dict[str, int]:
    """The mapping chosen in the form (``kolom_<field>`` = column index); bad values are dropped."""
    mapping = {}
    for target in targets_for(kind):
        value = (form.get(f"kolom_{target.key}") or "").strip()
        if value.isascii() and value.isdigit() and len(value) < 6 and int(value) < len(headers):
            mapping[target.key] = int(value)
    return mapping


def missing_columns(kind: ImportKind, mapping: dict[str, int]) -> list[str]:
    """Labels of what must still be mapped before rows can be checked."""
    missing = [str(t.label) for t in targets_for(kind) if t.required and t.key not in mapping]
    by_name = {"kim_name", "village"} <= mapping.keys()
    if kind is ImportKind.ANGGOTA and "registration_number" not in mapping and not by_name:
        missing.append(_("nomor registrasi KIM, atau nama KIM dan desanya"))
    return missing


# --- values ----------------------------------------------------------------------------------


def clean(text: str) -> str:
    return " ".join((text or "").split())


def shown(text: str, limit: int = 24) -> str:
    """A value quoted back in a message, cut short so a page of errors stays small."""
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def person_key(name: str) -> str:
    return " ".join((name or "").casefold().split())


def _label_keys(labels: dict, values: Iterable[enum.Enum]) -> dict[str, Any]:
    """Each member keyed by its value and its label in Indonesian and English (as words)."""
    keys: dict[str, Any] = {}
    for member in values:
        keys[" ".join(words(member.value))] = member
        for lang in ("id", "en"):
            with force_locale(lang):
                keys[" ".join(words(str(labels[member])))] = member
    return keys


POSITION_SYNONYMS = {
    "wakil": Position.WAKIL_KETUA,
    "waka": Position.WAKIL_KETUA,
    "sekertaris": Position.SEKRETARIS,
    "sekretaris umum": Position.SEKRETARIS,
    "koordinator": Position.KOORDINATOR_BIDANG,
    "kabid": Position.KOORDINATOR_BIDANG,
    "ketua bidang": Position.KOORDINATOR_BIDANG,
    "kepala bidang": Position.KOORDINATOR_BIDANG,
    "koord bidang": Position.KOORDINATOR_BIDANG,
    "member": Position.ANGGOTA,
}
GENDERS = {
    **dict.fromkeys(("l", "lk", "laki", "laki laki", "pria", "male", "m", "man"), Gender.L),
    **dict.fromkeys(("p", "pr", "perempuan", "wanita", "female", "f", "woman"), Gender.P),
}
MONTHS = {
    "jan": 1, "januari": 1, "january": 1, "feb": 2, "februari": 2, "pebruari": 2, "february": 2,
    "mar": 3, "maret": 3, "march": 3, "apr": 4, "april": 4, "mei": 5, "may": 5, "jun": 6,
    "juni": 6, "june": 6, "jul": 7, "juli": 7, "july": 7, "agu": 8, "ags": 8, "agt": 8,
    "agustus": 8, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "okt": 10,
    "oktober": 10, "oct": 10, "october": 10, "nov": 11, "nopember": 11, "november": 11,
    "des": 12, "desember": 12, "dec": 12, "december": 12,
}  # fmt: skip
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def parse_position(text: str) -> Position | None:
    """``Ketua``, ``Wakil Ketua``, ``sekertaris``, ``Kabid``… → Position; blank → ANGGOTA."""
    key = " ".join(words(text))
    if not key:
        return Position.ANGGOTA
    return _position_keys().get(key) or POSITION_SYNONYMS.get(key)


def parse_gender(text: str) -> Gender | bool | None:
    """``L``/``Laki-laki``/``Pria`` → L, ``P``/``Perempuan``/``Wanita`` → P, blank → None, else False."""
    key = " ".join(words(text))
    if not key:
        return None
    return GENDERS.get(key, False)


def parse_date(text: str) -> date | None:
    """``2026-01-05``, ``05/01/2026``, ``5-1-2026``, ``5 Januari 2026``; None when unreadable."""
    text = clean(text)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})", text)
        named = re.fullmatch(r"(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})", text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            year += 2000 if year < 100 else 0
        elif named and named.group(2).lower() in MONTHS:
            day, month, year = int(named[1]), MONTHS[named[2].lower()], int(named[3])
        else:
            return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_bidang(text: str) -> tuple[list[str], list[str]]:
    """Fields of activity separated by commas or semicolons → (values, unknown names)."""
    known, unknown = [], []
    for part in re.split(r"[;,\n]", text or ""):
        if not part.strip():
            continue
        found = _bidang_keys().get(" ".join(words(part)))
        if found is None:
            unknown.append(part.strip())
        elif found.value not in known:
            known.append(found.value)
    return sorted(known), unknown


@cache
def _position_keys() -> dict[str, Position]:
    return _label_keys(POSITION_LABELS, Position)


@cache
def _bidang_keys() -> dict[str, Bidang]:
    return _label_keys(BIDANG_LABELS, Bidang)


def village_code(text: str) -> str | None:
    """``64.09.03.2006`` or ``6409032006`` → the dotted code; None for anything else."""
    text = text.strip()
    if re.fullmatch(r"\d{2}\.\d{2}\.\d{2}\.\d{4}", text):
        return text
    if re.fullmatch(r"\d{10}", text):
        return f"{text[:2]}.{text[2:4]}.{text[4:6]}.{text[6:]}"
    return None


VILLAGE_PREFIX = re.compile(r"^(desa|kelurahan|kel\.?|ds\.?)\s+", re.IGNORECASE)
DISTRICT_PREFIX = re.compile(r"^(kecamatan|kec\.?)\s+", re.IGNORECASE)


def place_key(text: str, prefix: re.Pattern) -> str:
    """A place name as the database holds it in lower case, without ``Desa``/``Kec.``."""
    return prefix.sub("", clean(text)).lower()


class VillageFinder:
    """Resolves the villages a file names, by code or by name (+ district), in two queries."""

    def __init__(self, user, values: Iterable[tuple[str, str]]):
        self.user = user
        codes, names = set(), set()
        for text, _district in values:
            code = village_code(text)
            if code:
                codes.add(code)
            elif text.strip():
                names.add(place_key(text, VILLAGE_PREFIX))
        self.by_code: dict[str, Region] = {}
        if codes:
            statement = sa.select(Region).where(
                Region.code.in_(codes), Region.level == RegionLevel.DESA
            )
            self.by_code = {r.code: r for r in db.session.scalars(statement)}
        self.by_name: dict[str, list[tuple[Region, str]]] = {}
        if names:
            parent = aliased(Region, name="parent")
            statement = (
                sa.select(Region, parent.name)
                .join(parent, parent.code == Region.parent_code)
                .where(
                    Region.level == RegionLevel.DESA,
                    scope_filter(Region.code, user),
                    sa.func.lower(Region.name).in_(names),
                )
                .order_by(Region.code)
            )
            for region, district_name in db.session.execute(statement):
                self.by_name.setdefault(region.name.lower(), []).append(
                    (region, district_name.lower())
                )

    def resolve(self, text: str, district_text: str = "") -> tuple[Region | None, str | None]:
        """The village and no error, or no village and the reason in Indonesian."""
        text = clean(text)
        if not text:
            return None, _("Desa/kelurahan kosong.")
        code = village_code(text)
        if code:
            region = self.by_code.get(code)
            if region is None:
                return None, _("Kode desa %(code)s tidak dikenal.", code=code)
            if not user_may_reach(self.user, code):
                return None, _("Desa %(code)s di luar wilayah kerja Anda.", code=code)
            return region, None
        candidates = self.by_name.get(place_key(text, VILLAGE_PREFIX), [])
        wanted_district = place_key(district_text, DISTRICT_PREFIX)
        if wanted_district:
            candidates = [c for c in candidates if c[1] == wanted_district]
        if not candidates:
            if wanted_district:
                return None, _(
                    "Desa/kelurahan “%(name)s” di kecamatan “%(district)s” tidak ditemukan di wilayah kerja Anda.",
                    name=shown(text),
                    district=shown(district_text),
                )
            return None, _(
                "Desa/kelurahan “%(name)s” tidak ditemukan di wilayah kerja Anda.", name=shown(text)
            )
        if len(candidates) > 1:
            return None, _(
                "Nama desa “%(name)s” ada di %(n)d tempat. Isi kecamatannya atau pakai kode desa.",
                name=shown(text),
                n=len(candidates),
            )
        return candidates[0][0], None


# --- planning --------------------------------------------------------------------------------


class Action(LabelledEnum):
    NEW = "baru"
    UPDATE = "ubah"
    SAME = "sama"


ACTION_LABELS = set_labels(
    Action,
    {
        Action.NEW: _l("baru"),
        Action.UPDATE: _l("sudah ada, diperbarui"),
        Action.SAME: _l("sudah ada, tidak berubah"),
    },
)


@dataclass
class MemberOp:
    """One member a row creates (``member`` None) or changes (``changes`` not empty)."""

    member: Member | None
    values: dict[str, Any]
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass
class RowPlan:
    """One data row: what it is, where, and either its errors or what importing it will do."""

    line: int
    label: str = ""
    place: str = ""
    errors: list[str] = field(default_factory=list)
    action: Action | None = None
    kim: Kim | None = None  # the existing KIM (KIM import) or the member's KIM (member import)
    values: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    members: list[MemberOp] = field(default_factory=list)


@dataclass
class Plan:
    kind: ImportKind
    rows: list[RowPlan]
    missing: list[str] = field(default_factory=list)

    @property
    def valid(self) -> list[RowPlan]:
        return [r for r in self.rows if not r.errors]

    @property
    def invalid(self) -> list[RowPlan]:
        return [r for r in self.rows if r.errors]

    def count(self, action: Action) -> int:
        return sum(1 for r in self.rows if not r.errors and r.action is action)

    @property
    def ready(self) -> bool:
        return not self.missing and bool(self.valid)


def plan_import(kind: ImportKind, table: Table, mapping: dict[str, int], user) -> Plan:
    """Check every row and decide what it will do; nothing is written."""
    missing = missing_columns(kind, mapping)
    if missing:
        return Plan(kind, [], missing)
    rows = [
        _Row(line, values, mapping) for line, values in zip(table.lines, table.rows, strict=True)
    ]
    if kind is ImportKind.KIM:
        return Plan(kind, _plan_kims(rows, user))
    return Plan(kind, _plan_members(rows, user))


class _Row:
    """A data row read through the mapping: ``row["name"]`` is the cleaned text or ``""``."""

    def __init__(self, line: int, values: list[str], mapping: dict[str, int]):
        self.line = line
        self._values = values
        self._mapping = mapping

    def __getitem__(self, key: str) -> str:
        index = self._mapping.get(key)
        return clean(self._values[index]) if index is not None else ""


def _phone(raw: str, what: str, errors: list[str]) -> str | None:
    try:
        return normalise_phone(raw)
    except PhoneError:
        errors.append(_("%(what)s tidak valid: %(phone)s.", what=what, phone=shown(raw)))
        return None


def _length(value: str, limit: int, what: str, errors: list[str]) -> str:
    if len(value) > limit:
        errors.append(
            _("%(what)s terlalu panjang (paling banyak %(n)d karakter).", what=what, n=limit)
        )
    return value


def _common_kim_values(row: _Row, errors: list[str]) -> dict[str, Any]:
    """The KIM's own details from a row, validated (empty values mean "not given")."""
    values: dict[str, Any] = {}
    values["address"] = _length(row["address"], 255, _("Alamat"), errors)
    values["whatsapp"] = _phone(row["whatsapp"], _("Nomor WhatsApp KIM"), errors)
    email = row["email"].lower()
    if email and (not EMAIL.fullmatch(email) or len(email) > 254):
        errors.append(_("Email tidak valid: %(email)s.", email=shown(row["email"])))
    values["email"] = email
    values["sk_number"] = _length(row["sk_number"], 100, _("Nomor SK"), errors)
    values["sk_date"] = None
    if row["sk_date"]:
        values["sk_date"] = parse_date(row["sk_date"])
        if values["sk_date"] is None:
            errors.append(
                _(
                    "Tanggal SK tidak terbaca: %(text)s (contoh: 05/01/2026).",
                    text=shown(row["sk_date"]),
                )
            )
    bidang, unknown = parse_bidang(row["bidang"])
    if unknown:
        errors.append(_("Bidang tidak dikenal: %(names)s.", names=shown(", ".join(unknown))))
    values["bidang"] = bidang
    return values


ROLE_POSITIONS = (
    ("ketua", Position.KETUA),
    ("sekretaris", Position.SEKRETARIS),
    ("bendahara", Position.BENDAHARA),
)


def _pengurus_values(row: _Row, errors: list[str]) -> list[dict[str, Any]]:
    """Ketua (required), sekretaris and bendahara from a KIM row."""
    people = []
    for role, position in ROLE_POSITIONS:
        name, raw_phone = row[f"{role}_name"], row[f"{role}_phone"]
        if not name:
            if position is Position.KETUA:
                errors.append(_("Nama ketua kosong."))
            elif raw_phone:
                errors.append(
                    _("No HP %(role)s diisi tetapi namanya kosong.", role=position.label.lower())
                )
            continue
        _length(name, 120, _("Nama %(role)s", role=position.label.lower()), errors)
        phone = _phone(raw_phone, _("No HP %(role)s", role=position.label.lower()), errors)
        people.append({"name": name, "position": position, "phone": phone})
    phones = [p["phone"] for p in people if p["phone"]]
    if len(phones) != len(set(phones)):
        errors.append(_("Pengurus dalam satu baris tidak boleh memakai nomor HP yang sama."))
    return people


def _kims_by_number(numbers: set[str]) -> dict[str, Kim]:
    if not numbers:
        return {}
    statement = sa.select(Kim).where(Kim.registration_number.in_(numbers))
    return {k.registration_number: k for k in db.session.scalars(statement)}


def _kims_by_key(codes: set[str], condition=None) -> dict[tuple[str, str], Kim]:
    """Existing KIM in the given villages keyed by (village, name key); the oldest wins."""
    if not codes:
        return {}
    if condition is None:
        condition = sa.true()
    statement = sa.select(Kim).where(Kim.village_code.in_(codes), condition).order_by(Kim.id.desc())
    return {(k.village_code, k.name_key): k for k in db.session.scalars(statement)}


class _MemberIndex:
    """Members of some KIM, by (KIM, phone) and by (KIM, name): one query."""

    def __init__(self, kim_ids: set[int]):
        self.by_phone: dict[tuple[int, str], Member] = {}
        self.by_name: dict[tuple[int, str], Member] = {}
        if not kim_ids:
            return
        statement = sa.select(Member).where(Member.kim_id.in_(kim_ids)).order_by(Member.id.desc())
        for member in db.session.scalars(statement):
            if member.phone:
                self.by_phone[(member.kim_id, member.phone)] = member
            self.by_name[(member.kim_id, person_key(member.name))] = member

    def find(self, kim_id: int, name: str, phone: str | None) -> Member | None:
        """Match by KIM and phone; by KIM and name only when no phone is given."""
        if phone:
            return self.by_phone.get((kim_id, phone))
        return self.by_name.get((kim_id, person_key(name)))


def _member_op(index: _MemberIndex, kim: Kim | None, values: dict[str, Any]) -> MemberOp:
    """Create, or change only what the file gives and differs."""
    existing = index.find(kim.id, values["name"], values.get("phone")) if kim else None
    if existing is None:
        return MemberOp(None, values)
    changes = {
        key: value
        for key, value in values.items()
        if value not in (None, "") and getattr(existing, key) != value
    }
    return MemberOp(existing, values, changes)


def _plan_kims(rows: list[_Row], user) -> list[RowPlan]:
    finder = VillageFinder(user, [(r["village"], r["district"]) for r in rows])
    plans: list[RowPlan] = []
    for row in rows:
        plan = RowPlan(line=row.line, label=row["name"])
        errors = plan.errors
        name = _length(row["name"], 120, _("Nama KIM"), errors)
        if not name:
            errors.append(_("Nama KIM kosong."))
        elif not name_key(name):
            errors.append(_("Nama KIM harus memuat nama selain kata KIM."))
        region, error = finder.resolve(row["village"], row["district"])
        if error:
            errors.append(error)
        else:
            plan.place = region.display_name
        number = _length(row["registration_number"], 30, _("Nomor registrasi"), errors)
        plan.values = {"name": name, "village_code": region.code if region else None}
        plan.values["registration_number"] = number or None
        plan.values.update(_common_kim_values(row, errors))
        plan.values["pengurus"] = _pengurus_values(row, errors)
        plans.append(plan)

    numbers = {p.values["registration_number"] for p in plans if p.values["registration_number"]}
    by_number = _kims_by_number(numbers)
    codes = {p.values["village_code"] for p in plans if p.values["village_code"]}
    by_key = _kims_by_key(codes)
    seen: dict[Any, int] = {}
    for plan in plans:
        if plan.errors:
            continue
        plan.kim = _match_kim(plan, by_number, by_key, seen, user)
    index = _MemberIndex({p.kim.id for p in plans if p.kim is not None and not p.errors})
    for plan in plans:
        if not plan.errors:
            _decide_kim(plan, index)
    return plans


def _match_kim(plan: RowPlan, by_number, by_key, seen: dict, user) -> Kim | None:
    """The existing KIM this row describes (by number, else village + name), or None."""
    values = plan.values
    number, code = values["registration_number"], values["village_code"]
    key = (code, name_key(values["name"]))
    for mark in ((("n", number),) if number else ()) + (("k", key),):
        if mark in seen:
            plan.errors.append(_("Sama dengan baris %(line)d.", line=seen[mark]))
            return None
    if number:
        seen[("n", number)] = plan.line
    seen[("k", key)] = plan.line
    kim = by_number.get(number) if number else None
    if kim is not None:
        if not user_may_reach(user, kim.village_code) or kim.village_code != code:
            plan.errors.append(
                _("Nomor registrasi %(number)s sudah dipakai KIM lain.", number=number)
            )
            return None
        return kim
    kim = by_key.get(key)
    if kim is not None and number and kim.registration_number not in (None, number):
        plan.errors.append(
            _(
                "KIM ini sudah terdaftar dengan nomor %(number)s.",
                number=kim.registration_number,
            )
        )
        return None
    return kim


KIM_DETAILS = ("address", "whatsapp", "email", "sk_number", "sk_date")


def _decide_kim(plan: RowPlan, index: _MemberIndex) -> None:
    values, kim = plan.values, plan.kim
    plan.members = [_member_op(index, kim, person) for person in values["pengurus"]]
    if kim is None:
        plan.action = Action.NEW
        return
    changes = {}
    number = values["registration_number"]
    if number and kim.registration_number == number and kim.name != values["name"]:
        changes["name"] = values["name"]  # matched by number: the registry's name is the truth
    if number and kim.registration_number is None:
        changes["registration_number"] = number
    for key in KIM_DETAILS:
        if values[key] not in (None, "") and getattr(kim, key) != values[key]:
            changes[key] = values[key]
    if values["bidang"] and sorted(f.field for f in kim.fields) != values["bidang"]:
        changes["bidang"] = values["bidang"]
    plan.changes = changes
    touched = changes or any(op.member is None or op.changes for op in plan.members)
    plan.action = Action.UPDATE if touched else Action.SAME


def _plan_members(rows: list[_Row], user) -> list[RowPlan]:
    scope = kim_filter(user)
    finder = VillageFinder(
        user, [(r["village"], r["district"]) for r in rows if not r["registration_number"]]
    )
    numbers = {r["registration_number"] for r in rows if r["registration_number"]}
    by_number = {}
    if numbers:
        statement = sa.select(Kim).where(Kim.registration_number.in_(numbers), scope)
        by_number = {k.registration_number: k for k in db.session.scalars(statement)}
    plans: list[RowPlan] = []
    wanted: dict[int, tuple[str, str]] = {}
    for row in rows:
        plan = RowPlan(line=row.line, label=row["name"])
        plans.append(plan)
        errors = plan.errors
        number = row["registration_number"]
        if number:
            plan.kim = by_number.get(number)
            if plan.kim is None:
                errors.append(
                    _(
                        "KIM nomor %(number)s tidak ditemukan di wilayah kerja Anda.",
                        number=shown(number),
                    )
                )
        elif not row["kim_name"]:
            errors.append(_("Isi nomor registrasi KIM, atau nama KIM dan desanya."))
        else:
            region, error = finder.resolve(row["village"], row["district"])
            if error:
                errors.append(error)
            else:
                wanted[row.line] = (region.code, name_key(row["kim_name"]))
        _member_values(plan, row)
    by_key = _kims_by_key({code for code, _key in wanted.values()}, scope)
    for plan, row in zip(plans, rows, strict=True):
        if row.line in wanted:
            plan.kim = by_key.get(wanted[row.line])
            if plan.kim is None:
                plan.errors.append(
                    _("KIM “%(name)s” tidak ditemukan di desa itu.", name=shown(row["kim_name"]))
                )
    index = _MemberIndex({p.kim.id for p in plans if p.kim is not None and not p.errors})
    seen: dict[tuple[int, str], int] = {}
    for plan in plans:
        if plan.errors:
            continue
        plan.place = f"{plan.kim.name} · {plan.kim.village.display_name}"
        phone = plan.values["phone"]
        mark = (plan.kim.id, phone or "nama:" + person_key(plan.values["name"]))
        if mark in seen:
            plan.errors.append(_("Sama dengan baris %(line)d.", line=seen[mark]))
            continue
        seen[mark] = plan.line
        op = _member_op(index, plan.kim, plan.values)
        plan.members = [op]
        if op.member is None:
            plan.action = Action.NEW
        else:
            plan.action = Action.UPDATE if op.changes else Action.SAME
    return plans


def _member_values(plan: RowPlan, row: _Row) -> None:
    errors = plan.errors
    name = _length(row["name"], 120, _("Nama anggota"), errors)
    if not name:
        errors.append(_("Nama anggota kosong."))
    position = parse_position(row["position"])
    if position is None:
        errors.append(_("Jabatan tidak dikenal: %(text)s.", text=shown(row["position"])))
    gender = parse_gender(row["gender"])
    if gender is False:
        errors.append(
            _("Jenis kelamin tidak dikenal: %(text)s (isi L atau P).", text=shown(row["gender"]))
        )
        gender = None
    email = row["email"].lower()
    if email and (not EMAIL.fullmatch(email) or len(email) > 254):
        errors.append(_("Email tidak valid: %(email)s.", email=shown(row["email"])))
    plan.values = {
        "name": name,
        # a blank position means "anggota" for a new member and "unchanged" for an existing one
        "position": position if row["position"] else None,
        "gender": gender,
        "phone": _phone(row["phone"], _("No HP"), errors),
        "email": email,
    }


# --- applying ----------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    skipped: int


def apply_plan(plan: Plan, user, filename: str = "") -> ImportResult:
    """Write the valid rows of ``plan`` (nothing else), flush, and audit the import once."""
    note = (
        _("Diimpor dari berkas %(name)s", name=filename) if filename else _("Diimpor dari berkas")
    )
    for row in plan.valid:
        if plan.kind is ImportKind.KIM:
            _apply_kim_row(row, user, note)
        else:
            _apply_member_op(row.members[0], row.kim.id)
    db.session.flush()
    result = ImportResult(
        created=plan.count(Action.NEW),
        updated=plan.count(Action.UPDATE),
        unchanged=plan.count(Action.SAME),
        skipped=len(plan.invalid),
    )
    audit.record(
        "kim.import" if plan.kind is ImportKind.KIM else "member.import",
        "import",
        plan.kind.value,
        region_code=scope_of(user) or None,
        changes={"file": filename[:100], **asdict(result)},
        actor=user,
    )
    return result


def _apply_kim_row(row: RowPlan, user, note: str) -> None:
    values = row.values
    if row.action is Action.NEW:
        number = values["registration_number"]
        status = KimStatus.TERVERIFIKASI if number else KimStatus.DRAFT
        kim = Kim(
            name=values["name"],
            name_key=name_key(values["name"]),
            village_code=values["village_code"],
            registration_number=number,
            status=status,
            verified_at=utcnow() if number else None,
            created_by_id=user.id,
            address=values["address"],
            whatsapp=values["whatsapp"],
            email=values["email"],
            sk_number=values["sk_number"],
            sk_date=values["sk_date"],
        )
        kim.fields = [KimField(field=value) for value in values["bidang"]]
        kim.members = [_new_member(op.values) for op in row.members]
        kim.history = [
            KimStatusChange(from_status=None, to_status=status, by_id=user.id, note=note)
        ]
        db.session.add(kim)
        return
    kim = row.kim
    for key, value in row.changes.items():
        if key == "bidang":
            kim.fields = [KimField(field=v) for v in value]
        else:
            setattr(kim, key, value)
            if key == "name":
                kim.name_key = name_key(value)
    for op in row.members:
        _apply_member_op(op, kim.id)


def _new_member(values: dict[str, Any]) -> Member:
    return Member(
        name=values["name"],
        position=values.get("position") or Position.ANGGOTA,
        gender=values.get("gender"),
        phone=values.get("phone"),
        email=values.get("email") or "",
    )


def _apply_member_op(op: MemberOp, kim_id: int) -> None:
    if op.member is None:
        member = _new_member(op.values)
        member.kim_id = kim_id
        db.session.add(member)
        return
    for key, value in op.changes.items():
        setattr(op.member, key, value)


# --- waiting uploads ----------------------------------------------------------------------------


@dataclass
class Upload:
    """An uploaded, parsed file waiting for its mapping to be confirmed."""

    token: str
    kind: ImportKind
    filename: str
    table: Table
    mapping: dict[str, int]
    path: Path


def _folder() -> Path:
    return upload_folder("impor")


def _remove_expired(folder: Path) -> None:
    limit = time.time() - IMPORT_TTL.total_seconds()
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            continue


def save_upload(kind: ImportKind, table: Table, filename: str, user) -> str:
    """Keep a parsed file for its uploader under a new random token; old uploads are removed."""
    folder = _folder()
    _remove_expired(folder)
    token = secrets.token_urlsafe(16)
    payload = {
        "kind": kind.value,
        "user": user.id,
        "filename": clean(Path((filename or "").replace("\\", "/")).name)[:100],
        "created": datetime.now(UTC).isoformat(),
        "headers": table.headers,
        "rows": table.rows,
        "lines": table.lines,
        "mapping": guess_mapping(kind, table.headers),
    }
    _write(folder / f"{token}.json", payload)
    return token


def _write(path: Path, payload: dict) -> None:
    """Write atomically, readable by this process's user only (it holds names and numbers)."""
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False)
    temporary.replace(path)


def load_upload(token: str, user) -> Upload | None:
    """The upload behind ``token`` if it exists, has not expired and belongs to ``user``."""
    if not TOKEN.fullmatch(token or ""):
        return None
    path = _folder() / f"{token}.json"
    try:
        if path.stat().st_mtime < time.time() - IMPORT_TTL.total_seconds():
            path.unlink(missing_ok=True)
            return None
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if payload.get("user") != user.id:
        return None
    table = Table(headers=payload["headers"], rows=payload["rows"], lines=payload["lines"])
    return Upload(
        token=token,
        kind=ImportKind(payload["kind"]),
        filename=payload["filename"],
        table=table,
        mapping={k: int(v) for k, v in payload["mapping"].items()},
        path=path,
    )


def save_mapping(upload: Upload, mapping: dict[str, int]) -> bool:
    """Remember the chosen mapping so the error pages and a later visit show the same columns.

    False when the upload went away meanwhile (confirmed or cancelled by another request).
    """
    try:
        payload = json.loads(upload.path.read_text(encoding="utf-8"))
        payload["mapping"] = mapping
        _write(upload.path, payload)
    except (OSError, ValueError):
        return False
    upload.mapping = mapping
    return True


def claim(upload: Upload) -> bool:
    """Take the upload for confirming; False when another request already took it."""
    try:
        upload.path.rename(upload.path.with_suffix(".work"))
    except FileNotFoundError:
        return False
    return True


def release(upload: Upload) -> None:
    """Give a claimed upload back (the import did not happen)."""
    with contextlib.suppress(FileNotFoundError):
        upload.path.with_suffix(".work").replace(upload.path)


def discard(upload: Upload) -> None:
    """Delete an upload, claimed or not."""
    upload.path.unlink(missing_ok=True)
    upload.path.with_suffix(".work").unlink(missing_ok=True)


# --- export -------------------------------------------------------------------------------------

regency = aliased(Region, name="regency")


def _kim_ids(filters: RegistryFilter, user) -> sa.Select:
    return (
        sa.select(Kim.id)
        .join(village, village.code == Kim.village_code)
        .join(district, district.code == village.parent_code)
        .where(*registry_conditions(filters, user))
    )


def kim_export(filters: RegistryFilter, user) -> tuple[list[str], list[list[Any]]]:
    """The registry in scope as rows (header first): KIM, place, contact, SK, fields, pengurus.

    Four queries whatever the number of KIM; phone numbers in full (the export is audited).
    """
    headers = [
        _("No Registrasi"), _("Nama KIM"), _("Status"), _("Kode Desa"), _("Desa/Kelurahan"),
        _("Kecamatan"), _("Kabupaten/Kota"), _("Alamat"), _("WhatsApp"), _("Email"),
        _("No SK"), _("Tanggal SK"), _("Bidang"), _("Ketua"), _("No HP Ketua"), _("Sekretaris"),
        _("No HP Sekretaris"), _("Bendahara"), _("No HP Bendahara"), _("Jumlah Anggota Aktif"),
    ]  # fmt: skip
    ids = _kim_ids(filters, user)
    kims = db.session.execute(
        sa.select(
            Kim.id,
            Kim.registration_number,
            Kim.name,
            Kim.status,
            Kim.village_code,
            village.name.label("village_name"),
            district.name.label("district_name"),
            regency.name.label("regency_name"),
            Kim.address,
            Kim.whatsapp,
            Kim.email,
            Kim.sk_number,
            Kim.sk_date,
        )
        .join(village, village.code == Kim.village_code)
        .join(district, district.code == village.parent_code)
        .join(regency, regency.code == district.parent_code)
        .where(*registry_conditions(filters, user))
        .order_by(*registry_order(filters.sort))
    ).all()
    fields: dict[int, list[str]] = {}
    for kim_id, value, option in db.session.execute(
        sa.select(KimField.kim_id, KimField.field, BidangOption)
        .outerjoin(BidangOption, BidangOption.key == KimField.field)
        .where(KimField.kim_id.in_(ids))
        .order_by(KimField.field)
    ):
        fields.setdefault(kim_id, []).append(bidang_label(value, option))
    officers: dict[tuple[int, Position], tuple[str, str | None]] = {}
    for kim_id, position, name, phone in db.session.execute(
        sa.select(Member.kim_id, Member.position, Member.name, Member.phone)
        .where(Member.kim_id.in_(ids), Member.active, Member.position.in_(REQUIRED_POSITIONS))
        .order_by(Member.id.desc())
    ):
        officers[(kim_id, position)] = (name, phone)  # the earliest officer wins
    counts = dict(
        db.session.execute(
            sa.select(Member.kim_id, sa.func.count())
            .where(Member.kim_id.in_(ids), Member.active)
            .group_by(Member.kim_id)
        ).all()
    )
    rows = []
    for kim in kims:
        row = [
            kim.registration_number or "",
            kim.name,
            KimStatus(kim.status).label,
            kim.village_code,
            kim.village_name,
            kim.district_name,
            kim.regency_name,
            kim.address,
            display_phone(kim.whatsapp),
            kim.email,
            kim.sk_number,
            kim.sk_date,
            ", ".join(fields.get(kim.id, [])),
        ]
        for position in REQUIRED_POSITIONS:
            name, phone = officers.get((kim.id, position), ("", None))
            row += [name, display_phone(phone)]
        row.append(counts.get(kim.id, 0))
        rows.append(row)
    return headers, rows


def member_export(filters: RegistryFilter, user, kim: Kim | None = None):
    """Members (active and not) of the KIM in scope matching ``filters``, or of one ``kim``."""
    headers = [
        _("No Registrasi KIM"), _("Nama KIM"), _("Kode Desa"), _("Desa/Kelurahan"),
        _("Kecamatan"), _("Nama"), _("Jabatan"), _("Jenis Kelamin"), _("No HP"), _("Email"),
        _("Aktif"),
    ]  # fmt: skip
    statement = (
        sa.select(
            Kim.registration_number,
            Kim.name,
            Kim.village_code,
            village.name,
            district.name,
            Member.name,
            Member.position,
            Member.gender,
            Member.phone,
            Member.email,
            Member.active,
        )
        .join(Kim, Kim.id == Member.kim_id)
        .join(village, village.code == Kim.village_code)
        .join(district, district.code == village.parent_code)
        .where(*registry_conditions(filters, user))
        .order_by(sa.func.lower(Kim.name), Kim.id, Member.id)
    )
    if kim is not None:
        statement = statement.where(Kim.id == kim.id)
    rows = [
        [
            number or "",
            kim_name,
            code,
            village_name,
            district_name,
            name,
            Position(position).label,
            Gender(gender).value if gender else "",
            display_phone(phone),
            email,
            _("ya") if active else _("tidak"),
        ]
        for (
            number,
            kim_name,
            code,
            village_name,
            district_name,
            name,
            position,
            gender,
            phone,
            email,
            active,
        ) in db.session.execute(statement)
    ]
    return headers, rows


def record_export(what: str, fmt: str, rows: int, filters: dict, user) -> None:
    audit.record(
        f"{what}.export",
        "export",
        fmt,
        region_code=scope_of(user) or None,
        changes={"rows": rows, "filters": filters},
        actor=user,
    )


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_download(name: str, sheet: str, fmt: str, headers: list[str], rows: list) -> Response:
    """Rows as a dated attachment ``<name>-<YYYY-MM-DD>.<fmt>``: XLSX, or CSV with a BOM. Exports
    hold personal data, so no copy is kept anywhere (private, no-store). The caller audits."""
    today = datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
    if fmt == "xlsx":
        body, mimetype = to_xlsx(sheet, headers, rows), XLSX_TYPE
    else:
        body, mimetype = to_csv(headers, rows), "text/csv"  # charset added
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{name}-{today.isoformat()}.{fmt}"'
    )
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


def to_xlsx(sheet: str, headers: list[str], rows: list[list[Any]]) -> bytes:
    """One worksheet (see ``to_xlsx_sheets``)."""
    return to_xlsx_sheets([(sheet, headers, rows)])


def to_xlsx_sheets(sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """Worksheets ``(title, headers, rows)``, each with a bold header frozen on top and columns
    as wide as their first 200 values; text is always stored as text, never a formula."""
    workbook = Workbook(write_only=True)
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


# --- what both import previews show ---------------------------------------------------------------

ERRORS_PER_PAGE = 25
SAMPLE_ROWS = 5


def preview_context(upload: Upload, plan: Plan, page: int, message: str = "") -> dict:
    """Template values of a preview: one page of invalid rows, a few valid ones, the mapping."""
    invalid = plan.invalid
    pages = max(1, ceil(len(invalid) / ERRORS_PER_PAGE))
    page = min(max(page, 1), pages)
    return {
        "upload": upload,
        "plan": plan,
        "targets": targets_for(upload.kind),
        "errors": invalid[(page - 1) * ERRORS_PER_PAGE : page * ERRORS_PER_PAGE],
        "page": page,
        "pages": pages,
        "sample": plan.valid[:SAMPLE_ROWS],
        "message": message,
        "letter": column_letter,
        "Action": Action,
    }


def upload_gone():
    """The page for an upload that was used, expired, or belongs to someone else."""
    from kim_app.errors import error_response

    return error_response(
        404,
        _("Impor tidak ditemukan"),
        _(
            "Berkas impor ini sudah diproses, sudah lewat 24 jam, atau diunggah oleh akun lain. "
            "Unggah berkasnya lagi bila perlu."
        ),
    )
