"""The application shell: health check, headers, fragments vs pages, error pages, language."""

from __future__ import annotations

import re

from kim_app import ROOT, create_app
from kim_app.auth.models import Role
from kim_app.extensions import db
from tests.conftest import PPU_VILLAGE, html_of


def test_healthz_round_trips_to_database(client):
    """/healthz answers 200 with a status after a real query."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_reports_503_when_database_is_unreachable():
    """With the database server unreachable, /healthz answers 503 and pages a friendly 503."""
    down = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/kim",
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "connect_args": {"connect_timeout": 2},
            },
        }
    )
    client = down.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "database unavailable"}
    with client.session_transaction() as session:
        session["_user_id"] = "1:1"  # loading the user needs the database
    page = client.get("/wilayah/64.09")
    assert page.status_code == 503
    assert "Layanan sedang tidak tersedia" in html_of(page)
    with down.app_context():
        db.engine.dispose()


def test_security_headers_on_every_page(client):
    """CSP allows scripts only from self and the htmx CDN; framing and sniffing are denied."""
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://cdn.jsdelivr.net;" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in response.headers["Vary"]


# documents drawn by WeasyPrint, never served as pages: their <style> never meets the CSP
PRINTED = {
    "certificate.html",
    "daftar_hadir.html",
    "poster.html",
    "laporan_pdf.html",
    "monev_pdf.html",
}
NEEDS_UNSAFE_CSP = re.compile(
    r"<script(?![^>]*\bsrc=)|<style|\bstyle=|\son[a-z]+=|hx-on|=[\"'](?:js|javascript):", re.I
)


def test_no_page_needs_unsafe_inline_or_eval():
    """The CSP forbids inline scripts, inline styles and eval; no template relies on them (no
    inline handlers, no ``hx-on``, no ``js:`` values — the htmx features that would need eval),
    so the strict policy costs no feature."""
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if path.name not in PRINTED
        for match in NEEDS_UNSAFE_CSP.finditer(path.read_text())
    ]
    assert found == []


def test_cookies_are_httponly_lax_and_secure_behind_https(make_user):
    """The session cookie is HttpOnly and SameSite=Lax; with KIM_SECURE_COOKIES (HTTPS) it is
    Secure too and HSTS is sent."""
    for secure in (False, True):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "x",
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "KIM_SECURE_COOKIES": secure,
            }
        )
        response = app.test_client().get("/login")
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure
        assert ("Strict-Transport-Security" in response.headers) is secure


def test_cookies_are_secure_when_a_trusted_proxy_says_https():
    """Issue 21 item 8: behind a proxy that ends HTTPS (``KIM_PROXY_COUNT``) and says so with
    ``X-Forwarded-Proto: https``, every cookie is Secure even without KIM_SECURE_COOKIES; over
    plain HTTP it is not, and without a trusted proxy the header is not believed."""
    settings = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    behind = create_app(settings | {"KIM_PROXY_COUNT": 1}).test_client()
    direct = create_app(settings).test_client()
    for client, headers, secure in (
        (behind, https, True),
        (behind, {}, False),
        (direct, https, False),
    ):
        response = client.get("/login", headers=headers)
        cookies = response.headers.getlist("Set-Cookie")
        assert cookies and all(("; Secure" in c) is secure for c in cookies), cookies
        assert all("HttpOnly" in c and "SameSite=Lax" in c for c in cookies)


def test_gunicorn_answers_do_not_name_the_server():
    """Issue 21 item 8: the gunicorn settings file every app server starts with replaces the
    ``Server: gunicorn`` header gunicorn writes on every answer."""
    import runpy

    import gunicorn.http.wsgi

    before = gunicorn.http.wsgi.SERVER
    try:
        runpy.run_path(str(ROOT / "gunicorn.conf.py"))
        assert "gunicorn" not in gunicorn.http.wsgi.SERVER.lower()
    finally:
        gunicorn.http.wsgi.SERVER = before


def test_htmx_script_has_integrity_and_crossorigin(client, app):
    """The page loads htmx from the configured URL with its SRI hash."""
    page = html_of(client.get("/login"))
    assert f'src="{app.config["KIM_HTMX_URL"]}"' in page
    assert f'integrity="{app.config["KIM_HTMX_SRI"]}"' in page
    assert 'crossorigin="anonymous"' in page
    assert '<html lang="id">' in page


def test_unknown_url_is_a_translated_404_page(client):
    """An unknown address gives the Indonesian 404 page, as a full page."""
    response = client.get("/tidak-ada")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in html_of(response)
    assert "<html" in html_of(response)


def test_error_for_htmx_request_is_a_fragment_aimed_at_the_message_area(client, partial_headers):
    """htmx gets the error as a fragment retargeted to #pesan, not a whole page."""
    response = client.get("/tidak-ada", headers=partial_headers)
    assert response.status_code == 404
    assert "<html" not in html_of(response)
    assert response.headers["HX-Retarget"] == "#pesan"
    assert "Halaman tidak ditemukan" in html_of(response)


def test_post_without_csrf_token_is_refused_with_reload_advice(client):
    """A form posted without its token is a 400 that tells the user to reload."""
    response = client.post("/login", data={"email": "a@b.example", "password": "x"})
    assert response.status_code == 400
    assert "Muat ulang halaman" in html_of(response)


