"""Lighthouse mobile audits of five pages (issue 9, item 5): sign-in, registry, event, roll call
and public registration, each audited with Lighthouse's default mobile configuration (form
factor mobile, simulated throttling) three times; the median of each category is reported.

The app runs under gunicorn on a free loopback port, on a throw-away SQLite database in a
temporary folder that the app's own ``flask kim setup`` migrates and fills (regions, demo
accounts, the demo event), compressed as in production (``KIM_COMPRESS`` on). The network is
closed, so htmx and jsQR come from the local static server of ``bench.phone`` that plays the CDN
(own origin, gzip, the npm files byte for byte, so the SRI hashes still match). Signed-in pages
are audited with the operator's session cookie, taken by signing in from Python (CSRF token from
the login form, POST) and passed to Lighthouse with ``--extra-headers``.

Run: ``python -m bench.lighthouse`` (or ``make audit``); ``--runs N``, ``--only sign-in,event``,
``--no-doc``. The table is printed and written into docs/lighthouse.md between
``<!-- lighthouse:start -->`` and ``<!-- lighthouse:end -->``; the raw reports stay in
``bench/results/lighthouse/`` (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, build_opener, urlopen

from bench.phone import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    HTMX_PATH,
    JSQR_PATH,
    ROOT,
    _scratch_database,
    cdn_server,
    free_port,
)

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
DOC = ROOT / "docs" / "lighthouse.md"
RESULTS = ROOT / "bench" / "results" / "lighthouse"
START, END = "<!-- lighthouse:start -->", "<!-- lighthouse:end -->"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
# the targets of the issue (seo has none: it is measured because it costs nothing)
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 95}
LABELS = {
    "performance": "performance",
    "accessibility": "accessibility",
    "best-practices": "best practices",
    "seo": "SEO",
}
METRICS = {
    "FCP": "first-contentful-paint",
    "LCP": "largest-contentful-paint",
    "TBT": "total-blocking-time",
    "CLS": "cumulative-layout-shift",
}
OPERATOR = ("ppu@kim.example", "kim-demo-2026")


@dataclass
class Demo:
    """Where the app runs and what the demo data holds."""

    base: str
    event_id: int
    session_id: int
    code: str
    cookie: str = ""


@dataclass
class Page:
    name: str
    path: str
    signed_in: bool
    reports: list[dict] = field(default_factory=list)

    def score(self, category: str) -> float | None:
        values = [
            r["categories"][category]["score"]
            for r in self.reports
            if r["categories"].get(category, {}).get("score") is not None
        ]
        return statistics.median(values) * 100 if values else None

    def spread(self, category: str) -> str:
        """The lowest and highest score of the runs, when they differ."""
        values = [
            r["categories"][category]["score"] * 100
            for r in self.reports
            if r["categories"].get(category, {}).get("score") is not None
        ]
        if not values or min(values) == max(values):
            return ""
        return f" ({min(values):.0f}–{max(values):.0f})"

    def metric(self, audit: str) -> float | None:
        values = [
            r["audits"][audit]["numericValue"]
            for r in self.reports
            if r["audits"].get(audit, {}).get("numericValue") is not None
        ]
        return statistics.median(values) if values else None

    def failing(self) -> list[str]:
        """Weighted audits below full marks in any run, once each."""
        seen: dict[str, str] = {}
        for r in self.reports:
            for category in CATEGORIES:
                for ref in r["categories"][category]["auditRefs"]:
                    audit = r["audits"][ref["id"]]
                    # the weighted metrics (FCP, LCP, TBT, CLS, Speed Index) are in the table
                    if ref.get("weight", 0) == 0 or ref.get("group") == "metrics":
                        continue
                    if audit.get("scoreDisplayMode") not in ("binary", "numeric"):
                        continue
                    if audit.get("score") is not None and audit["score"] < 1:
                        seen.setdefault(ref["id"], f"{LABELS[category]}: {audit['title']}")
        return sorted(seen.values())


def pages(demo: Demo) -> list[Page]:
    return [
        Page("sign-in", "/login", False),
        Page("registry", "/kim/", True),
        Page("event", f"/kegiatan/{demo.event_id}", True),
        Page("roll call", f"/absensi/sesi/{demo.session_id}", True),
        Page("registration", f"/e/{demo.code}", False),
    ]


# --- the server -------------------------------------------------------------------------------


@contextmanager
def app_server(cdn: str, folder: Path):
    """gunicorn (2 workers, as ``make run``) on a free port over a fresh demo database."""
    env = dict(os.environ)
    env["KIM_HTMX_URL"] = cdn + HTMX_PATH
    env["KIM_JSQR_URL"] = cdn + JSQR_PATH
    env["KIM_UPLOAD_FOLDER"] = str(folder / "uploads")
    env.setdefault("KIM_COMPRESS", "1")
    print("setting up a scratch database (regions, demo data) …", file=sys.stderr)
    _dataset, session_id, code = _scratch_database(folder, env)
    with sqlite3.connect(folder / "kim.sqlite3") as db:
        query = "SELECT event_id FROM event_sessions WHERE id = ?"
        event_id = db.execute(query, (session_id,)).fetchone()[0]
    port = free_port()
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "2", "--no-control-socket"]
    proc = subprocess.Popen(
        [*gunicorn, "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urlopen(base + "/login", timeout=5).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        yield Demo(base, event_id, session_id, code)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def sign_in(base: str, email: str, password: str) -> str:
    """Sign in as a browser would (the CSRF token from the form, then POST); the Cookie header."""
    jar = CookieJar()
    opener = build_opener(HTTPCookieProcessor(jar))
    form = opener.open(base + "/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', form
    )
    if token is None:
        raise SystemExit("no CSRF token in the login form")
    data = urlencode({"csrf_token": token.group(1), "email": email, "password": password})
    answer = opener.open(base + "/login", data=data.encode(), timeout=30)
    if "/login" in answer.geturl():
        raise SystemExit(f"signing in as {email} failed")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def warm_up(demo: Demo, todo: list[Page]) -> None:
    """Each page once per worker, so no audit pays a worker's first render."""
    opener = build_opener()
    opener.addheaders = [("Cookie", demo.cookie), ("Accept-Encoding", "gzip")]
    for page in todo * 2:
        (opener if page.signed_in else build_opener()).open(demo.base + page.path).read()


