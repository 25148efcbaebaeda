"""Several app servers (issue 8) as the production recipe of ``deploy/`` runs them (issue 24):
its nginx site in front of two gunicorn instances started with kim-web.service's command line, and
the job worker of kim-worker.service, all with the settings of deploy/kim.env, on one PostgreSQL
and one Redis. Only what a test must change is changed (tests/recipe.py): ports, paths, a
self-signed certificate, two app servers for one, and nginx naming the one that answered in
``X-Upstream``.

Sessions, CSRF tokens, the sign-in rate limit and the roll call's offline-sync idempotency hold
whichever instance answers; then the recipe's own promises: static files from nginx, HTTPS only,
the site's name only, the worker's email, uploads within nginx's limit, the nightly backup.

PostgreSQL only: the deployment this describes keeps its data there (``KIM_TEST_DATABASE_URL``,
the CI's second run); the SQLite run skips the module. The servers read the test database that
the session's ``app`` fixture migrated; the data comes from the usual factories, committed first.
"""

from __future__ import annotations

import email
import gzip
import http.client
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.policy import default as default_policy
from itertools import pairwise
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from kim_app import ROOT
from kim_app.attendance.models import Attendance, AttendanceMark, Presence
from kim_app.auth.models import Role
from kim_app.config import ENV_SETTINGS
from kim_app.extensions import db
from kim_app.jobs import make_queue
from tests.conftest import PASSWORD, PPU, PPU_VILLAGE
from tests.recipe import NginxSite, Unit, read_environment_file, read_unit
from tests.scenes import first_session, people, run_now
from tests.servers import Answer, Browser, Inbox, Tls, free_port, stop, wait_until_up

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
VENV_BIN = Path(sys.prefix) / "bin"  # the recipe's /srv/kim/app/.venv/bin, in this checkout
# of the environment systemd gives a service, what the processes need here
PASSED_ON = ("PATH", "LANG", "LC_ALL", "TMPDIR")

# Debian's /etc/nginx/nginx.conf around the site, as far as the site relies on it (MIME types,
# sendfile), with the test's own pid, log and temporary folders, in the foreground
NGINX_MAIN = """\
daemon off;
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log warn;
events { worker_connections 128; }
http {
    sendfile on;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;

%(site)s
}
"""


# --- the recipe, as this test runs it -------------------------------------------------------------


def from_this_checkout(unit: Unit, command: list[str]) -> list[str]:
    """The unit's command with its program taken from this checkout's virtualenv."""
    venv_bin = unit.value("Service", "WorkingDirectory") + "/.venv/bin/"
    program = command[0]
    assert program.startswith(venv_bin), f"{unit.path.name} runs {program}, not from {venv_bin}"
    return [str(VENV_BIN / program.removeprefix(venv_bin)), *command[1:]]


def bound_to(command: list[str], address: str) -> list[str]:
    """gunicorn's command with ``--bind`` set to ``address``."""
    at = command.index("--bind") + 1
    return [*command[:at], address, *command[at + 1 :]]


def service_environment(unit: Unit, settings: dict[str, str]) -> dict[str, str]:
    """What the unit's process gets: a service's basics, its ``Environment=`` lines and the
    environment file's ``settings``."""
    basics = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
    return basics | unit.environment() | settings


