"""One transaction per request (kim_app/transactions.py) and jobs sent only after the real commit."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response

from kim_app import audit, jobs, transactions
from kim_app.audit import AuditEntry
from kim_app.extensions import db


def _entries(action: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    )


def test_an_answer_under_400_commits_and_an_error_status_rolls_back(app):
    """The status the view answers with decides: 303 commits, 422 rolls back."""
    for status, action, kept in ((303, "test.kept", 1), (422, "test.dropped", 0)):
        with app.test_request_context(method="POST"):
            audit.record(action, "test", 1)
            transactions.finish(Response(status=status))
        with app.app_context():
            assert _entries(action) == kept
            db.session.rollback()


def test_jobs_wait_for_the_real_commit_and_a_savepoint_rollback_drops_only_its_own(
    app, monkeypatch
):
    """A released savepoint sends nothing; a refused one drops the jobs asked for inside it."""
    sent: list[tuple] = []
    tasks = dict(app.extensions["kim_job_tasks"])
    for name in tasks:
        monkeypatch.setitem(
            app.extensions["kim_job_tasks"], name, lambda *args, _n=name: sent.append((_n, args))
        )
    name = next(iter(tasks))
    with app.test_request_context(method="POST"):
        jobs.after_commit(name, "before")
        with db.session.begin_nested():
            jobs.after_commit(name, "kept")
        assert sent == []
        try:
            with db.session.begin_nested():
                jobs.after_commit(name, "refused")
                raise ValueError
        except ValueError:
            pass
        db.session.commit()
    assert sent == [(name, ("before",)), (name, ("kept",))]
