"""One transaction per request: the view's answer decides, in this one place, whether it commits.

Operations flush, never commit. When the view returns an answer under 400 (a page, a fragment, a
redirect) the request's transaction commits; when it raises, or answers 400 or more (a form sent
back with 422, a refused mark), it is rolled back. The commit happens inside the dispatch, so a
commit that fails is answered by the error handlers as any failure of the view is (503 when the
database is down). A view that catches an operation's error and still answers under 400 (flash
and redirect) runs the operation in a savepoint (``db.session.begin_nested()``), so the refused
operation leaves nothing behind. Jobs are enqueued after the commit (``jobs.after_commit``).
"""

from __future__ import annotations

from flask import Flask, Response, g, session
from flask.signals import message_flashed

from kim_app.extensions import db

FLASHED = "kim_flashed"


class TransactionalFlask(Flask):
    """Flask whose every request ends its database transaction once, as indico's ``RH.process``."""

    def dispatch_request(self):
        try:
            response = self.make_response(super().dispatch_request())
        except BaseException:
            roll_back()
            raise
        finish(response)
        return response


def finish(response: Response) -> None:
    """Commit for an answer under 400, else roll back. A commit that fails is rolled back and
    raised for the error handlers; the messages the view flashed for what it thought it saved
    are taken back (views used to flash only after their commit)."""
    if response.status_code >= 400:
        roll_back()
        return
    try:
        db.session.commit()
    except BaseException:
        roll_back()
        _take_back_flashes()
        raise


def roll_back() -> None:
    """Roll the request's session back; on a dead connection, close it (the pool discards it)."""
    from kim_app.errors import DATABASE_DOWN

    try:
        db.session.rollback()
    except DATABASE_DOWN:
        db.session.close()


def _remember_flash(_app: Flask, message: str, category: str, **_extra) -> None:
    g.setdefault(FLASHED, []).append((category, message))


def _take_back_flashes() -> None:
    flashed = g.pop(FLASHED, [])
    if not flashed:
        return
    kept = list(session.get("_flashes", []))
    for item in flashed:
        if item in kept:
            kept.remove(item)
    session["_flashes"] = kept


def init_app(app: Flask) -> None:
    message_flashed.connect(_remember_flash, app)
