"""Load on gunicorn: req/s and latency of the pages DESIGN §6 budgets, and the bare-stack floor.

    python -m bench.load [--dataset national|regency|both] [--duration 15] [--connections 16]

For each dataset (made by ``bench.data``; its ids come from the table ``bench_meta``):

1. gunicorn serves ``wsgi:app`` as in production (sync workers, 2 × cores + 1 of them) on a free
   loopback port, with the dataset's ``DATABASE_URL``, a fixed ``SECRET_KEY``, memory rate-limit
   storage and the public limits raised (a bench from one address would hit them at once);
2. ``http.client`` signs in as the PPU operator (and, for the dashboards above a regency's, as the
   admin and two province operators) and reads the CSRF tokens from the pages' forms, then
   checks every endpoint once (status and content: a benchmark of 403s measures nothing);
3. wrk (Debian's, installed when missing) drives each endpoint: a short warm-up, then the measured
   run; its Lua scripts (bench/lua/) count every answer that is not the expected status, and the
   run fails when there is one;
4. the same wrk run is made against the bare Flask + SQLAlchemy tap of ``bench/floor.py`` under the
   same gunicorn settings on the same database; the roll-call tap's req/s ÷ the floor's is the
   ratio DESIGN §6 budgets (≥ 0.7).

Each endpoint gets two runs. The throughput run (16 connections) gives req/s, the latency wrk
sees with every connection busy (p50/p95/p99, queueing included) and the server time gunicorn logs
for each request (``%(M)s``), which then includes waiting for the CPU the other workers hold. The
latency run (one connection per core, 8 s) gives the server time of a request that has a core to
itself: its p95 is the figure the ≤ 50 ms budget is checked against. The results go to instance/bench/load-results.json and, through
``bench.report``, to the terminal and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import re
import runpy
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bench import data, floor, report

ROOT = Path(__file__).resolve().parent.parent
# the access log writes a path's key as *** (gunicorn.conf.py): a logged path is compared so
LOGGED_PATH = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["redact"]
LUA = ROOT / "bench" / "lua"
OUT = ROOT / "instance" / "bench"
RESULTS = OUT / "load-results.json"

DATASETS = {"national": data.NATIONAL_URL, "regency": data.REGENCY_URI}
OPERATOR = "ppu@bench.example"
# the dashboards above a regency's (issue 24): the admin's whole country, Kalimantan Timur's
# operator (PPU's province) with its drill-down to PPU and Babulu, and the largest province
ADMIN = "admin@bench.example"
PROVINCE = "op-64@bench.example"
LARGEST_PROVINCE = "jatim@bench.example"
DRILLED_DISTRICT = "64.09.03"  # Babulu, a district of PPU
PASSWORD = data.PASSWORD
REGISTRY_QUERY = "gunung"  # the commonest word in PPU's village names
DIRECTORY_QUERY = "jaya"  # the commonest word in Indonesia's village names (1,210 villages)
SECRET_KEY = "kim-bench-secret-key-not-for-production"
BIG = 1_000_000_000

ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(M)s"


class BenchError(RuntimeError):
    """Something that makes the numbers meaningless: said loudly, the run stops."""


@dataclass
class Endpoint:
    name: str
    method: str
    path: str  # with the query string
    script: str  # bench/lua/<script>.lua
    args: list[str]
    expected: int
    cookie: str = ""


@dataclass
class Measure:
    endpoint: str
    method: str
    path: str
    requests: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    errors: int
    server_p50_ms: float | None = None
    server_p95_ms: float | None = None
    server_p99_ms: float | None = None
    # the latency run: one connection per core, so no request waits for another to get the CPU
    light_rps: float | None = None
    light_p50_ms: float | None = None
    light_p95_ms: float | None = None
    light_p99_ms: float | None = None
    failure: str = ""  # why this endpoint's figures mean nothing (errors, timeouts)


@dataclass
class DatasetResult:
    dataset: str
    database: str
    version: str
    workers: int
    wrk: str
    light: str = ""
    rows: list[Measure] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    floor: Measure | None = None
    ratio: float | None = None
    pairs: list[float] = field(default_factory=list)  # tap ÷ floor of each back-to-back pair
    seconds: float = 0.0
    load_before: float = 0.0  # the 1-minute load average when the run began (others' work)


# --- a small HTTP client (the standard library's; no redirects followed) --------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    text: str


class Browser:
    """Keeps the cookies a server sets, like a browser, and sends them back."""

    def __init__(self, base: str):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, data: dict | None = None, headers: dict | None = None
    ):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return Answer(response.status, response.headers, text)

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


# --- tools ---------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk from Debian, installed when missing (needs root, like the Makefile's chromium step)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("Installing Debian's wrk", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    found = shutil.which("wrk")
    if not found:
        raise BenchError("wrk is not installed and apt-get could not install it")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_workers() -> int:
    return 2 * (os.cpu_count() or 1) + 1


class Gunicorn:
    """gunicorn on a free loopback port, its access log (with server time) in a file."""

    def __init__(self, app: str, database_url: str, workers: int, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET_KEY,
            "RATELIMIT_STORAGE_URI": "memory://",
            "KIM_RATELIMIT_REGISTER": f"{BIG} per hour",
            "KIM_RATELIMIT_CHECKIN": f"{BIG} per minute",
            "KIM_RATELIMIT_VERIFY": f"{BIG} per minute",
            "KIM_PROXY_COUNT": "0",
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--no-control-socket",  # several gunicorns on one host would share one socket path
            "--bind",
            f"127.0.0.1:{self.port}",
            "--access-logfile",
            str(log),
            "--access-logformat",
            ACCESS_FORMAT,
            "--error-logfile",
            str(log.with_suffix(".errors.log")),
            app,
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"gunicorn exited with {self.process.returncode}; see {self.log.with_suffix('.errors.log')}"
                )
            try:
                if Browser(self.base).get("/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise BenchError("gunicorn did not answer /healthz within 60 s")

    def drain(self, limit: float = 180) -> None:
        """Wait until the workers are free again (requests wrk gave up on still run)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            started = time.monotonic()
            with contextlib.suppress(OSError):
                Browser(self.base).get("/healthz")
            if time.monotonic() - started < 0.5:
                return
            time.sleep(1)

    def log_size(self) -> int:
        return self.log.stat().st_size

    def server_times(self, since: int, path: str) -> list[int]:
        """Server times (ms) logged for ``path`` after byte ``since`` of the access log."""
        path_only = LOGGED_PATH(path.split("?", 1)[0])
        with self.log.open("rb") as handle:
            handle.seek(since)
            lines = handle.read().decode("utf-8", "replace").splitlines()
        times = []
        for line in lines:
            parts = line.split()
            if len(parts) == 4 and parts[1] == path_only and parts[3].isdigit():
                times.append(int(parts[3]))
        return times

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


