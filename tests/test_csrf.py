"""CSRF protection on every state-changing request, with protection on (the test app keeps
Flask-WTF's default). For each endpoint of the URL map that accepts POST — taken from the app,
so a new one is covered at once — the request of ``tests/access_cases.py`` is sent as the admin
(who may do everything) without a token, with a made-up token and with a genuine token of
another session (what a page left open across a sign-out sends): each is refused with 400 and
the translated "form expired" page — for htmx a small message swapped into the page's message
area (``#pesan``), never a silent failure — and nothing is written: no row of any table, no
uploaded file, no change to the session. The same request with the page's token goes through
and does change something, so the refusals above are what kept it from happening.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from kim_app import create_app
from kim_app.auth.models import Role
from kim_app.extensions import db
from tests.access_cases import CASES, World
from tests.conftest import html_of
from tests.helpers import multipart

INDONESIAN = ("Formulir kedaluwarsa", "Muat ulang halaman")
ENGLISH = ("Form expired", "Reload the page")


def _post_endpoints() -> list[str]:
    """Every endpoint that accepts POST, from the URL map of an app built for reading it."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "csrf-map", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    return sorted({r.endpoint for r in app.url_map.iter_rules() if "POST" in (r.methods or ())})


POST_ENDPOINTS = _post_endpoints()


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of every table but the regions (which requests never change)."""
    tables = [t for t in db.metadata.sorted_tables if t.name != "regions"]
    return {
        t.name: sorted(
            (tuple(map(repr, row)) for row in db.session.execute(sa.select(t))), key=repr
        )
        for t in tables
    }


def _files(app) -> set[Path]:
    return {p for p in Path(app.config["KIM_UPLOAD_FOLDER"]).rglob("*") if p.is_file()}


# the token itself, and Flask-Login's own bookkeeping of the browser it saw last
SESSION_HOUSEKEEPING = {"csrf_token", "_fresh", "_id"}


def _session(client) -> dict:
    with client.session_transaction() as session:
        return {k: v for k, v in session.items() if k not in SESSION_HOUSEKEEPING}


def _other_session_token(app) -> str:
    """A genuine token, issued to another browser (a stale page's token after a new session)."""
    other = app.test_client()
    return other.token("/login")


@pytest.fixture
def admin_world(app, client, login, make_kim, make_event) -> World:
    world = World(app, Role.ADMIN, make_kim, make_event)
    login(world.actor)
    return world


def test_protection_is_on(app):
    """The suite runs with CSRF protection on (nothing below would mean anything otherwise)."""
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    assert app.config.get("WTF_CSRF_CHECK_DEFAULT", True) is True


def test_the_refusal_page_is_translated(app, client):
    """The refusal reads in the visitor's language: Indonesian by default, English on request."""
    assert all(text in html_of(client.post("/bahasa", data={"lang": "en"})) for text in INDONESIAN)
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = html_of(client.post("/bahasa", data={"lang": "id"}))
    assert all(text in page for text in ENGLISH)


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_post_without_a_valid_token_is_refused_and_writes_nothing(
    app, client, admin_world, partial_headers, endpoint
):
    """No token, a made-up one or another session's: 400 with the reload advice (a fragment in
    #pesan for htmx), nothing written; the page's own token goes through."""
    probe = CASES[endpoint].posts
    assert probe is not None, f"{endpoint}: add its POST request to tests/access_cases.py"
    world, place = admin_world, admin_world.inside
    url = probe.url(world, place)
    fields = dict(probe.data(world, place) if probe.data else {})
    files = probe.files(world, place) if probe.files else None
    stale = _other_session_token(app)

    def send(token: str | None, headers: dict | None = None):
        data = dict(fields) | ({"csrf_token": token} if token is not None else {})
        if files:
            return client.post(url, headers=headers or {}, **multipart(data | files))
        return client.post(url, data=data, headers=headers or {})

    with app.app_context():
        rows = _snapshot()
    stored, session_before = _files(app), _session(client)
    for label, token in (("no token", None), ("made-up", "palsu-" + "0" * 40), ("stale", stale)):
        for headers in ({}, partial_headers):
            response = send(token, headers)
            where = f"{endpoint}, {label}{', htmx' if headers else ''}"
            body = html_of(response)
            assert response.status_code == 400, f"{where}: {response.status_code}"
            assert all(text in body for text in INDONESIAN), where
            if headers:
                assert "<html" not in body, f"{where}: a whole page for htmx"
                assert response.headers.get("HX-Retarget") == "#pesan", where
                assert response.headers.get("HX-Reswap", "").startswith("innerHTML"), where
                assert 'role="alert"' in body, where
            else:
                assert "<html" in body, f"{where}: not the error page"
            with app.app_context():
                assert _snapshot() == rows, f"{where}: the database changed"
            assert _files(app) == stored, f"{where}: a file was stored"
            assert _session(client) == session_before, f"{where}: the session changed"

    accepted = send(client.token("/kata-sandi"))
    assert accepted.status_code < 400, f"{endpoint}: {accepted.status_code} with a valid token"
    with app.app_context():
        wrote = _snapshot() != rows or _files(app) != stored or _session(client) != session_before
    assert wrote, f"{endpoint}: the request changes nothing even with its token"
