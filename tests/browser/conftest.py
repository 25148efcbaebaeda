"""Browser harness: the app on a live local server, driven by Playwright in Debian's Chromium.

Phone-sized (360×740, touch). The network is closed, so the CDN URLs of htmx and jsQR are answered
with the copies npm installed — byte for byte the same files, so the pages' SRI hashes still have
to match.
"""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The test app served over HTTP on a free local port, in a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
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