def test_post_with_forged_csrf_token_is_refused(client):
    """A made-up token is refused the same way."""
    response = client.post(
        "/login", data={"email": "a@b.example", "password": "x", "csrf_token": "palsu"}
    )
    assert response.status_code == 400
    assert "kedaluwarsa" in html_of(response)


def test_wrong_method_is_a_translated_405(client):
    """Signing out by GET is not allowed and says so in Indonesian."""
    response = client.get("/logout")
    assert response.status_code == 405
    assert "Cara akses tidak didukung" in html_of(response)


def test_oversized_request_is_a_translated_413_with_the_limit(client, app):
    """A body over MAX_CONTENT_LENGTH is refused with the limit stated."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/login", data={"email": "x" * (limit + 10)})
    assert response.status_code == 413
    assert f"{limit / 1024 / 1024:g} MB" in html_of(response)


def test_language_switch_to_english_and_back(client):
    """The footer switch changes the interface language and returns to the same page."""
    response = client.submit("/bahasa", {"lang": "en", "next": "/login"}, form_page="/login")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    page = html_of(client.get("/login"))
    assert '<html lang="en">' in page
    assert "Sign in" in page
    client.submit("/bahasa", {"lang": "id", "next": "/login"}, form_page="/login")
    assert "Masuk" in html_of(client.get("/login"))


def test_language_switch_ignores_foreign_next(client):
    """The switch never redirects off the site."""
    response = client.submit(
        "/bahasa", {"lang": "en", "next": "https://jahat.example/"}, form_page="/login"
    )
    assert response.headers["Location"] == "/"


def test_home_for_visitor_and_for_signed_in_user(client, make_user, login):
    """Visitors see what KIM is and a sign-in link; a signed-in user sees role, scope and the picker."""
    assert "Masuk" in html_of(client.get("/"))
    login(make_user(Role.OPERATOR_KABKOTA, "64.09", name="Bu Rina"))
    page = html_of(client.get("/"))
    assert "Halo, Bu Rina" in page
    assert "Operator kabupaten/kota" in page
    assert "Kabupaten Penajam Paser Utara" in page
    assert 'name="wilayah_kecamatan"' in page


def test_unexpected_error_is_a_friendly_500(app, client, monkeypatch):
    """A bug in a view shows the translated 500 page, not a traceback."""
    from kim_app.main import routes

    def boom(*_a, **_k):
        raise RuntimeError("bug")

    monkeypatch.setattr(routes, "render", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = client.get("/")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    assert "Terjadi kesalahan" in html_of(response)


def test_page_outside_ones_role_is_a_translated_403(client, make_user, login):
    """A village head opening user administration gets the Indonesian 403 page."""
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    response = client.get("/pengguna")
    assert response.status_code == 403
    assert "Akses ditolak" in html_of(response)


def test_text_answers_travel_compressed_when_the_browser_accepts_it(client):
    """Pages and the stylesheet come brotli-compressed to a browser that accepts brotli, gzipped
    to one that accepts only gzip (Vary says so, the ETag names the coding); without that header,
    or with every coding refused, they come plain, and small, partial or binary answers are left
    alone."""
    import gzip

    import brotli

    page = client.get("/login", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert page.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in page.headers["Vary"] and "HX-Request" in page.headers["Vary"]
    assert b"<html" in brotli.decompress(page.data)
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["Vary"] and "HX-Request" in page.headers["Vary"]
    assert b"<html" in gzip.decompress(page.data)
    plain = client.get("/login")
    assert "Content-Encoding" not in plain.headers and b"<html" in plain.data
    # buffered: the test client then closes the answer, and with it the file, as a server does
    css = client.get("/static/app.css", headers={"Accept-Encoding": "gzip"}, buffered=True)
    assert css.headers["Content-Encoding"] == "gzip" and css.headers["ETag"].endswith(':gzip"')
    assert gzip.decompress(css.data).startswith(b"/*")
    assert css.headers["Cache-Control"] == "public, max-age=31536000"
    again = client.get(
        "/static/app.css",
        headers={"Accept-Encoding": "gzip", "If-None-Match": css.headers["ETag"]},
        buffered=True,
    )
    assert again.status_code == 304
    css = client.get("/static/app.css", headers={"Accept-Encoding": "br, gzip"}, buffered=True)
    assert css.headers["Content-Encoding"] == "br" and css.headers["ETag"].endswith(':br"')
    assert brotli.decompress(css.data).startswith(b"/*")
    part = client.get(
        "/static/app.css",
        headers={"Accept-Encoding": "gzip", "Range": "bytes=0-999"},
        buffered=True,
    )
    assert part.status_code == 206 and "Content-Encoding" not in part.headers
    for refusal in ("gzip;q=0", "br;q=0, gzip;q=0", "identity;q=1, *;q=0"):
        refused = client.get("/login", headers={"Accept-Encoding": refusal})
        assert "Content-Encoding" not in refused.headers and b"<html" in refused.data
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers


def test_the_app_starts_from_its_entry_points_in_a_fresh_interpreter(tmp_path):
    """gunicorn's ``wsgi:app``, the worker's command line and a capability's models imported
    first each load without an import cycle (the suite's own imports would hide one)."""
    import subprocess
    import sys

    from kim_app import ROOT

    for code in (
        "import wsgi",
        "import kim_app.attendance.models",
        "import kim_app.events.models",
        "import kim_app.notices.operations",
        "import kim_app.cli",
    ):
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"},
        )
        assert done.returncode == 0, f"{code}: {done.stderr[-2000:]}"
