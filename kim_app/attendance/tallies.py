"""The tallies behind the dashboard and the roll call's counters (``attendance_tallies``),
recounted from the marks.

Triggers keep the table exact as attendance and registrations change (migration 0010); a bulk
load that bypasses them (the benchmark's COPY) recounts afterwards, and the tests compare the
kept table with this recount after every kind of change.
"""

from __future__ import annotations

import sqlalchemy as sa

MARKED = ("hadir", "izin", "sakit", "alpa")  # belum: the registered people not counted here
COLUMNS = ", ".join(MARKED)
IS_MARKED = "status IN (" + ", ".join(f"'{m}'" for m in MARKED) + ")"

# marks of registered people per session, KIM and status, from the marks themselves
COUNTED = (
    "SELECT a.session_id, coalesce(r.kim_id, 0) AS kim_id, "
    + ", ".join(f"sum(CASE WHEN a.status = '{m}' THEN 1 ELSE 0 END) AS {m}" for m in MARKED)
    + " FROM attendance a JOIN registrations r ON r.id = a.registration_id "
    f"WHERE a.{IS_MARKED} AND r.status = 'terdaftar' "
    "GROUP BY a.session_id, coalesce(r.kim_id, 0)"
)
# plain SQL, for any driver's connection (the benchmark's loaders use psycopg and sqlite3)
RECOUNT = (
    "DELETE FROM attendance_tallies",
    f"INSERT INTO attendance_tallies (session_id, kim_id, {COLUMNS}) {COUNTED}",
)
KEPT = f"SELECT session_id, kim_id, {COLUMNS} FROM attendance_tallies WHERE " + " OR ".join(
    f"{m} <> 0" for m in MARKED
)


def counted(conn: sa.Connection) -> dict[tuple[int, int], tuple[int, ...]]:
    """What the tallies should hold: {(session id, KIM id or 0): (hadir, izin, sakit, alpa)}."""
    return {(s, k): tuple(n) for s, k, *n in conn.execute(sa.text(COUNTED))}


def kept(conn: sa.Connection) -> dict[tuple[int, int], tuple[int, ...]]:
    """What the tallies hold (rows counted down to nothing left out)."""
    return {(s, k): tuple(n) for s, k, *n in conn.execute(sa.text(KEPT))}


def recount(conn: sa.Connection) -> int:
    """Replace the tallies with a recount; the number of rows written."""
    empty, fill = RECOUNT
    conn.execute(sa.text(empty))
    return conn.execute(sa.text(fill)).rowcount
