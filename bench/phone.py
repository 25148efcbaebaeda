"""Page weight and time on a slow phone network (issue 7): real Chromium at 360×740 with touch,
throttled through CDP to a slow 3G profile (400 kbit/s down and up, 400 ms round trip).

For the sign-in page, the roll-call page (signed in as an operator), one roll-call tap and the
public registration page ``/e/<code>``, each cold (new browser profile, empty cache) and warm
(same profile, second visit), it measures bytes transferred (CDP ``encodedDataLength``, headers
included), requests, DOMContentLoaded, and the time until usable (the first interactive element
rendered and htmx loaded); for a tap, the time from the click until the server's answer is in the
row, and the bytes of that one request.

The network is closed, so htmx (and jsQR) cannot come from the CDN. Instead of answering the CDN
URL from the test harness's route (a routed answer skips the emulation), a small static server on
a second loopback port plays the CDN: the app is started with ``KIM_HTMX_URL`` pointing at it,
byte for byte the npm file (the SRI hash still has to match), gzip-compressed, cached for a year,
on its own origin — so it is throttled, counted and cached like the real CDN.

Two server variants run: gunicorn exactly as ``make run`` starts it (the app does not compress its
answers), and the same behind gzip, as nginx with ``gzip on`` would serve it (``gzip_app`` below).

Run: ``python -m bench.phone`` (starts gunicorn on a free port against the regency dataset
``instance/bench/regency.sqlite3`` if it exists, else a scratch SQLite database with the demo
data), or ``python -m bench.phone --base URL --session ID --code CODE --email E --password P``
against a server already running. The table is printed and written into docs/benchmarks.md
between ``<!-- phone:start -->`` and ``<!-- phone:end -->``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True}
REGENCY_DB = ROOT / "instance" / "bench" / "regency.sqlite3"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- phone:start -->", "<!-- phone:end -->"

# the slow 3G profile of the issue: 400 kbit/s each way, 400 ms round trip
DOWN_BPS = 400_000 // 8
UP_BPS = 400_000 // 8
LATENCY_MS = 400
NETWORK = {
    "offline": False,
    "latency": LATENCY_MS,
    "downloadThroughput": DOWN_BPS,
    "uploadThroughput": UP_BPS,
}
# the must-show of the issue
BUDGET_ROLL_COLD_MS = 3000
BUDGET_TAP_MS = 1000

# the CDN paths the static server answers (same paths as jsDelivr), and the npm files behind them
CDN_FILES = {
    "/npm/htmx.org@4.0.1/dist/htmx.min.js": ROOT / "node_modules/htmx.org/dist/htmx.min.js",
    "/npm/jsqr@1.4.0/dist/jsQR.js": ROOT / "node_modules/jsqr/dist/jsQR.js",
}
HTMX_PATH = "/npm/htmx.org@4.0.1/dist/htmx.min.js"
JSQR_PATH = "/npm/jsqr@1.4.0/dist/jsQR.js"

# what makes each page usable: the first interactive element, rendered, and htmx loaded
SELECTORS = {
    "sign-in": "main form input:not([type=hidden])",
    "roll call": "form.tandai button.ya",
    "registration": "#daftar input:not([type=hidden]), #daftar button",
}

# Runs in every document before its own scripts (CDP, so the page's CSP does not apply): polls
# until the page's first interactive element is rendered and htmx is there, and notes when.
USABLE_PROBE = """
(() => {
  const selector = %s;
  function check() {
    const shown = Array.prototype.some.call(document.querySelectorAll(selector), (el) => {
      const box = el.getBoundingClientRect();
      return box.width > 0 && box.height > 0;
    });
    const painted = performance.getEntriesByName("first-contentful-paint").length > 0;
    if (shown && window.htmx && painted) {
      window.__usable = performance.now();
      return;
    }
    setTimeout(check, 5);
  }
  check();
})();
"""


# --- the servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _compressible(headers: list[tuple[str, str]]) -> bool:
    kinds = ("text/", "javascript", "json", "svg")
    names = {k.lower(): v for k, v in headers}
    return "content-encoding" not in names and any(
        k in names.get("content-type", "") for k in kinds
    )


def gzip_app():
    """The app behind gzip (level 6, text types only), as nginx with ``gzip on`` serves it.
    For gunicorn: ``gunicorn 'bench.phone:gzip_app()'``."""
    from wsgi import app as kim

    def wrapped(environ, start_response):
        if "gzip" not in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return kim(environ, start_response)
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        result = kim(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        if len(body) > 256 and _compressible(captured["headers"]):
            body = gzip.compress(body, 6)
            headers.append(("Content-Encoding", "gzip"))
            vary = [v for k, v in headers if k.lower() == "vary"]
            headers = [(k, v) for k, v in headers if k.lower() != "vary"]
            headers.append(("Vary", ", ".join([*vary, "Accept-Encoding"])))
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers)
        return [body]

    return wrapped


class _CdnHandler(BaseHTTPRequestHandler):
    """Plays jsDelivr: the npm file, gzip when asked, cached for a year, open to any origin."""

    protocol_version = "HTTP/1.1"
    bodies: ClassVar[dict[str, tuple[bytes, bytes]]] = {}

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path not in CDN_FILES:
            self.send_error(404)
            return
        if path not in self.bodies:
            raw = CDN_FILES[path].read_bytes()
            self.bodies[path] = (raw, gzip.compress(raw, 9))
        raw, packed = self.bodies[path]
        zipped = "gzip" in self.headers.get("Accept-Encoding", "")
        body = packed if zipped else raw
        self.send_response(200)
        self.send_header("Content-Type", "application/javascript; charset=utf-8")
        self.send_header("Cache-Control", "public, max-age=31536000, s-maxage=31536000, immutable")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Timing-Allow-Origin", "*")
        self.send_header("Vary", "Accept-Encoding")
        if zipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # quiet
        pass


@contextmanager
def cdn_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CdnHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@dataclass
class Target:
    """What to measure: where the app is, who signs in, which roll call, which public page."""

    base: str
    email: str
    password: str
    session_id: int
    code: str
    dataset: str


def _scratch_database(folder: Path, env: dict) -> tuple[str, int, str]:
    """A fresh SQLite database with the demo data (the demo event runs today)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kim.sqlite3"
    env["DATABASE_URL"] = f"sqlite:///{path}"
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "kim", "setup"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with sqlite3.connect(path) as db:
        code, session_id = db.execute(
            "SELECT e.code, MIN(s.id) FROM events e JOIN event_sessions s ON s.event_id = e.id "
            "WHERE e.title = 'Pelatihan Literasi Digital KIM (demo)' GROUP BY e.code"
        ).fetchone()
    return "scratch SQLite, demo event (30 people)", session_id, code


