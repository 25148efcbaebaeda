"""Every rate limit measured through real gunicorn with the README's two workers (issue 21, item 7):
the n+1-th attempt is refused, sent one after another and from four clients at once.

The server runs on the run's test database (on SQLite a scratch file of this run; PostgreSQL in
the CI's second run) with no ``RATELIMIT_STORAGE_URI``, as ``make run`` does: the counts live in
the database and every worker sees them. With ``memory://`` (each worker counting on its own)
about twice the allowance got through. The limits are set low through the environment;
``KIM_PROXY_COUNT=1`` lets a test speak from many addresses with ``X-Forwarded-For``.
"""

from __future__ import annotations

import ast
import itertools
import os
import re
import secrets
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from kim_app import ROOT
from kim_app.auth.models import Role
from kim_app.ratelimits import DatabaseStorage, counts_database_url, rate_limits
from tests.conftest import PPU
from tests.scenes import PHONE, add_registration, open_now
from tests.servers import Browser, free_port, stop, wait_for, wait_until_up

ALLOWED = 3  # n: every limit is set to this many per hour
CLIENTS = 4
PIN = "482193"
LIMITS = {
    "RATELIMIT_LOGIN_ADDRESS": f"{ALLOWED} per hour",
    "RATELIMIT_LOGIN_ACCOUNT": f"{ALLOWED} per hour",
    "KIM_RATELIMIT_REGISTER": f"{ALLOWED} per hour",
    "KIM_RATELIMIT_CHECKIN": f"{ALLOWED} per hour",
    "KIM_RATELIMIT_PIN": f"{ALLOWED} per hour",
    "KIM_RATELIMIT_VERIFY": f"{ALLOWED} per hour",
    "KIM_RATELIMIT_LOST_TICKET": f"{ALLOWED} per hour",
}
addresses = (f"10.21.{n // 250}.{n % 250 + 1}" for n in itertools.count())


# make run's, then the request line, the referrer and where a redirect leads
ACCESS_LOG = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms | %(r)s | %(f)s | %({location}o)s'


@pytest.fixture(scope="module")
def run(app, database_url) -> Iterator[tuple[int, Path]]:
    """``gunicorn --workers 2`` (as ``make run``, with its access log) on the test database;
    its port and its output."""
    work = Path(tempfile.mkdtemp(prefix="kim-throttles-"))
    env = {k: v for k, v in os.environ.items() if k != "RATELIMIT_STORAGE_URI"} | LIMITS
    env |= {
        "DATABASE_URL": database_url,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "KIM_PROXY_COUNT": "1",
        "KIM_UPLOAD_FOLDER": str(work / "uploads"),
        "KIM_QUEUE_URL": f"sqlite:///{work / 'jobs.sqlite3'}",
    }
    port = free_port()
    log = work / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--no-control-socket"]
    command += ["--access-logfile", "-", "--access-logformat", ACCESS_LOG]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(port, [("gunicorn", process, log)])
        yield port, log
    finally:
        stop(process)
        output = log.read_text()
        assert "Traceback" not in output, output[-4000:]


@pytest.fixture(scope="module")
def server(run) -> int:
    return run[0]


@pytest.fixture(scope="module")
def counts(app) -> Iterator[DatabaseStorage]:
    """The servers' rate-limit store, read directly."""
    storage = DatabaseStorage(url=counts_database_url(app.config["SQLALCHEMY_DATABASE_URI"]))
    yield storage
    storage.engine.dispose()


@pytest.fixture(autouse=True)
def no_counts_left(counts) -> None:
    """Each test starts with no counts (the factories' accounts and events reuse their names)."""
    counts.reset()


class Client(Browser):
    """One visitor: a cookie jar with a CSRF token, speaking from one address."""

    def __init__(self, port: int, address: str | None = None):
        super().__init__()
        self.port, self.address = port, address or next(addresses)
        self.csrf = self.token(port)[0]

    def send(self, method: str, path: str, data: dict | None = None) -> int:
        headers = {"X-Forwarded-For": self.address}
        if data is not None:
            data = {"csrf_token": self.csrf, **data}
        return self.request(self.port, method, path, data=data, headers=headers).status


