"""Prepared files (issue 24): documents too big for a request are made by the job worker, with
a progress page that refreshes itself without JavaScript and a fragment htmx polls, kept a day.
The same builder makes the small ones at once, so both give the same bytes; a worker that dies
mid-run is replaced and its file made again, or marked failed, never left "running"."""

from __future__ import annotations

import io
import signal
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from kim_app import create_app
from kim_app.attendance.certificates import routes as certificate_views
from kim_app.attendance.models import Certificate
from kim_app.auth.models import Role
from kim_app.events.models import EventSession
from kim_app.extensions import db
from kim_app.files import operations
from kim_app.files.models import FileStatus, PreparedFile
from kim_app.files.operations import MAX_ACTIVE, reap
from kim_app.notices.models import Notice
from kim_app.timezones import utcnow
from tests.budget import FRAGMENT_BUDGET, PAGE_BUDGET, page_weight
from tests.conftest import Client, html_of
from tests.helpers import certificate_text, pdf_pages, pdf_text, run_jobs
from tests.scenes import attending_people, bulk, cert_event, issue
from tests.servers import start_worker, wait_for

SCOPE_CHECKED = {"files.status", "files.download", "attendance.certificates_zip"}
WEIGHED = {"files.index", "files.status"}
NOT_PAGES = {"files.download", "attendance.certificates_zip", "attendance.all_lists_pdf"}


@pytest.fixture
def certified(app, make_event):
    """An event whose three people each hold a certificate."""
    event = cert_event(app, make_event, title="Pelatihan Berkas Besar")
    attending_people(app, event.id, [4, 3, 2])
    issue(app, event.id)
    return event


@pytest.fixture
def through_worker(app, monkeypatch):
    """Every document goes to the worker, however small."""
    monkeypatch.setitem(app.config, "KIM_FILES_AT_ONCE_MAX", 0)


