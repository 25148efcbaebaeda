"""Emails of notices: queued on huey after the request commits, sent by the real worker
(``flask kim worker``, huey's own consumer) to a real SMTP server the suite starts (aiosmtpd)."""

from __future__ import annotations

import email
import signal
import socket
from email.policy import default as default_policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from kim_app import create_app
from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.groups.models import KimStatus
from kim_app.jobs import queue_of
from kim_app.notices.models import Notice
from kim_app.notices.operations import EMAIL_JOB
from tests.conftest import PPU, PPU_VILLAGE, Client
from tests.servers import Inbox, start_worker, wait_for


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on a free local port."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture
def mailing(app, smtp, tmp_path):
    """The app as a deployment with email: the suite's database, SMTP on, its queue a SQLite
    file of its own; and the settings the worker process gets from its environment."""
    port, _inbox = smtp
    queue_url = "sqlite:///" + str(tmp_path / "jobs.sqlite3")
    settings = {
        "KIM_SMTP_HOST": "127.0.0.1",
        "KIM_SMTP_PORT": str(port),
        "KIM_SMTP_SENDER": "kim@diskominfo.example",
        "KIM_QUEUE_URL": queue_url,
    }
    mail_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "KIM_UPLOAD_FOLDER": app.config["KIM_UPLOAD_FOLDER"],
            **settings,
            "KIM_SMTP_PORT": port,
        }
    )
    mail_app.test_client_class = Client
    yield mail_app, settings
    with mail_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_verification_email_is_sent_by_the_worker_after_the_request(
    app, mailing, smtp, make_user, make_kim, login, tmp_path
):
    """The operator verifies a KIM through the page: the answer comes back with nothing sent
    and one job waiting; the worker then delivers the notice to the village head's and the
    pengurus's addresses, and records when."""
    mail_app, settings = mailing
    _port, inbox = smtp
    kim = make_kim(status=KimStatus.DIAJUKAN)
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE, email="kades.sebakung@desa.example")
    pengurus = make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id)
    client = login(make_user(Role.OPERATOR_KABKOTA, PPU), on=mail_app.test_client())
    queue = queue_of(mail_app)
    queue.flush()

    refused = client.submit(f"/kim/{kim.id}/status", {"to": "ditolak"}, form_page=f"/kim/{kim.id}")
    assert refused.status_code == 303 and queue.pending_count() == 0  # rolled back: no job

    response = client.submit(
        f"/kim/{kim.id}/status", {"to": "terverifikasi", "note": ""}, form_page=f"/kim/{kim.id}"
    )
    assert response.status_code == 303
    assert inbox.envelopes == [] and queue.pending_count() == 1
    with mail_app.app_context():
        notices = db.session.scalars(sa.select(Notice).where(Notice.email.is_not(None))).all()
        assert len(notices) == 2 and all(n.emailed_at is None for n in notices)

    worker = start_worker(mail_app, settings, tmp_path / "worker.log")
    try:
        arrived = wait_for(lambda: len(inbox.envelopes) >= 2, 60)
    finally:
        worker.send_signal(signal.SIGINT)  # huey's graceful stop
        worker.wait(timeout=30)
    assert arrived, (tmp_path / "worker.log").read_text()
    assert worker.returncode == 0
    by_recipient = {tuple(e.rcpt_tos): e for e in inbox.envelopes}
    assert set(by_recipient) == {(head.email,), (pengurus.email,)}
    message = email.message_from_bytes(by_recipient[(head.email,)].content, policy=default_policy)
    assert message["To"] == head.email and message["From"] == "KIM <kim@diskominfo.example>"
    assert message["Subject"] == f"{kim.name} terverifikasi"
    body = message.get_content()
    assert body.startswith(f"Yth. {head.name},")
    assert "telah diverifikasi Diskominfo dan kini aktif" in body
    assert f"http://localhost/kim/{kim.id}" in body
    # no email job waits (the worker's scheduler may have queued its minute's periodic jobs
    # if a minute began while it ran; they are not this test's)
    assert EMAIL_JOB not in {task.name for task in queue.pending()}
    with mail_app.app_context():
        assert all(
            n.emailed_at is not None
            for n in db.session.scalars(sa.select(Notice).where(Notice.email.is_not(None)))
        )


def test_without_smtp_nothing_is_queued(app, client, make_user, make_kim, login):
    """Email is off when no SMTP host is set: the notices are made, no job is queued."""
    kim = make_kim(status=KimStatus.DIAJUKAN)
    make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    queue = queue_of(app)
    queue.flush()
    client.submit(f"/kim/{kim.id}/status", {"to": "terverifikasi"}, form_page=f"/kim/{kim.id}")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 2
    assert queue.pending_count() == 0


def test_queue_storage_follows_the_setting(tmp_path):
    """Unset: a SQLite file in instance/; ``sqlite:///…``: that file; ``redis://…``: Redis;
    anything else is refused rather than guessed."""
    from huey import RedisHuey, SqliteHuey

    from kim_app.jobs import make_queue

    default = make_queue("", str(tmp_path))
    assert isinstance(default, SqliteHuey)
    assert default.storage.filename == str(tmp_path / "jobs.sqlite3")
    chosen = make_queue("sqlite:///" + str(tmp_path / "q.db"), str(tmp_path))
    assert chosen.storage.filename == str(tmp_path / "q.db")
    assert isinstance(make_queue("redis://127.0.0.1:6379/3", str(tmp_path)), RedisHuey)
    with pytest.raises(ValueError, match="KIM_QUEUE_URL"):
        make_queue("amqp://somewhere", str(tmp_path))


def test_forgotten_password_link_goes_by_email_and_opens_once(
    app, mailing, smtp, make_user, tmp_path
):
    """'Lupa kata sandi?' with email on: the answer is the same page as without, nothing is sent
    inside the request; the worker emails a one-time link (built by the worker, not stored in
    the queue) that sets a new password and then no longer opens."""
    mail_app, settings = mailing
    _port, inbox = smtp
    user = make_user(Role.KEPALA_DESA, PPU_VILLAGE, email="lupa@desa.example")
    queue = queue_of(mail_app)
    queue.flush()
    visitor = mail_app.test_client()
    answer = visitor.submit("/lupa-kata-sandi", {"email": "LUPA@desa.example "})
    assert answer.status_code == 200 and "Permintaan diterima" in answer.get_data(as_text=True)
    assert inbox.envelopes == [] and queue.pending_count() == 1
    assert b"/akun/" not in b"".join(
        str(task.args).encode() for task in queue.pending()
    )  # only the link's id and the site's address wait in the queue
    worker = start_worker(mail_app, settings, tmp_path / "worker.log")
    try:
        arrived = wait_for(lambda: len(inbox.envelopes) >= 1, 60)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=30)
    assert arrived, (tmp_path / "worker.log").read_text()
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == [user.email]
    message = email.message_from_bytes(envelope.content, policy=default_policy)
    assert message["Subject"] == "Atur ulang kata sandi akun KIM"
    body = message.get_content()
    assert "ini tautan untuk mengganti kata sandi akun KIM Anda" in body
    [link] = [w for w in body.split() if "/akun/" in w]
    path = link.split("localhost", 1)[1]
    owner = mail_app.test_client()
    done = owner.submit(path, {"new": "sandi-baru-2026", "confirm": "sandi-baru-2026"})
    assert done.status_code == 303
    assert owner.get(path).status_code == 404