def measure(attempt: Callable[[int], int], allowed: int) -> None:
    """``attempt(i)`` for i in 0…n: n allowed, the n+1-th refused; then, with fresh
    identities (``attempt`` numbers them on), n+4 attempts from 4 clients at once: exactly n
    allowed, 4 refused."""
    one_by_one = [attempt(i) for i in range(ALLOWED + 1)]
    assert one_by_one == [allowed] * ALLOWED + [429]

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        together = list(pool.map(attempt, range(100, 100 + ALLOWED + CLIENTS)))
    assert Counter(together) == {allowed: ALLOWED, 429: CLIENTS}, together


def per_round(make: Callable[[int], object]) -> Callable[[int], object]:
    """One shared object per round: attempts numbered below 100 are the sequential round."""
    made = {}
    return lambda i: made.setdefault(i >= 100, make(i))


# --- per address ----------------------------------------------------------------------------------


def test_sign_in_per_address(server):
    """Wrong passwords for different accounts from one address."""
    client = per_round(lambda _i: Client(server))
    measure(
        lambda i: client(i).send(
            "POST", "/login", {"email": f"orang{i}@uji.example", "password": "salah-123"}
        ),
        422,
    )


def test_public_registration_per_address(server, make_event):
    """Registrations through the public form from one address (refused as incomplete, 422)."""
    event = make_event()
    client = per_round(lambda _i: Client(server))
    measure(lambda i: client(i).send("POST", f"/e/{event.code}", {"name": ""}), 422)


def test_self_check_in_per_address(server, make_event):
    """Self check-in posts from one address."""
    event = make_event()
    client = per_round(lambda _i: Client(server))
    measure(lambda i: client(i).send("POST", f"/e/{event.code}/hadir", {"who": "x"}), 422)


def test_test_entry_per_address(server, make_event):
    """Names typed at the hall's way in to the tests and survey from one address."""
    event = make_event()
    client = per_round(lambda _i: Client(server))
    measure(lambda i: client(i).send("POST", f"/e/{event.code}/tes", {"who": "x"}), 422)


def test_certificate_verification_per_address(server):
    """Certificate look-ups at ``/v/<code>`` from one address (unknown codes, 404)."""
    client = per_round(lambda _i: Client(server))
    measure(lambda i: client(i).send("GET", f"/v/KODE{i:04d}"), 404)


def test_lost_ticket_per_address(server, make_event):
    """ "Tiket hilang?" look-ups from one address."""
    event = make_event()
    client = per_round(lambda _i: Client(server))
    measure(lambda i: client(i).send("POST", f"/e/{event.code}/tiket-hilang", {"phone": ""}), 422)


def test_password_reset_requests_per_address(server):
    """Password-reset requests from one address."""
    client = per_round(lambda _i: Client(server))
    measure(lambda i: client(i).send("POST", "/lupa-kata-sandi", {"email": ""}), 422)


def test_account_links_per_address(server):
    """Posts to one-time account links (unknown tokens, 404) from one address."""
    client = per_round(lambda _i: Client(server))
    measure(lambda i: client(i).send("POST", f"/akun/tautan{i:04d}", {"new": "x"}), 404)


# --- across addresses -----------------------------------------------------------------------------


def test_sign_in_per_account_across_addresses(server, make_user):
    """Wrong passwords for one account, each from another address; after them the right
    password is refused too."""
    users = per_round(lambda _i: make_user(Role.OPERATOR_KABKOTA, PPU))

    def attempt(i: int, password: str = "salah-123") -> int:
        return Client(server).send(
            "POST", "/login", {"email": users(i).email, "password": password}
        )

    measure(attempt, 422)
    assert attempt(0, password="rahasia-uji-123") == 429


def test_wrong_venue_pins_per_event_across_addresses(app, server, make_event):
    """Wrong venue PINs for one event, each from another address; after them the right PIN is
    refused too."""

    def open_event(_i: int):
        event = make_event()
        open_now(app, event.id, checkin_opens_minutes=60, venue_pin=PIN)
        add_registration(app, event.id)
        return event

    events = per_round(open_event)

    def attempt(i: int, pin: str = "000000") -> int:
        return Client(server).send("POST", f"/e/{events(i).code}/hadir", {"who": PHONE, "pin": pin})

    measure(attempt, 422)
    assert attempt(0, pin=PIN) == 429


