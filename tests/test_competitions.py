"""Issue 27, first part: a competition of a regency with categories and rubrics, opened for
entries; a KIM's entry kept as a draft, sent, returned with a note, fixed and found complete; the
public page; what is refused and why."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from kim_app.auth.models import Role
from kim_app.competitions.models import Competition, Entry, EntryStatus, Stage
from kim_app.extensions import db
from kim_app.notices.models import Notice, NoticeKind
from kim_app.timezones import local_today
from tests.budget import PAGE_BUDGET, counted_queries, page_weight
from tests.conftest import MAJALENGKA_VILLAGE, PPU, PPU_OTHER_VILLAGE, PPU_VILLAGE, html_of

WEIGHED = {
    "competitions.index",
    "competitions.new",
    "competitions.edit",
    "competitions.detail",
    "competitions.category_new",
    "competitions.category_edit",
    "competitions.entry_check",
    "competitions.entry",
    "competitions.public",
}


def competition_form(**changes) -> dict:
    today = local_today(PPU)
    return {
        "title": "Lomba KIM Kabupaten PPU 2026",
        "year": str(today.year),
        "description": "Lomba tahunan.",
        "opens_on": (today - timedelta(days=1)).isoformat(),
        "closes_on": (today + timedelta(days=14)).isoformat(),
        **changes,
    }


def rubric(*rows: tuple[str, str, str, str], name="Literasi digital") -> dict:
    fields = {"name": name, "description": "Konten dan pelatihan literasi digital."}
    for n, (criterion, weight, lowest, highest) in enumerate(rows):
        fields |= {
            f"criteria-{n}-name": criterion,
            f"criteria-{n}-weight": weight,
            f"criteria-{n}-lowest": lowest,
            f"criteria-{n}-highest": highest,
        }
    return fields


def only(app) -> Competition:
    with app.app_context():
        [found] = db.session.scalars(sa.select(Competition)).all()
        db.session.expunge(found)
        return found


def open_competition(client, app) -> Competition:
    """A regency competition with one category of two criteria, taking entries."""
    assert client.submit("/lomba/baru", competition_form()).status_code == 303
    competition = only(app)
    path = f"/lomba/{competition.id}/kategori/baru"
    done = client.submit(
        path, rubric(("Dampak", "60", "1", "100"), ("Kreativitas", "40", "1", "100"))
    )
    assert done.status_code == 303
    opened = client.submit(
        f"/lomba/{competition.id}/tahap", {"dari": "draf"}, form_page=f"/lomba/{competition.id}"
    )
    assert opened.status_code == 303
    return only(app)


def test_an_operator_sets_up_a_competition_and_opens_it(app, client, make_user, login):
    """A draft cannot open without a category with criteria; a bad rubric is refused with the
    row's message; opening twice (a double tap) moves it once; the public page shows the rubric
    and a draft has none."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    refused = client.submit(
        "/lomba/baru",
        competition_form(closes_on=(local_today(PPU) - timedelta(days=5)).isoformat()),
    )
    assert refused.status_code == 422
    assert "Hari terakhir pendaftaran tidak boleh sebelum hari pertamanya." in html_of(refused)
    created = client.submit("/lomba/baru", competition_form())
    assert created.status_code == 303
    competition = only(app)
    assert competition.area_code == PPU and competition.stage is Stage.DRAF
    page = html_of(client.get(created.headers["Location"]))
    assert "Tambahkan paling sedikit satu kategori." in page and "disabled" in page
    assert client.get(f"/lomba-kim/{competition.code}").status_code == 404
    path = f"/lomba/{competition.id}/kategori/baru"
    for bad, message in (
        (rubric(), "Tuliskan paling sedikit satu kriteria penilaian."),
        (rubric(("Dampak", "0", "1", "100")), "Bobot antara 1 dan 100."),
        (rubric(("Dampak", "50", "100", "10")), "Nilai terendah harus lebih kecil"),
        (rubric(("Dampak", "x", "1", "100")), "Tuliskan angka saja."),
    ):
        response = client.submit(path, bad)
        assert response.status_code == 422, bad
        assert message in html_of(response), bad
    assert (
        client.submit(
            path, rubric(("Dampak", "60", "1", "100"), ("Kreativitas", "40", "1", "10"))
        ).status_code
        == 303
    )
    # two taps on "Buka pendaftaran": the second finds it open already
    for _ in range(2):
        client.submit(
            f"/lomba/{competition.id}/tahap", {"dari": "draf"}, form_page=f"/lomba/{competition.id}"
        )
    assert only(app).stage is Stage.PENDAFTARAN
    assert "Tahap lomba sudah berubah." in html_of(client.get(f"/lomba/{competition.id}"))
    # registration cannot be cut short by a tap: the last day is changed instead
    early = client.submit(
        f"/lomba/{competition.id}/tahap",
        {"dari": "pendaftaran"},
        form_page=f"/lomba/{competition.id}",
    )
    assert early.status_code == 303 and only(app).stage is Stage.PENDAFTARAN
    assert "Untuk menutupnya lebih awal, ubah hari terakhir pendaftaran." in html_of(
        client.get(f"/lomba/{competition.id}")
    )
    public = html_of(app.test_client().get(f"/lomba-kim/{competition.code}"))
    assert "Literasi digital" in public and "Kreativitas" in public and "1–10" in public
    assert "Masuk untuk mendaftar" in public
    # another regency's operator reads neither the page nor its edit form
    login(make_user(Role.OPERATOR_KABKOTA, "32.10"))
    assert client.get(f"/lomba/{competition.id}").status_code == 404
    # the province's operator reads it, and may manage it (it lies inside their wilayah)
    login(make_user(Role.OPERATOR_PROVINSI, "64"))
    assert client.get(f"/lomba/{competition.id}/ubah").status_code == 200


