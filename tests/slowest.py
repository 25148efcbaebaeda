"""The longest request of a test run, beside gunicorn's worker timeout (issue 24: no request in
the suite or the journeys may take longer than it; long work belongs on the job worker).

Every request any app of the run answers (the test client, the browsers' live server) is timed
from Flask's ``request_started`` to its ``request_tearing_down``; the run ends with the slowest
one's route, and fails if it took longer than the timeout. Under xdist each worker sends its
slowest to the controller."""

from __future__ import annotations

import time

import flask
import pytest

GUNICORN_TIMEOUT = 30.0  # seconds: gunicorn's default, which gunicorn.conf.py and deploy/ keep
slowest: list = [0.0, ""]  # seconds, "METHOD /route/<pattern>" (no ids, no tokens)


def _started(sender, **extra) -> None:
    flask.g.kim_request_started = time.perf_counter()


def _ended(sender, **extra) -> None:
    started = flask.g.get("kim_request_started")
    if started is None:
        return
    spent = time.perf_counter() - started
    if spent > slowest[0]:
        slowest[:] = [
            spent,
            f"{flask.request.method} {flask.request.url_rule or flask.request.path[:40]}",
        ]


flask.request_started.connect(_started)
flask.request_tearing_down.connect(_ended)


def record(other: list | None) -> None:
    if other and other[0] > slowest[0]:
        slowest[:] = other


def finish(session: pytest.Session) -> None:
    """On a worker, hand the slowest to the controller; elsewhere, judge it."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["slowest_request"] = slowest
        return
    spent, route = slowest
    if not route:
        return
    line = (
        f"slowest request: {spent:.2f} s ({route}); gunicorn's timeout is {GUNICORN_TIMEOUT:.0f} s"
    )
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    over = spent > GUNICORN_TIMEOUT
    if reporter is not None:
        reporter.write_sep("-", line + (": too long" if over else ""), red=over)
    if over:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