def _regency_meta() -> tuple[int, str]:
    """The big session and the public code; the session's marks (left by the load run, which
    taps people hadir and back) are cleared so the phone finds the roll call as at its start."""
    with sqlite3.connect(REGENCY_DB) as db:
        meta = dict(db.execute("SELECT key, value FROM bench_meta").fetchall())
        session_id = int(meta["big_session_id"])
        for table in ("attendance_marks", "attendance"):
            db.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
    return session_id, meta["public_code"]


@contextmanager
def app_server(cdn: str, compressed: bool, folder: Path):
    """gunicorn as ``make run`` starts it (2 workers), on a free port; yields the Target."""
    env = dict(os.environ)
    env["KIM_HTMX_URL"] = cdn + HTMX_PATH
    env["KIM_JSQR_URL"] = cdn + JSQR_PATH
    if REGENCY_DB.exists():
        env["DATABASE_URL"] = f"sqlite:///{REGENCY_DB}"
        session_id, code = _regency_meta()
        dataset, email, password = (
            "regency SQLite (instance/bench/regency.sqlite3)",
            "ppu@bench.example",
            "bench-pass-2026",
        )
    else:
        dataset, session_id, code = _scratch_database(folder, env)
        email, password = "ppu@kim.example", "kim-demo-2026"
    port = free_port()
    app = "bench.phone:gzip_app()" if compressed else "wsgi:app"
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "2"]
    proc = subprocess.Popen(
        [*gunicorn, "--bind", f"127.0.0.1:{port}", app],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        # a worker's first request is slow (imports, templates, a cold SQLite cache): take it
        # here, unthrottled, as a running server would have; its time is printed
        from urllib.request import urlopen

        for path in ("/login", f"/e/{code}") * 2:
            began = time.monotonic()
            urlopen(base + path, timeout=60).read()
            print(
                f"warm-up GET {path}: {(time.monotonic() - began) * 1000:,.0f} ms", file=sys.stderr
            )
        yield Target(base, email, password, session_id, code, dataset)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- the measurements -------------------------------------------------------------------------


@dataclass
class Traffic:
    """What CDP saw of the page's requests."""

    requests: dict = field(default_factory=dict)

    def attach(self, cdp) -> None:
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._received)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.requestServedFromCache", self._memory)

    def _sent(self, e) -> None:
        if e["request"]["url"].startswith("data:"):
            return
        post = e["request"].get("postData") or ""
        self.requests[e["requestId"]] = {
            "url": e["request"]["url"],
            "method": e["request"]["method"],
            "up": len(post.encode()),
            "bytes": 0,
            "source": "network",
            "worker": bool(e.get("_worker")),
        }

    def _received(self, e) -> None:
        r = self.requests.get(e["requestId"])
        if r is None:
            return
        response = e["response"]
        if response.get("fromServiceWorker"):
            r["source"] = "service worker"
        elif response.get("fromDiskCache"):
            r["source"] = "disk cache"
        elif response.get("fromPrefetchCache"):
            r["source"] = "prefetch"
        r["status"] = response.get("status")
        r["encoding"] = (response.get("headers") or {}).get("content-encoding", "")

    def _memory(self, e) -> None:
        if e["requestId"] in self.requests:
            self.requests[e["requestId"]]["source"] = "memory cache"

    def _finished(self, e) -> None:
        r = self.requests.get(e["requestId"])
        if r is not None:
            r["bytes"] = int(e.get("encodedDataLength", 0))

    def clear(self) -> None:
        self.requests.clear()

    def summary(self) -> dict:
        rows = list(self.requests.values())
        net = [r for r in rows if r["source"] == "network"]
        return {
            "requests": len(rows),
            "network": len(net),
            "worker": sum(1 for r in net if r["worker"]),
            "bytes": sum(r["bytes"] for r in net),
            "detail": rows,
        }


