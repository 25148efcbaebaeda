"""A national event on the national dataset (issue 24): 1,000 registered people over two days,
the roll call under load from 10 phones at once, then — the event over — every certificate,
the certificates one per person, and the daftar hadir of every session made by the job worker,
while the operator's page that asked for them polls their progress.

``python -m bench.bigevent`` (``make bench`` runs it after the load). It serves the app with
gunicorn as ``bench.load`` does, beside the real worker (``flask kim worker``) on a queue file
of its own, and reports: the taps' throughput and latency; for each file the time of the request
that asked for it, the job's time (from the request to the file ready), and the latency of every
poll of its progress while the worker made it. The event (code ``FORUMNAS``) is added to the
dataset on the first run and set back to its start on each.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench import data
from bench.load import (
    LUA,
    OUT,
    ROOT,
    SECRET_KEY,
    BenchError,
    Browser,
    Gunicorn,
    csrf_token,
    default_workers,
    ensure_wrk,
    percentile,
    sign_in,
)

CODE = "FORUMNAS"
PEOPLE = 1_000
PHONES = 10  # wrk connections: the phones taking the roll call at once
TAP_SECONDS = 15
POLL_EVERY = 0.5
RESULTS = OUT / "bigevent-results.json"
DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:bigevent:start", "<!-- bench:bigevent:end -->"


@dataclass
class FileRun:
    what: str
    path: str
    ask_ms: float  # the request that asked for the file
    job_seconds: float  # from that request to the file ready (the worker's queue and run)
    polls: list[float] = field(default_factory=list)  # each progress poll's latency, ms
    server_polls: list[int] = field(default_factory=list)  # the same, as gunicorn logged them
    size: int = 0

    @property
    def poll_p95(self) -> float | None:
        return percentile([round(p) for p in self.polls], 0.95)


# --- the event ------------------------------------------------------------------------------------


def _app():
    from kim_app import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": data.NATIONAL_URI, "SECRET_KEY": SECRET_KEY, "TESTING": False}
    )


def prepare_event() -> tuple[int, list[int], list[int]]:
    """The event with its 1,000 people (made once), set back to its start: the first day's
    first session running now, no attendance, no certificate. Returns (event id, session ids,
    registration ids)."""
    from kim_app.attendance.models import Attendance, AttendanceMark, Certificate
    from kim_app.auth.models import User
    from kim_app.events.models import (
        Event,
        EventKind,
        EventSession,
        EventStatus,
        Registration,
        RegistrationMode,
    )
    from kim_app.events.operations import local_now
    from kim_app.extensions import db

    app = _app()
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.code == CODE))
        operator = db.session.scalar(sa.select(User).where(User.email == "ppu@bench.example"))
        if event is None:
            event = Event(
                code=CODE,
                kind=EventKind.FORUM_KEMITRAAN,
                title="Forum KIM Nasional (bench)",
                organiser="Kementerian Komunikasi dan Digital",
                region_code=data.REGENCY_CODE,
                timezone="Asia/Makassar",
                venue_name="Gedung Serbaguna",
                registration_mode=RegistrationMode.UNDANGAN,
                status=EventStatus.BERLANGSUNG,
                starts_on=date.today(),
                certificate_min_percent=50,
                signer_name="Drs. Bench Penandatangan",
                signer_position="Kepala Dinas",
                signer_nip="197001012000031001",
                created_by_id=operator.id,
            )
            db.session.add(event)
            db.session.flush()
            for day in range(2):
                for hour in (0, 4):
                    db.session.add(
                        EventSession(
                            event_id=event.id,
                            starts_at=datetime.now(),
                            ends_at=datetime.now(),
                            topic=f"Hari {day + 1}, sesi {hour // 4 + 1}",
                        )
                    )
            db.session.flush()
            db.session.execute(
                sa.insert(Registration),
                [
                    {
                        "event_id": event.id,
                        "name": f"Peserta Forum {i:04d}",
                        "institution": f"KIM Nusantara {i % 97:02d}",
                        "position": "Anggota",
                        "gender": "P" if i % 2 else "L",
                        "phone": f"+62819{event.id % 1000:03d}{i:05d}",
                        "source": "impor",
                        "status": "terdaftar",
                        "ticket": secrets.token_urlsafe(18),
                        "checkin_code": f"{i:08d}".translate(
                            str.maketrans("0123456789", "ACDEFGHJKL")
                        ),
                    }
                    for i in range(PEOPLE)
                ],
            )
            db.session.commit()
        event = db.session.get(Event, event.id)
        sessions = list(event.sessions)
        ids = list(
            db.session.scalars(
                sa.select(Registration.id)
                .where(Registration.event_id == event.id)
                .order_by(Registration.id)
            )
        )
        session_ids = [s.id for s in sessions]
        # back to the start: nothing marked, no certificate, the first session running now
        db.session.execute(sa.delete(Certificate).where(Certificate.event_id == event.id))
        db.session.execute(
            sa.delete(AttendanceMark).where(AttendanceMark.session_id.in_(session_ids))
        )
        db.session.execute(sa.delete(Attendance).where(Attendance.session_id.in_(session_ids)))
        now = local_now(event).replace(second=0, microsecond=0)
        for n, session in enumerate(sessions):
            day, slot = divmod(n, 2)
            session.starts_at = now - timedelta(minutes=30) + timedelta(days=day, hours=4 * slot)
            session.ends_at = session.starts_at + timedelta(hours=3)
        event.status = EventStatus.BERLANGSUNG
        db.session.commit()  # the tallies' triggers follow the deleted marks
        return event.id, session_ids, ids


def end_event(event_id: int, ids: list[int]) -> int:
    """The event over: its sessions moved a week back, every person present in three of the
    four, certificates issued through the app's own operation. Returns how many."""
    from kim_app.attendance.certificates.operations import issue_certificates
    from kim_app.attendance.models import Attendance
    from kim_app.events.models import Event, EventStatus
    from kim_app.extensions import db

    app = _app()
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        sessions = list(event.sessions)
        db.session.execute(
            sa.delete(Attendance).where(Attendance.session_id.in_([s.id for s in sessions]))
        )
        for session in sessions:
            session.starts_at -= timedelta(days=7)
            session.ends_at -= timedelta(days=7)
        event.status = EventStatus.SELESAI
        marked = datetime.utcnow() - timedelta(days=7)
        db.session.execute(
            sa.insert(Attendance),
            [
                {
                    "registration_id": rid,
                    "session_id": s.id,
                    "status": "hadir",
                    "method": "roll_call",
                    "marked_at": marked,
                }
                for rid in ids
                for n, s in enumerate(sessions)
                if n != rid % 4
            ],
        )
        db.session.flush()
        issued = issue_certificates(event, None)
        db.session.commit()
        return issued.issued


