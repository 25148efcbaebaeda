"""The dashboard's tallies (migration 0021), recounted from the rows.

Triggers keep them exact as registrations, events, sessions, marks, KIM and regions change: the
year tallies (per area and calendar year: people, origins, events, sessions and marks, each KIM's
marks) and the KIM and village tallies per regency. A bulk load that bypasses the triggers (the
benchmark's COPY) recounts afterwards, and the tests compare what the triggers kept with this
recount after every kind of change. The statements are plain SQL for either database, so the
benchmark's loaders can run them on their own connections.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

COUNTED = "('terbit', 'berlangsung', 'selesai')"  # events neither drafts nor cancelled
# the levels of an owner's code an event belongs to (the country '', its province, its regency)
# and how long a child area's code is at each
LEVELS = "(SELECT 0 AS n, 2 AS child UNION ALL SELECT 2, 5 UNION ALL SELECT 5, 8) lv"


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]  # without the stripe: the rows a recount writes once
    values: tuple[str, ...]


TABLES = (
    Table(
        "year_tallies",
        ("area_code", "year"),
        ("registrations", "men", "women", "no_phone", "people"),
    ),
    Table("year_origin_tallies", ("area_code", "year", "origin_key"), ("registrations",)),
    Table("year_event_tallies", ("area_code", "year", "month", "kind"), ("events",)),
    Table(
        "year_session_tallies",
        ("area_code", "year", "ends_on"),
        ("sessions", "expected", "hadir"),
    ),
    Table("year_kim_tallies", ("kim_id", "year"), ("hadir",)),
    Table("kim_tallies", ("regency_code", "status"), ("kims",)),
    Table("village_tallies", ("regency_code",), ("villages", "active")),
)


def _year(postgresql: bool, x: str) -> str:
    if postgresql:
        return f"CAST(EXTRACT(YEAR FROM {x}) AS INTEGER)"
    return f"CAST(strftime('%Y', {x}) AS INTEGER)"


def _month(postgresql: bool, x: str) -> str:
    if postgresql:
        return f"CAST(EXTRACT(MONTH FROM {x}) AS INTEGER)"
    return f"CAST(strftime('%m', {x}) AS INTEGER)"


def _day(postgresql: bool, x: str) -> str:
    return f"CAST({x} AS DATE)" if postgresql else f"date({x})"


def _origin_key(origin: str, area: str) -> str:
    return (
        f"CASE WHEN {origin} IS NULL THEN '' "
        f"WHEN lv.n = 0 OR {origin} = {area} OR substr({origin}, 1, lv.n + 1) = {area} || '.' "
        f"THEN substr({origin}, 1, lv.child) ELSE '~' END"
    )


def counted_statements(dialect: str) -> dict[str, str]:
    """What each table should hold, counted from the rows: ``SELECT key..., value...``."""
    pg = dialect == "postgresql"
    area, year = "substr(e.region_code, 1, lv.n)", _year(pg, "e.starts_on")
    of_counted = f"e.status IN {COUNTED} AND e.starts_on IS NOT NULL"
    counted_registrations = (
        "FROM registrations r JOIN events e ON e.id = r.event_id "
        f"JOIN {LEVELS} ON length(e.region_code) >= lv.n "
        f"WHERE r.status = 'terdaftar' AND {of_counted}"
    )
    registered = (
        "(SELECT event_id, count(*) AS n FROM registrations WHERE status = 'terdaftar' "
        "GROUP BY event_id)"
    )
    marks = "(SELECT session_id, sum(hadir) AS n FROM attendance_tallies GROUP BY session_id)"
    key = _origin_key("r.origin_code", area)
    return {
        "year_tallies": (
            "SELECT c.area_code, c.year, c.registrations, c.men, c.women, c.no_phone, "
            "coalesce(p.people, 0) AS people FROM ("
            f"SELECT {area} AS area_code, {year} AS year, count(*) AS registrations, "
            "sum(CASE WHEN r.gender = 'L' THEN 1 ELSE 0 END) AS men, "
            "sum(CASE WHEN r.gender = 'P' THEN 1 ELSE 0 END) AS women, "
            "sum(CASE WHEN r.phone IS NULL THEN 1 ELSE 0 END) AS no_phone "
            f"{counted_registrations} GROUP BY {area}, {year}) c "
            "LEFT JOIN (SELECT area_code, year, count(*) AS people FROM ("
            f"SELECT DISTINCT {area} AS area_code, {year} AS year, r.phone "
            f"{counted_registrations} AND r.phone IS NOT NULL) d GROUP BY area_code, year) p "
            "ON p.area_code = c.area_code AND p.year = c.year"
        ),
        "year_origin_tallies": (
            f"SELECT {area} AS area_code, {year} AS year, {key} AS origin_key, "
            f"count(*) AS registrations {counted_registrations} "
            f"GROUP BY {area}, {year}, {key}"
        ),
        "year_event_tallies": (
            f"SELECT {area} AS area_code, {year} AS year, {_month(pg, 'e.starts_on')} AS month, "
            "e.kind AS kind, count(*) AS events "
            f"FROM events e JOIN {LEVELS} ON length(e.region_code) >= lv.n WHERE {of_counted} "
            f"GROUP BY {area}, {year}, {_month(pg, 'e.starts_on')}, e.kind"
        ),
        "year_session_tallies": (
            f"SELECT {area} AS area_code, {year} AS year, {_day(pg, 's.ends_at')} AS ends_on, "
            "count(*) AS sessions, coalesce(sum(reg.n), 0) AS expected, "
            "coalesce(sum(m.n), 0) AS hadir "
            "FROM event_sessions s JOIN events e ON e.id = s.event_id "
            f"JOIN {LEVELS} ON length(e.region_code) >= lv.n "
            f"LEFT JOIN {registered} reg ON reg.event_id = e.id "
            f"LEFT JOIN {marks} m ON m.session_id = s.id "
            f"WHERE {of_counted} AND {_year(pg, 's.starts_at')} = {year} "
            f"GROUP BY {area}, {year}, {_day(pg, 's.ends_at')}"
        ),
        "year_kim_tallies": (
            f"SELECT t.kim_id AS kim_id, {_year(pg, 's.starts_at')} AS year, sum(t.hadir) AS hadir "
            "FROM attendance_tallies t JOIN event_sessions s ON s.id = t.session_id "
            f"JOIN events e ON e.id = s.event_id WHERE t.kim_id > 0 AND e.status IN {COUNTED} "
            f"GROUP BY t.kim_id, {_year(pg, 's.starts_at')} HAVING sum(t.hadir) <> 0"
        ),
        "kim_tallies": (
            "SELECT substr(village_code, 1, 5) AS regency_code, status, count(*) AS kims FROM kims "
            "GROUP BY substr(village_code, 1, 5), status"
        ),
        "village_tallies": (
            "SELECT v.regency_code, v.n AS villages, coalesce(a.n, 0) AS active FROM ("
            "SELECT substr(code, 1, 5) AS regency_code, count(*) AS n FROM regions "
            "WHERE level = 'desa' GROUP BY substr(code, 1, 5)) v LEFT JOIN ("
            "SELECT substr(village_code, 1, 5) AS regency_code, "
            "count(DISTINCT village_code) AS n "
            "FROM kims WHERE status = 'terverifikasi' GROUP BY substr(village_code, 1, 5)) a "
            "ON a.regency_code = v.regency_code"
        ),
    }


def recount_statements(dialect: str) -> list[str]:
    """Empty every tally table and fill it from the rows (any driver's connection runs them);
    the sessions' marks all go to stripe 0."""
    statements = []
    for table, select in zip(TABLES, counted_statements(dialect).values(), strict=True):
        columns = ", ".join((*table.key, *table.values))
        stripe = ("", "")
        if table.name == "year_session_tallies":
            stripe = (", stripe", ", 0")
        statements += [
            f"DELETE FROM {table.name}",
            f"INSERT INTO {table.name} ({columns}{stripe[0]}) "
            f"SELECT {columns}{stripe[1]} FROM ({select}) c",
        ]
    return statements


def _rows(conn: sa.Connection, statement: str, width: int) -> dict[tuple, tuple]:
    found = {}
    for row in conn.execute(sa.text(statement)):
        values = tuple(int(v) for v in row[width:])
        if any(values):
            found[tuple(str(k) for k in row[:width])] = values
    return found


def kept_statements() -> dict[str, str]:
    """What each table holds: ``SELECT key..., value...`` with its stripes summed and rows
    counted down to zeros left out (as ``counted_statements`` never writes them)."""
    statements = {}
    for t in TABLES:
        keys = ", ".join(t.key)
        nonzero = " OR ".join(f"sum({v}) <> 0" for v in t.values)
        sums = ", ".join(f"sum({v})" for v in t.values)
        statements[t.name] = f"SELECT {keys}, {sums} FROM {t.name} GROUP BY {keys} HAVING {nonzero}"
    return statements


def counted(conn: sa.Connection) -> dict[str, dict[tuple, tuple]]:
    """What every table should hold: {table: {key: values}}, rows of zeros left out."""
    statements = counted_statements(conn.dialect.name)
    return {t.name: _rows(conn, statements[t.name], len(t.key)) for t in TABLES}


def kept(conn: sa.Connection) -> dict[str, dict[tuple, tuple]]:
    """What every table holds (its stripes summed), rows counted down to zeros left out."""
    statements = kept_statements()
    return {t.name: _rows(conn, statements[t.name], len(t.key)) for t in TABLES}


def recount(conn: sa.Connection) -> int:
    """Replace every tally with a recount; the number of rows written."""
    written = 0
    for statement in recount_statements(conn.dialect.name):
        result = conn.execute(sa.text(statement))
        if statement.startswith("INSERT"):
            written += result.rowcount
    return written
