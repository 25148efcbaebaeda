"""Prepared files: asked for in a request, made by the job worker, kept for a day.

A package that has a document too big for a request registers its builder once::

    @files.builder("sertifikat_pdf")
    def certificates(params: dict, out: BinaryIO, progress: Progress) -> None: ...

and its view calls ``kim_app.files.routes.deliver``, which makes small ones at once (with the
same builder, so both give the same bytes) and otherwise ``prepare``s a file: one row, one job
queued after the request commits. The worker's run (``run``) claims the row, writes the file
beside the uploads, reports progress as it goes (a heartbeat), and marks it ``selesai`` or
``gagal``. A worker that dies mid-run leaves a heartbeat that stops moving; ``reap`` (each
minute on the worker, and when a worker starts) queues such a run again, or marks the file
failed after ``MAX_ATTEMPTS``. The same sweep deletes files a day old.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kim_app import jobs, signals
from kim_app.errors import OperationError
from kim_app.extensions import db
from kim_app.files.models import ACTIVE, FileStatus, PreparedFile
from kim_app.timezones import utcnow

log = logging.getLogger(__name__)

RUN_JOB = "files.run"
REAP_JOB = "files.reap"
KEPT = timedelta(days=1)
MAX_ATTEMPTS = 3
MAX_ACTIVE = 5  # files on their way per account at once: bounds what one person can queue
HEARTBEAT_SECONDS = 0.5  # at most one progress write per half second

# why a file failed, as its owner reads it (the row keeps the key)
ERRORS = {
    "build": _l("Berkas gagal disiapkan. Coba sekali lagi; bila tetap gagal, hubungi admin."),
    "stopped": _l(
        "Pekerja latar berhenti beberapa kali saat menyiapkan berkas ini. Coba lagi nanti; "
        "bila tetap gagal, hubungi admin."
    ),
    "gone": _l("Data untuk berkas ini sudah tidak ada (dihapus atau dibatalkan)."),
    "changed": _l(
        "Data berubah sejak pratinjau, jadi tidak ada yang diimpor. Buka pratinjaunya lagi, "
        "periksa, lalu impor lagi."
    ),
}


class FileGone(Exception):
    """Raised by a builder when what the file was asked for no longer exists."""


class FileRefused(Exception):
    """Raised by a builder that cannot make the file from the data as it now is; ``key`` is
    the reason (a key of ``ERRORS``), ``detail`` what exactly stood in the way, in the asker's
    language (kept as the file's summary and shown before the reason)."""

    def __init__(self, key: str, detail: str = ""):
        super().__init__(key)
        self.key, self.detail = key, detail


def still_running(file_id: int, attempt: int) -> sa.ColumnElement[bool]:
    """SQL condition: the file is running, and run ``attempt`` is the one that has it (no later
    run took it over): what closing a run and ``Progress.own`` both write on."""
    return sa.and_(
        PreparedFile.id == file_id,
        PreparedFile.attempts == attempt,
        PreparedFile.status == FileStatus.BERJALAN,
    )


class FileSuperseded(Exception):
    """Raised by a builder whose run was taken over by a later one (``Progress.own``): it has
    written nothing and leaves the file to that run."""


class Progress:
    """What a builder calls as it goes: ``progress(done, total)``. Writes the figures and the
    heartbeat on a connection of its own (the builder's reads stay in their transaction), at
    most every ``HEARTBEAT_SECONDS``; nothing when the file has no row (a file made at once).
    A builder that writes to the database reports its progress before it does."""

    def __init__(self, file_id: int | None = None, attempt: int = 0):
        self.file_id, self.attempt = file_id, attempt
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        # the end is written with the file (``run``); on SQLite a write here, after the builder
        # has written in its own transaction (an export's audit entry), would wait for that one
        if self.file_id is None or done >= total:
            return
        now = time.monotonic()
        if now - self._last < HEARTBEAT_SECONDS and done > 0:
            return
        self._last = now
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(PreparedFile)
                .where(PreparedFile.id == self.file_id, PreparedFile.attempts == self.attempt)
                .values(done=done, total=total, heartbeat_at=utcnow())
            )

    def own(self) -> None:
        """In the builder's own transaction, just before it commits what it wrote: beat the
        heartbeat if this run still has the file, else raise ``FileSuperseded`` (a run thought
        dead and queued again, ``reap``, is still alive). The file's row stays locked until that
        commit, and ``reap`` takes only a run whose heartbeat is stale: rows written by a
        builder are committed by one run only."""
        if self.file_id is None:
            return
        owned = db.session.execute(
            sa.update(PreparedFile)
            .where(still_running(self.file_id, self.attempt))
            .values(heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if not owned:
            raise FileSuperseded


# ``params`` as given to ``prepare``, plus ``asked_at`` (UTC): when the file was asked for, and
# ``user_id``: who asked (a builder that reads by scope reads in that account's). What it
# returns, if anything, is the file's summary (shown with it).
Build = Callable[[dict, BinaryIO, Progress], str | None]


BUILDERS: dict[str, Build] = {}
# kinds whose failed file is tried again from its page (a link), not by asking for it again
RETRY_BY_LINK: set[str] = set()


def builder(kind: str, *, retry_by_link: bool = False) -> Callable[[Build], Build]:
    """Register ``build`` as the maker of files of ``kind`` (at most 40 characters).
    ``retry_by_link``: "Coba lagi" opens the file's ``source`` instead of posting to it."""

    def register(build: Build) -> Build:
        BUILDERS[kind] = build
        if retry_by_link:
            RETRY_BY_LINK.add(kind)
        return build

    return register


def params_key(params: dict) -> str:
    """``params`` as stored: canonical JSON, so the same request is the same key."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def folder() -> Path:
    path = Path(current_app.config["KIM_UPLOAD_FOLDER"]) / "berkas"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(file: PreparedFile) -> Path:
    return folder() / file.token


def build_now(kind: str, params: dict, user, out: BinaryIO) -> None:
    """Make a small file inside the request, with the builder (and language) the worker uses."""
    with force_locale(params.get("lang", "id")):
        BUILDERS[kind]({**params, "asked_at": utcnow(), "user_id": user.id}, out, Progress())


def _active_of(user, kind: str, key: str) -> PreparedFile | None:
    return db.session.scalar(
        sa.select(PreparedFile).where(
            PreparedFile.user_id == user.id,
            PreparedFile.kind == kind,
            PreparedFile.params == key,
            PreparedFile.status.in_(ACTIVE),
        )
    )


def prepare(
    kind: str,
    params: dict,
    *,
    user,
    region_code: str | None,
    title: str,
    filename: str,
    total: int,
    source: str = "",
) -> PreparedFile:
    """The file of ``kind`` from ``params`` for ``user``: the one already on its way if there is
    one (a double tap, a second tab), else a new one, queued once the request commits. Refused
    when the account already has ``MAX_ACTIVE`` files on their way."""
    if kind not in BUILDERS:
        raise ValueError(f"no builder for {kind}")
    key = params_key(params)
    found = _active_of(user, kind, key)
    if found is not None:
        return found
    waiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(PreparedFile)
        .where(PreparedFile.user_id == user.id, PreparedFile.status.in_(ACTIVE))
    )
    if waiting >= MAX_ACTIVE:
        raise OperationError(
            _(
                "Masih ada %(n)d berkas Anda yang sedang disiapkan. Tunggu salah satunya selesai, "
                "lalu coba lagi.",
                n=waiting,
            )
        )
    now = utcnow()
    file = PreparedFile(
        token=secrets.token_urlsafe(18),
        kind=kind,
        params=key,
        user_id=user.id,
        region_code=region_code,
        title=title[:300],
        filename=filename[:200],
        source=source[:300],
        status=FileStatus.ANTRE,
        total=total,
        created_at=now,
        expires_at=now + KEPT,
    )
    try:
        with db.session.begin_nested():
            db.session.add(file)
    except sa.exc.IntegrityError:  # the same request from a second tab, at the same moment
        found = _active_of(user, kind, key)
        if found is None:
            raise
        return found
    jobs.after_commit(RUN_JOB, file.id)
    return file


# --- the worker's side --------------------------------------------------------------------------


def _claim(file_id: int) -> int | None:
    """Take the file for this run: its attempt number, or None when it is not waiting (done,
    failed, deleted, or taken by another run)."""
    now = utcnow()
    taken = db.session.execute(
        sa.update(PreparedFile)
        .where(PreparedFile.id == file_id, PreparedFile.status == FileStatus.ANTRE)
        .values(
            status=FileStatus.BERJALAN,
            attempts=PreparedFile.attempts + 1,
            started_at=now,
            heartbeat_at=now,
            done=0,
        )
    ).rowcount
    if not taken:
        db.session.rollback()
        return None
    attempt = db.session.scalar(sa.select(PreparedFile.attempts).where(PreparedFile.id == file_id))
    db.session.commit()
    return attempt


def _close(file_id: int, attempt: int, **values) -> bool:
    """Write the end of this run, unless a later run has taken the file meanwhile."""
    ended = db.session.execute(
        sa.update(PreparedFile)
        .where(still_running(file_id, attempt))
        .values(finished_at=utcnow(), **values)
    ).rowcount
    db.session.commit()
    return bool(ended)


@jobs.job(RUN_JOB)
def run(file_id: int) -> None:
    """Make the file (the worker's job). A builder's failure marks it ``gagal`` at once: the
    same data would fail again. Only a run that died is tried again (``reap``)."""
    attempt = _claim(file_id)
    if attempt is None:
        return
    file = db.session.get(PreparedFile, file_id)
    # the moment it was asked for, which documents print (as one made at once does)
    params = {**json.loads(file.params), "asked_at": file.created_at, "user_id": file.user_id}
    target = path_of(file)
    partial = target.with_name(f"{target.name}.{attempt}.part")
    try:
        # the address the file was asked at: links in documents (a certificate's QR code) are
        # built against it, as they would be in that request
        request = current_app.test_request_context(base_url=params.get("base") or None)
        with request, partial.open("wb") as out, force_locale(params.get("lang", "id")):
            summary = BUILDERS[file.kind](params, out, Progress(file_id, attempt)) or ""
        size = partial.stat().st_size
        os.replace(partial, target)
        db.session.commit()  # what the builder recorded (an export's audit entry)
    except FileSuperseded:
        db.session.rollback()
        partial.unlink(missing_ok=True)
        log.info("prepared file %s: run %d superseded by a later one", file_id, attempt)
        return
    except Exception as error:
        if not isinstance(error, FileGone | FileRefused):
            log.exception("prepared file %s (%s) failed", file_id, file.kind)
        db.session.rollback()
        partial.unlink(missing_ok=True)
        detail = ""
        if isinstance(error, FileRefused):
            why, detail = error.key, error.detail
        else:
            why = "gone" if isinstance(error, FileGone) else "build"
        ended = _close(
            file_id, attempt, status=FileStatus.GAGAL, error=why, summary=str(detail)[:500]
        )
    else:
        total = file.total
        ended = _close(
            file_id,
            attempt,
            status=FileStatus.SELESAI,
            size=size,
            summary=str(summary)[:500],
            done=total,
            expires_at=utcnow() + KEPT,
        )
    if ended:
        _tell(file_id, params)


def _tell(file_id: int, params: dict) -> None:
    """``signals.file_finished`` for the file, in a request for the address it was asked at
    (what the notice links to), committed."""
    with current_app.test_request_context(base_url=params.get("base") or None):
        signals.file_finished.send(db.session.get(PreparedFile, file_id))
        db.session.commit()


def reap(stale_seconds: int | None = None) -> tuple[int, int, int]:
    """Runs whose heartbeat stopped ``stale_seconds`` ago (a worker that died): queued again,
    or failed after ``MAX_ATTEMPTS``; and files past their day, deleted with their bytes.
    Returns (queued again, failed, deleted)."""
    stale_seconds = stale_seconds or current_app.config["KIM_FILES_STALE_SECONDS"]
    now = utcnow()
    stale_run = sa.and_(
        PreparedFile.status == FileStatus.BERJALAN,
        PreparedFile.heartbeat_at < now - timedelta(seconds=stale_seconds),
    )
    stale = db.session.execute(sa.select(PreparedFile.id, PreparedFile.attempts).where(stale_run))
    again, failed = [], 0
    for file_id, attempts in stale.all():
        # taken only if still stale when written: a run that beat meanwhile (``Progress.own``,
        # which holds the row until its commit) keeps its file
        last = attempts >= MAX_ATTEMPTS
        values = (
            {"status": FileStatus.GAGAL, "error": "stopped", "finished_at": now}
            if last
            else {"status": FileStatus.ANTRE}
        )
        taken = db.session.execute(
            sa.update(PreparedFile)
            .where(PreparedFile.id == file_id, PreparedFile.attempts == attempts, stale_run)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken and last:
            failed += 1
        elif taken:
            again.append(file_id)
    expired = db.session.scalars(sa.select(PreparedFile).where(PreparedFile.expires_at < now)).all()
    for file in expired:
        path_of(file).unlink(missing_ok=True)
        db.session.delete(file)
    db.session.commit()
    for file_id in again:
        jobs.enqueue(RUN_JOB, file_id)
    if again or failed or expired:
        log.info(
            "prepared files: %d queued again, %d failed, %d deleted",
            len(again),
            failed,
            len(expired),
        )
    return len(again), failed, len(expired)


@jobs.periodic(REAP_JOB)
def reap_job() -> None:
    reap()


def error_text(file: PreparedFile) -> str:
    """Why the file failed: what stood in the way, if the builder said, then the reason."""
    reason = str(ERRORS.get(file.error, ERRORS["build"]))
    return f"{file.summary} {reason}" if file.summary else reason


def retried_by_link(file: PreparedFile) -> bool:
    return file.kind in RETRY_BY_LINK
