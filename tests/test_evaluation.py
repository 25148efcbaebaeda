"""Issue 25: a training's pre- and post-test and satisfaction survey, through the pages. The
operator writes the questions and settings; the participant answers from the link on their ticket
(or the hall's code), each answer kept as given; the results page and the XLSX give what a hand
computation of the same answers gives."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from fractions import Fraction

import openpyxl
import pytest
import sqlalchemy as sa
from docx import Document
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from kim_app.auth.models import Role
from kim_app.evaluation.models import Attempt, Material, Question, SurveyResponse, SurveyTaker
from kim_app.evaluation.operations import material_path
from kim_app.evaluation.skm import ELEMENTS, skm_index
from kim_app.events.models import Event, EventSession, Registration
from kim_app.events.operations import local_now
from kim_app.extensions import db
from tests.budget import FRAGMENT_BUDGET, PAGE_BUDGET, counted_queries, gzip_size, page_weight
from tests.conftest import PPU, html_of
from tests.helpers import confirm_import, pdf_text, xlsx_bytes
from tests.scenes import add_registration, open_now

SCOPE_CHECKED: set[str] = set()  # the access table covers every endpoint (tests/access_cases.py)
WEIGHED = {
    "evaluation.overview",
    "evaluation.question_new",
    "evaluation.question_edit",
    "evaluation.settings",
    "evaluation.results",
    "evaluation.entry",
    "evaluation.hub",
    "evaluation.test",
    "evaluation.survey",
    "evaluation.questions_import",
    "evaluation.questions_import_preview",
    "evaluation.materials",
    "evaluation.screen",
}
NOT_PAGES = {
    "evaluation.results_xlsx",
    "evaluation.questions_example",
    "evaluation.material_download",
    "evaluation.material_ticket",
    "evaluation.material_public",
}

QUESTIONS = [
    ("Siapa yang membina KIM di kabupaten?", ["Diskominfo", "Bank", "Pengadilan"], 0),
    ("Apa kepanjangan KIM?", ["Kantor Informasi Media", "Komunitas Informasi Masyarakat"], 1),
    ("Hoaks sebaiknya …", ["Disebarkan", "Diklarifikasi", "Didiamkan", "Dihapus"], 1),
    ("SK KIM ditandatangani oleh …", ["Kepala desa", "Presiden"], 0),
]


@pytest.fixture
def operator(make_user, login):
    user = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(user)
    return user


def _question_fields(text: str, choices: list[str], answer: int) -> dict:
    fields = {"text": text, "answer": str(answer)}
    fields |= {f"pilihan_{i}": choice for i, choice in enumerate(choices, 1)}
    return fields


def add_questions(client, event_id: int, questions=QUESTIONS) -> None:
    for text, choices, answer in questions:
        response = client.submit(
            f"/kegiatan/{event_id}/evaluasi/soal/baru", _question_fields(text, choices, answer)
        )
        assert response.status_code == 303, html_of(response)


def set_windows(client, event_id: int, app, **windows) -> None:
    """Save the settings form with the given windows (``pre_opens_at=datetime`` …)."""
    fields = {"survey_on": "y", "survey_anonymous": "y"}
    fields |= {name: moment.strftime("%Y-%m-%dT%H:%M") for name, moment in windows.items()}
    response = client.submit(f"/kegiatan/{event_id}/evaluasi/pengaturan", fields)
    assert response.status_code == 303, html_of(response)


def pass_link(client, event: Event, ticket: str) -> str:
    """The link to the person's tests and survey, as their ticket page shows it."""
    page = html_of(client.get(f"/e/{event.code}/tiket/{ticket}"))
    match = re.search(rf'href="(/e/{event.code}/tes/[^"/]+)"', page)
    assert match, "the ticket does not link to the tests"
    return match.group(1)


def question_ids(app, event_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Question.id)
                .where(Question.event_id == event_id)
                .order_by(Question.position)
            )
        )


def now_at(app, event: Event):
    with app.app_context():
        return local_now(db.session.get(Event, event.id))


def close_the_pre_test(client, app, event: Event) -> None:
    """The operator closes the pre-test a minute ago and opens the post-test (and with it the
    survey) from then on, through the settings form."""
    now = now_at(app, event)
    set_windows(
        client,
        event.id,
        app,
        pre_opens_at=now - timedelta(hours=3),
        pre_closes_at=now - timedelta(minutes=1),
        post_opens_at=now - timedelta(minutes=1),
        post_closes_at=now + timedelta(hours=5),
    )


@pytest.fixture
def training(app, client, operator, make_event):
    """A one-day training whose only session starts in ten minutes, with the four questions;
    the pre-test is open now (an hour before the session until it ends), the post-test from the
    session's start (the tests move it when they need it open)."""
    event = make_event(days=1, sessions_per_day=1)
    open_now(app, event.id)
    add_questions(client, event.id)
    return event


