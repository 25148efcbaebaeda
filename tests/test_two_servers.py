"""Several app servers (issue 8): two gunicorn instances behind Debian's nginx, on one PostgreSQL
and one Redis. Sessions, CSRF tokens, the sign-in rate limit and the roll call's offline-sync
idempotency hold whichever instance answers; nginx names the one that did in ``X-Upstream``.

PostgreSQL only: the deployment this describes keeps its data there (``KIM_TEST_DATABASE_URL``,
the CI's second run); the SQLite run skips the module. The servers read the test database that
the session's ``app`` fixture migrated; the data comes from the usual factories, committed first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from kim_app import ROOT
from kim_app.attendance.models import Attendance, AttendanceMark, Presence
from kim_app.auth.models import Role
from kim_app.extensions import db
from tests.conftest import PASSWORD, PPU
from tests.scenes import first_session, people, run_now
from tests.servers import Answer, Browser, free_port, stop, wait_until_up

pytestmark = pytest.mark.skipif(
    not os.environ.get("KIM_TEST_DATABASE_URL"),
    reason="several app servers share one PostgreSQL: runs with KIM_TEST_DATABASE_URL (CI's "
    "PostgreSQL run); SQLite is the one-server deployment",
)

NGINX = "/usr/sbin/nginx"  # `make nginx` installs it from Debian
# a Redis database of its own, emptied around every test: 7, and under pytest-xdist 7 + the
# worker's number, so that one worker's flush never empties another's counts
REDIS_DB = 7 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
assert REDIS_DB < 16, "Redis has databases 0-15: run at most 9 xdist workers"
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
SECRET_KEY = "two-servers-secret"
# two workers each, as `make run`; no control socket (both would claim the same default path)
GUNICORN = (sys.executable, "-m", "gunicorn", "--workers", "2", "--no-control-socket")

NGINX_CONF = """\
daemon off;
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log warn;
events { worker_connections 128; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    upstream kim {
        server 127.0.0.1:%(a)d;
        server 127.0.0.1:%(b)d;
    }
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            proxy_pass http://kim;
            proxy_next_upstream off;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            add_header X-Upstream $upstream_addr always;
        }
    }
}
"""


# --- a browser over http.client: one cookie jar, any of the three ports --------------------------


# --- the servers ----------------------------------------------------------------------------------


@dataclass
class Site:
    nginx: int
    a: int
    b: int
    logs: list[Path] = field(default_factory=list)  # the instances' output, tracebacks included

    def name(self, port: int) -> str:
        """How nginx's ``$upstream_addr`` names the instance on ``port``."""
        return f"127.0.0.1:{port}"

    @property
    def upstreams(self) -> set[str]:
        return {self.name(self.a), self.name(self.b)}