# --- the run --------------------------------------------------------------------------------------


class Worker:
    """``flask kim worker`` on the national dataset and the bench's queue file."""

    def __init__(self, env: dict[str, str], log: Path):
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "kim", "worker", "--workers", "1"],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(2)  # SIGINT: let a running job finish
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()


def roll_call(wrk: str, server: Gunicorn, session_id: int, ids: list[int]) -> dict:
    """``PHONES`` phones tapping the roll call of the running session for ``TAP_SECONDS``."""
    browser = sign_in(server.base)
    page = browser.get(f"/absensi/sesi/{session_id}")
    if page.status != 200:
        raise BenchError(f"the roll call of session {session_id} answered {page.status}")
    token = csrf_token(page.text, "roll call")
    since = server.log_size()
    path = f"/absensi/sesi/{session_id}/tandai"
    command = [
        wrk, "-t2", f"-c{PHONES}", f"-d{TAP_SECONDS}s", "--latency", "-s", str(LUA / "tap.lua"),
        "-H", f"Cookie: {browser.cookie_header()}", server.base + path,
        "--", "200", token, str(int(time.time())), "2", ",".join(map(str, ids)),
    ]  # fmt: skip
    out = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "BENCH_LUA_DIR": str(LUA)}
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    wrong = re.search(r"unexpected status: (\d+)", out)
    if rate is None or wrong:
        raise BenchError(f"wrk on the roll call: {out[-800:]}")
    times = server.server_times(since, path)
    return {
        "phones": PHONES,
        "seconds": TAP_SECONDS,
        "taps": len(times),
        "req_s": float(rate.group(1)),
        "server_p50": percentile(times, 0.5),
        "server_p95": percentile(times, 0.95),
        "server_max": max(times) if times else None,
    }