def test_a_question_needs_two_distinct_choices_and_a_right_one_among_them(
    client, operator, make_event
):
    """Too few choices, two the same, or the right answer on an empty choice: 422 with the
    reason on the form; nothing is saved."""
    event = make_event()
    url = f"/kegiatan/{event.id}/evaluasi/soal/baru"
    cases = {
        "Isi 2 sampai 6 pilihan jawaban.": _question_fields("Soal?", ["Satu"], 0),
        "Dua pilihan jawaban sama.": _question_fields("Soal?", ["Sama", "Sama"], 0),
        "Pilih jawaban yang benar di antara pilihan yang diisi.": _question_fields(
            "Soal?", ["A", "B"], 3
        ),
        "Wajib diisi.": _question_fields("", ["A", "B"], 0),
    }
    for message, fields in cases.items():
        response = client.submit(url, fields)
        assert response.status_code == 422
        assert message in html_of(response)
    assert "Belum ada soal" in html_of(client.get(f"/kegiatan/{event.id}/evaluasi"))


def test_the_operator_adds_edits_and_deletes_questions(app, client, operator, make_event):
    """Choices left empty between filled ones close up, and the right answer follows its
    choice; edits and deletion show on the overview."""
    event = make_event()
    url = f"/kegiatan/{event.id}/evaluasi/soal/baru"
    fields = _question_fields("Warna langit?", ["Biru", "", "Hijau"], 2)
    assert client.submit(url, fields).status_code == 303
    (qid,) = question_ids(app, event.id)
    with app.app_context():
        question = db.session.get(Question, qid)
        assert (question.choices, question.answer) == (["Biru", "Hijau"], 1)
    edit = f"/kegiatan/{event.id}/evaluasi/soal/{qid}"
    assert 'value="Hijau"' in html_of(client.get(edit))
    edited = _question_fields("Warna daun?", ["Merah", "Hijau"], 1)
    assert client.submit(edit, edited).status_code == 303
    overview = html_of(client.get(f"/kegiatan/{event.id}/evaluasi"))
    assert "Warna daun?" in overview and "B. Hijau" in overview
    assert client.submit(f"{edit}/hapus", form_page=edit).status_code == 303
    assert question_ids(app, event.id) == []


def test_a_participant_answers_as_they_go_and_sends_once(app, client, training, partial_headers):
    """Each answer is kept when given (htmx: the saved count comes back; plain: a redirect);
    coming back shows it; sending with blanks asks first; sent once, scored on the right
    answers; a second send changes nothing; the question set is then locked."""
    person = add_registration(app, training.id)
    hub = pass_link(client, training, person.ticket)
    pre = f"{hub}/pre"
    q = question_ids(app, training.id)
    token = client.token(pre)

    saved = client.post(pre, data={"csrf_token": token, f"q{q[0]}": "0"}, headers=partial_headers)
    assert saved.status_code == 200
    assert "Tersimpan: 1 dari 4 dijawab." in html_of(saved) and "<html" not in html_of(saved)
    plain = client.post(pre, data={"csrf_token": token, f"q{q[0]}": "0", f"q{q[1]}": "0"})
    assert plain.status_code == 303
    page = html_of(client.get(pre))
    assert page.count(" checked") == 2 and "Tersimpan: 2 dari 4 dijawab." in page

    asked = client.post(pre, data={"csrf_token": token, "aksi": "kirim"})
    assert asked.status_code == 422
    assert "Soal nomor 3, 4 belum dijawab" in html_of(asked)
    sent = client.post(pre, data={"csrf_token": token, f"q{q[2]}": "1", "aksi": "kirim_juga"})
    assert sent.status_code == 303
    result = html_of(client.get(pre))
    # right: q1 (0) and q3 (1); q2 answered 0 (wrong), q4 left blank
    assert "Nilai Anda: 50,0" in result and "2 dari 4 jawaban benar." in result
    assert "Pembahasan soal ditampilkan sesudah post-test" in result

    again = client.post(pre, data={"csrf_token": token, f"q{q[1]}": "1", "aksi": "kirim"})
    assert again.status_code == 303
    assert "sudah dikirim" in html_of(client.get(pre))
    with app.app_context():
        attempt = db.session.scalar(sa.select(Attempt))
        assert (attempt.correct, attempt.total) == (2, 4)
    locked = client.submit(
        f"/kegiatan/{training.id}/evaluasi/soal/baru", _question_fields("Baru?", ["A", "B"], 0)
    )
    assert locked.status_code == 422 and "tidak dapat diubah lagi" in html_of(locked)