@pytest.fixture(scope="module")
def site(app, database_url) -> Iterator[Site]:
    """Two gunicorn instances (2 workers each) and nginx round-robin in front, on free loopback
    ports; all stopped, and their directory removed, when the module is done."""
    work = Path(tempfile.mkdtemp(prefix="kim-two-servers-"))
    work.chmod(0o755)  # nginx's workers (nobody, when started as root) write its temp paths
    ports = Site(nginx=free_port(), a=free_port(), b=free_port())
    env = os.environ | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "KIM_PROXY_COUNT": "1",
        "KIM_UPLOAD_FOLDER": str(work / "uploads"),
    }
    processes: list[tuple[str, subprocess.Popen, Path]] = []

    def start(name: str, command: list[str], **kw) -> None:
        log = work / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **kw)
        processes.append((name, process, log))

    try:
        for name, port in (("a", ports.a), ("b", ports.b)):
            start(
                f"gunicorn-{name}",
                [*GUNICORN, "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                cwd=ROOT,
                env=env,
            )
        conf = work / "nginx.conf"
        conf.write_text(NGINX_CONF % {"dir": work, "a": ports.a, "b": ports.b, "port": ports.nginx})
        start("nginx", [NGINX, "-p", str(work), "-e", str(work / "error.log"), "-c", str(conf)])
        for port in (ports.a, ports.b, ports.nginx):
            wait_until_up(port, processes)
        ports.logs = [log for name, _process, log in processes if name.startswith("gunicorn")]
        yield ports
    finally:
        for _name, process, _log in reversed(processes):
            stop(process)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(autouse=True)
def limits() -> Iterator[redis.Redis]:
    """The servers' rate-limit database in Redis, empty before and after each test."""
    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    yield store
    store.flushdb()
    store.close()


@pytest.fixture(autouse=True)
def no_server_errors(site) -> Iterator[None]:
    """After each test, nothing new in the instances' logs is a traceback (a request ended in
    an error); the test shows it."""
    sizes = {log: log.stat().st_size for log in site.logs}
    yield
    for log, size in sizes.items():
        with log.open("rb") as output:
            output.seek(size)
            written = output.read().decode(errors="replace")
        assert "Traceback" not in written, f"{log.name}:\n{written[-4000:]}"


def in_parallel(calls: list[Callable[[], Answer]]) -> list[Answer]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


# --- sessions ---------------------------------------------------------------------------------------


def test_a_session_signed_in_through_nginx_holds_on_both_instances(site, make_user, make_event):
    """Signed in once through nginx, the person stays signed in on every following request,
    whichever instance serves it, and on each instance's own port; a browser without the
    cookie is sent to the sign-in page by both. Both honour nginx's forwarded host in links."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    event = make_event()
    browser = Browser()
    assert browser.sign_in(site.nginx, operator.email).status == 303

    pages = [browser.get(site.nginx, "/pengguna") for _ in range(6)]
    assert [page.status for page in pages] == [200] * 6
    assert all(operator.email in page.text for page in pages)
    assert {page.upstream for page in pages} == site.upstreams
    for port in (site.a, site.b):
        direct = browser.get(port, "/pengguna")
        assert direct.status == 200 and operator.email in direct.text

    details = [browser.get(site.nginx, f"/kegiatan/{event.id}") for _ in range(2)]
    assert {page.upstream for page in details} == site.upstreams
    link = f"http://127.0.0.1:{site.nginx}/e/{event.code}"
    assert all(page.status == 200 and link in page.text for page in details)

    stranger = Browser()
    for port in (site.a, site.b):
        refused = stranger.get(port, "/pengguna")
        assert refused.status == 302 and refused.headers["Location"].startswith("/login")


# --- CSRF -------------------------------------------------------------------------------------------


def test_a_csrf_token_from_one_instance_is_accepted_by_the_other(site, make_user):
    """A token from the sign-in page of A signs in on B and one from B on A; once signed in, a
    token from a page of A signs out on B. A forged token is refused by both."""
    user = make_user(Role.OPERATOR_KABKOTA, PPU)
    for page_port, post_port in ((site.a, site.b), (site.b, site.a)):
        browser = Browser()
        token, _page = browser.token(page_port)
        answer = browser.post(
            post_port,
            "/login",
            {"csrf_token": token, "email": user.email, "password": PASSWORD, "next": ""},
        )
        assert answer.status == 303, f"token from :{page_port} refused on :{post_port}"
        assert browser.get(post_port, "/pengguna").status == 200

        token, _page = browser.token(page_port, "/pengguna")  # the sign-out form's token
        assert browser.post(post_port, "/logout", {"csrf_token": token}).status == 303
        assert browser.get(page_port, "/pengguna").status == 302

    for port in (site.a, site.b):
        browser = Browser()
        browser.token(port)  # a session with a real token in it
        forged = browser.post(
            port,
            "/login",
            {"csrf_token": "palsu", "email": user.email, "password": PASSWORD, "next": ""},
        )
        assert forged.status == 400
        assert browser.get(port, "/pengguna").status == 302


def test_a_token_served_through_nginx_by_one_instance_works_on_the_other(site, make_user):
    """Through nginx, the sign-in page and the sign-in post land on different instances (round
    robin) and the post is accepted."""
    user = make_user(Role.OPERATOR_KABKOTA, PPU)
    browser = Browser()
    token, page = browser.token(site.nginx)
    answer = browser.post(
        site.nginx,
        "/login",
        {"csrf_token": token, "email": user.email, "password": PASSWORD, "next": ""},
    )
    assert answer.status == 303
    assert {page.upstream, answer.upstream} == site.upstreams


# --- the sign-in rate limit ---------------------------------------------------------------------


def test_failed_sign_ins_count_across_both_instances(site, make_user, limits):
    """Five wrong passwords spread over A, B and nginx use up the account's allowance (README:
    5 in 10 minutes); the sixth attempt is refused by each instance, even with the right
    password. Another account still signs in: the limit is the account's, kept in Redis."""
    user = make_user(Role.OPERATOR_KABKOTA, PPU)
    other = make_user(Role.OPERATOR_KABKOTA, PPU)
    browser = Browser()
    for port in (site.a, site.b, site.a, site.b, site.nginx):
        assert browser.sign_in(port, user.email, "salah-sekali-123").status == 422

    for port in (site.a, site.b):
        assert browser.sign_in(port, user.email, "salah-sekali-123").status == 429
        assert browser.sign_in(port, user.email).status == 429
    token, _page = browser.token(site.nginx)  # then two posts in a row: one to each instance
    through = [browser.sign_in(site.nginx, user.email, token=token) for _ in range(2)]
    assert [answer.status for answer in through] == [429, 429]
    assert {answer.upstream for answer in through} == site.upstreams

    assert Browser().sign_in(site.nginx, other.email).status == 303
    assert limits.dbsize() > 0  # the counts live in Redis, not in the workers


