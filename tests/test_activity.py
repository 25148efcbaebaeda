"""Issue 26, part 1: a KIM's activity reports from the village, through the pages. The pengurus
reports with photos (cleaned, light, sent once however often the phone tries); the operator of
the area reviews; the KIM's people are told of a fix; the public profile shows only what was
accepted and chosen for it."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from kim_app.activity.models import ActivityPhoto, ActivityReport, ReportStatus
from kim_app.activity.operations import PHOTO_BUDGET, photo_path
from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.groups.models import KimStatus
from kim_app.notices.models import Notice, NoticeKind
from tests.budget import PAGE_BUDGET, counted_queries, page_weight
from tests.conftest import MAJALENGKA_VILLAGE, PPU, PPU_VILLAGE, html_of
from tests.helpers import image_bytes, phone_photo

WEIGHED = {
    "activity.kim_reports_view",
    "activity.new",
    "activity.report",
    "activity.edit",
    "activity.queue",
}
NOT_PAGES = {"activity.photo", "activity.public_photo"}


def form_values(client, path: str) -> dict:
    page = html_of(client.get(path))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    client_id = re.search(r'name="client_id"[^>]*value="([^"]+)"', page)
    return {"csrf_token": token, "client_id": client_id[1] if client_id else ""}


def post_report(client, path: str, fields: dict, photos=(), form_page: str | None = None):
    """POST the report form as a phone does: multipart, the photos as ``foto``."""
    values = MultiDict(form_values(client, form_page or path))
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            values.add(key, item)
    for n, data in enumerate(photos):
        values.add(
            "foto", FileStorage(io.BytesIO(data), f"foto-{n}.jpg", content_type="image/jpeg")
        )
    boundary, body = encode_multipart(values)
    return client.post(
        path, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    ), values


REPORT = {
    "kind": "hoaks",
    "done_on": "2026-12-01",
    "text": "Klarifikasi kabar bantuan palsu di grup RT 03.",
    "channels": ["whatsapp", "pertemuan"],
    "reach": "120",
}


def reports(app) -> list[ActivityReport]:
    with app.app_context():
        return list(db.session.scalars(sa.select(ActivityReport).order_by(ActivityReport.id)))


def pengurus_of(make_user, login, kim):
    user = make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id)
    login(user)
    return user


def test_a_phone_photo_is_kept_light_and_without_its_place(app, client, make_kim, make_user, login):
    """A 6 MB phone JPEG with GPS data is kept at most 200 KB, upright, with no EXIF at all; its
    place is kept as data only when the reporter asks, and shown to no one in public."""
    kim = make_kim()
    pengurus_of(make_user, login, kim)
    original = phone_photo()
    assert len(original) > 5_500_000
    path = f"/kim/{kim.id}/aktivitas/baru"
    response, _values = post_report(client, path, REPORT, [original])
    assert response.status_code == 303, html_of(response)
    response, _values = post_report(client, path, {**REPORT, "keep_location": "y"}, [original])
    assert response.status_code == 303
    with app.app_context():
        photos = db.session.scalars(sa.select(ActivityPhoto).order_by(ActivityPhoto.id)).all()
        for photo in photos:
            stored = photo_path(photo).read_bytes()
            assert len(stored) <= PHOTO_BUDGET == 200 * 1024
            assert photo.size == len(stored)
            with Image.open(io.BytesIO(stored)) as image:
                assert max(image.size) <= 1280
                assert not image.getexif()
                assert "exif" not in image.info
            assert b"KameraRahasia" not in stored
        assert (photos[0].latitude, photos[0].longitude) == (None, None)
        assert (photos[1].latitude, photos[1].longitude) == (-1.291667, 116.833333)


def test_a_fake_image_and_too_many_photos_are_refused_clearly(
    app, client, make_kim, make_user, login
):
    """A file named .jpg that is not an image, a truncated JPEG and a fourth photo are refused
    with a message in the person's language; the report's text comes back and nothing is
    stored."""
    kim = make_kim()
    pengurus_of(make_user, login, kim)
    path = f"/kim/{kim.id}/aktivitas/baru"
    fake = b"<?php system($_GET['x']); ?>" + b"\x00" * 500
    response, _values = post_report(client, path, REPORT, [fake])
    assert response.status_code == 422
    page = html_of(response)
    assert "bukan foto JPEG atau PNG" in page
    assert "Klarifikasi kabar bantuan palsu" in page
    broken = image_bytes("JPEG", (800, 600))[:400]
    response, _values = post_report(client, path, REPORT, [broken])
    assert response.status_code == 422
    assert "Foto tidak dapat dibaca" in html_of(response)
    small = image_bytes("JPEG", (64, 48))
    response, _values = post_report(client, path, REPORT, [small] * 4)
    assert response.status_code == 422
    assert "Paling banyak 3 foto" in html_of(response)
    with client.session_transaction() as session:
        session["lang"] = "en"
    response, _values = post_report(client, path, REPORT, [fake])
    assert "is not a JPEG or PNG photo" in html_of(response)
    assert reports(app) == []


def test_bad_values_get_a_clear_error_and_keep_the_rest(app, client, make_kim, make_user, login):
    """A malformed number, a year 9999, a date after today, an unknown kind or channel, a link
    that is not a web address, a social-media report without its link: each a message on its
    field, status 422, nothing stored."""
    kim = make_kim()
    pengurus_of(make_user, login, kim)
    path = f"/kim/{kim.id}/aktivitas/baru"
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    cases = [
        ({"reach": "12a"}, "Tuliskan angka saja."),
        ({"reach": "99999999999"}, "Jumlah orang tidak masuk akal."),
        ({"done_on": "9999-01-01"}, "Tanggal harus antara tahun 2000 dan 2100."),
        ({"done_on": tomorrow}, "tidak boleh setelah hari ini"),
        ({"kind": "rahasia"}, "Pilihan tidak valid."),
        ({"channels": ["whatsapp", "telepati"]}, "Pilihan tidak valid."),
        ({"link": "javascript:alert(1)"}, "diawali http:// atau https://"),
        ({"channels": ["medsos"], "link": ""}, "Tulis tautan unggahan media sosialnya."),
        ({"text": ""}, "Wajib diisi."),
    ]
    for change, message in cases:
        response, _values = post_report(client, path, {**REPORT, **change})
        assert response.status_code == 422, change
        assert message in html_of(response), change
    assert reports(app) == []


def test_the_same_report_sent_twice_is_stored_once(app, client, make_kim, make_user, login):
    """The outbox's second try (or a double tap) with the same form id stores nothing new and
    leads to the report already sent."""
    kim = make_kim()
    pengurus_of(make_user, login, kim)
    path = f"/kim/{kim.id}/aktivitas/baru"
    first, values = post_report(client, path, REPORT, [image_bytes("JPEG", (640, 480))])
    assert first.status_code == 303
    boundary, body = encode_multipart(values)
    again = client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    stored = reports(app)
    assert len(stored) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityPhoto)) == 1
    assert "sudah terkirim sebelumnya" in html_of(client.get(again.headers["Location"]))


def test_only_a_verified_kim_reports_and_only_its_own_people(
    app, client, make_kim, make_user, login
):
    """A draft KIM's page does not offer the form (it says why); a pengurus of another KIM and a
    village head of another village get 404; an operator of another regency 404, of its own
    regency 200 (a report that came by WhatsApp); a petugas absensi 403."""
    draft = make_kim(status=KimStatus.DRAFT)
    mine = make_kim()
    other = make_kim(village=MAJALENGKA_VILLAGE)
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    login(head)
    response = client.get(f"/kim/{draft.id}/aktivitas/baru")
    assert response.status_code == 303
    assert "terverifikasi" in html_of(client.get(response.headers["Location"]))
    assert client.get(f"/kim/{other.id}/aktivitas/baru").status_code == 404
    assert client.get(f"/kim/{mine.id}/aktivitas/baru").status_code == 200
    login(make_user(Role.PENGURUS_KIM, MAJALENGKA_VILLAGE, kim_id=other.id))
    assert client.get(f"/kim/{mine.id}/aktivitas/baru").status_code == 404
    login(make_user(Role.OPERATOR_KABKOTA, "32.10"))
    assert client.get(f"/kim/{mine.id}/aktivitas/baru").status_code == 404
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    assert client.get(f"/kim/{mine.id}/aktivitas/baru").status_code == 200
    login(make_user(Role.PETUGAS_ABSENSI, PPU))
    assert client.get(f"/kim/{mine.id}/aktivitas/baru").status_code == 403


def test_review_fix_resend_accept_and_the_public_profile(app, client, make_kim, make_user, login):
    """The operator asks for a fix with a note (the KIM's people get a WhatsApp hand-off with it
    and a to-do on their home page), the pengurus fixes it and it waits again, the operator
    accepts it; the public profile shows accepted reports of the kinds the KIM chose, never a
    waiting, returned or hidden one, nor the reporter's name."""
    kim = make_kim()
    pengurus = pengurus_of(make_user, login, kim)
    path = f"/kim/{kim.id}/aktivitas/baru"
    post_report(client, path, REPORT, [image_bytes("JPEG", (640, 480))])
    post_report(client, path, {**REPORT, "kind": "aspirasi", "text": "Usulan lampu jalan."})
    post_report(client, path, {**REPORT, "kind": "informasi", "text": "Info vaksin balita."})
    hoaks, aspirasi, informasi = (r.id for r in reports(app))
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(operator)
    home = html_of(client.get("/"))
    assert "3 laporan kegiatan KIM menunggu tinjauan" in home
    queue = html_of(client.get("/aktivitas"))
    assert "Klarifikasi hoaks" in queue and kim.name in queue
    review = f"/kim/{kim.id}/aktivitas/{hoaks}/tinjau"
    form_page = f"/kim/{kim.id}/aktivitas/{hoaks}"
    refused = client.submit(review, {"status": "perlu_perbaikan", "note": ""}, form_page=form_page)
    assert refused.status_code == 422
    assert "Tulis apa yang perlu diperbaiki." in html_of(refused)
    note = "Foto tidak menunjukkan kegiatan; tambahkan foto pertemuan."
    done = client.submit(review, {"status": "perlu_perbaikan", "note": note}, form_page=form_page)
    assert done.status_code == 303
    for report_id, status in ((aspirasi, "diterima"), (informasi, "disembunyikan")):
        client.submit(
            f"/kim/{kim.id}/aktivitas/{report_id}/tinjau",
            {"status": status, "note": "Bukan kegiatan KIM." if status != "diterima" else ""},
            form_page=f"/kim/{kim.id}/aktivitas/{report_id}",
        )
    with app.app_context():
        told = db.session.scalars(
            sa.select(Notice).where(Notice.kind == NoticeKind.AKTIVITAS_PERBAIKAN)
        ).all()
        assert {n.user_id for n in told if n.user_id} == {pengurus.id}
        assert any(n.phone for n in told)  # the ketua, by WhatsApp
        assert all(note in n.text and f"/aktivitas/{hoaks}/ubah" in n.text for n in told)

    login(pengurus)
    home = html_of(client.get("/"))
    assert "dikembalikan untuk diperbaiki" in home and note in home
    edit = f"/kim/{kim.id}/aktivitas/{hoaks}/ubah"
    fixed, _values = post_report(client, edit, {**REPORT, "text": "Klarifikasi, dengan foto."})
    assert fixed.status_code == 303
    assert "Perbaikan terkirim" in html_of(client.get(fixed.headers["Location"]))
    assert {r.id: r.status for r in reports(app)}[hoaks] is ReportStatus.DIKIRIM

    login(operator)
    client.submit(review, {"status": "diterima", "note": ""}, form_page=form_page)
    client.get("/logout")
    with client.session_transaction() as session:
        session.clear()
    public = html_of(client.get(f"/direktori/{kim.id}"))
    assert "Klarifikasi, dengan foto." in public
    assert "Usulan lampu jalan." not in public  # aspirations are not shown unless chosen
    assert "Info vaksin balita." not in public  # hidden
    assert pengurus.name not in public
    photo = re.search(r'src="(/direktori/\d+/aktivitas/\d+/foto/\d+\?ukuran=kecil)"', public)[1]
    assert client.get(photo).headers["Content-Type"] == "image/jpeg"
    # the KIM chooses aspirations too; the hidden one stays hidden
    login(pengurus)
    client.submit(
        f"/kim/{kim.id}/aktivitas/publik",
        {"kinds": ["hoaks", "aspirasi", "informasi"]},
        form_page=f"/kim/{kim.id}/aktivitas",
    )
    with client.session_transaction() as session:
        session.clear()
    public = html_of(client.get(f"/direktori/{kim.id}"))
    assert "Usulan lampu jalan." in public and "Info vaksin balita." not in public