def test_hostile_answers_are_ignored_and_nothing_breaks(app, client, training):
    """A superscript digit, a negative, a control character, another question's id or a huge
    one is left out; the page answers 303, never 500, and keeps only the valid answer."""
    person = add_registration(app, training.id)
    pre = pass_link(client, training, person.ticket) + "/pre"
    q = question_ids(app, training.id)
    token = client.token(pre)
    data = {
        "csrf_token": token,
        f"q{q[0]}": "²",  # a digit to str.isdigit, not to int()
        f"q{q[1]}": "-1",
        f"q{q[2]}": "\x00",
        f"q{q[3]}": "1",
        "q999999": "0",
        "q" + "9" * 40: "1" * 5000,
    }
    assert client.post(pre, data=data).status_code == 303
    assert "Tersimpan: 1 dari 4 dijawab." in html_of(client.get(pre))


def test_the_pass_opens_its_own_event_only(app, client, training, make_event, operator):
    """A pass used under another event's code, or with one character of its signature altered, is 404; the hub
    names only its own person."""
    person = add_registration(app, training.id)
    hub = pass_link(client, training, person.ticket)
    key = hub.rsplit("/", 1)[1]
    other = make_event()
    assert client.get(f"/e/{other.code}/tes/{key}").status_code == 404
    # The signature's first character: its last one carries padding bits, so changing it
    # can decode to the same bytes.
    payload, signature = key.rsplit(".", 1)
    forged = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert client.get(f"/e/{training.code}/tes/{forged}").status_code == 404
    assert client.get(f"/e/{training.code}/tes/not-a-pass/pre").status_code == 404
    page = html_of(client.get(hub))
    assert person.name in page


def test_in_the_hall_the_code_or_the_number_with_the_pin_opens_ones_tests(app, client, training):
    """The ticket's check-in code leads to the person's tests; a number needs the venue PIN."""
    with app.app_context():
        db.session.get(Event, training.id).venue_pin = "4321"
        db.session.commit()
    person = add_registration(app, training.id)
    entry = f"/e/{training.code}/tes"
    by_code = client.submit(entry, {"who": person.checkin_code.lower()})
    assert by_code.status_code == 303
    assert by_code.location == pass_link(client, training, person.ticket)
    empty = client.submit(entry, {"who": person.phone, "pin": ""})
    assert empty.status_code == 422 and "Isi PIN yang ditampilkan di layar ruangan." in html_of(
        empty
    )
    wrong = client.submit(entry, {"who": person.phone, "pin": "1111"})
    assert wrong.status_code == 422 and "PIN salah" in html_of(wrong)
    right = client.submit(entry, {"who": person.phone, "pin": "4321"})
    assert right.status_code == 303 and right.location == by_code.location
    unknown = client.submit(entry, {"who": "ZZZZZZZZ"})
    assert unknown.status_code == 422 and "tidak terdaftar" in html_of(unknown)  # codes or numbers


def test_a_test_takes_answers_only_in_its_window(app, client, training, partial_headers):
    """Before the post-test opens its page says when; an answer sent anyway is refused with the
    reason (in the message area for htmx) and not kept."""
    person = add_registration(app, training.id)
    post = pass_link(client, training, person.ticket) + "/post"
    now = now_at(app, training)
    set_windows(
        client,
        training.id,
        app,
        post_opens_at=now + timedelta(hours=3),
        post_closes_at=now + timedelta(hours=5),
    )
    assert "Post-test dibuka" in html_of(client.get(post))
    q = question_ids(app, training.id)
    token = client.token(post)
    refused = client.post(
        post, data={"csrf_token": token, f"q{q[0]}": "0"}, headers=partial_headers
    )
    assert refused.status_code == 422
    assert refused.headers["HX-Retarget"] == "#pesan"
    assert "Post-test tidak sedang dibuka." in html_of(refused)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 0