def self_signed_certificate(name: str, folder: Path) -> tuple[Path, Path]:
    """A certificate for ``name`` and its key, made with the openssl command line."""
    certificate, key = folder / "certificate.pem", folder / "key.pem"
    command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
    subprocess.run(
        [
            *command.split(),
            *("-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"),
            *("-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


# --- the servers ----------------------------------------------------------------------------------


@dataclass
class Site:
    nginx: int  # HTTPS
    http: int  # plain HTTP: nginx's redirect
    a: int
    b: int
    host: str  # the site's name (server_name)
    tls: Tls
    inbox: Inbox
    settings: dict[str, str]  # deploy/kim.env with the test's values
    worker_log: Path
    certificate: tuple[Path, Path]  # the certificate and its key
    logs: list[Path] = field(default_factory=list)  # the instances' and worker's output

    def name(self, port: int) -> str:
        """How nginx's ``$upstream_addr`` names the instance on ``port``."""
        return f"127.0.0.1:{port}"

    @property
    def upstreams(self) -> set[str]:
        return {self.name(self.a), self.name(self.b)}

    def browser(self) -> Browser:
        """A browser that speaks HTTPS to nginx and trusts the site's certificate."""
        return Browser(tls={self.nginx: self.tls})

    def marks(self) -> dict[Path, int]:
        """Where each log ends now (see ``written_since``)."""
        return {log: log.stat().st_size for log in self.logs}

    def written_since(self, marks: dict[Path, int], log: Path) -> str:
        with log.open("rb") as output:
            output.seek(marks[log])
            return output.read().decode(errors="replace")


@pytest.fixture(scope="module")
def site(app, database_url) -> Iterator[Site]:
    """nginx with deploy/kim-nginx.conf before two gunicorn instances started with
    kim-web.service's command line, kim-worker.service's worker and a real SMTP server, on free
    loopback ports; all stopped (the worker with its unit's KillSignal), and their directory
    removed, when the module is done."""
    work = Path(tempfile.mkdtemp(prefix="kim-two-servers-"))
    work.chmod(0o755)  # nginx's workers (nobody, when started as root) write its temp paths
    nginx_site = NginxSite.read()
    web, worker = read_unit("kim-web.service"), read_unit("kim-worker.service")
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    processes: list[tuple[str, subprocess.Popen, Path]] = []

    def start(name: str, command: list[str], **kw) -> None:
        log = work / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **kw)
        processes.append((name, process, log))

    try:
        settings = read_environment_file() | {
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
            "KIM_QUEUE_URL": REDIS_URL,
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "KIM_UPLOAD_FOLDER": str(work / "uploads"),
            "KIM_SMTP_HOST": "127.0.0.1",
            "KIM_SMTP_PORT": str(smtp.port),
            "KIM_SMTP_STARTTLS": "0",
        }
        certificate, key = self_signed_certificate(nginx_site.server_name, work)
        tls = Tls(nginx_site.server_name, ssl.create_default_context(cafile=str(certificate)))
        ports = Site(
            nginx=free_port(),
            http=free_port(),
            a=free_port(),
            b=free_port(),
            host=nginx_site.server_name,
            tls=tls,
            inbox=inbox,
            settings=settings,
            worker_log=work / "worker.log",
            certificate=(certificate, key),
        )
        gunicorn = from_this_checkout(web, web.command())
        for name, port in (("a", ports.a), ("b", ports.b)):
            start(
                f"gunicorn-{name}",
                bound_to(gunicorn, ports.name(port)),
                cwd=ROOT,
                env=service_environment(web, settings),
            )
        start(
            "worker",
            from_this_checkout(worker, worker.command()),
            cwd=ROOT,
            env=service_environment(worker, settings),
        )
        conf = work / "nginx.conf"
        site_text = nginx_site.for_test(
            http_port=ports.http,
            https_port=ports.nginx,
            app_servers=[ports.name(ports.a), ports.name(ports.b)],
            static_root=ROOT,
            certificate=certificate,
            key=key,
        )
        conf.write_text(NGINX_MAIN % {"dir": work, "site": site_text})
        start("nginx", [NGINX, "-p", str(work), "-e", str(work / "error.log"), "-c", str(conf)])
        for port in (ports.a, ports.b):
            wait_until_up(port, processes)
        wait_until_up(ports.nginx, processes, ports.browser())
        ports.logs = [log for name, _process, log in processes if name != "nginx"]
        yield ports
    finally:
        for name, process, _log in reversed(processes):
            stop(process, _kill_signal(worker) if name == "worker" else signal.SIGTERM)
        smtp.stop()
        shutil.rmtree(work, ignore_errors=True)


def _kill_signal(unit: Unit) -> signal.Signals:
    """The signal systemd stops the unit with (``KillSignal=``, SIGTERM unless it says)."""
    named = unit.values("Service", "KillSignal")
    return signal.Signals[named[0]] if named else signal.SIGTERM


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
    """After each test, nothing new in the instances' or the worker's logs is a traceback (a
    request or a job ended in an error); the test shows it."""
    marks = site.marks()
    yield
    for log in site.logs:
        written = site.written_since(marks, log)
        assert "Traceback" not in written, f"{log.name}:\n{written[-4000:]}"


def in_parallel(calls: list[Callable[[], Answer]]) -> list[Answer]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


# --- sessions ---------------------------------------------------------------------------------------


def test_a_session_signed_in_through_nginx_holds_on_both_instances(site, make_user, make_event):
    """Signed in once through nginx, the person stays signed in on every following request,
    whichever instance serves it, and on each instance's own port; a browser without the
    cookie is sent to the sign-in page by both. Both honour nginx's forwarded scheme and host
    in links: https and the site's name through nginx, their own address when asked directly."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    event = make_event()
    browser = site.browser()
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
    link = f"https://{site.host}/e/{event.code}"
    assert all(page.status == 200 and link in page.text for page in details)
    for port in (site.a, site.b):
        direct = browser.get(port, f"/kegiatan/{event.id}")
        assert f"http://127.0.0.1:{port}/e/{event.code}" in direct.text

    stranger = site.browser()
    for port in (site.a, site.b):
        refused = stranger.get(port, "/pengguna")
        assert refused.status == 302 and refused.headers["Location"].startswith("/login")


# --- CSRF -------------------------------------------------------------------------------------------


def test_a_csrf_token_from_one_instance_is_accepted_by_the_other(site, make_user):
    """A token from the sign-in page of A signs in on B and one from B on A; once signed in, a
    token from a page of A signs out on B. A forged token is refused by both."""
    user = make_user(Role.OPERATOR_KABKOTA, PPU)
    for page_port, post_port in ((site.a, site.b), (site.b, site.a)):
        browser = site.browser()
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
        browser = site.browser()
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
    browser = site.browser()
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
    browser = site.browser()
    for port in (site.a, site.b, site.a, site.b, site.nginx):
        assert browser.sign_in(port, user.email, "salah-sekali-123").status == 422

    for port in (site.a, site.b):
        assert browser.sign_in(port, user.email, "salah-sekali-123").status == 429
        assert browser.sign_in(port, user.email).status == 429
    token, _page = browser.token(site.nginx)  # then two posts in a row: one to each instance
    through = [browser.sign_in(site.nginx, user.email, token=token) for _ in range(2)]
    assert [answer.status for answer in through] == [429, 429]
    assert {answer.upstream for answer in through} == site.upstreams

    assert site.browser().sign_in(site.nginx, other.email).status == 303
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
    browser = site.browser()
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


# --- the recipe's own promises --------------------------------------------------------------------

YEAR = "public, max-age=31536000"


def test_static_files_come_from_nginx_for_a_year_and_gzipped(site):
    """The stylesheet a page links (``/static/app.css?v=<hash>``) and every other file of
    static/ are served by nginx from the checkout — no app server sees the request — with the
    year-long Cache-Control the app gives them itself, and gzipped for a browser that asks."""
    browser = site.browser()
    marks = site.marks()
    page = browser.get(site.nginx, "/login")
    [stylesheet] = re.findall(r'href="(/static/app\.css\?v=[0-9a-f]+)"', page.text)
    files = sorted((ROOT / "static").iterdir())
    assert len(files) >= 5
    for path in [stylesheet, *(f"/static/{file.name}" for file in files)]:
        content = (ROOT / path.split("?")[0].lstrip("/")).read_bytes()
        plain = browser.get(site.nginx, path)
        zipped = browser.get(site.nginx, path, headers={"Accept-Encoding": "gzip"})
        for answer in (plain, zipped):
            assert answer.status == 200, path
            assert answer.upstream is None, f"{path} went to {answer.upstream}"
            assert answer.headers["Cache-Control"] == YEAR
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert plain.data == content and "Content-Encoding" not in plain.headers
        assert zipped.headers["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in zipped.headers["Vary"]
        assert gzip.decompress(zipped.data) == content and len(zipped.data) < len(content)
    served = "".join(site.written_since(marks, log) for log in site.logs)
    assert '"GET /login"' in served  # the app servers log what they serve ...
    assert "/static/" not in served  # ... and saw none of the files


def test_plain_http_is_sent_to_https(site):
    """A plain HTTP request for the site is redirected, path and query kept, to HTTPS on the
    site's name; no app server answers it."""
    answer = Browser().get(
        site.http, "/kegiatan?halaman=2", headers={"Host": f"{site.host}:{site.http}"}
    )
    assert answer.status == 301 and answer.upstream is None
    assert answer.headers["Location"] == f"https://{site.host}/kegiatan?halaman=2"


def test_no_other_name_reaches_the_app(site):
    """A request for another name — a bare address, a stranger's name in the handshake or in the
    Host header — gets no answer at all, so no link the app builds (a password email's) can
    point at a host someone else chose."""
    with pytest.raises(http.client.RemoteDisconnected):
        Browser().get(site.http, "/login", headers={"Host": "127.0.0.1"})
    stranger = Browser(tls={site.nginx: Tls("penipu.example", site.tls.context)})
    with pytest.raises(ssl.SSLError):
        stranger.get(site.nginx, "/login")
    with pytest.raises(http.client.RemoteDisconnected):
        site.browser().get(site.nginx, "/lupa-kata-sandi", headers={"Host": "penipu.example"})
    assert site.browser().get(site.nginx, "/login").status == 200


def test_the_worker_of_the_unit_sends_the_email_a_request_queued(site, make_user):
    """'Lupa kata sandi?' through nginx queues its email on the shared Redis; the worker started
    as kim-worker.service starts it runs the job and the email's link is the site's, over
    HTTPS, and opens through nginx."""
    user = make_user(Role.KEPALA_DESA, PPU_VILLAGE, email="lupa.dua.server@desa.example")
    marks = site.marks()
    browser = site.browser()
    token, _page = browser.token(site.nginx, "/lupa-kata-sandi")
    answer = browser.post(
        site.nginx, "/lupa-kata-sandi", {"csrf_token": token, "email": user.email}
    )
    assert answer.status == 200 and answer.upstream in site.upstreams

    def received():
        return [e for e in site.inbox.envelopes if e.rcpt_tos == [user.email]]

    deadline = time.monotonic() + 60
    while not received() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert received(), site.written_since(marks, site.worker_log)[-3000:]
    [envelope] = received()
    message = email.message_from_bytes(envelope.content, policy=default_policy)
    [link] = [word for word in message.get_content().split() if "/akun/" in word]
    assert link.startswith(f"https://{site.host}/akun/")
    opened = browser.get(site.nginx, link.removeprefix(f"https://{site.host}"))
    assert opened.status == 200 and opened.upstream in site.upstreams
    assert "auth.link_email" in site.written_since(marks, site.worker_log)
    assert make_queue(REDIS_URL, "").pending_count() == 0


def test_nginx_lets_through_every_body_the_app_takes(app, site):
    """nginx's client_max_body_size is above the largest upload any view of the app accepts,
    so a body just over that view's limit reaches the app, which answers with its own
    translated 413 page rather than nginx's."""
    limits = {
        endpoint: getattr(view, "max_content_length", None) or app.config["MAX_CONTENT_LENGTH"]
        for endpoint, view in app.view_functions.items()
    }
    largest = max(limits.values())
    assert largest >= 5 * 1024 * 1024  # the imports' and report photos' 5 MB
    assert NginxSite.read().max_body_bytes > largest
    [path, *_] = sorted(
        re.sub(r"<[^>]+>", "1", rule.rule)  # the limit holds before any id is looked up
        for rule in app.url_map.iter_rules()
        if limits[rule.endpoint] == largest and "POST" in rule.methods
    )
    body = {"berkas": "x" * (largest + 1 - len("berkas="))}
    answer = site.browser().post(site.nginx, path, body)
    assert answer.status == 413 and answer.upstream in site.upstreams
    assert "Berkas terlalu besar" in answer.text


def test_the_backup_unit_writes_an_archive_and_keeps_the_newest(site, tmp_path):
    """kim-backup.service's commands, with its folder here: one new archive of the database
    and uploads, readable by its owner only; then the oldest archives go, the newest
    KIM_BACKUP_KEEP stay."""
    unit = read_unit("kim-backup.service")
    assert unit.value("Service", "Type") == "oneshot"
    backup, prune = unit.command("ExecStart"), unit.command("ExecStartPost")
    folder = backup[-1]
    assert folder.endswith("/") and folder in prune[-1]
    keep = int(unit.environment()["KIM_BACKUP_KEEP"])
    older = [tmp_path / f"kim-backup-20200101-{n:06d}.tar.gz" for n in range(keep + 2)]
    for path in older:
        path.write_bytes(b"")
    env = service_environment(unit, site.settings)

    made = subprocess.run(
        [*from_this_checkout(unit, backup)[:-1], f"{tmp_path}/"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    subprocess.run(
        [word.replace(folder, f"{tmp_path}/") for word in prune], env=env, check=True, cwd=ROOT
    )

    left = sorted(tmp_path.glob("kim-backup-*.tar.gz"))
    assert len(left) == keep
    assert left[:-1] == older[-(keep - 1) :]
    archive = left[-1]
    assert archive not in older and archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        assert "manifest.json" in tar.getnames()


def test_the_backup_timer_fires_every_night():
    """kim-backup.timer starts kim-backup.service once a day (systemd's own reading of its
    calendar), and makes up a night missed while the machine was off."""
    timer = read_unit("kim-backup.timer")
    assert timer.values("Timer", "Unit") in ([], ["kim-backup.service"])
    assert timer.value("Timer", "Persistent") == "true"
    assert timer.value("Install", "WantedBy") == "timers.target"
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze (Debian's systemd) is not installed")
    calendar = subprocess.run(
        [analyze, "calendar", "--iterations=3", timer.value("Timer", "OnCalendar")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    times = [
        datetime.fromisoformat(found)
        for found in re.findall(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", calendar)
    ]
    assert len(times) == 3
    assert [later - earlier for earlier, later in pairwise(times)] == [timedelta(days=1)] * 2


def test_the_site_as_installed_passes_nginx_s_check(site, tmp_path):
    """deploy/kim-nginx.conf with nothing changed but the certificate's paths — IPv6 addresses
    and ports 80 and 443 as on the server — is a configuration nginx accepts."""
    tmp_path.chmod(0o755)
    conf = tmp_path / "nginx.conf"
    text = NginxSite.read().with_certificate(*site.certificate)
    conf.write_text(NGINX_MAIN % {"dir": tmp_path, "site": text})
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_the_recipe_files_agree():
    """nginx proxies to where kim-web binds and serves static/ from the checkout kim-web runs
    in; every unit and the kim-flask command run as one user, in that checkout, from its
    virtualenv, with one environment file; that file names only settings the app reads."""
    nginx_site = NginxSite.read()
    units = [read_unit(f"kim-{name}.service") for name in ("web", "worker", "backup")]
    web = units[0]
    bind = web.command()[web.command().index("--bind") + 1]
    assert bind == nginx_site.upstream
    checkout = web.value("Service", "WorkingDirectory")
    assert nginx_site.static_root == checkout
    for key in ("User", "WorkingDirectory", "EnvironmentFile"):
        assert len({unit.value("Service", key) for unit in units}) == 1, key
    for unit in units:
        assert unit.command()[0].startswith(f"{checkout}/.venv/bin/")
    user, environment_file = web.value("Service", "User"), web.value("Service", "EnvironmentFile")
    script = (ROOT / "deploy" / "kim-flask").read_text()
    assert f"cd {checkout}\n" in script and f". {environment_file}\n" in script
    assert f"runuser -u {user} -- .venv/bin/flask --app wsgi" in script
    settings = read_environment_file()
    assert set(settings) <= set(ENV_SETTINGS)
    assert settings["KIM_PROXY_COUNT"] == "1"  # nginx, one proxy
