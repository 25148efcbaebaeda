"""The query string, read in one place: every value a view takes from the URL goes through one of
these typed readers, each bounded (numbers within what the database and the date library hold,
text capped), so no query string can cause an error or unbounded work. A malformed value counts as
absent: links are shared and bookmarked, and the page should still answer.

Each read is announced on ``query_read`` (the name and the kind of value, during the request that
reads it); nothing listens in production, the fuzz tests do, to learn which names each endpoint
reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from blinker import Namespace
from flask import current_app, request

from kim_app.extensions import db
from kim_app.security import MAX_RECORD_ID

query_read = Namespace().signal("query-read")

PAGE = "halaman"  # the one query parameter of a page number, on every list
MAX_PAGE = 100_000  # beyond it a list shows its last page (ids and offsets stay small)
EARLIEST, LATEST = date(1900, 1, 1), date(2100, 12, 31)  # a day ± 1 stays a valid date
TEXT_MAX = 200  # the most the bounded view (``values()``) keeps of a value
LIST_MAX = 50  # the most values of one repeated name a reader keeps


def _raw(name: str, kind: str) -> str:
    """The first value sent for ``name`` (empty when absent), announced as read."""
    if query_read.receivers:
        query_read.send(current_app._get_current_object(), name=name, kind=kind)
    return request.args.get(name) or ""


def page(name: str = PAGE) -> int:
    """A page number from 1 to ``MAX_PAGE``: 1 for anything but a number, ``MAX_PAGE`` (the last
    page, once the list clamps it) for a number beyond it."""
    value = _raw(name, "page").strip()
    if not (value.isascii() and value.isdigit()):
        return 1
    return max(1, min(int(value), MAX_PAGE)) if len(value) <= 7 else MAX_PAGE


def record_id(name: str) -> int | None:
    """A record's id: None when absent or not a number (ignored), 0 for a number no record can
    have (it finds nothing)."""
    value = _raw(name, "id").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value) if len(value) <= 10 else 0
    return number if 0 < number <= MAX_RECORD_ID else 0


def day(name: str) -> date | None:
    """A day written YYYY-MM-DD between ``EARLIEST`` and ``LATEST``, or None."""
    value = _raw(name, "date")
    if len(value) != 10 or not value.isascii():
        return None
    try:
        found = date.fromisoformat(value)
    except ValueError:
        return None
    return found if EARLIEST <= found <= LATEST else None


def one_of(name: str, choices: Iterable[str]) -> str:
    """The value when it is one of ``choices``, else empty."""
    value = _raw(name, "choice")
    return value if value in choices else ""


def text(name: str, limit: int = 60) -> str:
    """Words as typed: printable characters only, runs of spaces made one, at most ``limit``."""
    return _words(_raw(name, "text"), limit)


def code(name: str, limit: int = 40) -> str:
    """An identifier as sent (a region code, a ticket): spaces around it dropped, at most
    ``limit`` characters; the caller checks that it names something."""
    return _raw(name, "code").strip()[:limit]


def flag(name: str) -> bool:
    """Whether ``name`` is in the query string at all (a button or a mode)."""
    _raw(name, "flag")
    return name in request.args


def given(name: str) -> bool:
    """Whether ``name`` carries something besides spaces (to tell a bad value from none)."""
    return bool(request.args.get(name, "").strip())


def _words(value: str, limit: int) -> str:
    kept = "".join(ch for ch in value[: limit * 4] if ch.isprintable())
    return " ".join(kept.split())[:limit]


class Values:
    """A bounded, read-only view of the query string (or, on a POST, of the form and query
    together) for the helpers that read several names at once: a region picker, a filter.
    Every value is text of at most ``TEXT_MAX`` characters; a name given many times keeps
    ``LIST_MAX`` of them."""

    def __init__(self, source) -> None:
        self._source = source

    def get(self, name: str, default: str | None = None) -> str | None:
        if query_read.receivers:
            query_read.send(current_app._get_current_object(), name=name, kind="text")
        value = self._source.get(name)
        return default if value is None else value[:TEXT_MAX]

    def getlist(self, name: str) -> list[str]:
        if query_read.receivers:
            query_read.send(current_app._get_current_object(), name=name, kind="list")
        return [value[:TEXT_MAX] for value in self._source.getlist(name)[:LIST_MAX]]

    def __contains__(self, name: object) -> bool:
        return name in self._source


def values() -> Values:
    """The query string on a GET; on a POST the form and the query string, as ``request.values``."""
    return Values(request.args if request.method in ("GET", "HEAD") else request.values)


def paginate(statement, *, per_page: int, name: str = PAGE):
    """``db.paginate`` at the page asked for in ``name``, or at the last page when the number
    lies beyond it (one more query, only then)."""
    number = page(name)
    options = {"per_page": per_page, "max_per_page": per_page, "error_out": False}
    result = db.paginate(statement, page=number, **options)
    if number > result.pages > 0:
        result = db.paginate(statement, page=result.pages, **options)
    return result
