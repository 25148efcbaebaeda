"""Real gunicorn and nginx processes for the two-server and throttle tests: free ports, waiting
for a server to answer, stopping it, a cookie-keeping browser that speaks HTTP (and HTTPS to
nginx) to them, and a real SMTP server's inbox."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

from kim_app import ROOT
from tests.conftest import (
    PASSWORD,
)

STARTUP_SECONDS = 30


def start_worker(app, settings: dict, log_path: Path) -> subprocess.Popen:
    """``flask --app wsgi kim worker`` as ``make run`` starts it, on the suite's database and
    upload folder, with ``settings`` added to its environment; its output appended to
    ``log_path``."""
    env = {
        **os.environ,
        **settings,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", ""),
        "SECRET_KEY": app.config["SECRET_KEY"],
        "KIM_UPLOAD_FOLDER": app.config["KIM_UPLOAD_FOLDER"],
    }
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "kim", "worker", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_for(condition, seconds: float) -> bool:
    """Whether ``condition()`` came true within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode()

    @property
    def upstream(self) -> str | None:
        """The instance nginx passed the request to (``127.0.0.1:port``); None when sent direct."""
        return self.headers.get("X-Upstream")


@dataclass(frozen=True)
class Tls:
    """HTTPS to the site called ``name`` on a loopback port: the name goes in the handshake (SNI)
    and the Host header, and the certificate is checked against ``context``'s authorities."""

    name: str
    context: ssl.SSLContext


class LoopbackHTTPS(http.client.HTTPSConnection):
    def __init__(self, tls: Tls, port: int, timeout: float):
        super().__init__(tls.name, port, timeout=timeout, context=tls.context)
        self.tls = tls

    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        try:
            self.sock = self.tls.context.wrap_socket(raw, server_hostname=self.tls.name)
        except BaseException:
            raw.close()
            raise


class Browser:
    """Keeps the cookies the servers set and sends them back, whichever port it talks to; the
    ports in ``tls`` speak HTTPS (cookies marked Secure are sent over plain HTTP too, so that a
    test can take a session from nginx straight to an app server). Over HTTPS a form is posted
    with the page it came from as ``Referer``, as browsers do for the same site (the CSRF check
    requires it there)."""

    def __init__(self, tls: dict[int, Tls] | None = None):
        self.cookies: dict[str, str] = {}
        self.tls = tls or {}
        self.pages: dict[int, str] = {}  # the last page fetched over HTTPS, per port

    def request(self, port: int, method: str, path: str, data=None, headers=None) -> Answer:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if port in self.tls:
            conn = LoopbackHTTPS(self.tls[port], port, timeout=30)
            if method == "GET":
                self.pages[port] = f"https://{self.tls[port].name}{path}"
            elif port in self.pages:
                headers.setdefault("Referer", self.pages[port])
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _sep, value = cookie.split(";", 1)[0].partition("=")
            if "expires=thu, 01 jan 1970" in cookie.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        return Answer(response.status, response.headers, data)

    def get(self, port: int, path: str, **kw) -> Answer:
        return self.request(port, "GET", path, **kw)

    def post(self, port: int, path: str, data: dict, **kw) -> Answer:
        return self.request(port, "POST", path, data=data, **kw)

    def token(self, port: int, path: str = "/login") -> tuple[str, Answer]:
        """The CSRF token of the form on ``path`` as served through ``port``, and that answer."""
        page = self.get(port, path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert page.status == 200 and match, f"no CSRF token on {path} ({page.status})"
        return match.group(1), page

    def sign_in(
        self, port: int, email: str, password: str = PASSWORD, token: str | None = None
    ) -> Answer:
        """Post the sign-in form, with ``token`` or one fetched first from the same port."""
        token = token or self.token(port)[0]
        return self.post(
            port, "/login", {"csrf_token": token, "email": email, "password": password, "next": ""}
        )


def wait_until_up(
    port: int,
    processes: list[tuple[str, subprocess.Popen, Path]],
    browser: Browser | None = None,
) -> None:
    """Until ``/healthz`` answers 200 on ``port`` (asked by ``browser``: HTTPS if it says so)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for name, process, log in processes:
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if (browser or Browser()).get(port, "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    logs = "\n".join(f"{name}:\n{log.read_text()[-2000:]}" for name, _p, log in processes)
    pytest.fail(f"nothing answered on port {port} within {STARTUP_SECONDS} s\n{logs}")


def stop(process: subprocess.Popen, signum: int = signal.SIGTERM) -> None:
    """Stop ``process`` with ``signum`` (a unit's KillSignal), killing it after 15 seconds."""
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class Inbox:
    """A real SMTP server's handler (aiosmtpd): what it received, one envelope per message."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, _server, _session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"
