"""Region operations: importing the Kemendagri code tree and looking regions up within a scope."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from kim_app.db import contains_text
from kim_app.extensions import db
from kim_app.regions.models import Region, RegionLevel, ancestors_of, level_of, parent_of
from kim_app.security import scope_filter

# file name, level, the column holding the parent code (None for provinces)
SOURCE_FILES = (
    ("provinces.csv", RegionLevel.PROVINSI, None),
    ("regencies.csv", RegionLevel.KABUPATEN, "province_code"),
    ("districts.csv", RegionLevel.KECAMATAN, "regency_code"),
    ("villages.csv", RegionLevel.DESA, "district_code"),
)
BATCH = 5000


class RegionImportError(Exception):
    """A source file is malformed; nothing was written."""

    def __init__(self, path: Path, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass
class ImportResult:
    added: int
    renamed: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.added + self.renamed + self.unchanged


def read_region_files(source: Path) -> list[dict]:
    """Read and check the four CSV files; raise RegionImportError naming the file and line."""
    rows: list[dict] = []
    seen: set[str] = set()
    for filename, level, parent_column in SOURCE_FILES:
        path = source / filename
        if not path.is_file():
            raise RegionImportError(path, 0, "file not found")
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            wanted = {"code", "name"} | ({parent_column} if parent_column else set())
            missing = wanted - set(reader.fieldnames or ())
            if missing:
                raise RegionImportError(path, 1, f"missing column(s): {', '.join(sorted(missing))}")
            for record in reader:
                rows.append(_checked_row(record, level, parent_column, seen, path, reader.line_num))
    return rows


def _checked_row(record, level, parent_column, seen, path, line) -> dict:
    code = (record.get("code") or "").strip()
    name = " ".join((record.get("name") or "").split())
    if level_of(code) is not level:
        raise RegionImportError(path, line, f"code {code!r} is not a {level.value} code")
    if not name or len(name) > 120:
        raise RegionImportError(
            path, line, f"name of {code} is empty or longer than 120 characters"
        )
    parent = parent_of(code)
    if parent_column and (record.get(parent_column) or "").strip() != parent:
        raise RegionImportError(path, line, f"{parent_column} of {code} must be {parent}")
    if parent and parent not in seen:
        raise RegionImportError(path, line, f"parent {parent} of {code} is not in the data")
    if code in seen:
        raise RegionImportError(path, line, f"code {code} appears twice")
    seen.add(code)
    return {"code": code, "name": name, "level": level, "parent_code": parent}


def import_regions(source: Path) -> ImportResult:
    """Load or refresh the region table from ``source``: new codes added, names updated, in one go.

    The files are fully checked before anything is written, and the writes share one transaction,
    so a malformed file leaves the table as it was.
    """
    rows = read_region_files(source)
    existing = dict(db.session.execute(sa.select(Region.code, Region.name)).all())
    new = [row for row in rows if row["code"] not in existing]
    renamed = [
        {"b_code": row["code"], "b_name": row["name"]}
        for row in rows
        if row["code"] in existing and existing[row["code"]] != row["name"]
    ]
    for chunk in _chunks(new):
        db.session.execute(sa.insert(Region), chunk)
    if renamed:
        statement = (
            sa.update(Region.__table__)
            .where(Region.__table__.c.code == sa.bindparam("b_code"))
            .values(name=sa.bindparam("b_name"))
        )
        for chunk in _chunks(renamed):
            db.session.execute(statement, chunk)
    return ImportResult(
        added=len(new), renamed=len(renamed), unchanged=len(rows) - len(new) - len(renamed)
    )


def _chunks(rows: list[dict]) -> Iterable[list[dict]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def region_counts() -> dict[RegionLevel, int]:
    """Rows per level, for the import summary and the health of a deployment."""
    result = db.session.execute(sa.select(Region.level, sa.func.count()).group_by(Region.level))
    return {RegionLevel(level): count for level, count in result}


def children_of(code: str | None, user) -> list[Region]:
    """The regions one level below ``code`` (provinces for None) that ``user`` may see."""
    statement = sa.select(Region).order_by(Region.code)
    if code is None:
        statement = statement.where(Region.level == RegionLevel.PROVINSI)
    else:
        statement = statement.where(Region.parent_code == code)
    return list(db.session.scalars(statement.where(scope_filter(Region.code, user, reach_up=True))))


def search_villages(query: str, user, limit: int = 15) -> list[tuple[Region, Region, Region]]:
    """Villages in ``user``'s scope whose name contains ``query``, with district and regency."""
    words = query.split()
    if not words:
        return []
    district = sa.orm.aliased(Region)
    regency = sa.orm.aliased(Region)
    statement = (
        sa.select(Region, district, regency)
        .join(district, district.code == Region.parent_code)
        .join(regency, regency.code == district.parent_code)
        .where(Region.level == RegionLevel.DESA, scope_filter(Region.code, user))
        .order_by(Region.name, Region.code)
        .limit(limit)
    )
    for word in words[:4]:
        statement = statement.where(contains_text(Region.name, word))
    return [tuple(row) for row in db.session.execute(statement).all()]


def lineage(code: str) -> list[Region]:
    """The region and its ancestors, province first, in one query."""
    codes = ancestors_of(code)
    found = {r.code: r for r in db.session.scalars(sa.select(Region).where(Region.code.in_(codes)))}
    return [found[c] for c in codes if c in found]
