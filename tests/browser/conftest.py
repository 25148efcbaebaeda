"""Browser harness: the app on a live local server, driven by Playwright in Debian's Chromium.

Phone-sized (360×740, touch). The network is closed, so the CDN URLs of htmx and jsQR are answered
with the copies npm installed — byte for byte the same files, so the pages' SRI hashes still have
to match.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from werkzeug.serving import make_server

from kim_app import ROOT
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HTMX_FILE = ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
JSQR_FILE = ROOT / "node_modules" / "jsqr" / "dist" / "jsQR.js"
SCREENSHOTS = ROOT / "tests" / "screenshots"
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True}


class _ClosedBody:
    """An answer's body that is closed when the server lets go of it, closed or not.

    werkzeug's development server closes a body only after draining the socket, and a socket the
    browser has reset (a page left before a static file finished) raises there first, so the
    open file was left to the garbage collector, which warns. gunicorn, in production, always
    closes."""

    def __init__(self, body) -> None:
        self.body = body

    def __iter__(self):
        return iter(self.body)

    def close(self) -> None:
        if hasattr(self.body, "close"):
            self.body.close()

    __del__ = close


def _always_closed(app):
    return lambda environ, start_response: _ClosedBody(app(environ, start_response))


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The test app served over HTTP on a free local port, in a background thread."""
    server = make_server("127.0.0.1", 0, _always_closed(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def _serve(path: Path, route) -> None:
    route.fulfill(
        path=str(path),
        content_type="text/javascript",
        headers={"Access-Control-Allow-Origin": "*"},
    )


def new_phone(browser: Browser, app, *, javascript: bool = True) -> BrowserContext:
    """A fresh phone-sized browser profile that reaches htmx and jsQR through the npm copies."""
    context = browser.new_context(**PHONE, java_script_enabled=javascript, locale="id-ID")
    context.route(app.config["KIM_HTMX_URL"], lambda route: _serve(HTMX_FILE, route))
    context.route(app.config["KIM_JSQR_URL"], lambda route: _serve(JSQR_FILE, route))
    context.set_default_timeout(10_000)
    return context


def _unexpected(message) -> bool:
    """Console errors fail a test, except Chromium's note on a 422 (a form sent back with errors)."""
    return message.type == "error" and "status of 422" not in message.text


@pytest.fixture
def phone(browser, app) -> Iterator[Page]:
    """A page in a phone-sized context with JavaScript on; console errors fail the test."""
    context = new_phone(browser, app)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: errors.append(f"{msg.text} at {msg.location}") if _unexpected(msg) else None,
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def phone_no_js(browser, app) -> Iterator[Page]:
    """The same phone with JavaScript disabled."""
    context = new_phone(browser, app, javascript=False)
    yield context.new_page()
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot for people to look at (git-ignored folder)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, caret="initial")  # no injected style: CSP
    return path


def sign_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real form, as a person would, and wait for the home page."""
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Halo,")


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the step times the field journey recorded (``field_journey_steps``), one column per
    variant, so they show in every CI log."""
    runs: dict[str, list[tuple[str, float]]] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for key, value in getattr(report, "user_properties", ()):
                if key == "field_journey_steps":
                    runs[value["variant"]] = value["steps"]
    if not runs:
        return
    names = list(dict.fromkeys(name for times in runs.values() for name, _s in times))
    width = max(len(name) for name in names)
    write = terminalreporter.write_line
    terminalreporter.section("field journey: seconds per step")
    write(f"{'step':<{width}}" + "".join(f"{variant:>10}" for variant in runs))
    for name in names:
        cells = (dict(times).get(name) for times in runs.values())
        write(f"{name:<{width}}" + "".join(f"{'—' if s is None else s:>10}" for s in cells))
    totals = (sum(s for _n, s in times) for times in runs.values())
    write(f"{'total':<{width}}" + "".join(f"{round(total, 1):>10}" for total in totals))


def accept_invitation(page: Page, link: str, password: str = PASSWORD) -> None:
    """The owner of a new account opens its one-time link, sets a password and is signed in."""
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Buat kata sandi")
    page.get_by_label("Kata sandi baru", exact=True).fill(password)
    page.get_by_label("Ulangi kata sandi baru").fill(password)
    page.get_by_role("button", name="Simpan kata sandi dan masuk").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Halo,")


def invite_account(
    page: Page, base: str, *, name: str, phone: str, role: str, district: str, village: str
) -> str:
    """An operator makes an account through Pengguna → Tambah akun (a village picked through the
    picker, with or without JavaScript); returns the account's one-time link."""
    page.goto(base + "/")
    page.get_by_role("link", name="Pengguna").first.click()
    page.get_by_role("link", name="Tambah akun").click()
    page.get_by_label("Nama lengkap").fill(name)
    page.get_by_label("Nomor WhatsApp").fill(phone)
    page.get_by_label("Peran").select_option(role)
    # without JavaScript the picker's next level needs a round trip (a button in <noscript>);
    # with it, htmx must be ready before the pick (on a slow link it comes after the page)
    refresh = page.get_by_role("button", name="Perbarui pilihan wilayah")
    if not refresh.is_visible():
        page.wait_for_function("() => window.htmx !== undefined")
    page.get_by_label("Kecamatan").select_option(label=district)
    if refresh.is_visible():
        refresh.click()
    page.get_by_label("Desa/Kelurahan", exact=True).select_option(label=village)
    if refresh.is_visible():
        refresh.click()
    page.get_by_role("button", name="Buat akun").click()
    expect(page.locator("#pesan")).to_contain_text(f"Akun {name} dibuat.")
    return page.locator("#alamat-tautan").input_value()


def member_account(page: Page, base: str, kim_id: int, member: str) -> str:
    """An operator gives a KIM member a pengurus account from the member list ("Buat akun");
    returns the account's one-time link."""
    page.goto(f"{base}/kim/{kim_id}/anggota")
    row = page.locator("li", has_text=member).filter(has=page.locator("strong"))
    row.get_by_role("button", name=re.compile("Buat akun")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(member)
    return page.locator("#alamat-tautan").input_value()


SK_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def register_kim(
    page: Page, folder: Path, name: str, pengurus: list[tuple[str, str]], before_save=None
) -> int:
    """A kepala desa registers the village's KIM from the home page: its name and SK, the
    pengurus (name, number) in order, a draft, the SK document, then sends it to Diskominfo;
    ``before_save(page)`` runs on the filled form. Returns the KIM's id."""
    page.get_by_role("link", name="Daftarkan KIM").first.click()
    page.get_by_label("Nama KIM").fill(name)
    page.get_by_label("Nomor SK").fill("141/07/2026")
    page.get_by_label("Tanggal SK").fill("2026-02-01")
    page.get_by_label("SK ditandatangani oleh").select_option("kepala_desa")
    page.get_by_label("Informasi publik").check()
    for row, (person, number) in enumerate(pengurus, start=1):
        group = page.get_by_role("group", name=f"Pengurus {row}")
        group.get_by_label("Nama", exact=True).fill(person)
        group.get_by_label("Nomor WhatsApp").fill(number)
    if before_save:
        before_save(page)
    page.get_by_role("button", name="Simpan draf").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    sk = folder / "sk.pdf"
    sk.write_bytes(SK_PDF)
    page.get_by_label("Unggah dokumen SK").set_input_files(str(sk))
    page.get_by_role("button", name="Unggah", exact=True).click()
    expect(page.get_by_role("link", name="Unduh dokumen SK")).to_be_visible()
    page.get_by_role("button", name="Ajukan ke Diskominfo").click()
    expect(page.locator(".tag").first).to_have_text("Diajukan")
    return int(re.search(r"/kim/(\d+)", page.url).group(1))
