"""The hadir tallies behind the dashboard (``attendance_tallies``), recounted from the marks.

Triggers keep the table exact as attendance and registrations change (migration 0010); a bulk
load that bypasses them (the benchmark's COPY) recounts afterwards, and the tests compare the
kept table with this recount after every kind of change.
"""

from __future__ import annotations

import sqlalchemy as sa

# hadir marks of registered people per session and KIM, from the marks themselves
COUNTED = (
    "SELECT a.session_id, coalesce(r.kim_id, 0) AS kim_id, count(*) AS hadir "
    "FROM attendance a JOIN registrations r ON r.id = a.registration_id "
    "WHERE a.status = 'hadir' AND r.status = 'terdaftar' "
    "GROUP BY a.session_id, coalesce(r.kim_id, 0)"
)
# plain SQL, for any driver's connection (the benchmark's loaders use psycopg and sqlite3)
RECOUNT = (
    "DELETE FROM attendance_tallies",
    f"INSERT INTO attendance_tallies (session_id, kim_id, hadir) {COUNTED}",
)


def counted(conn: sa.Connection) -> dict[tuple[int, int], int]:
    """What the tallies should hold: {(session id, KIM id or 0): hadir marks}."""
    return {(s, k): n for s, k, n in conn.execute(sa.text(COUNTED))}


def kept(conn: sa.Connection) -> dict[tuple[int, int], int]:
    """What the tallies hold (rows counted down to zero left out)."""
    rows = conn.execute(
        sa.text("SELECT session_id, kim_id, hadir FROM attendance_tallies WHERE hadir <> 0")
    )
    return {(s, k): n for s, k, n in rows}


def recount(conn: sa.Connection) -> int:
    """Replace the tallies with a recount; the number of rows written."""
    empty, fill = RECOUNT
    conn.execute(sa.text(empty))
    return conn.execute(sa.text(fill)).rowcount