def percentile(values: list[int], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(share * len(ordered)))])


# --- the dataset ---------------------------------------------------------------------------------


def engine_for(url: str) -> sa.Engine:
    return sa.create_engine(floor.engine_url(url))


def read_meta(url: str) -> dict[str, str]:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            raise BenchError(
                f"{path} does not exist: build the datasets first (python -m bench.data)"
            )
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            meta = dict(conn.execute(sa.text("SELECT key, value FROM bench_meta")).all())
    except sa.exc.OperationalError as error:
        raise BenchError(f"cannot read {url}: {error.orig}") from error
    except sa.exc.ProgrammingError as error:
        raise BenchError(
            f"{url} has no bench_meta: build the datasets first (python -m bench.data)"
        ) from error
    finally:
        engine.dispose()
    missing = {"big_event_id", "big_session_id", "public_code", "version"} - meta.keys()
    if missing:
        raise BenchError(f"bench_meta of {url} lacks {', '.join(sorted(missing))}")
    return meta


def registration_ids(url: str, event_id: int) -> list[int]:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            ids = conn.scalars(
                sa.text(
                    "SELECT id FROM registrations WHERE event_id = :event AND status = 'terdaftar' ORDER BY id"
                ),
                {"event": event_id},
            ).all()
    finally:
        engine.dispose()
    if not ids:
        raise BenchError(f"event {event_id} has no registered people")
    return list(ids)