class WorkerWatch:
    """Service workers are targets of their own: the page's CDP session neither throttles nor
    sees their fetches. This attaches to each one as it starts (paused until throttled) and
    passes its network events to the Traffic being recorded."""

    def __init__(self, browser) -> None:
        self.cdp = browser.new_browser_cdp_session()
        self.traffic: Traffic | None = None
        self._ids = iter(range(1, 1_000_000))
        self.cdp.on("Target.targetCreated", self._created)
        self.cdp.on("Target.receivedMessageFromTarget", self._message)
        # browser-level auto-attach takes only the flat protocol, which Playwright's CDP session
        # cannot address; so attach on discovery (the worker's first fetches may run unthrottled)
        self.cdp.send("Target.setDiscoverTargets", {"discover": True})

    def _to(self, session: str, method: str, params: dict | None = None) -> None:
        message = {"id": next(self._ids), "method": method, "params": params or {}}
        self.cdp.send(
            "Target.sendMessageToTarget", {"sessionId": session, "message": json.dumps(message)}
        )

    def _created(self, e) -> None:
        info = e["targetInfo"]
        if info["type"] != "service_worker":
            return
        attach = {"targetId": info["targetId"], "flatten": False}
        session = self.cdp.send("Target.attachToTarget", attach)["sessionId"]
        self._to(session, "Network.enable")
        self._to(session, "Network.emulateNetworkConditions", NETWORK)

    def _message(self, e) -> None:
        message = json.loads(e["message"])
        method = message.get("method", "")
        if self.traffic is None or not method.startswith("Network."):
            return
        handler = {
            "Network.requestWillBeSent": self.traffic._sent,
            "Network.responseReceived": self.traffic._received,
            "Network.loadingFinished": self.traffic._finished,
            "Network.requestServedFromCache": self.traffic._memory,
        }.get(method)
        if handler:
            params = dict(message["params"])
            params["requestId"] = "sw:" + params["requestId"]
            params["_worker"] = True
            handler(params)


@dataclass
class Row:
    what: str
    cache: str
    variant: str
    bytes: int
    requests: int
    network: int
    worker: int
    dcl_ms: float | None
    usable_ms: float | None
    note: str = ""
    detail: list = field(default_factory=list)


def _phone(browser, selector: str | None, watch: WorkerWatch):
    context = browser.new_context(**PHONE, locale="id-ID")
    context.set_default_timeout(60_000)
    if selector:
        context.add_init_script(USABLE_PROBE % json.dumps(selector))
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    traffic = Traffic()
    traffic.attach(cdp)
    watch.traffic = traffic
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    return context, page, traffic


def _settle(page) -> None:
    """Let the page finish what it does after load (service worker, its caching)."""
    with suppress(Exception):  # a page that keeps polling is measured as it stands
        page.wait_for_load_state("networkidle", timeout=30_000)