def test_a_reviewed_report_stays_as_it_was_reviewed(app, client, make_kim, make_user, login):
    """An accepted report cannot be changed or deleted by the KIM; a waiting one can be taken
    back, with its photo files."""
    kim = make_kim()
    pengurus = pengurus_of(make_user, login, kim)
    path = f"/kim/{kim.id}/aktivitas/baru"
    post_report(client, path, REPORT, [image_bytes("JPEG", (640, 480))])
    post_report(client, path, REPORT)
    accepted, waiting = (r.id for r in reports(app))
    with app.app_context():
        files = [photo_path(p) for p in db.session.scalars(sa.select(ActivityPhoto))]
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    client.submit(
        f"/kim/{kim.id}/aktivitas/{accepted}/tinjau",
        {"status": "diterima"},
        form_page=f"/kim/{kim.id}/aktivitas/{accepted}",
    )
    login(pengurus)
    response, _values = post_report(
        client,
        f"/kim/{kim.id}/aktivitas/{accepted}/ubah",
        REPORT,
        form_page=f"/kim/{kim.id}/aktivitas/{waiting}/ubah",
    )
    assert response.status_code == 303
    assert "sudah ditinjau" in html_of(client.get(response.headers["Location"]))
    gone = client.submit(
        f"/kim/{kim.id}/aktivitas/{accepted}/hapus", form_page=f"/kim/{kim.id}/aktivitas/{accepted}"
    )
    assert "belum ditinjau" in html_of(client.get(gone.headers["Location"]))
    assert len(reports(app)) == 2
    client.submit(
        f"/kim/{kim.id}/aktivitas/{waiting}/hapus", form_page=f"/kim/{kim.id}/aktivitas/{waiting}"
    )
    assert [r.id for r in reports(app)] == [accepted]
    assert all(f.is_file() for f in files)  # the accepted report's photo stays


