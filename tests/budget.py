"""Measuring the budgets of DESIGN §6 in tests: page weight and SQL statements per request."""

from __future__ import annotations

import gzip
import re
from contextlib import contextmanager

import sqlalchemy as sa

from kim_app import ROOT
from kim_app.extensions import db

PAGE_BUDGET = 14 * 1024
FRAGMENT_BUDGET = 2 * 1024


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def own_assets_gzip(html: str) -> int:
    """Compressed size of this site's own CSS and JS the page links to (htmx comes from the CDN)."""
    return sum(
        gzip_size((ROOT / "static" / path).read_bytes())
        for path in re.findall(r'(?:href|src)="/static/([^"?]+)', html)
    )


def page_weight(response) -> int:
    """What a first visit costs: the page and its own assets, gzip-compressed."""
    return gzip_size(response.data) + own_assets_gzip(response.get_data(as_text=True))


@contextmanager
def counted_queries(app):
    """Collect every SQL statement the engine runs inside the block."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