def _visit(page, traffic: Traffic, url: str) -> dict:
    traffic.clear()
    page.goto(url, wait_until="load")
    deadline = time.monotonic() + 60
    while page.evaluate("() => window.__usable") is None:  # not wait_for_function: the CSP
        if time.monotonic() > deadline:
            raise SystemExit(f"{url}: never usable")
        time.sleep(0.05)
    timing = page.evaluate(
        """() => {
          const nav = performance.getEntriesByType("navigation")[0];
          return {dcl: nav.domContentLoadedEventEnd, usable: window.__usable};
        }"""
    )
    _settle(page)
    return {**traffic.summary(), **timing}


def _row(what, cache, variant, visit, note="") -> Row:
    return Row(
        what,
        cache,
        variant,
        visit["bytes"],
        visit["requests"],
        visit["network"],
        visit["worker"],
        visit["dcl"],
        visit["usable"],
        note,
        visit["detail"],
    )


def _sign_in(context, target: Target) -> None:
    """Sign in through the API side of the profile (shares its cookies, not its HTTP cache)."""
    login = context.request.get(target.base + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text()).group(1)
    answer = context.request.post(
        target.base + "/login",
        form={"csrf_token": token, "email": target.email, "password": target.password},
    )
    if "/login" in answer.url:
        raise SystemExit(f"sign-in as {target.email} failed")


TAP_JS = """
async (index) => {
  const buttons = Array.prototype.filter.call(
    document.querySelectorAll("form.tandai button.ya"), (b) => b.getBoundingClientRect().height > 0);
  const button = buttons[index];
  const row = button.closest("li[id]");
  const id = row.id;
  const done = new Promise((resolve) => {
    const seen = new MutationObserver(() => {
      const now = document.getElementById(id);
      if (now && now !== row && !now.classList.contains("menunggu")) {
        seen.disconnect();
        resolve(performance.now());
      }
    });
    seen.observe(document.body, {childList: true, subtree: true});
  });
  const start = performance.now();
  button.click();
  const shown = row.dataset.status === "hadir" ? performance.now() : null;
  const answered = await done;
  return {shown: shown === null ? null : shown - start, answered: answered - start,
          status: document.getElementById(id).dataset.status};
}
"""


def _tap(page, traffic: Traffic, index: int, variant: str, cache: str) -> Row:
    traffic.clear()
    result = page.evaluate(TAP_JS, index)
    _settle(page)
    summary = traffic.summary()
    posts = [r for r in summary["detail"] if r["method"] == "POST"]
    up = sum(r["up"] for r in posts)
    note = (
        f"answer {summary['bytes']} B down, form {up} B up; row shows "
        f"'{result['status']}' after {result['shown'] or 0:.0f} ms (before the answer)"
    )
    return Row(
        "one tap",
        cache,
        variant,
        summary["bytes"],
        summary["requests"],
        summary["network"],
        summary["worker"],
        None,
        result["answered"],
        note,
        summary["detail"],
    )


def measure(browser, watch: WorkerWatch, target: Target, variant: str) -> list[Row]:
    rows: list[Row] = []
    pages = (
        ("sign-in", "/login"),
        ("registration", f"/e/{target.code}"),
    )
    for what, path in pages:
        context, page, traffic = _phone(browser, SELECTORS[what], watch)
        rows.append(_row(what, "cold", variant, _visit(page, traffic, target.base + path)))
        rows.append(_row(what, "warm", variant, _visit(page, traffic, target.base + path)))
        context.close()

    roll = f"{target.base}/absensi/sesi/{target.session_id}"
    context, page, traffic = _phone(browser, SELECTORS["roll call"], watch)
    _sign_in(context, target)
    rows.append(_row("roll call", "cold", variant, _visit(page, traffic, roll)))
    rows.append(_tap(page, traffic, 0, variant, "cold"))
    rows.append(_row("roll call", "warm", variant, _visit(page, traffic, roll)))
    rows.append(_tap(page, traffic, 1, variant, "warm"))
    context.close()
    return rows


# --- the report -------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def table(rows: list[Row]) -> str:
    head = (
        "| variant | what | cache | bytes | requests (network / by service worker) "
        "| DOMContentLoaded ms "
        "| usable ms |\n|---|---|---|--:|--:|--:|--:|"
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"| {r.variant} | {r.what} | {r.cache} | {r.bytes:,} "
            f"| {r.requests} ({r.network} / {r.worker}) "
            f"| {_ms(r.dcl_ms)} | {_ms(r.usable_ms)} |"
        )
    return "\n".join(lines)