# --- offline-sync idempotency ---------------------------------------------------------------------


def _counts(app, session_id: int) -> tuple[dict[str, int], dict[int, Presence]]:
    """Marks per client id, and the attendance row's status per person, for one session."""
    with app.app_context():
        marks = dict(
            db.session.execute(
                sa.select(AttendanceMark.client_id, sa.func.count())
                .where(AttendanceMark.session_id == session_id)
                .group_by(AttendanceMark.client_id)
            ).all()
        )
        rows = db.session.execute(
            sa.select(Attendance.registration_id, Attendance.status).where(
                Attendance.session_id == session_id
            )
        ).all()
    standing = dict(rows)
    assert len(standing) == len(rows), "two attendance rows for one person"
    return marks, standing


def test_a_roll_call_tap_replayed_on_both_instances_is_applied_once(
    app, site, make_user, make_event, partial_headers
):
    """One tap (one client id) sent to A, then to B with another status, then eight times at
    once through nginx: every answer 200, one mark, one attendance row, still hadir. Taps with
    their own client ids, sent at once through nginx, are all applied."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    event_id = make_event().id
    session_id = first_session(app, event_id)
    run_now(app, session_id)  # taps are taken inside the session's attendance window
    tapped_at = str(int(time.time() * 1000))
    first, *others = people(app, event_id, 7)
    browser = Browser()
    assert browser.sign_in(site.nginx, operator.email).status == 303
    roll_call = f"/absensi/sesi/{session_id}"
    token, _page = browser.token(site.a, roll_call)

    def tap(port: int, registration: int, client_id: str, status: str = "hadir"):
        return lambda: browser.post(
            port,
            f"{roll_call}/tandai",
            {
                "csrf_token": token,
                "registration": registration,
                "status": status,
                "client_id": client_id,
                "marked_at": tapped_at,
            },
            headers=partial_headers,
        )

    replays = [tap(site.a, first, "antre-0001")(), tap(site.b, first, "antre-0001", "alpa")()]
    replays += in_parallel([tap(site.nginx, first, "antre-0001") for _ in range(8)])
    assert [answer.status for answer in replays] == [200] * 10
    assert {answer.upstream for answer in replays[2:]} == site.upstreams
    marks, standing = _counts(app, session_id)
    assert marks == {"antre-0001": 1}
    assert standing == {first: Presence.HADIR}

    fresh = in_parallel([tap(site.nginx, rid, f"antre-{rid:08d}", "izin") for rid in others])
    assert [answer.status for answer in fresh] == [200] * len(others)
    assert {answer.upstream for answer in fresh} == site.upstreams
    marks, standing = _counts(app, session_id)
    assert marks == {"antre-0001": 1} | {f"antre-{rid:08d}": 1 for rid in others}
    assert standing == {first: Presence.HADIR} | {rid: Presence.IZIN for rid in others}
