"""One page of a list: the rows shown, how many there are in all and where the page sits.

Lists that count with their own statement build a ``Page``; lists that let Flask-SQLAlchemy count
use ``queryargs.paginate`` (``db.paginate``). Both answer the same questions (``pages``,
``has_prev``, ``has_next``), so one pager macro (``templates/_macros.html``) draws either, and
the page number always travels in the query parameter ``halaman`` (``queryargs.PAGE``)."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil


@dataclass
class Page:
    """One page of rows and where it sits in the whole result."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def clamped(page: int, total: int, per_page: int) -> int:
    """``page`` within 1 and the last page of ``total`` rows: a number past the end (an old link,
    a typed number) shows the last page."""
    return min(max(page, 1), max(1, ceil(total / per_page)))