# --- every limit is measured ------------------------------------------------------------------------

MEASURED = {
    "kim_app.auth.routes.login",
    "kim_app.auth.routes.accept",
    "kim_app.auth.routes.forgot",
    "kim_app.events.public.public_register",
    "kim_app.events.public.lost_ticket",
    "kim_app.attendance.checkin.self_check_in",
    "kim_app.attendance.certificates.routes.verify",
    "kim_app.evaluation.participant.entry",
}


def test_every_limited_view_is_measured_here():
    """Every view with ``@limiter.limit`` in the code is one of those measured above."""
    limited = set()
    for path in (ROOT / "kim_app").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                re.match(r"limiter\.limit\b", ast.unparse(d)) for d in node.decorator_list
            ):
                limited.add(f"{module}.{node.name}")
    assert limited == MEASURED


def test_counts_are_kept_in_the_database(server, make_user, counts):
    """The counts are rows of the database's rate-limit store, not the workers' memory: a
    failed sign-in is one count for the account."""
    user = make_user(Role.OPERATOR_KABKOTA, PPU)
    assert Client(server).send("POST", "/login", {"email": user.email, "password": "x"}) == 422
    with counts.engine.connect() as conn:
        keys = conn.execute(sa.select(rate_limits.c.key, rate_limits.c.count)).all()
    assert [count for key, count in keys if user.email in key] == [1]


def test_answers_neither_name_the_server_nor_drop_secure_behind_https(server):
    """Issue 21 item 8, through the same gunicorn: no answer says ``Server: gunicorn`` (the
    settings file ``gunicorn.conf.py`` replaces it), and behind the trusted proxy an HTTPS
    request's session cookie is Secure while a plain one's is not."""
    browser = Browser()
    plain = browser.get(server, "/login", headers={"X-Forwarded-For": next(addresses)})
    https = Browser().get(
        server,
        "/login",
        headers={"X-Forwarded-For": next(addresses), "X-Forwarded-Proto": "https"},
    )
    for answer in (plain, https, browser.get(server, "/healthz")):
        assert "gunicorn" not in (answer.headers.get("Server") or "").lower()
    assert all("Secure" not in c for c in plain.headers.get_all("Set-Cookie"))
    assert all("; Secure" in c for c in https.headers.get_all("Set-Cookie"))


def test_the_access_log_keeps_no_key(run):
    """Issue 24: an account's set-up link, a ticket, a prepared file, a staged import and a
    participant's pass to their tests are keys; gunicorn's access log (``gunicorn.conf.py``) writes each as ``***``, and no query."""
    port, log = run
    keys = [secrets.token_urlsafe(18) for _ in range(6)]
    paths = [
        f"/e/AbCdEf/tes/{keys[5]}/pre",
        f"/akun/{keys[0]}",
        f"/e/AbCdEf/tiket/{keys[1]}.ics",
        f"/e/AbCdEf/tiket/{keys[2]}/sertifikat.pdf",
        f"/berkas/{keys[3]}/unduh?k={keys[4]}",
        f"/kim/impor/{keys[4]}",
    ]
    browser = Browser()
    for path in paths:
        came_from = f"http://127.0.0.1:{port}/akun/{keys[0]}"
        browser.get(port, path, headers={"X-Forwarded-For": next(addresses), "Referer": came_from})
    shown = (
        "/akun/***",
        "/tiket/***.ics",
        "/tiket/***/sertifikat.pdf",
        "/berkas/***/unduh",
        "/tes/***/pre",
        "/kim/impor/***",
    )

    def logged() -> bool:  # each worker writes its own lines: wait for every request's line
        written = log.read_text()
        return all(f'{path}" ' in written and f"{path} HTTP/1.1" in written for path in shown)

    assert wait_for(logged, 10), log.read_text()[-2000:]
    written = log.read_text()
    assert not [key for key in keys if key in written]