def verdicts(rows: list[Row]) -> list[str]:
    out = []
    for r in rows:
        if r.what == "roll call" and r.cache == "cold":
            ok = r.usable_ms is not None and r.usable_ms <= BUDGET_ROLL_COLD_MS
            out.append(
                f"- {r.variant}: roll call usable cold in {_ms(r.usable_ms)} ms "
                f"(budget {BUDGET_ROLL_COLD_MS:,} ms): {'PASS' if ok else 'FAIL'}"
            )
        if r.what == "one tap":
            ok = r.usable_ms is not None and r.usable_ms <= BUDGET_TAP_MS
            out.append(
                f"- {r.variant}: tap round trip ({r.cache} page) {_ms(r.usable_ms)} ms "
                f"(budget {BUDGET_TAP_MS:,} ms): {'PASS' if ok else 'FAIL'}; {r.note}"
            )
    return out


def breakdown(rows: list[Row]) -> list[str]:
    """Where the bytes of each cold page go, per request."""
    out = []
    for r in rows:
        if r.cache != "cold" or r.what == "one tap":
            continue
        parts = []
        for d in r.detail:
            name = urlsplit(d["url"]).path.rsplit("/", 1)[-1] or urlsplit(d["url"]).path
            enc = f" {d.get('encoding')}" if d.get("encoding") else ""
            src = "service worker → network" if d["worker"] else d["source"]
            parts.append(f"{name} {d['bytes']:,} B{enc} ({src})")
        out.append(f"- {r.variant}, {r.what}: " + "; ".join(parts))
    return out


def report(rows: list[Row], target: Target) -> str:
    machine = f"{platform.node()}, {os.cpu_count()} CPU, Chromium {_CHROMIUM_VERSION}"
    return "\n".join(
        [
            "## Page weight and time on a slow phone network",
            "",
            f"Measured {date.today().isoformat()} on {machine}; dataset: {target.dataset}. "
            "Chromium at 360×740 (touch) throttled through CDP "
            "(`Network.emulateNetworkConditions`): 400 kbit/s down and up, 400 ms latency. "
            "htmx comes from a local static server that plays the CDN (own origin, gzip, "
            "cached a year) under the same throttling. *cold*: new profile, empty cache; "
            "*warm*: the same profile, second visit. *bytes*: CDP `encodedDataLength` of the "
            "requests that went to the network (headers included). *usable*: the first "
            "interactive element painted and htmx loaded (for a tap: click until the server's "
            "answer is in the row). Variant *gunicorn*: as `make run` serves it (no compression); "
            "*gzip*: the same behind gzip level 6, as nginx with `gzip on`. "
            "Reproduce: `python -m bench.phone`.",
            "",
            table(rows),
            "",
            "Must show (issue 7):",
            "",
            *verdicts(rows),
            "",
            "Cold requests:",
            "",
            *breakdown(rows),
        ]
    )


def write_doc(text: str) -> None:
    block = f"{START}\n{text}\n{END}"
    if DOC.exists():
        doc = DOC.read_text()
        if START in doc and END in doc:
            before, rest = doc.split(START, 1)
            after = rest.split(END, 1)[1]
            DOC.write_text(before + block + after)
            return
        DOC.write_text(doc.rstrip("\n") + "\n\n" + block + "\n")
        return
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("# Benchmarks\n\n" + block + "\n")


_CHROMIUM_VERSION = "?"


def main(argv: list[str] | None = None) -> int:
    global _CHROMIUM_VERSION
    parser = argparse.ArgumentParser(prog="python -m bench.phone", description=__doc__)
    parser.add_argument("--base", help="measure a server already running at this URL")
    parser.add_argument("--session", type=int, help="with --base: the roll-call session id")
    parser.add_argument("--code", help="with --base: the public event code for /e/<code>")
    parser.add_argument("--email", default="ppu@kim.example")
    parser.add_argument("--password", default="kim-demo-2026")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave the docs alone")
    args = parser.parse_args(argv)
    if args.base and (args.session is None or not args.code):
        parser.error("--base needs --session and --code")

    from playwright.sync_api import sync_playwright

    rows: list[Row] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        _CHROMIUM_VERSION = browser.version
        watch = WorkerWatch(browser)
        if args.base:
            target = Target(
                args.base.rstrip("/"), args.email, args.password, args.session, args.code, "given"
            )
            rows += measure(browser, watch, target, "as given")
        else:
            with cdn_server() as cdn, tempfile.TemporaryDirectory() as folder:
                for compressed, variant in ((False, "gunicorn"), (True, "gzip")):
                    with app_server(cdn, compressed, Path(folder) / variant) as target:
                        print(f"measuring {variant} at {target.base} …", file=sys.stderr)
                        rows += measure(browser, watch, target, variant)
        browser.close()
    text = report(rows, target)
    print(text)
    if not args.no_doc:
        write_doc(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