def rewind(url: str, meta: dict[str, str]) -> int:
    """Take out what earlier runs' public registrations added (wrk posts hundreds a second, all
    in one regency event the dashboard counts), so every run measures the dataset as built: left
    in, each run made the next one's dashboard count more people. Returns the rows removed."""
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            event = conn.scalar(
                sa.text("SELECT id FROM events WHERE code = :code"), {"code": meta["public_code"]}
            )
            removed = conn.execute(
                sa.text(
                    "DELETE FROM registrations WHERE event_id = :event "
                    "AND institution = 'KIM Bench' AND name LIKE 'Peserta Bench %'"
                ),
                {"event": event},
            ).rowcount
            conn.execute(
                sa.text(
                    "UPDATE events SET registered_count = (SELECT count(*) FROM registrations r "
                    "WHERE r.event_id = events.id AND r.status = 'terdaftar') WHERE id = :event"
                ),
                {"event": event},
            )
    finally:
        engine.dispose()
    return removed


def server_version(url: str) -> str:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                return "PostgreSQL " + conn.scalar(sa.text("SHOW server_version"))
            return "SQLite " + conn.scalar(sa.text("SELECT sqlite_version()"))
    finally:
        engine.dispose()


# --- signing in and checking each endpoint once -------------------------------------------------

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str, where: str) -> str:
    match = TOKEN.search(html)
    if not match:
        raise BenchError(f"no CSRF token in the form of {where}")
    return match.group(1) or match.group(2)


def sign_in(base: str, email: str = OPERATOR) -> Browser:
    browser = Browser(base)
    token = csrf_token(browser.get("/login").text, "/login")
    answer = browser.request(
        "POST",
        "/login",
        data={"csrf_token": token, "email": email, "password": PASSWORD, "next": ""},
    )
    if answer.status not in (302, 303) or "/login" in (answer.headers.get("Location") or ""):
        raise BenchError(f"signing in as {email} answered {answer.status}: wrong dataset?")
    return browser


def endpoints(base: str, meta: dict[str, str], ids: list[int], nonce: str, threads: int):
    """The endpoints to drive, each checked once before wrk runs it."""
    operator = sign_in(base)
    session_id, event_id, code = meta["big_session_id"], meta["big_event_id"], meta["public_code"]
    roll_call = operator.get(f"/absensi/sesi/{session_id}")
    if roll_call.status != 200:
        raise BenchError(f"the roll-call page of session {session_id} answered {roll_call.status}")
    tap_token = csrf_token(roll_call.text, "the roll-call page")
    signed_in = operator.cookie_header()

    public = Browser(base)
    public_page = public.get(f"/e/{code}")
    if public_page.status != 200:
        raise BenchError(f"the public page /e/{code} answered {public_page.status}")
    register_token = csrf_token(public_page.text, f"/e/{code}")

    admin = sign_in(base, ADMIN).cookie_header()
    province = sign_in(base, PROVINCE).cookie_header()
    largest = sign_in(base, LARGEST_PROVINCE).cookie_header()
    regency, district = data.REGENCY_CODE, DRILLED_DISTRICT
    dashboards = [
        Endpoint("dashboard, country (admin)", "GET", "/laporan/", "get", ["200"], 200, admin),
        Endpoint("dashboard, province 64", "GET", "/laporan/", "get", ["200"], 200, province),
        Endpoint("dashboard, province 35", "GET", "/laporan/", "get", ["200"], 200, largest),
        Endpoint(
            f"dashboard, 64 → {regency}",
            "GET",
            f"/laporan/?wilayah={regency}",
            "get",
            ["200"],
            200,
            province,
        ),
        Endpoint(
            f"dashboard, 64 → {district}",
            "GET",
            f"/laporan/?wilayah={district}",
            "get",
            ["200"],
            200,
            province,
        ),
    ]
    # monev (issue 26): the regency's operator, the province's with its regencies side by side,
    # the largest province, and the admin's whole country
    monev = [
        Endpoint("monev, regency", "GET", "/monev", "get", ["200"], 200, signed_in),
        Endpoint("monev, province 64", "GET", "/monev", "get", ["200"], 200, province),
        Endpoint("monev, province 35", "GET", "/monev", "get", ["200"], 200, largest),
        Endpoint("monev, country (admin)", "GET", "/monev", "get", ["200"], 200, admin),
    ]
    ids_arg = ",".join(map(str, ids))
    wanted = [
        Endpoint("sign-in page", "GET", "/login", "get", ["200"], 200),
        Endpoint(
            "registry search", "GET", f"/kim/?q={REGISTRY_QUERY}", "get", ["200"], 200, signed_in
        ),
        Endpoint("coverage", "GET", "/kim/cakupan", "get", ["200"], 200, signed_in),
        Endpoint("dashboard", "GET", "/laporan/", "get", ["200"], 200, signed_in),
        *dashboards,
        *monev,
        Endpoint(
            f"participant list ({len(ids)})",
            "GET",
            f"/kegiatan/{event_id}/peserta",
            "get",
            ["200"],
            200,
            signed_in,
        ),
        Endpoint(
            "roll-call tap",
            "POST",
            f"/absensi/sesi/{session_id}/tandai",
            "tap",
            ["200", tap_token, f"{nonce}-{RUN}", str(threads), ids_arg],
            200,
            signed_in,
        ),
        Endpoint(
            "public registration",
            "POST",
            f"/e/{code}",
            "register",
            ["303", register_token, RUN],
            303,
            public.cookie_header(),
        ),
        Endpoint(
            "public directory search", "GET", f"/direktori?q={DIRECTORY_QUERY}", "get", ["200"], 200
        ),
    ]
    check_once(base, wanted, ids, tap_token, register_token)
    return wanted