def make_file(server: Gunicorn, browser: Browser, what: str, path: str) -> FileRun:
    """Ask for the file as the page's button does, then poll its progress page until it is
    ready, timing each request."""
    offer = browser.get(path)
    if offer.status != 200 or "Siapkan berkas" not in offer.text:
        raise BenchError(f"{path} offered no Siapkan berkas button ({offer.status})")
    token = csrf_token(offer.text, path)
    since = server.log_size()
    started = time.perf_counter()
    asked = browser.request("POST", path, data={"csrf_token": token})
    ask_ms = (time.perf_counter() - started) * 1000
    if asked.status != 303:
        raise BenchError(f"asking for {path} answered {asked.status}")
    status = asked.headers["Location"]
    run = FileRun(what, path, ask_ms, 0.0)
    headers = {"HX-Request": "true", "HX-Request-Type": "partial"}
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        time.sleep(POLL_EVERY)
        polled = time.perf_counter()
        answer = browser.request("GET", status, headers=headers)
        run.polls.append((time.perf_counter() - polled) * 1000)
        if answer.status != 200:
            raise BenchError(f"polling {status} answered {answer.status}")
        if "gagal" in answer.text and "flash error" in answer.text:
            raise BenchError(f"{what} failed on the worker: {answer.text[:300]}")
        if "hx-trigger" not in answer.text:  # ready: the fragment stops polling
            run.job_seconds = time.perf_counter() - started
            break
    else:
        raise BenchError(f"{what} was not ready after 15 minutes")
    download = browser.get(status + "/unduh")
    if download.status != 200:
        raise BenchError(f"downloading {what} answered {download.status}")
    run.size = int(download.headers.get("Content-Length") or 0)
    run.server_polls = server.server_times(since, status)
    return run


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    data.ensure_national()
    wrk = ensure_wrk()
    event_id, sessions, ids = prepare_event()
    queue = OUT / "bigevent-jobs.sqlite3"
    queue.unlink(missing_ok=True)
    env = {
        "DATABASE_URL": data.NATIONAL_URL,
        "SECRET_KEY": SECRET_KEY,
        "KIM_QUEUE_URL": f"sqlite:///{queue}",
        "KIM_UPLOAD_FOLDER": str(OUT / "uploads"),
    }
    results: dict = {"event": CODE, "people": len(ids), "sessions": len(sessions)}
    os.environ.update(env)  # gunicorn takes the queue and the folder from the environment
    with Gunicorn(
        "wsgi:app", data.NATIONAL_URL, default_workers(), OUT / "bigevent-access.log"
    ) as server:
        print(
            f"roll call: {PHONES} phones for {TAP_SECONDS} s on session {sessions[0]}", flush=True
        )
        results["roll_call"] = roll_call(wrk, server, sessions[0], ids)
        print(f"  {results['roll_call']}", flush=True)
        started = time.perf_counter()
        results["issued"] = end_event(event_id, ids)
        results["issue_seconds"] = round(time.perf_counter() - started, 1)
        worker = Worker(env, OUT / "bigevent-worker.log")
        try:
            browser = sign_in(server.base)
            runs = []
            for what, path in (
                ("certificates, one PDF", f"/absensi/kegiatan/{event_id}/sertifikat.pdf"),
                (
                    "certificates, ZIP of one PDF each",
                    f"/absensi/kegiatan/{event_id}/sertifikat.zip",
                ),
                ("daftar hadir of every session", f"/absensi/kegiatan/{event_id}/daftar-hadir.pdf"),
            ):
                run = make_file(server, browser, what, path)
                print(
                    f"  {what}: asked in {run.ask_ms:.0f} ms, ready after {run.job_seconds:.1f} s, "
                    f"polls p95 {run.poll_p95} ms (server {percentile(run.server_polls, 0.95)} "
                    f"ms), {run.size:,} B",
                    flush=True,
                )
                runs.append(run)
        finally:
            worker.stop()
    results["files"] = [
        asdict(r)
        | {
            "poll_p95": r.poll_p95,
            "poll_max": max(r.polls),
            "server_p95": percentile(r.server_polls, 0.95),
            "server_max": max(r.server_polls),
        }
        for r in runs
    ]
    results["measured_at"] = datetime.now().isoformat(timespec="seconds")
    RESULTS.write_text(json.dumps(results, indent=1))
    write_docs(results)
    return 0


def write_docs(results: dict) -> None:
    """The section between the bigevent markers of docs/benchmarks.md."""
    tap = results["roll_call"]
    lines = [
        f"{START} (written by python -m bench.bigevent; edits here are replaced) -->",
        "## A national event on the worker",
        "",
        f"{results['measured_at']}, national dataset; event {results['event']}: {results['people']:,} registered people, "
        f"{results['sessions']} sessions over two days; gunicorn {default_workers()} sync workers and one job worker "
        "(`flask kim worker --workers 1`) on loopback.",
        "",
        f"- Roll call from {tap['phones']} phones at once for {tap['seconds']} s: {tap['taps']:,} taps, "
        f"{tap['req_s']:.0f} taps/s, server p50 {tap['server_p50']} ms, p95 {tap['server_p95']} ms, max {tap['server_max']} ms.",
        f"- Certificates issued after the event (the app's operation, in-process): {results['issued']:,} in {results['issue_seconds']} s.",
        "",
        "| file | asking (ms) | ready after (s) | progress polls | poll p95 / max, client (ms) | "
        "**poll p95** / max, server (ms) | size (B) |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for run in results["files"]:
        lines.append(
            f"| {run['what']} | {run['ask_ms']:.0f} | {run['job_seconds']:.1f} | {len(run['polls'])} | "
            f"{run['poll_p95']:.0f} / {run['poll_max']:.0f} | "
            f"**{run['server_p95']:.0f}** / {run['server_max']} | {run['size']:,} |"
        )
    lines += [
        "",
        '*asking*: the POST of the page\'s "Siapkan berkas" button, measured by the client; '
        "*ready after*: from that request until the progress fragment (polled every "
        f"{POLL_EVERY} s as htmx does, also measured by the client) says the file is ready; "
        "*server*: the polls' times as gunicorn logged them (`%(M)s`). The worker and gunicorn "
        "share the machine's two cores while the file is made.",
        END,
    ]
    text = DOCS.read_text()
    block = "\n".join(lines)
    if START in text:
        before, rest = text.split(START, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOCS.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