def test_pages_fit_the_budget_and_lists_do_not_grow_queries(
    app, client, make_kim, make_user, login
):
    """Every page of the reports fits 14 KB compressed; the KIM's list and the operator's list ask
    the same number of queries for 2 reports as for 12."""
    kim = make_kim()
    pengurus = pengurus_of(make_user, login, kim)
    path = f"/kim/{kim.id}/aktivitas/baru"

    def count(url: str) -> int:
        with counted_queries(app) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    for _n in range(2):
        post_report(client, path, REPORT, [image_bytes("JPEG", (320, 240))])
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    before = count(f"/kim/{kim.id}/aktivitas")
    login(operator)
    before_queue = count("/aktivitas?status=semua")
    login(pengurus)
    for _n in range(10):
        post_report(client, path, REPORT, [image_bytes("JPEG", (320, 240))])
    assert count(f"/kim/{kim.id}/aktivitas") == before
    first = reports(app)[0].id
    for url in (
        path,
        f"/kim/{kim.id}/aktivitas",
        f"/kim/{kim.id}/aktivitas/{first}",
        f"/kim/{kim.id}/aktivitas/{first}/ubah",
    ):
        response = client.get(url)
        assert page_weight(response) <= PAGE_BUDGET, (url, page_weight(response))
    login(operator)
    assert count("/aktivitas?status=semua") == before_queue
    for url in ("/aktivitas", f"/kim/{kim.id}/aktivitas/{first}"):
        assert page_weight(client.get(url)) <= PAGE_BUDGET, url