def test_a_kim_enters_is_returned_fixes_and_passes(app, client, make_kim, make_user, login):
    """The pengurus finds the competition on the home page, keeps a draft, cannot send it
    empty, sends it; the operator returns it with a note, the pengurus fixes and sends it
    again, and the operator finds it complete. A KIM of another regency never sees it."""
    kim = make_kim(name="KIM Sebakung")
    far = make_kim(village=MAJALENGKA_VILLAGE, name="KIM Jauh")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    pengurus = make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id)
    login(operator)
    competition = open_competition(client, app)
    with app.app_context():
        category_id = db.session.get(Competition, competition.id).categories[0].id
    entry_page = f"/kim/{kim.id}/lomba/{competition.id}/kategori/{category_id}"

    login(pengurus)
    home = html_of(client.get("/"))
    assert "Lomba KIM Kabupaten PPU 2026" in home
    detail = html_of(client.get(f"/lomba/{competition.id}"))
    assert entry_page in detail and ">Daftar<" in detail
    assert client.submit(entry_page, {"aksi": "simpan", "summary": ""}).status_code == 303
    refused = client.submit(entry_page, {"aksi": "kirim", "summary": ""})
    assert refused.status_code == 422
    assert "Ceritakan kegiatan KIM sebelum mengirim." in html_of(refused)
    bad_link = client.submit(
        entry_page, {"aksi": "kirim", "summary": "Kami", "links": "javascript:alert(1)"}
    )
    assert bad_link.status_code == 422
    assert "Setiap baris harus alamat web lengkap" in html_of(bad_link)
    sent = client.submit(
        entry_page,
        {
            "aksi": "kirim",
            "summary": "Kelas literasi digital tiap bulan.",
            "links": "https://youtu.be/abc",
        },
    )
    assert sent.status_code == 303
    assert "Pendaftaran terkirim." in html_of(client.get(sent.headers["Location"]))
    # a sent entry is read, not changed
    assert client.submit(entry_page, {"aksi": "kirim", "summary": "Lain"}).status_code == 422
    with app.app_context():
        [entry] = db.session.scalars(sa.select(Entry)).all()
        assert entry.status is EntryStatus.DIKIRIM and entry.link_list == ["https://youtu.be/abc"]
        entry_id = entry.id

    login(operator)
    home = html_of(client.get("/"))
    assert "1 pendaftaran Lomba KIM Kabupaten PPU 2026 menunggu diperiksa" in home
    detail = html_of(client.get(f"/lomba/{competition.id}"))
    assert "KIM Sebakung" in detail and "Terkirim: 1" in detail
    check = f"/lomba/{competition.id}/peserta/{entry_id}"
    no_note = client.submit(check, {"status": "perlu_perbaikan", "note": ""})
    assert no_note.status_code == 422 and "Tulis apa yang perlu diperbaiki." in html_of(no_note)
    assert (
        client.submit(
            check, {"status": "perlu_perbaikan", "note": "Tambahkan tautan video."}
        ).status_code
        == 303
    )

    login(pengurus)
    home = html_of(client.get("/"))
    assert "dikembalikan untuk diperbaiki" in home and "Catatan: Tambahkan tautan video." in home
    assert f'href="{entry_page}">Perbaiki pendaftaran' in home
    detail = html_of(client.get(f"/lomba/{competition.id}"))
    assert "Tambahkan tautan video." in detail and "Perbaiki pendaftaran" in detail
    # told in their notices, and the ketua by WhatsApp, with the entry's page to fix it
    with app.app_context():
        told = db.session.scalars(
            sa.select(Notice).where(Notice.kind == NoticeKind.LOMBA_PERBAIKAN)
        ).all()
    assert pengurus.id in {n.user_id for n in told}
    assert any(n.user_id is None and n.phone for n in told)
    assert all("Tambahkan tautan video." in n.text and entry_page in n.link for n in told)
    fixed = client.submit(
        entry_page,
        {
            "aksi": "kirim",
            "summary": "Kelas literasi digital.",
            "links": "https://youtu.be/abc\nhttps://youtu.be/def",
        },
    )
    assert fixed.status_code == 303

    login(operator)
    assert client.submit(check, {"status": "lolos", "note": ""}).status_code == 303
    assert "menunggu diperiksa" not in html_of(client.get("/"))
    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        assert entry.status is EntryStatus.LOLOS and len(entry.link_list) == 2
        passed = db.session.scalars(sa.select(Notice).where(Notice.kind == NoticeKind.LOMBA_LOLOS))
        assert pengurus.id in {n.user_id for n in passed}

    # a KIM of another regency: the competition is not there for it
    login(make_user(Role.PENGURUS_KIM, MAJALENGKA_VILLAGE, kim_id=far.id))
    assert client.get(f"/lomba/{competition.id}").status_code == 404
    assert (
        client.get(f"/kim/{far.id}/lomba/{competition.id}/kategori/{category_id}").status_code
        == 404
    )
    assert "Lomba KIM Kabupaten PPU 2026" not in html_of(client.get("/"))