def test_the_post_test_never_opens_while_the_pre_test_is_open(app, client, training):
    """The post-test shows the right answers: a post-test window that starts before the
    pre-test closes is refused, and by default they follow one another."""
    now = now_at(app, training)
    fields = {
        "post_opens_at": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        "post_closes_at": (now + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.submit(f"/kegiatan/{training.id}/evaluasi/pengaturan", fields)
    assert response.status_code == 422
    assert "Post-test baru boleh dibuka sesudah pre-test ditutup" in html_of(response)
    overview = html_of(client.get(f"/kegiatan/{training.id}/evaluasi"))
    pre, post = re.findall(r"<dt>(?:Pre|Post)-test</dt><dd>(.*?) – (.*?)</dd>", overview)
    assert pre[1] == post[0]  # a one-session training: the post-test opens as the pre-test closes


def test_closing_before_opening_is_refused(app, client, training):
    """A window that closes before it opens is refused on its field."""
    now = now_at(app, training)
    fields = {
        "pre_opens_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "pre_closes_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.submit(f"/kegiatan/{training.id}/evaluasi/pengaturan", fields)
    assert response.status_code == 422
    assert "Waktu tutup harus sesudah waktu buka." in html_of(response)


# each person's choices (index per question) in the pre- and post-test; None: left blank
HAND = {
    "Ani": ([0, 1, 1, 0], [0, 1, 1, 0]),  # pre 4/4, post 4/4
    "Budi": ([1, 0, 0, 1], [0, 1, 1, 1]),  # pre 0/4, post 3/4
    "Citra": ([0, 0, None, 0], [0, 1, 1, 0]),  # pre 2/4, post 4/4
    "Dedi": ([2, 1, 3, 1], None),  # pre 1/4, no post
}


def _answer(client, url: str, qids: list[int], choices: list[int | None]) -> None:
    data = {f"q{qid}": str(c) for qid, c in zip(qids, choices, strict=True) if c is not None}
    response = client.submit(url, data | {"aksi": "kirim_juga"})
    assert response.status_code == 303


def test_results_and_export_match_a_hand_computation(app, client, training, operator):
    """Averages, gain and the most-missed questions equal the same sums done by hand; the XLSX
    carries each person's scores."""
    qids = question_ids(app, training.id)
    right = [answer for _t, _c, answer in QUESTIONS]
    hubs = {}
    for i, (name, (pre, _post)) in enumerate(HAND.items()):
        person = add_registration(app, training.id, name=name, phone=f"0812-2222-{i:04d}")
        hubs[name] = pass_link(client, training, person.ticket)
        _answer(client, f"{hubs[name]}/pre", qids, pre)
    close_the_pre_test(client, app, training)
    for name, (_pre, post) in HAND.items():
        if post is not None:
            _answer(client, f"{hubs[name]}/post", qids, post)

    def score(choices):
        return Fraction(100 * sum(c == r for c, r in zip(choices, right, strict=True)), 4)

    pres = {n: score(p) for n, (p, _q) in HAND.items()}
    posts = {n: score(q) for n, (_p, q) in HAND.items() if q is not None}
    pre_avg = sum(pres.values()) / len(pres)  # (100 + 0 + 50 + 25) / 4 = 43.75
    post_avg = sum(posts.values()) / len(posts)  # (100 + 75 + 100) / 3 = 91.67
    gain = sum(posts[n] - pres[n] for n in posts) / len(posts)  # (0 + 75 + 50) / 3 = 41.67
    assert (pre_avg, post_avg, gain) == (Fraction(175, 4), Fraction(275, 3), Fraction(125, 3))

    page = html_of(client.get(f"/kegiatan/{training.id}/evaluasi/hasil"))
    assert "43,8 (4 orang)" in page  # 43.75 rounded half to even at one decimal: 43.8
    assert "91,7 (3 orang)" in page and "41,7 (3 orang mengerjakan keduanya)" in page
    # the most missed in the post-test: question 4 (Budi chose 1) before the others (none)
    first_missed = page.split("Soal yang paling banyak salah", 1)[1]
    assert first_missed.index(QUESTIONS[3][0]) < first_missed.index(QUESTIONS[0][0])

    xlsx = client.get(f"/kegiatan/{training.id}/evaluasi/hasil.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    rows = {row[0]: row[2:5] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["Budi"] == (0, 75, 75)
    assert rows["Dedi"][0] == 25 and rows["Dedi"][1:] == (None, None)
    assert len(rows) == len(HAND)

    # the laporan's Evaluasi section states the same averages, in the PDF and the DOCX
    stated = (
        "Pre-test: 4 orang, rata-rata 43,8; post-test: 3 orang, rata-rata 91,7; kenaikan "
        "rata-rata 41,7 poin (3 orang mengerjakan keduanya)."
    )
    pdf = pdf_text(client.get(f"/kegiatan/{training.id}/laporan.pdf").data)
    assert "Evaluasi" in pdf and stated in pdf.split("DAFTAR HADIR", 1)[0]
    doc = Document(io.BytesIO(client.get(f"/kegiatan/{training.id}/laporan.docx").data))
    paragraphs = [p.text for p in doc.paragraphs]
    assert any(p.endswith(". Evaluasi") for p in paragraphs)
    assert any(p.startswith(stated) for p in paragraphs)
    budi = next(row for row in doc.tables[-2].rows if row.cells[1].text == "Budi")
    assert [c.text for c in budi.cells[3:]] == ["0,0", "75,0", "75,0"]

    # the dashboard's figures per kind of event over the period: the same gain
    dash = html_of(client.get("/laporan/"))
    assert '<th scope="row">Pelatihan</th><td>3</td><td>41,7</td><td>0</td><td>—</td>' in dash


SURVEY = [
    ({e: 4 for e in ELEMENTS}, "Materinya bermanfaat."),
    ({e: 3 for e in ELEMENTS} | {"waktu": 2}, ""),
    ({e: 3 for e in ELEMENTS} | {"sarana": 1, "biaya": 4}, "AC ruangan mati."),
]


def test_the_survey_is_kept_as_given_sent_once_anonymous_and_indexed(
    app, client, training, operator, partial_headers
):
    """Ratings are kept as given; sending asks for every element; once sent an anonymous
    response keeps no link to its person; the index on the results page is the regulation's
    formula over the same answers, with the comments and no names."""
    close_the_pre_test(client, app, training)  # the survey opens with the post-test
    people = []
    for i, (ratings, comment) in enumerate(SURVEY):
        person = add_registration(app, training.id, name=f"Peserta {i}", phone=f"0812-3333-{i:04d}")
        people.append(person)
        url = pass_link(client, training, person.ticket) + "/survei"
        token = client.token(url)
        first = {"csrf_token": token, "unsur_persyaratan": str(ratings["persyaratan"])}
        saved = client.post(url, data=first, headers=partial_headers)
        assert "Tersimpan: 1 dari 9 dijawab." in html_of(saved)
        missing = client.post(url, data={"csrf_token": token, "aksi": "kirim"})
        assert (
            missing.status_code == 422
            and "Pertanyaan nomor 2, 3, 4, 5, 6, 7, 8, 9 belum dinilai." in html_of(missing)
        )
        fields = {f"unsur_{e}": str(r) for e, r in ratings.items()}
        sent = client.post(
            url, data={"csrf_token": token, "komentar": comment, "aksi": "kirim"} | fields
        )
        assert sent.status_code == 303
        assert "Survei Anda sudah terkirim." in html_of(client.get(url))
        refused = client.post(url, data={"csrf_token": token, "unsur_waktu": "1"})
        assert refused.status_code == 303
    with app.app_context():
        responses = db.session.scalars(sa.select(SurveyResponse)).all()
        assert [r.registration_id for r in responses] == [None, None, None]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyTaker)) == 3
        assert sorted(r.waktu for r in responses) == [2, 3, 4]  # the refused change not kept

    expected = skm_index([ratings for ratings, _c in SURVEY])
    page = html_of(client.get(f"/kegiatan/{training.id}/evaluasi/hasil"))
    converted = str(expected.converted).replace(".", ",")
    assert f"IKM {converted} · mutu {expected.grade}" in page
    assert "Materinya bermanfaat." in page and "AC ruangan mati." in page
    assert not [p.name for p in people if p.name in page]
    doc = Document(io.BytesIO(client.get(f"/kegiatan/{training.id}/laporan.docx").data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"3 responden, nilai IKM {converted}, mutu pelayanan {expected.grade}" in text
    dash = html_of(client.get("/laporan/"))
    assert f"<td>3</td><td>{converted}</td><td>{expected.grade}</td>" in dash
    assert "AC ruangan mati." in text


def test_a_clone_takes_the_question_set(app, client, training, operator):
    """Cloning an event copies its questions, in order, with their right answers."""
    response = client.submit(f"/kegiatan/{training.id}/salin", {"first_day": "2031-03-02"})
    assert response.status_code == 303
    copy_id = int(re.search(r"/kegiatan/(\d+)", response.location)[1])
    with app.app_context():
        copied = db.session.scalars(
            sa.select(Question).where(Question.event_id == copy_id).order_by(Question.position)
        ).all()
        assert [(q.text, q.choices, q.answer) for q in copied] == [
            (text, choices, answer) for text, choices, answer in QUESTIONS
        ]


def test_a_certificate_can_wait_for_the_post_test(app, client, operator, make_event):
    """With "certificates only for those who sent the post-test", of two people who attended
    everything only the one who sent it gets a certificate; the certificates page says so."""
    from tests.scenes import attend, cert_event, certs, issue, register_attendee

    event = cert_event(app, make_event)
    add_questions(client, event.id, QUESTIONS[:1])
    now = now_at(app, event)
    fields = {
        "post_opens_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "post_closes_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "certificate_needs_post": "y",
        "survey_on": "y",
    }
    assert client.submit(f"/kegiatan/{event.id}/evaluasi/pengaturan", fields).status_code == 303
    took, skipped = (
        register_attendee(app, event.id, name, i) for i, name in ((1, "Ani"), (2, "Budi"))
    )
    for registration_id in (took, skipped):
        attend(app, registration_id, 4)
    with app.app_context():
        ticket = db.session.get(Registration, took).ticket
    post = pass_link(client, event, ticket) + "/post"
    assert (
        client.submit(
            post, {f"q{question_ids(app, event.id)[0]}": "0", "aksi": "kirim"}
        ).status_code
        == 303
    )
    issue(app, event.id)
    assert [c.registration_id for c in certs(app, event.id)] == [took]
    page = html_of(client.get(f"/absensi/kegiatan/{event.id}/sertifikat"))
    assert "Peserta juga harus sudah mengirim post-test." in page


def test_pages_fit_the_budget_and_count_no_more_queries_for_more_people(
    app, client, operator, make_event, partial_headers
):
    """With twenty questions of four choices, every participant page and the operator's pages
    fit 14 KB compressed with their CSS, the saved-answer fragment 2 KB; the results page asks
    the same number of queries for 2 people as for 12."""
    event = make_event(days=1, sessions_per_day=1)
    open_now(app, event.id)
    twenty = [
        (
            f"Soal nomor {n}: manakah langkah yang benar ketika menerima kabar yang belum jelas?",
            [f"Pilihan jawaban {c} untuk soal {n}, cukup panjang" for c in "ABCD"],
            n % 4,
        )
        for n in range(20)
    ]
    add_questions(client, event.id, twenty)
    people = [
        add_registration(app, event.id, f"Peserta {i}", f"0812-5555-{i:04d}") for i in range(12)
    ]
    hub = pass_link(client, event, people[0].ticket)
    pages = [f"/e/{event.code}/tes", hub, f"{hub}/pre", f"{hub}/survei"]
    pages += [
        f"/kegiatan/{event.id}/evaluasi{p}" for p in ("", "/hasil", "/pengaturan", "/soal/baru")
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert page_weight(response) <= PAGE_BUDGET, (path, page_weight(response))
    q = question_ids(app, event.id)
    saved = client.post(
        f"{hub}/pre",
        data={"csrf_token": client.token(f"{hub}/pre"), f"q{q[0]}": "1"},
        headers=partial_headers,
    )
    assert gzip_size(saved.data) <= FRAGMENT_BUDGET

    def results_queries() -> int:
        with counted_queries(app) as statements:
            assert client.get(f"/kegiatan/{event.id}/evaluasi/hasil").status_code == 200
        return len(statements)

    for person in people[:2]:
        _answer(client, pass_link(client, event, person.ticket) + "/pre", q, [0] * 20)
    few = results_queries()
    for person in people[2:]:
        _answer(client, pass_link(client, event, person.ticket) + "/pre", q, [1] * 20)
    assert results_queries() == few


def _upload_questions(client, event_id: int, data: bytes, filename: str) -> str:
    """Upload through the form; returns the preview's address."""
    path = f"/kegiatan/{event_id}/evaluasi/soal/impor"
    boundary, body = encode_multipart(
        {
            "csrf_token": client.token(path),
            "berkas": FileStorage(io.BytesIO(data), filename=filename),
        }
    )
    response = client.post(
        path, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 303, html_of(response)[:2000]
    return response.headers["Location"]


def test_questions_come_from_the_example_workbook_and_bad_rows_say_why(
    app, client, operator, make_event
):
    """The example XLSX, filled in, imports its good rows; each bad row is named with its
    reason; the answer may be a letter, a number or the choice's text; the same file again adds
    nothing."""
    event = make_event()
    example = client.get(f"/kegiatan/{event.id}/evaluasi/soal/contoh.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(example.data)).active
    header = [cell.value for cell in sheet[1]]
    assert header[0] == "Soal" and header[7] == "Jawaban benar"
    rows = [[cell.value or "" for cell in row] for row in sheet.iter_rows(min_row=2)]
    blank = [""] * 6
    rows += [
        [
            "Kepanjangan KIM?",
            "Kantor Informasi",
            "Komunitas Informasi Masyarakat",
            *blank[:4],
            "2",
            "",
        ],
        ["Hoaks sebaiknya?", "Disebarkan", "Diklarifikasi", *blank[:4], "diklarifikasi", ""],
        ["", "A", "B", *blank[:4], "A", ""],  # no question
        ["Satu pilihan?", "Hanya ini", *blank[:5], "A", ""],  # one choice
        ["Jawaban di luar?", "Ya", "Tidak", *blank[:4], "D", ""],  # D is empty
        ["Jawaban aneh?", "Ya", "Tidak", *blank[:4], "Z", ""],  # not a letter
        ["Kepanjangan KIM?", "X", "Y", *blank[:4], "A", ""],  # twice in the file
    ]
    preview = _upload_questions(client, event.id, xlsx_bytes(header, rows), "soal.xlsx")
    page = html_of(client.get(preview))
    for reason in (
        "Soal kosong.",
        "Isi 2 sampai 6 pilihan jawaban.",
        "Pilih jawaban yang benar di antara pilihan yang diisi.",
        "Jawaban benar tidak dikenal: Z (tulis huruf A–F).",
        "Soal sama dengan baris 3.",
    ):
        assert reason in page, reason
    response = confirm_import(client, preview)
    assert response.status_code == 303
    assert (
        "Impor soal selesai: 3 baru, 0 diperbarui, 0 tidak berubah, 5 baris tidak valid dilewati."
        in html_of(client.get(response.headers["Location"]))
    )
    with app.app_context():
        stored = db.session.scalars(
            sa.select(Question).where(Question.event_id == event.id).order_by(Question.position)
        ).all()
        assert [(q.text, q.answer) for q in stored][1:] == [
            ("Kepanjangan KIM?", 1),
            ("Hoaks sebaiknya?", 1),
        ]
        assert stored[0].choices[stored[0].answer] == "Diskominfo"
    again = _upload_questions(client, event.id, xlsx_bytes(header, rows), "soal.xlsx")
    assert confirm_import(client, again).status_code == 303
    assert len(question_ids(app, event.id)) == 3
    # a corrected answer key in the file corrects the stored one
    rows[1][7] = "1"  # "Kepanjangan KIM?": now the first choice
    fixed = _upload_questions(client, event.id, xlsx_bytes(header, rows), "soal.xlsx")
    assert "jawaban benar: A" in html_of(client.get(fixed))
    done = confirm_import(client, fixed)
    assert "1 diperbarui, 2 tidak berubah" in html_of(client.get(done.headers["Location"]))
    with app.app_context():
        corrected = db.session.scalar(
            sa.select(Question).where(Question.text == "Kepanjangan KIM?")
        )
        assert corrected.answer == 0


def _upload_material(client, event_id: int, data: bytes, filename: str, **fields):
    path = f"/kegiatan/{event_id}/materi"
    values = {"title": "Salindia sesi 1", "session_id": "", "from_start": "y"} | fields
    values = {k: v for k, v in values.items() if v is not None}
    boundary, body = encode_multipart(
        values
        | {
            "csrf_token": client.token(path),
            "berkas": FileStorage(io.BytesIO(data), filename=filename),
        }
    )
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _photo_with_location() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (800, 600), (30, 120, 200))
    exif = image.getexif()
    exif[0x8825] = {1: "S", 2: (1.0, 15.0, 0.0), 3: "E", 4: (116.0, 35.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_materials_are_checked_and_reach_participants_when_their_session_starts(
    app, client, operator, make_event
):
    """A PDF is kept, a photo loses its location, a file that is not what it says and a PDF with
    a script are refused with the reason; a file for a session shows on the ticket (with its
    size) once the session starts, on the public page only when shared there, and nowhere for a
    cancelled registration."""
    event = make_event(days=1, sessions_per_day=2)
    with app.app_context():
        first_id = db.session.get(Event, event.id).sessions[0].id
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b" " * 3000
    assert (
        _upload_material(client, event.id, pdf, "s1.pdf", session_id=str(first_id)).status_code
        == 303
    )
    photo = _upload_material(
        client,
        event.id,
        _photo_with_location(),
        "foto.jpg",
        title="Foto papan",
        public="y",
        from_start=None,
    )
    assert photo.status_code == 303
    fake = _upload_material(client, event.id, b"MZ\x90\x00 not a pdf", "virus.pdf")
    assert fake.status_code == 422
    assert "Materi harus berupa PDF, JPEG atau PNG." in html_of(fake)
    active = b"%PDF-1.4\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n%%EOF"
    script = _upload_material(client, event.id, active, "aktif.pdf")
    assert script.status_code == 422 and "berisi skrip" in html_of(script)
    with app.app_context():
        kept = db.session.scalars(sa.select(Material).order_by(Material.id)).all()
        assert [m.mime for m in kept] == ["application/pdf", "image/jpeg"]
        from PIL import Image

        with Image.open(material_path(kept[1])) as stored:
            assert 0x8825 not in stored.getexif()
        ids = [m.id for m in kept]

    person = add_registration(app, event.id)
    ticket = html_of(client.get(f"/e/{event.code}/tiket/{person.ticket}"))
    assert "Foto papan" in ticket and "Salindia sesi 1" not in ticket  # its session is tomorrow
    assert client.get(f"/e/{event.code}/tiket/{person.ticket}/materi/{ids[0]}").status_code == 404
    open_now(app, event.id)  # the first session starts in ten minutes: not yet
    with app.app_context():
        session = db.session.get(EventSession, first_id)
        session.starts_at -= timedelta(minutes=15)  # and now it has begun
        db.session.commit()
    ticket = html_of(client.get(f"/e/{event.code}/tiket/{person.ticket}"))
    assert re.search(r"Salindia sesi 1</a> <span class=\"meta\">\(PDF, 3 KB\)", ticket)
    download = client.get(f"/e/{event.code}/tiket/{person.ticket}/materi/{ids[0]}")
    assert download.status_code == 200 and download.data == pdf
    public = html_of(client.get(f"/e/{event.code}"))
    assert "Foto papan" in public and "Salindia sesi 1" not in public
    assert client.get(f"/e/{event.code}/materi/{ids[0]}").status_code == 404
    assert client.get(f"/e/{event.code}/materi/{ids[1]}").mimetype == "image/jpeg"
    cancel = client.submit(
        f"/e/{event.code}/tiket/{person.ticket}/batal",
        form_page=f"/e/{event.code}/tiket/{person.ticket}",
    )
    assert cancel.status_code == 303
    assert client.get(f"/e/{event.code}/tiket/{person.ticket}/materi/{ids[0]}").status_code == 404


def test_answers_saved_but_not_sent_are_sent_when_the_test_closes(app, client, training):
    """Like a paper test collected at the bell: an attempt left unsent is scored on its saved
    answers by the worker's minute job once its test has closed, and not before."""
    from kim_app.evaluation.operations import send_closed_attempts

    person = add_registration(app, training.id)
    hub = pass_link(client, training, person.ticket)
    q = question_ids(app, training.id)
    saved = client.submit(f"{hub}/pre", {f"q{q[0]}": "0", f"q{q[1]}": "0"})  # one right
    assert saved.status_code == 303
    with app.test_request_context():
        assert send_closed_attempts() == 0  # still open
    close_the_pre_test(client, app, training)
    with app.test_request_context():
        assert send_closed_attempts() == 1
        assert send_closed_attempts() == 0
    with app.app_context():
        attempt = db.session.scalar(sa.select(Attempt))
        assert (attempt.correct, attempt.total) == (1, 4) and attempt.submitted_at is not None
    assert "Nilai 25,0" in html_of(client.get(hub))


def test_a_number_alone_opens_no_tests_without_the_venue_pin(app, client, training):
    """Without a venue PIN a phone number is no key: only the ticket's code is taken."""
    person = add_registration(app, training.id)
    refused = client.submit(f"/e/{training.code}/tes", {"who": person.phone})
    assert refused.status_code == 422
    assert "Ketik kode presensi dari tiket Anda" in html_of(refused)
    assert "Kode presensi" in html_of(client.get(f"/e/{training.code}/tes"))
    typo = client.submit(f"/e/{training.code}/tes", {"who": "ZZZZ ZZZZ"})
    assert typo.status_code == 422 and "Kode presensi tidak dikenal." in html_of(typo)
    assert client.submit(f"/e/{training.code}/tes", {"who": person.checkin_code}).status_code == 303


def test_speakers_are_rated_when_the_operator_asks(app, client, training):
    """With "rate each speaker" on, the survey asks for each speaker of the agenda; the results
    and the laporan give each speaker's average; a rating of a speaker of another event is left
    out."""
    now = now_at(app, training)
    fields = {
        "pre_opens_at": (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "pre_closes_at": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        "post_opens_at": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        "post_closes_at": (now + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
        "survey_on": "y",
        "survey_anonymous": "y",
        "rate_speakers": "y",
    }
    assert client.submit(f"/kegiatan/{training.id}/evaluasi/pengaturan", fields).status_code == 303
    with app.app_context():
        speaker = db.session.get(Event, training.id).sessions[0].speakers[0]
        speaker_id, speaker_name = speaker.id, speaker.name
    for i, rating in enumerate((4, 3)):
        person = add_registration(app, training.id, f"Penilai {i}", f"0812-6666-{i:04d}")
        url = pass_link(client, training, person.ticket) + "/survei"
        page = html_of(client.get(url))
        assert f"Penilaian narasumber (boleh dilewati): {speaker_name}" in page
        answers = {f"unsur_{e}": "3" for e in ELEMENTS}
        answers |= {
            f"narasumber_{speaker_id}": str(rating),
            "narasumber_999999": "4",
            "aksi": "kirim",
        }
        assert client.submit(url, answers).status_code == 303
    results = html_of(client.get(f"/kegiatan/{training.id}/evaluasi/hasil"))
    assert re.search(
        rf"{speaker_name}<br><small>Sesi 1.*?</small></th><td>3,50</td><td>2</td>", results
    )
    doc = Document(io.BytesIO(client.get(f"/kegiatan/{training.id}/laporan.docx").data))
    rows = [[c.text for c in row.cells] for table in doc.tables for row in table.rows]
    assert [speaker_name, "Sesi 1.1", "3,50", "2"] in rows


def test_the_hall_screen_shows_the_way_in_and_what_is_open(app, client, training, partial_headers):
    """The screen for the hall: a QR code to the hall's way in, and the test open now with its
    closing time (the pre-test, an hour before the session until an hour into it)."""
    page = html_of(client.get(f"/kegiatan/{training.id}/evaluasi/layar"))
    assert "<svg" in page and f"/e/{training.code}/tes</strong>" in page
    with app.app_context():
        starts = db.session.get(Event, training.id).sessions[0].starts_at
    closes = (starts + timedelta(hours=1)).strftime("%H.%M")
    assert f"<strong>Pre-test</strong>sampai {closes}" in page
    assert "Post-test</strong>" not in page
    fragment = html_of(
        client.get(f"/kegiatan/{training.id}/evaluasi/layar", headers=partial_headers)
    )
    assert "<html" not in fragment and "<svg" not in fragment
    assert f"<strong>Pre-test</strong>sampai {closes}" in fragment
