"""What the archive and both databases share: the error every step raises and live row counts."""

from __future__ import annotations

import sqlalchemy as sa


class BackupError(Exception):
    """A backup or restore that cannot go ahead, or did not check out; the message says why."""


def live_counts(conn: sa.Connection, tables) -> dict[str, int]:
    """The rows of each of ``tables`` as the database holds them now."""
    return {
        name: conn.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) for name in tables
    }