def test_entries_close_after_the_last_day(app, client, make_kim, make_user, login):
    """Once the last day has passed in the area, a new entry is refused with a clear message,
    and the KIM's page says registration is closed."""
    kim = make_kim(village=PPU_OTHER_VILLAGE)
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(operator)
    competition = open_competition(client, app)
    past = local_today(PPU) - timedelta(days=1)
    changed = client.submit(
        f"/lomba/{competition.id}/ubah",
        competition_form(
            opens_on=(past - timedelta(days=10)).isoformat(), closes_on=past.isoformat()
        ),
    )
    assert changed.status_code == 303
    with app.app_context():
        category_id = db.session.get(Competition, competition.id).categories[0].id
    login(make_user(Role.PENGURUS_KIM, PPU_OTHER_VILLAGE, kim_id=kim.id))
    assert "Pendaftaran sudah ditutup." in html_of(client.get(f"/lomba/{competition.id}"))
    refused = client.submit(
        f"/kim/{kim.id}/lomba/{competition.id}/kategori/{category_id}",
        {"aksi": "kirim", "summary": "Terlambat"},
    )
    assert refused.status_code == 422
    assert "Pendaftaran lomba ini sudah ditutup." in html_of(refused)


def test_pages_fit_the_budget_in_both_languages(app, client, make_kim, make_user, login):
    """Every page of a competition within the page budget, in Indonesian and English; the list
    asks as many queries for 2 competitions as for 12."""
    kim = make_kim()
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    pengurus = make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id)
    login(operator)
    competition = open_competition(client, app)
    with app.app_context():
        category_id = db.session.get(Competition, competition.id).categories[0].id
    entry_page = f"/kim/{kim.id}/lomba/{competition.id}/kategori/{category_id}"
    login(pengurus)
    assert client.submit(entry_page, {"aksi": "kirim", "summary": "Cerita."}).status_code == 303
    with app.app_context():
        entry_id = db.session.scalar(sa.select(Entry.id))
    pages = {
        "competitions.index": (operator, "/lomba"),
        "competitions.new": (operator, "/lomba/baru"),
        "competitions.edit": (operator, f"/lomba/{competition.id}/ubah"),
        "competitions.detail": (operator, f"/lomba/{competition.id}"),
        "competitions.category_new": (operator, f"/lomba/{competition.id}/kategori/baru"),
        "competitions.category_edit": (operator, f"/lomba/{competition.id}/kategori/{category_id}"),
        "competitions.entry_check": (operator, f"/lomba/{competition.id}/peserta/{entry_id}"),
        "competitions.entry": (pengurus, entry_page),
        "competitions.public": (None, f"/lomba-kim/{competition.code}"),
    }
    assert set(pages) == WEIGHED
    visitor = app.test_client()
    for language in ("id", "en"):
        for endpoint, (who, path) in pages.items():
            reader = visitor if who is None else login(who)
            reader.post("/bahasa", data={"lang": language, "csrf_token": reader.token("/")})
            response = reader.get(path)
            assert response.status_code == 200, (endpoint, language, path, who and who.role)
            assert page_weight(response) <= PAGE_BUDGET, (endpoint, language, page_weight(response))
            if language == "en":
                assert 'lang="en"' in html_of(response), endpoint
    login(operator)

    def count() -> int:
        with counted_queries(app) as statements:
            assert client.get("/lomba").status_code == 200
        return len(statements)

    two = count()
    for n in range(10):
        client.submit("/lomba/baru", competition_form(title=f"Lomba {n}"))
    assert count() == two
    assert "Lomba 9" in html_of(client.get("/lomba"))