# --- lighthouse -------------------------------------------------------------------------------


def audit(url: str, out: Path, cookie: str | None) -> dict:
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={' '.join(CHROMIUM_FLAGS)}",
        "--quiet",
    ]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    env = dict(os.environ, CHROME_PATH=CHROMIUM)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"lighthouse failed on {url}:\n{done.stderr[-2000:]}")
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise SystemExit(f"lighthouse on {url}: {report['runtimeError']}")
    return report


# --- the report -------------------------------------------------------------------------------


def _score(value: float | None, category: str) -> str:
    if value is None:
        return "—"
    target = TARGETS.get(category)
    mark = "" if target is None or value >= target else " ✗"
    return f"{value:.0f}{mark}"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def table(todo: list[Page]) -> str:
    lines = [
        "| page | path | performance | accessibility | best practices | SEO "
        "| FCP ms | LCP ms | TBT ms | CLS |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for p in todo:
        cls = p.metric(METRICS["CLS"])
        lines.append(
            f"| {p.name} | `{p.path}`{' (operator)' if p.signed_in else ''} | "
            + " | ".join(_score(p.score(c), c) + p.spread(c) for c in CATEGORIES)
            + f" | {_ms(p.metric(METRICS['FCP']))} | {_ms(p.metric(METRICS['LCP']))}"
            + f" | {_ms(p.metric(METRICS['TBT']))} | {'—' if cls is None else f'{cls:.3f}'} |"
        )
    return "\n".join(lines)


def report(todo: list[Page], runs: int, loads: list[str], versions: dict) -> str:
    failing = []
    for p in todo:
        below = p.failing()
        failing.append(f"- {p.name}: " + ("; ".join(below) if below else "none"))
    return "\n".join(
        [
            f"Measured {versions['when']} at commit `{versions['commit']}`: Lighthouse "
            f"{versions['lighthouse']}, {versions['chromium']}; {os.cpu_count()} CPU cores, "
            f"load average {loads[0]} before and {loads[-1]} after the audits. "
            f"Each page audited {runs} time{'s' if runs > 1 else ''} (default mobile configuration: form factor "
            "mobile, simulated throttling), the median of each score and metric shown, the lowest and highest run in brackets "
            "when they differ; ✗ marks a median below the target (performance ≥ 95, accessibility 100, best practices ≥ 95).",
            "",
            table(todo),
            "",
            "Weighted audits below full marks in any run (other than the performance metrics, "
            "whose medians are in the table):",
            "",
            *failing,
        ]
    )


def write_doc(text: str) -> None:
    block = f"{START}\n{text}\n{END}"
    doc = DOC.read_text()
    if START in doc and END in doc:
        before, rest = doc.split(START, 1)
        DOC.write_text(before + block + rest.split(END, 1)[1])
    else:
        DOC.write_text(doc.rstrip("\n") + "\n\n" + block + "\n")


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def _chromium_version() -> str:
    done = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True)
    found = re.search(r"Chromium [\d.]+", done.stdout)
    return found.group(0) if found else "Chromium (version unknown)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lighthouse", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="audits per page (median reported)")
    parser.add_argument("--only", help="comma-separated page names, e.g. 'sign-in,roll call'")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave the docs alone")
    args = parser.parse_args(argv)

    RESULTS.mkdir(parents=True, exist_ok=True)
    loads = [_load()]
    with (
        cdn_server() as cdn,
        tempfile.TemporaryDirectory() as folder,
        app_server(cdn, Path(folder)) as demo,
    ):
        demo.cookie = sign_in(demo.base, *OPERATOR)
        todo = pages(demo)
        if args.only:
            wanted = {w.strip() for w in args.only.split(",")}
            todo = [p for p in todo if p.name in wanted]
        warm_up(demo, todo)
        for page in todo:
            for run in range(1, args.runs + 1):
                out = RESULTS / f"{page.name.replace(' ', '-')}-{run}.json"
                print(f"auditing {page.name} {page.path} ({run}/{args.runs}) …", file=sys.stderr)
                page.reports.append(
                    audit(demo.base + page.path, out, demo.cookie if page.signed_in else None)
                )
                loads.append(_load())
    versions = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "lighthouse": todo[0].reports[0]["lighthouseVersion"],
        "chromium": _chromium_version(),
    }
    text = report(todo, args.runs, loads, versions)
    print(text)
    if not args.no_doc and not args.only:
        write_doc(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