def check_once(
    base: str, wanted: list[Endpoint], ids: list[int], tap_token: str, register_token: str
):
    """One request per endpoint, as wrk will send it; anything unexpected stops the run."""
    for endpoint in wanted:
        headers = {"Cookie": endpoint.cookie} if endpoint.cookie else {}
        if endpoint.script == "tap":
            headers |= {"HX-Request": "true", "HX-Request-Type": "partial"}
            data = {
                "csrf_token": tap_token,
                "registration": str(ids[0]),
                "status": "hadir",
                "client_id": "check-" + secrets.token_hex(8),
            }
        elif endpoint.script == "register":
            phone = "0857" + str(secrets.randbelow(10**9)).zfill(9)
            data = {
                "csrf_token": register_token,
                "name": "Peserta Bench " + phone,
                "phone": phone,
                "institution": "KIM Bench",
                "position": "Anggota",
                "gender": "P",
                "consent": "y",
            }
        else:
            data = None
        answer = Browser(base).request(endpoint.method, endpoint.path, data=data, headers=headers)
        if answer.status != endpoint.expected:
            raise BenchError(
                f"{endpoint.method} {endpoint.path} answered {answer.status}, not "
                f"{endpoint.expected}: {answer.text[:300]!r}"
            )
        if endpoint.expected == 200 and "<" not in answer.text:
            raise BenchError(f"{endpoint.method} {endpoint.path} answered no HTML")


# --- wrk -----------------------------------------------------------------------------------------


# Every wrk run numbers its own requests from 1, so the tap's client ids and the registration's
# phone numbers carry the run's number (``RUN`` in an endpoint's arguments): with one number for
# the whole bench, each run after the warm-up re-sent the ids and numbers of the one before — the
# tap measured replays (no write) and the registration repeats.
RUN = "{run}"
_runs = itertools.count(secrets.randbelow(900))