def files_of(app) -> list[PreparedFile]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(PreparedFile).order_by(PreparedFile.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def ask(client, url: str) -> str:
    """Press "Siapkan berkas" on the document's page: the progress page's address."""
    offer = client.get(url)
    assert offer.status_code == 200 and "Siapkan berkas" in html_of(offer)
    asked = client.submit(url, {})
    assert asked.status_code == 303, html_of(asked)[:500]
    return asked.headers["Location"]


def download(client, status: str) -> bytes:
    response = client.get(status + "/unduh")
    assert response.status_code == 200, response.status_code
    assert "no-store" in response.headers["Cache-Control"]
    data = response.get_data()
    response.close()
    return data


# --- the same bytes at once and from the worker --------------------------------------------------


def documents(app, event) -> dict[str, str]:
    with app.app_context():
        session = db.session.scalar(
            sa.select(EventSession.id)
            .where(EventSession.event_id == event.id)
            .order_by(EventSession.starts_at)
        )
    return {
        "certificates pdf": f"/absensi/kegiatan/{event.id}/sertifikat.pdf",
        "certificates zip": f"/absensi/kegiatan/{event.id}/sertifikat.zip",
        "daftar hadir": f"/absensi/sesi/{session}/daftar-hadir.pdf",
        "blank daftar hadir": f"/absensi/sesi/{session}/daftar-hadir-kosong.pdf",
        "every session": f"/absensi/kegiatan/{event.id}/daftar-hadir.pdf",
        "in English": f"/absensi/kegiatan/{event.id}/daftar-hadir.pdf?bahasa=en",
        "laporan pdf": f"/kegiatan/{event.id}/laporan.pdf",
        "laporan docx": f"/kegiatan/{event.id}/laporan.docx",
        "registry xlsx": "/kim/ekspor.xlsx",
        "members csv": "/kim/anggota/ekspor.csv",
        "participants xlsx": f"/kegiatan/{event.id}/peserta/ekspor.xlsx?status=terdaftar",
    }


# the documents that print the moment they were asked for
DATED = {"daftar hadir", "blank daftar hadir", "every session", "laporan pdf"}


@pytest.mark.parametrize(
    "name",
    [
        "certificates pdf",
        "certificates zip",
        "daftar hadir",
        "blank daftar hadir",
        "every session",
        "in English",
        "laporan pdf",
        "laporan docx",
        "registry xlsx",
        "members csv",
        "participants xlsx",
    ],
)
def test_the_worker_makes_the_same_bytes_as_the_request(
    app, client, operator, certified, make_kim, monkeypatch, name
):
    """A small event's document, made at once and then by the worker: the same bytes. (The
    daftar hadir prints the minute it was asked for: both are asked within one minute.)"""
    url = documents(app, certified)[name]
    make_kim(name="KIM Berkas Jaya")  # with its officers: rows for the registry exports
    for _try in range(3):
        minute = utcnow().replace(second=0, microsecond=0)
        at_once = client.get(url)
        assert at_once.status_code == 200, at_once.status_code
        monkeypatch.setitem(app.config, "KIM_FILES_AT_ONCE_MAX", 0)
        status = ask(client, url)
        assert run_jobs(app) >= 1
        made = download(client, status)
        monkeypatch.setitem(app.config, "KIM_FILES_AT_ONCE_MAX", 100_000)
        if utcnow().replace(second=0, microsecond=0) == minute:
            break
    assert made == at_once.data
    assert made[:4] in (b"%PDF", b"PK\x03\x04", "\ufeffN".encode())  # PDF, ZIP, CSV (BOM, "No")
    if name in DATED:
        assert "Dicetak" in pdf_text(made) or "Printed" in pdf_text(made)


def test_certificates_zip_holds_one_pdf_per_person_named_by_person(
    app, client, operator, certified
):
    """One PDF per valid certificate, ``0001 Peserta 1.pdf``, each that person's certificate."""
    response = client.get(f"/absensi/kegiatan/{certified.id}/sertifikat.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        assert names == ["0001 Peserta 1.pdf", "0002 Peserta 2.pdf", "0003 Peserta 3.pdf"]
        for name in names:
            pages, text = certificate_text(archive.read(name))
            assert pages == 1 and name[5:-4] in " ".join(text.split())


def test_every_session_in_one_pdf_each_list_numbered_on_its_own(app, client, operator, certified):
    """Four sessions, four lists in session order, each with "Halaman 1 dari 1"."""
    response = client.get(f"/absensi/kegiatan/{certified.id}/daftar-hadir.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = pdf_pages(response.data)
    assert len(pages) == 4
    for n, page in enumerate(pages, 1):
        text = " ".join(page.extract_text().split())
        assert f"Sesi {n}" in text and "Halaman 1 dari 1" in text


# --- asking, watching, downloading ---------------------------------------------------------------


def test_progress_page_refreshes_without_javascript_and_polls_with_htmx(
    app, client, operator, certified, through_worker, partial_headers
):
    """While the file waits: a page that reloads itself (noscript refresh) and a fragment that
    htmx fetches every two seconds. Once made: no more refresh or polling, a download button
    with the file's name, size and the day it is kept; the list of one's files shows it."""
    status = ask(client, f"/absensi/kegiatan/{certified.id}/sertifikat.pdf")
    waiting = html_of(client.get(status))
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in waiting
    assert "menunggu giliran" in waiting.lower() and "<progress" in waiting
    fragment = client.get(status, headers=partial_headers)
    assert html_of(fragment).lstrip().startswith('<section class="card" id="berkas"')
    assert 'hx-trigger="every 2s"' in html_of(fragment)
    assert run_jobs(app) == 1
    ready = html_of(client.get(status))
    assert "refresh" not in ready and "hx-trigger" not in ready
    assert "Unduh sertifikat-" in ready and "tersimpan sampai" in ready
    assert "hx-trigger" not in html_of(client.get(status, headers=partial_headers))
    listed = html_of(client.get("/berkas"))
    assert "Semua sertifikat (PDF)" in listed and "siap diunduh" in listed
    # told in the account's messages too, with the way back to the file
    with app.app_context():
        notice = db.session.scalar(sa.select(Notice).where(Notice.user_id == operator.id))
        assert notice.subject == f"Berkas siap diunduh: {files_of(app)[0].title}"
        assert notice.link.endswith(status) and notice.phone is None
    assert certificate_text(download(client, status))[0] == 3


def test_an_admins_file_of_the_whole_country_is_told_too(
    app, client, make_user, login, make_kim, through_worker
):
    """A file of the whole country is filed under no area; its owner is told all the same."""
    make_kim(name="KIM Satu Negeri")
    admin = make_user(Role.ADMIN, None)
    login(admin)
    status = ask(client, "/kim/ekspor.xlsx")
    assert files_of(app)[0].region_code is None
    assert run_jobs(app) == 1
    messages = html_of(client.get("/pesan"))
    assert f"Berkas siap diunduh: {files_of(app)[0].title}" in messages
    with app.app_context():
        notice = db.session.scalar(sa.select(Notice).where(Notice.user_id == admin.id))
        assert notice.region_code is None and notice.link.endswith(status)


def test_a_double_tap_joins_the_file_on_its_way(app, client, operator, certified, through_worker):
    """The same document asked twice (a double tap, a second tab) is one file and one job."""
    url = f"/absensi/kegiatan/{certified.id}/sertifikat.pdf"
    first, second = ask(client, url), ask(client, url)
    assert first == second
    assert len(files_of(app)) == 1
    assert run_jobs(app) == 1


def test_one_account_may_have_only_so_many_files_on_their_way(
    app, client, operator, make_event, through_worker
):
    """The sixth file while five wait is refused with a message; nothing is queued for it."""
    urls = []
    for i in range(MAX_ACTIVE + 1):
        event = cert_event(app, make_event, title=f"Kegiatan {i}")
        attending_people(app, event.id, [4])
        issue(app, event.id)
        urls.append(f"/absensi/kegiatan/{event.id}/sertifikat.pdf")
    for url in urls[:MAX_ACTIVE]:
        ask(client, url)
    refused = client.submit(urls[-1], {}, form_page=urls[-1])
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/berkas")
    page = html_of(client.get("/berkas"))
    assert "Masih ada 5 berkas Anda yang sedang disiapkan" in page
    assert len(files_of(app)) == MAX_ACTIVE
    assert run_jobs(app) == MAX_ACTIVE


def test_pages_fit_the_budget(app, client, operator, certified, through_worker, partial_headers):
    """The list of one's files, a file's progress page and the fragment htmx polls."""
    status = ask(client, f"/absensi/kegiatan/{certified.id}/sertifikat.pdf")
    assert page_weight(client.get(status)) <= PAGE_BUDGET
    assert page_weight(client.get(status, headers=partial_headers)) <= FRAGMENT_BUDGET
    run_jobs(app)
    assert page_weight(client.get("/berkas")) <= PAGE_BUDGET


def test_a_failed_build_says_so_and_offers_to_try_again(
    app, client, operator, certified, through_worker, monkeypatch
):
    """A builder that raises: the file is "gagal" with a message for its owner (nothing about
    the error itself), the download goes back to that page, and "Coba lagi" asks anew."""
    url = f"/absensi/kegiatan/{certified.id}/sertifikat.pdf"
    status = ask(client, url)
    real = operations.BUILDERS["sertifikat_pdf"]

    def broken(params, out, progress):
        raise RuntimeError("layout exploded")

    monkeypatch.setitem(operations.BUILDERS, "sertifikat_pdf", broken)
    run_jobs(app)
    page = html_of(client.get(status))
    assert "Berkas gagal disiapkan" in page and "layout exploded" not in page
    assert "Berkas gagal disiapkan: Semua sertifikat (PDF)" in html_of(client.get("/pesan"))
    assert f'action="{url}"' in page and "Coba lagi" in page
    back = client.get(status + "/unduh")
    assert back.status_code == 302 and back.headers["Location"].endswith(status)
    monkeypatch.setitem(operations.BUILDERS, "sertifikat_pdf", real)
    again = client.submit(url, {}, form_page=status)
    assert again.status_code == 303 and again.headers["Location"] != status
    run_jobs(app)
    assert [f.status for f in files_of(app)] == [FileStatus.GAGAL, FileStatus.SELESAI]


def test_a_file_whose_event_went_away_fails_with_that_reason(
    app, client, operator, certified, through_worker
):
    status = ask(client, f"/absensi/kegiatan/{certified.id}/sertifikat.pdf")
    with app.app_context():
        db.session.execute(
            sa.update(Certificate)
            .where(Certificate.event_id == certified.id)
            .values(revoked_at=utcnow())
        )
        db.session.commit()
    run_jobs(app)
    assert "Data untuk berkas ini sudah tidak ada" in html_of(client.get(status))


# --- runs that died, and the day's end -----------------------------------------------------------


def test_reap_queues_a_dead_run_again_fails_it_after_three_and_deletes_old_files(
    app, client, operator, certified, through_worker
):
    """A "berjalan" file whose heartbeat stopped is queued again (and then made); after its
    third run it is marked failed instead; a file past its day is deleted with its bytes."""
    status = ask(client, f"/absensi/kegiatan/{certified.id}/sertifikat.pdf")
    long_ago = utcnow() - timedelta(minutes=10)
    with app.app_context():
        db.session.execute(
            sa.update(PreparedFile).values(
                status=FileStatus.BERJALAN, attempts=1, heartbeat_at=long_ago
            )
        )
        db.session.commit()
    run_jobs(app)  # the job of the first run: the file is not waiting, so it does nothing
    with app.app_context():
        assert reap(60) == (1, 0, 0)
    assert run_jobs(app) == 1
    made = files_of(app)[0]
    assert made.status is FileStatus.SELESAI and made.attempts == 2
    with app.app_context():
        db.session.execute(
            sa.update(PreparedFile).values(
                status=FileStatus.BERJALAN, attempts=3, heartbeat_at=long_ago
            )
        )
        db.session.commit()
        assert reap(60) == (0, 1, 0)
    assert "berhenti beberapa kali" in html_of(client.get(status))
    with app.app_context():
        db.session.execute(
            sa.update(PreparedFile).values(status=FileStatus.SELESAI, expires_at=long_ago)
        )
        db.session.commit()
        path = operations.path_of(db.session.scalar(sa.select(PreparedFile)))
        assert path.is_file()
        assert reap(60) == (0, 0, 1)
        assert not path.exists()
    assert files_of(app) == []
    assert client.get(status).status_code == 404


def test_a_worker_killed_mid_file_is_replaced_and_the_file_made_again(
    app, operator, login, make_event, tmp_path, monkeypatch
):
    """The real worker makes the certificates of 200 people; killed (SIGKILL) once the
    progress has moved, it leaves the file "berjalan". A new worker, started once the
    heartbeat is two seconds old, queues that run again and makes the file: ready, on its
    second run, with the bytes the request itself would make."""
    queue_url = "sqlite:///" + str(tmp_path / "jobs.sqlite3")
    worker_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "KIM_UPLOAD_FOLDER": app.config["KIM_UPLOAD_FOLDER"],
            "KIM_QUEUE_URL": queue_url,
            "KIM_FILES_AT_ONCE_MAX": 0,
        }
    )
    worker_app.test_client_class = Client
    event = cert_event(app, make_event, title="Forum KIM Nasional")
    bulk(app, event.id, 200)
    issue(app, event.id)
    client = login(operator, on=worker_app.test_client())
    url = f"/absensi/kegiatan/{event.id}/sertifikat.pdf"
    status = ask(client, url)
    log = tmp_path / "worker.log"

    def state() -> PreparedFile:
        with worker_app.app_context():
            file = db.session.scalar(sa.select(PreparedFile))
            db.session.expunge(file)
            db.session.remove()
            return file

    first = start_worker(app, {"KIM_QUEUE_URL": queue_url, "KIM_FILES_STALE_SECONDS": "2"}, log)
    try:
        assert wait_for(lambda: 0 < state().done < 200, 120), log.read_text()[-3000:]
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed = state()
        assert killed.status is FileStatus.BERJALAN and killed.attempts == 1
        assert wait_for(lambda: utcnow() - state().heartbeat_at > timedelta(seconds=2.5), 120)
        second = start_worker(
            app, {"KIM_QUEUE_URL": queue_url, "KIM_FILES_STALE_SECONDS": "2"}, log
        )
        try:
            assert wait_for(lambda: state().status is FileStatus.SELESAI, 120), log.read_text()[
                -3000:
            ]
        finally:
            second.send_signal(signal.SIGINT)
            second.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
    made = state()
    assert made.attempts == 2 and made.done == made.total == 200
    data = download(client, status)
    worker_app.config["KIM_FILES_AT_ONCE_MAX"] = 100_000
    monkeypatch.setattr(certificate_views, "AT_ONCE", 200)
    at_once = client.get(url)
    assert data == at_once.data
    pages, text = certificate_text(data)
    assert pages == 200 and "Forum KIM Nasional" in " ".join(text.split())
    with worker_app.app_context():
        db.session.remove()
        db.engine.dispose()