def test_the_committee_enters_a_kim_that_sent_its_entry_by_whatsapp(
    app, client, make_kim, make_user, login
):
    """From the KIM's page, the competition's operator opens the category and sends the entry
    for the KIM; an operator of another regency's KIM page offers nothing of it."""
    kim = make_kim(name="KIM Lewat WA")
    far = make_kim(village=MAJALENGKA_VILLAGE)
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(operator)
    competition = open_competition(client, app)
    page = html_of(client.get(f"/kim/{kim.id}"))
    link = re.search(r'href="(/kim/\d+/lomba/\d+/kategori/\d+)">Literasi digital', page)[1]
    sent = client.submit(link, {"aksi": "kirim", "summary": "Dikirim lewat WhatsApp."})
    assert sent.status_code == 303
    with app.app_context():
        [entry] = db.session.scalars(sa.select(Entry)).all()
        assert (entry.kim_id, entry.status, entry.created_by_id) == (
            kim.id,
            EntryStatus.DIKIRIM,
            operator.id,
        )
    login(make_user(Role.OPERATOR_KABKOTA, "32.10"))
    assert competition.title not in html_of(client.get(f"/kim/{far.id}"))


def test_every_rubric_row_says_what_is_wrong_at_once(app, client, make_user, login):
    """Two wrong rows of a rubric: both messages on the one answer, nothing kept."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    client.submit("/lomba/baru", competition_form())
    competition = only(app)
    response = client.submit(
        f"/lomba/{competition.id}/kategori/baru",
        rubric(("Dampak", "0", "1", "100"), ("Kreativitas", "", "50", "10")),
    )
    page = html_of(response)
    assert response.status_code == 422
    assert "Bobot antara 1 dan 100." in page and "Tuliskan bobotnya." in page
    assert "Nilai terendah harus lebih kecil dari nilai tertinggi" in page
    with app.app_context():
        assert db.session.get(Competition, competition.id).categories == []