def run_wrk(
    wrk: str,
    base: str,
    endpoint: Endpoint,
    threads: int,
    connections: int,
    seconds: int,
    warmup: bool = False,
):
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA / f"{endpoint.script}.lua"),
    ]
    if endpoint.cookie:
        command += ["-H", f"Cookie: {endpoint.cookie}"]
    run = str(next(_runs))
    command += [base + endpoint.path, "--", *(arg.replace(RUN, run) for arg in endpoint.args)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_LUA_DIR": str(LUA)},
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(
            f"wrk failed on {endpoint.path}: {done.stderr.strip() or done.stdout[-500:]}"
        )
    stats = json.loads(line.removeprefix("BENCH "))
    if stats["requests"] == 0 and not warmup:
        raise BenchError(f"{endpoint.method} {endpoint.path}: no request finished in {seconds} s")
    errors = stats["bad"] + stats["connect"] + stats["read"] + stats["write"] + stats["timeout"]
    if errors:
        body = next((x for x in done.stdout.splitlines() if x.startswith("BENCH-BAD-BODY ")), "")
        raise BenchError(
            f"{endpoint.method} {endpoint.path}: {errors} errors in {stats['requests']} requests "
            f"(first unexpected status {stats['first_bad_status']}, expected {endpoint.expected}; "
            f"socket errors connect {stats['connect']} read {stats['read']} write {stats['write']} "
            f"timeout {stats['timeout']}) {body.removeprefix('BENCH-BAD-BODY ')[:300]}"
        )
    return Measure(
        endpoint=endpoint.name,
        method=endpoint.method,
        path=endpoint.path,
        requests=stats["requests"],
        rps=stats["requests"] / (stats["duration_us"] / 1e6),
        p50_ms=stats["p50_us"] / 1000,
        p95_ms=stats["p95_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        errors=errors,
    )


def measure(wrk: str, server: Gunicorn, endpoint: Endpoint, options) -> Measure:
    """The endpoint's figures; a failed run gives a row that says why (and the run fails at the
    end, after the other endpoints are measured)."""
    try:
        return _measure(wrk, server, endpoint, options)
    except BenchError as error:
        times = server.server_times(0, endpoint.path)
        print(f"  {endpoint.name:<28} FAILED: {error}", flush=True)
        server.drain()
        return Measure(
            endpoint=endpoint.name,
            method=endpoint.method,
            path=endpoint.path,
            requests=0,
            rps=0.0,
            p50_ms=None,
            p95_ms=None,
            p99_ms=None,
            errors=-1,
            server_p50_ms=percentile(times, 0.50),
            server_p95_ms=percentile(times, 0.95),
            server_p99_ms=percentile(times, 0.99),
            failure=str(error),
        )


def _measure(wrk: str, server: Gunicorn, endpoint: Endpoint, options) -> Measure:
    run_wrk(wrk, server.base, endpoint, options.threads, options.connections, options.warmup, True)
    since = server.log_size()
    result = run_wrk(
        wrk, server.base, endpoint, options.threads, options.connections, options.duration
    )
    time.sleep(0.3)  # the last access-log lines
    times = server.server_times(since, endpoint.path)
    result.server_p50_ms = percentile(times, 0.50)
    result.server_p95_ms = percentile(times, 0.95)
    result.server_p99_ms = percentile(times, 0.99)
    server.drain()
    since = server.log_size()
    light = run_wrk(wrk, server.base, endpoint, 1, options.light, options.light_duration)
    time.sleep(0.3)
    times = server.server_times(since, endpoint.path)
    result.light_rps = light.rps
    result.light_p50_ms = percentile(times, 0.50)
    result.light_p95_ms = percentile(times, 0.95)
    result.light_p99_ms = percentile(times, 0.99)
    print(
        f"  {endpoint.name:<28} {result.rps:8.1f} req/s  p50 {result.p50_ms:6.1f}  "
        f"p95 {result.p95_ms:6.1f}  p99 {result.p99_ms:6.1f} ms  server p95 "
        f"{_ms(result.server_p95_ms)} ms; at {options.light} connections server p50 "
        f"{_ms(result.light_p50_ms)} p95 {_ms(result.light_p95_ms)} ms",
        flush=True,
    )
    return result


PAIRS = 3


def paired_ratios(wrk: str, tap, floor_side, options) -> list[float]:
    """Tap ÷ floor throughput of ``PAIRS`` back-to-back pairs (tap, then floor, same wrk
    settings, both servers up), whose median is the reported ratio. Measured once each, tens of
    seconds apart, the two drifted with the machine's speed: ratios from 0.54 to 0.88 in
    consecutive runs on one machine."""
    ratios = []
    for _ in range(PAIRS):
        rates = []
        for server, endpoint in (tap, floor_side):
            run = run_wrk(
                wrk, server.base, endpoint, options.threads, options.connections, options.pair
            )
            server.drain()
            rates.append(run.rps)
        ratios.append(rates[0] / rates[1])
    print("  tap ÷ floor, back-to-back pairs: " + ", ".join(f"{r:.2f}" for r in ratios), flush=True)
    return ratios


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


# --- one dataset ---------------------------------------------------------------------------------


def bench_dataset(name: str, url: str, wrk: str, options) -> DatasetResult:
    started = time.perf_counter()
    meta = read_meta(url)
    data.upgrade(
        floor.engine_url(url)
    )  # the schema the app ships (a dataset built before a new migration)
    rewound = rewind(url, meta)
    ids = registration_ids(url, int(meta["big_event_id"]))
    result = DatasetResult(
        dataset=name,
        database=server_version(url),
        version=meta.get("version", ""),
        workers=options.workers,
        wrk=f"wrk -t{options.threads} -c{options.connections} -d{options.duration}s",
        light=f"wrk -t1 -c{options.light} -d{options.light_duration}s",
    )
    result.load_before = os.getloadavg()[0]
    print(f"{name}: {result.database}, gunicorn --workers {options.workers}", flush=True)
    if rewound:
        print(f"  rewound: {rewound:,} registrations an earlier run posted removed", flush=True)
    if result.load_before > 1:
        print(
            f"  warning: load average {result.load_before:.1f} before the run: something else "
            "is using the CPU, the figures will be low",
            flush=True,
        )
    nonce = secrets.token_hex(4)
    floor_endpoint = Endpoint(
        "bare-stack floor (tap)",
        "POST",
        "/tap",
        "floor",
        ["200", f"{nonce}-{RUN}", str(options.threads), ",".join(map(str, ids))],
        200,
    )
    with Gunicorn("wsgi:app", url, options.workers, OUT / f"access-{name}-app.log") as server:
        tap_endpoint = None
        for endpoint in endpoints(server.base, meta, ids, nonce, options.threads):
            if endpoint.name == "roll-call tap":
                tap_endpoint = endpoint
            if options.only and not any(endpoint.name.startswith(n) for n in options.only):
                continue
            result.rows.append(measure(wrk, server, endpoint, options))
        tap = next((row for row in result.rows if row.endpoint == "roll-call tap"), None)
        if tap is None:  # a trial of other endpoints: no floor to compare with
            result.seconds = time.perf_counter() - started
            return result
        floor.prepare(url)
        with Gunicorn(
            "bench.floor:app", url, options.workers, OUT / f"access-{name}-floor.log"
        ) as floor_server:
            result.floor = measure(wrk, floor_server, floor_endpoint, options)
            result.failures = [
                f"{r.endpoint}: {r.failure}" for r in [*result.rows, result.floor] if r.failure
            ]
            if not tap.failure and not result.floor.failure:
                result.pairs = paired_ratios(
                    wrk, (server, tap_endpoint), (floor_server, floor_endpoint), options
                )
                result.ratio = statistics.median(result.pairs)
    result.seconds = time.perf_counter() - started
    if result.ratio is not None:
        print(
            f"  roll-call tap ÷ floor = {result.ratio:.2f} (budget ≥ {report.FLOOR_RATIO_BUDGET})",
            flush=True,
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--dataset", choices=["national", "regency", "both"], default="both")
    parser.add_argument("--database-url", help="drive this database instead (one --dataset only)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per endpoint (15)")
    parser.add_argument(
        "--pair", type=int, default=8, help="seconds of each side of a tap/floor pair (8)"
    )
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per endpoint (3)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument(
        "--light",
        type=int,
        default=os.cpu_count() or 1,
        help="connections of the latency run (one per core)",
    )
    parser.add_argument(
        "--light-duration", type=int, default=8, help="seconds of the latency run (8)"
    )
    parser.add_argument(
        "--workers", type=int, default=default_workers(), help="gunicorn workers (2 × cores + 1)"
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="print the table, leave docs/benchmarks.md"
    )
    parser.add_argument(
        "--only",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        default=[],
        help="a trial of the endpoints whose names start so (comma-separated); printed, never kept",
    )
    options = parser.parse_args(argv)
    names = ["national", "regency"] if options.dataset == "both" else [options.dataset]
    if options.database_url and len(names) != 1:
        parser.error("--database-url needs one --dataset")

    wrk = ensure_wrk()
    results = []
    try:
        for name in names:
            url = options.database_url or DATASETS[name]
            results.append(bench_dataset(name, url, wrk, options))
    except BenchError as error:
        print(f"bench.load: {error}", file=sys.stderr)
        return 1

    failures = [f"{r.dataset}: {failure}" for r in results for failure in r.failures]
    status = 0
    if failures:
        status = 1
        print("\nbench.load: these figures mean nothing:", file=sys.stderr)
        for failure in failures:
            print(f"  {failure}", file=sys.stderr)
    if options.database_url or options.only:  # a trial: printed, never kept
        print()
        print(report.render(report.merge({}, run_of(results))))
        return status
    run = run_of(results)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged = report.merge(previous, run)
    OUT.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(merged, indent=2))
    print()
    print(report.render(merged))
    if not options.no_docs:
        report.write_docs(merged)
        print(f"written to {report.DOCS.relative_to(ROOT)}")
    return status


def run_of(results: list[DatasetResult]) -> dict:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": report.machine_info([r.database for r in results]),
        "commit": report.commit(),
        "datasets": [asdict(r) for r in results],
    }


if __name__ == "__main__":
    sys.exit(main())
