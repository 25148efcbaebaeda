"""The job queue (huey): long work and emails run in a worker process, never in a request.

Storage: ``KIM_QUEUE_URL`` — ``redis://…`` for production (several app servers share it), or
``sqlite:///path`` / unset for a SQLite file in ``instance/`` (the embedded default of
``make run``). Each app has its own huey instance in ``app.extensions["kim_jobs"]``; functions
marked with ``@job(name)`` are registered on it with the app's context around them, so the
worker (``flask kim worker``, huey's own consumer) runs them with the same configuration.

Requests never enqueue directly: ``after_commit(name, *args)`` remembers the job on the
database session and sends it once the request's transaction has committed, so a job never
sees data that was rolled back, and nothing is sent while the request is still open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from kim_app.extensions import db

log = logging.getLogger(__name__)
_JOBS: dict[str, Callable] = {}
_PERIODIC: dict[str, tuple[Callable, dict[str, str]]] = {}
PENDING = "kim_jobs_after_commit"


def job(name: str) -> Callable:
    """Mark ``func`` as a job called ``name`` (registered on each app's queue)."""

    def decorator(func: Callable) -> Callable:
        _JOBS[name] = func
        return func

    return decorator


def periodic(name: str, **when: str) -> Callable:
    """Mark ``func`` as a job the worker runs by huey's scheduler: once a minute, or as ``when``
    says (``crontab`` fields: ``minute="*/30"``)."""

    def decorator(func: Callable) -> Callable:
        _PERIODIC[name] = (func, when)
        return func

    return decorator


def make_queue(url: str | None, instance_path: str) -> Huey:
    """Huey on Redis for a ``redis://`` URL, else on a SQLite file (``instance/jobs.sqlite3``)."""
    url = (url or "").strip()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("kim", url=url)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
    elif url:
        raise ValueError("KIM_QUEUE_URL must start with redis:// or sqlite:///")
    else:
        path = str(Path(instance_path) / "jobs.sqlite3")
    return SqliteHuey("kim", filename=path)


def init_app(app: Flask) -> None:
    """Give ``app`` its queue, with every job registered to run inside the app's context."""
    queue = make_queue(app.config.get("KIM_QUEUE_URL"), app.instance_path)
    tasks = {
        name: queue.task(name=name, retries=3, retry_delay=60)(_in_context(app, func))
        for name, func in _JOBS.items()
    }
    for name, (func, when) in _PERIODIC.items():
        queue.periodic_task(crontab(**when), name=name)(_in_context(app, func))
    app.extensions["kim_jobs"] = queue
    app.extensions["kim_job_tasks"] = tasks


def _in_context(app: Flask, func: Callable) -> Callable:
    @wraps(func)
    def run(*args: Any) -> Any:
        with app.app_context():
            try:
                return func(*args)
            finally:
                db.session.remove()

    return run


def queue_of(app: Flask | None = None) -> Huey:
    return (app or current_app).extensions["kim_jobs"]


def enqueue(name: str, *args: Any) -> None:
    """Put the job on the queue now (outside a request's transaction)."""
    current_app.extensions["kim_job_tasks"][name](*args)


def after_commit(name: str, *args: Any) -> None:
    """Enqueue the job once the request's transaction commits; dropped when it, or the savepoint
    the job was asked for in, rolls back."""
    session = db.session()
    within = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING, []).append(
        (current_app._get_current_object(), name, args, within)
    )


def consumer(app: Flask, workers: int = 2) -> Consumer:
    """Huey's own consumer over the app's queue (threads; the jobs wait on the network)."""
    return queue_of(app).create_consumer(workers=workers, worker_type="thread")


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _send_pending(session: sa.orm.Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: the jobs wait for the real commit
    pending = session.info.pop(PENDING, None)
    for app, name, args, _within in pending or ():
        try:
            app.extensions["kim_job_tasks"][name](*args)
        except Exception:  # the data is committed; a queue outage must not fail the request
            log.exception("job %s could not be queued", name)


@sa.event.listens_for(sa.orm.Session, "after_soft_rollback")
def _drop_pending(session: sa.orm.Session, rolled_back: sa.orm.SessionTransaction) -> None:
    """A rollback drops the jobs asked for inside it: all of them for the whole transaction,
    those asked for in the savepoint (or deeper) for a savepoint."""
    boundary = rolled_back  # a flush's inner marker rolls back its savepoint or the whole
    while boundary.parent is not None and not boundary.nested:
        boundary = boundary.parent
    if boundary.parent is None:
        session.info.pop(PENDING, None)
        return
    pending = session.info.get(PENDING)
    if pending:
        pending[:] = [job for job in pending if not _inside(job[3], boundary)]


def _inside(
    transaction: sa.orm.SessionTransaction | None, outer: sa.orm.SessionTransaction
) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False
