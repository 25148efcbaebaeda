"""The operators' participant list: search, filters, counts, pages, inline edit, cancel and
restore with the waiting list; import from XLSX/CSV and export; access, weight and queries."""

from __future__ import annotations

import csv
import io
import re
import secrets

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from kim_app import importing, jobs
from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.events.imports import ParticipantImporter
from kim_app.events.models import Event, EventStatus, Registration, RegistrationStatus, Source
from kim_app.events.operations import PersonData, register_person
from kim_app.extensions import db
from kim_app.files.models import FileStatus, PreparedFile
from kim_app.files.operations import RUN_JOB
from kim_app.groups.imports import KimImporter
from kim_app.groups.models import Gender
from kim_app.tables import Table
from tests.budget import counted_queries
from tests.conftest import PPU, html_of
from tests.helpers import (
    BUDGET,
    MANAGERS,
    PARTICIPANT_HEADER,
    ROLE_SCOPES,
    confirm_import,
    csv_bytes,
    participants_import_token,
    registrations_of,
    run_jobs,
    upload_participants,
    weigh,
    xlsx_bytes,
)

SCOPE_CHECKED = {
    "events.participants",
    "events.participant_edit",
    "events.participant_status",
    "events.participants_import",
    "events.participants_import_preview",
    "events.participants_export",
}
WEIGHED = {
    "events.participants",
    "events.participant_edit",
    "events.participants_import",
    "events.participants_import_preview",
}
NOT_PAGES = {"events.participant_status", "events.participants_export"}

ROW = re.compile(r'<li id="peserta-(\d+)"><strong>([^<]+)</strong>')


def names_on(html: str) -> list[str]:
    return [name for _id, name in ROW.findall(html)]


def phone(i: int) -> str:
    return f"+62813{i:08d}"


def bulk_registrations(app, event_id: int, n: int, start: int = 0, **fixed) -> None:
    """``n`` participants inserted in bulk: sources, statuses and genders in rotation."""
    sources = [Source.UNDANGAN, Source.MANDIRI, Source.IMPOR, Source.OPERATOR]
    statuses = [RegistrationStatus.TERDAFTAR] * 3 + [RegistrationStatus.DAFTAR_TUNGGU]
    rows = []
    for i in range(start, start + n):
        rows.append(
            {
                "event_id": event_id,
                "name": f"Peserta {i:03d}",
                "institution": "Dinas Kominfo" if i % 2 else "PKK Kecamatan Babulu",
                "position": "Staf",
                "gender": Gender.L if i % 3 else Gender.P,
                "phone": phone(i),
                "source": sources[i % 4],
                "status": RegistrationStatus.BATAL if i % 10 == 9 else statuses[i % 4],
                "ticket": secrets.token_urlsafe(18),
            }
            | fixed
        )
    with app.app_context():
        db.session.execute(sa.insert(Registration), rows)
        db.session.commit()


def register(app, event_id: int, name: str, number: str, **kw) -> int:
    """A registration through the real service (seats and the waiting list apply)."""
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        registration, _new = register_person(event, PersonData(name, number, **kw), Source.MANDIRI)
        db.session.commit()
        return registration.id


def status_of(app, registration_id: int) -> RegistrationStatus:
    with app.app_context():
        return db.session.get(Registration, registration_id).status


def seats_taken(app, event_id: int) -> int:
    with app.app_context():
        return db.session.get(Event, event_id).registered_count


# --- the list -------------------------------------------------------------------------------------


def test_counts_search_filters_and_pages(
    app, client, operator, make_event, make_kim, partial_headers
):
    """120 participants: counts per status and source, 50 per page, search by name, institution
    or phone digits, filters by source, status, gender and KIM/institution; htmx gets the results."""
    event = make_event(capacity=200)
    kim = make_kim(name="KIM Sebakung Maju")
    bulk_registrations(app, event.id, 120)
    with app.app_context():
        db.session.execute(
            sa.update(Registration)
            .where(Registration.name == "Peserta 007")
            .values(kim_id=kim.id, institution="KIM Sebakung Maju")
        )
        db.session.commit()
    url = f"/kegiatan/{event.id}/peserta"
    page = html_of(client.get(url))
    assert "<html" in page
    assert "<strong>84</strong> terdaftar</a> dari 200 kursi" in page
    assert "<strong>24</strong> daftar tunggu" in page and "<strong>12</strong> batal" in page
    assert "Diundang 30 · Daftar mandiri 24 · Impor 30 · Ditambahkan operator 24" in page
    assert "120 peserta ditemukan · halaman 1 dari 3" in page
    assert len(names_on(page)) == 50 and names_on(page)[0] == "Peserta 000"
    assert "0813-0000-0001" in page  # managers see numbers in full
    third = html_of(client.get(url, query_string={"halaman": 3}, headers=partial_headers))
    assert third.startswith('<section id="hasil"') and "<html" not in third
    assert len(names_on(third)) == 20

    def found(**args) -> list[str]:
        return names_on(html_of(client.get(url, query_string=args, headers=partial_headers)))

    assert found(q="peserta 011") == ["Peserta 011"]
    assert found(q="0813-0000-0042") == ["Peserta 042"]
    assert found(q="6281300000042") == ["Peserta 042"]
    assert found(q="pkk 011") == []  # 11 is odd: Dinas Kominfo
    assert len(found(q="pkk babulu")) == 50
    assert found(asal="sebakung") == ["Peserta 007"]
    assert found(status="batal")[:2] == ["Peserta 009", "Peserta 019"]
    assert len(found(sumber="impor", jk="P")) == 10
    assert found(status="bukan-status", sumber="x", jk="Z")[:1] == ["Peserta 000"]
    # the filter state lives in the URL, pager links keep it
    filtered = html_of(client.get(url, query_string={"q": "peserta", "jk": "L"}))
    assert 'value="L" selected' in filtered and "80 peserta ditemukan" in filtered
    assert f"{url}?halaman=2&amp;q=peserta&amp;jk=L" in filtered
    assert f"/kegiatan/{event.id}/peserta/ekspor.xlsx?q=peserta&amp;jk=L" in filtered


def test_waiting_list_is_shown_in_queue_order(app, client, operator, make_event):
    """Filtered to the waiting list, people appear in the order they will be promoted."""
    event = make_event(capacity=1)
    for name, number in (
        ("Zaki", "0812-1111-1111"),
        ("Budi", "0812-2222-2222"),
        ("Ani", "0812-3333-3333"),
    ):
        register(app, event.id, name, number)
    page = html_of(
        client.get(f"/kegiatan/{event.id}/peserta", query_string={"status": "daftar_tunggu"})
    )
    assert names_on(page) == ["Budi", "Ani"]


# --- inline edit ---------------------------------------------------------------------------------


def test_edit_opens_in_place_and_saves_both_ways(
    app, client, operator, make_event, partial_headers
):
    """htmx: the row turns into its form and back into the row; without it, the list shows the
    form on top and saving redirects back to the list. The number is stored as E.164."""
    event = make_event()
    rid = register(app, event.id, "Siti", "0812-3456-7890", institution="PKK")
    url = f"/kegiatan/{event.id}/peserta/{rid}/ubah"
    form = html_of(client.get(url, headers=partial_headers))
    assert form.startswith(f'<li id="peserta-{rid}" class="editing">') and "<html" not in form
    assert 'value="0812-3456-7890"' in form
    full = html_of(client.get(url))
    assert "<html" in full and "Ubah Siti" in full and 'id="hasil"' in full
    saved = client.submit(
        url,
        {
            "name": "Siti Rahma",
            "phone": "+62 812 3456 7899",
            "institution": "PKK Babulu",
            "position": "Ketua",
            "gender": "P",
        },
        headers=partial_headers,
        form_page=f"/kegiatan/{event.id}/peserta",
    )
    assert saved.status_code == 200
    html = html_of(saved)
    assert html.startswith(f'<li id="peserta-{rid}">') and "Siti Rahma" in html
    assert "0812-3456-7899" in html and "Data Siti Rahma disimpan." in html
    assert len(saved.data) < 2048
    plain = client.submit(url, {"name": "Siti R", "phone": "081234567899"}, form_page=url)
    assert plain.status_code == 303
    assert plain.headers["Location"].endswith(f"/kegiatan/{event.id}/peserta#peserta-{rid}")
    [registration] = registrations_of(app, event.id)
    assert registration.name == "Siti R" and registration.phone == "+6281234567899"
    assert registration.institution == "" and registration.gender is None
    back = html_of(
        client.get(
            f"/kegiatan/{event.id}/peserta", query_string={"baris": rid}, headers=partial_headers
        )
    )
    assert back.startswith(f'<li id="peserta-{rid}">')
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "registration.update")
            .order_by(AuditEntry.id)
        ).all()
        assert len(entries) == 2 and entries[0].changes["phone"] == "diubah"
        assert "3456" not in repr([e.changes for e in entries])


def test_save_redirects_back_to_the_filtered_list(app, client, operator, make_event):
    """Without JavaScript, saving returns to the list as it was (filters and page kept)."""
    event = make_event()
    rid = register(app, event.id, "Siti", "0812-3456-7890")
    back = f"/kegiatan/{event.id}/peserta?q=siti&halaman=1"
    url = f"/kegiatan/{event.id}/peserta/{rid}/ubah"
    response = client.submit(
        url,
        {"name": "Siti", "phone": "0812-3456-7890"},
        headers={"Referer": "http://localhost" + back},
    )
    assert response.headers["Location"] == back + f"#peserta-{rid}"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"phone": "0812-1111-2222"},
            "Nomor ini sudah dipakai peserta lain di kegiatan ini: Budi (terdaftar).",
        ),
        ({"phone": "12345"}, "Nomor WhatsApp tidak valid. Contoh: 0812-3456-7890."),
        ({"name": ""}, "Wajib diisi."),
        ({"gender": "Q"}, "Pilihan tidak valid."),
    ],
)
def test_bad_edit_is_a_422_with_the_form_kept(
    app, client, operator, make_event, partial_headers, changes, message
):
    """A number another participant uses, a bad number or a missing name: 422 with the message,
    the form kept open, nothing saved."""
    event = make_event()
    rid = register(app, event.id, "Siti", "0812-3456-7890")
    register(app, event.id, "Budi", "0812-1111-2222")
    url = f"/kegiatan/{event.id}/peserta/{rid}/ubah"
    data = {"name": "Siti", "phone": "0812-3456-7890", "gender": ""} | changes
    for headers in (partial_headers, None):
        response = client.submit(url, data, headers=headers)
        assert response.status_code == 422
        html = html_of(response)
        assert message in html and ('class="editing"' in html or "Ubah Siti" in html)
        assert ("<html" in html) is (headers is None)
    assert {r.name for r in registrations_of(app, event.id)} == {"Siti", "Budi"}


# --- cancel and restore ---------------------------------------------------------------------------


def test_cancel_promotes_the_waiting_and_restore_queues_when_full(
    app, client, operator, make_event, partial_headers
):
    """Capacity 2: cancelling a seated person promotes the longest-waiting one (its row and the
    counts come along out of band); restoring while full puts the person on the waiting list,
    and a later cancellation seats them again."""
    event = make_event(capacity=2)
    ani = register(app, event.id, "Ani", "0812-1111-1111")
    budi = register(app, event.id, "Budi", "0812-2222-2222")
    cici = register(app, event.id, "Cici", "0812-3333-3333")
    assert status_of(app, cici) is RegistrationStatus.DAFTAR_TUNGGU
    status_url = f"/kegiatan/{event.id}/peserta/{{}}/status"
    response = client.submit(
        status_url.format(ani),
        {"status": "batal"},
        headers=partial_headers,
        form_page=f"/kegiatan/{event.id}/peserta",
    )
    assert response.status_code == 200
    html = html_of(response)
    assert html.startswith(f'<li id="peserta-{ani}">') and "Dibatalkan</span>" in html
    assert f'<hx-partial hx-target="#peserta-{cici}" hx-swap="outerHTML">' in html
    assert '<hx-partial hx-target="#jumlah-peserta"' in html
    assert "Cici naik dari daftar tunggu dan kini terdaftar." in html
    assert status_of(app, ani) is RegistrationStatus.BATAL
    assert status_of(app, cici) is RegistrationStatus.TERDAFTAR
    assert seats_taken(app, event.id) == 2

    restored = client.submit(
        status_url.format(ani), {"status": "pulih"}, form_page=f"/kegiatan/{event.id}/peserta"
    )
    assert restored.status_code == 303
    assert status_of(app, ani) is RegistrationStatus.DAFTAR_TUNGGU
    assert "Kursi sudah penuh: Ani masuk daftar tunggu." in html_of(
        client.get(f"/kegiatan/{event.id}/peserta")
    )
    client.submit(
        status_url.format(budi), {"status": "batal"}, form_page=f"/kegiatan/{event.id}/peserta"
    )
    assert status_of(app, ani) is RegistrationStatus.TERDAFTAR
    assert seats_taken(app, event.id) == 2
    # restoring with a free seat seats the person at once
    client.submit(
        status_url.format(cici), {"status": "batal"}, form_page=f"/kegiatan/{event.id}/peserta"
    )
    assert seats_taken(app, event.id) == 1
    client.submit(
        status_url.format(budi), {"status": "pulih"}, form_page=f"/kegiatan/{event.id}/peserta"
    )
    assert status_of(app, budi) is RegistrationStatus.TERDAFTAR and seats_taken(app, event.id) == 2
    with app.app_context():
        actions = [
            e.action
            for e in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
            if e.action.startswith("registration.") and e.action != "registration.create"
        ]
    assert actions == [
        "registration.cancel", "registration.restore", "registration.cancel",
        "registration.cancel", "registration.restore",
    ]  # fmt: skip


def test_status_needs_a_clear_wish_and_a_sensible_one(
    app, client, operator, make_event, partial_headers
):
    """An unknown wish is a 400; cancelling the cancelled or restoring the registered is a 422."""
    event = make_event()
    rid = register(app, event.id, "Ani", "0812-1111-1111")
    url = f"/kegiatan/{event.id}/peserta/{rid}/status"
    page = f"/kegiatan/{event.id}/peserta"
    assert client.submit(url, {"status": "hapus"}, form_page=page).status_code == 400
    wrong = client.submit(url, {"status": "pulih"}, form_page=page, headers=partial_headers)
    assert wrong.status_code == 422 and "Ani tidak sedang batal." in html_of(wrong)
    assert wrong.headers["HX-Retarget"] == "#pesan"
    assert client.submit(url, {"status": "batal"}, form_page=page).status_code == 303
    again = client.submit(url, {"status": "batal"}, form_page=page)
    assert again.status_code == 422 and "Ani sudah batal." in html_of(again)
    # a registration of another event under this URL
    other = make_event()
    stranger = register(app, other.id, "Budi", "0812-2222-2222")
    assert (
        client.submit(
            f"/kegiatan/{event.id}/peserta/{stranger}/status", {"status": "batal"}, form_page=page
        ).status_code
        == 404
    )
    assert client.get(f"/kegiatan/{event.id}/peserta/{stranger}/ubah").status_code == 404
    huge = client.get(page, query_string={"baris": 10**30}, headers=partial_headers)
    assert huge.status_code == 404


# --- import ---------------------------------------------------------------------------------------

# data row index → what is wrong with it
BAD = {
    10: "phone",
    50: "noname",
    77: "duplicate",  # the number of row index 5
    120: "phone",
    150: "kim",
    201: "gender",
    260: "noname",
    299: "duplicate",
}


def participant_rows(n: int = 300, bad=BAD) -> list[list]:
    rows = []
    for i in range(n):
        rows.append(
            [
                i + 1,
                f"Peserta Impor {i:03d}",
                f"0821{20000000 + i}",
                "" if i % 7 == 0 else ("Dinas Kominfo" if i % 2 else "Kecamatan Babulu"),
                "Staf",
                "L" if i % 2 else "P",
                "KIM Sebakung Maju" if i % 7 == 0 else "",
            ]
        )
        kind = bad.get(i)
        if kind == "phone":
            rows[-1][2] = "12345"
        elif kind == "noname":
            rows[-1][1] = ""
        elif kind == "duplicate":
            rows[-1][2] = "0821" + str(20000000 + 5)
        elif kind == "kim":
            rows[-1][6] = "KIM Tidak Ada"
        elif kind == "gender":
            rows[-1][5] = "Z"
    return rows


REASONS = {
    12: "No HP tidak valid: 12345.",
    52: "Nama kosong.",
    79: "Nomor HP sama dengan baris 7.",
    122: "No HP tidak valid: 12345.",
    152: "KIM “KIM Tidak Ada” tidak ditemukan di wilayah kegiatan.",
    203: "Jenis kelamin tidak dikenal: Z (isi L atau P).",
    262: "Nama kosong.",
    301: "Nomor HP sama dengan baris 7.",
}


def counts(html: str) -> tuple[int, int, int, int, int]:
    match = re.search(
        r"<strong>(\d+)</strong> baris valid akan diimpor:\s*(\d+) baru, (\d+) sudah ada dan "
        r"diperbarui, (\d+) sudah ada dan tidak berubah\.\s*</li>\s*<li><strong>(\d+)</strong>",
        html,
    )
    assert match, html[:3000]
    return tuple(int(g) for g in match.groups())


def invalid_rows(client, url: str) -> dict[int, str]:
    """Every invalid row with its reasons, over all pages of the preview."""
    found = {}
    page = 1
    while True:
        html = html_of(client.get(url, query_string={"halaman": page}))
        listing = html.split("Baris tidak valid</h2>", 1)[1].split("</ul>", 1)[0]
        found |= {
            int(n): reason
            for n, reason in re.findall(
                r"<strong>Baris (\d+)</strong>.*?<span class=\"error\">(.*?)</span>", listing
            )
        }
        if f"Halaman {page} dari {page}" in html or "Halaman kesalahan" not in html:
            return found
        page += 1


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_300_row_workbook_imports_valid_rows_once(app, client, operator, make_event, make_kim, fmt):
    """300 rows with 8 bad ones (bad number, no name, a number twice in the file, an unknown KIM,
    an unknown gender): the preview names exactly those rows with their reasons; confirming
    imports the 292 others — seats first, the rest on the waiting list; the same file again
    changes nothing."""
    event = make_event(capacity=250)
    kim = make_kim(name="KIM Sebakung Maju")
    rows = participant_rows()
    data = (
        xlsx_bytes(PARTICIPANT_HEADER, rows)
        if fmt == "xlsx"
        else csv_bytes(PARTICIPANT_HEADER, rows)
    )
    token = participants_import_token(
        upload_participants(client, event.id, data, f"peserta.{fmt}"), event.id
    )
    url = f"/kegiatan/{event.id}/peserta/impor/{token}"
    preview = html_of(client.get(url))
    assert counts(preview) == (292, 292, 0, 0, 8)
    assert "Kursi tersisa: 250." in preview
    assert invalid_rows(client, url) == REASONS
    response = confirm_import(client, url)
    assert response.status_code == 303
    page = html_of(client.get(response.headers["Location"]))
    assert (
        "Impor peserta selesai: 292 baru, 0 diperbarui, 0 tidak berubah, 8 baris tidak valid dilewati."
        in page
    )
    assert "42 orang masuk daftar tunggu karena kursi penuh." in page
    stored = registrations_of(app, event.id)
    assert len(stored) == 292 and seats_taken(app, event.id) == 250
    assert sum(r.status is RegistrationStatus.TERDAFTAR for r in stored) == 250
    assert all(r.source is Source.IMPOR for r in stored)
    first = stored[0]
    assert first.name == "Peserta Impor 000" and first.kim_id == kim.id
    assert first.institution == "KIM Sebakung Maju" and first.gender is Gender.P
    assert first.phone == "+6282120000000"
    # the waiting list follows the file's order
    waiting = [r.name for r in stored if r.status is RegistrationStatus.DAFTAR_TUNGGU]
    assert waiting[0] == "Peserta Impor 256" and len(waiting) == 42
    before = [(r.id, r.name, r.status, r.institution, r.kim_id) for r in stored]

    again = participants_import_token(
        upload_participants(client, event.id, data, f"peserta.{fmt}"), event.id
    )
    url = f"/kegiatan/{event.id}/peserta/impor/{again}"
    assert counts(html_of(client.get(url))) == (292, 0, 0, 292, 8)
    assert confirm_import(client, url).status_code == 303
    after = [
        (r.id, r.name, r.status, r.institution, r.kim_id) for r in registrations_of(app, event.id)
    ]
    assert after == before and seats_taken(app, event.id) == 250
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "registration.import")
            .order_by(AuditEntry.id)
        ).all()
        assert [(e.changes["created"], e.changes["unchanged"]) for e in entries] == [
            (292, 0),
            (0, 292),
        ]


BACKGROUND = {"id": "diimpor di latar belakang", "en": "imported in the background"}


def _queued_import(app, client, event, monkeypatch, lang: str = "id") -> tuple[str, str]:
    """Three rows confirmed with every import going to the worker, by a person whose interface
    speaks ``lang``: (preview URL, file page)."""
    monkeypatch.setitem(app.config, "KIM_FILES_AT_ONCE_MAX", 0)
    rows = [[f"Orang {i}", f"0812-3333-000{i}", "PKK"] for i in range(3)]
    data = csv_bytes(["Nama", "HP", "Instansi"], rows)
    token = participants_import_token(
        upload_participants(client, event.id, data, "tiga.csv"), event.id
    )
    url = f"/kegiatan/{event.id}/peserta/impor/{token}"
    page = html_of(client.get(url))
    assert BACKGROUND[lang] in page
    fields = dict(
        re.findall(
            r'<select id="(kolom_\w+)" name="\1">.*?<option value="(\d+)" selected', page, re.S
        )
    )
    asked = client.submit(url, fields | {"aksi": "impor"})
    assert asked.status_code == 303 and asked.headers["Location"].startswith("/berkas/")
    # confirmed twice (a double tap): the upload is taken once
    again = client.submit(url, fields | {"aksi": "impor"}, form_page=asked.headers["Location"])
    assert again.status_code == 303 and again.headers["Location"] == asked.headers["Location"]
    assert client.get(url).headers["Location"] == asked.headers["Location"]
    return url, asked.headers["Location"]


def test_an_import_on_the_worker_writes_its_rows_and_a_workbook_of_outcomes(
    app, client, operator, make_event, monkeypatch
):
    event = make_event()
    _url, status = _queued_import(app, client, event, monkeypatch)
    assert registrations_of(app, event.id) == []
    assert run_jobs(app) == 1
    page = html_of(client.get(status))
    assert "Impor peserta selesai: 3 baru, 0 diperbarui, 0 tidak berubah" in page
    assert "Impor peserta kegiatan: tiga.csv" in html_of(client.get("/pesan"))
    book = load_workbook(io.BytesIO(client.get(status + "/unduh").get_data()), read_only=True)
    lines = list(book.active.iter_rows(values_only=True))
    assert [(line, what) for line, _label, _place, what, _why in lines[1:]] == [
        (2, "baru"),
        (3, "baru"),
        (4, "baru"),
    ]
    assert len(registrations_of(app, event.id)) == 3


def test_an_import_on_the_worker_speaks_the_language_of_the_person_who_asked(
    app, client, operator, make_event, monkeypatch
):
    """Not an official document: the summary and the workbook are in the interface language."""
    event = make_event()
    client.submit("/bahasa", {"lang": "en", "next": "/"}, form_page="/")
    _url, status = _queued_import(app, client, event, monkeypatch, "en")
    assert run_jobs(app) == 1
    assert "Participant import complete: 3 new, 0 updated, 0 unchanged" in html_of(
        client.get(status)
    )
    book = load_workbook(io.BytesIO(client.get(status + "/unduh").get_data()), read_only=True)
    assert next(book.active.iter_rows(values_only=True))[0] == "Row"


def test_an_import_whose_event_closed_before_the_worker_writes_nothing_and_returns_to_preview(
    app, client, operator, make_event, monkeypatch
):
    """The event was finished between the confirmation and the worker's turn: nothing is
    written, the file says why and that the data changed, and "Buka lagi" leads back to the
    preview."""
    event = make_event()
    url, status = _queued_import(app, client, event, monkeypatch)
    with app.app_context():
        db.session.get(Event, event.id).status = EventStatus.SELESAI
        db.session.commit()
    assert run_jobs(app) == 1
    page = html_of(client.get(status))
    # what stood in the way, then what to do
    assert "Kegiatan ini sudah selesai; pesertanya tidak dapat diubah lagi." in page
    assert "Data berubah sejak pratinjau" in page
    assert f'href="{url}"' in page and "Buka lagi" in page
    assert registrations_of(app, event.id) == []
    assert client.get(url).status_code == 200  # the upload is back at its preview


def test_an_import_run_thought_dead_writes_nothing_and_the_run_after_it_writes_once(
    app, client, operator, make_event, monkeypatch
):
    """The worker's run went silent so long that ``reap`` queued the file again while it still
    lived: it commits nothing, and the run that took the file over writes the rows once."""
    event = make_event()
    _url, status = _queued_import(app, client, event, monkeypatch)
    apply = ParticipantImporter.apply
    reaped = []

    def apply_after_a_reap(self, plan, user, filename):
        if not reaped:  # the first run, between its check and its writes
            reaped.append(True)
            db.session.execute(sa.update(PreparedFile).values(status=FileStatus.ANTRE))
            db.session.commit()
            jobs.enqueue(RUN_JOB, db.session.scalar(sa.select(PreparedFile.id)))
        return apply(self, plan, user, filename)

    monkeypatch.setattr(ParticipantImporter, "apply", apply_after_a_reap)
    assert run_jobs(app) == 2
    assert len(registrations_of(app, event.id)) == 3
    with app.app_context():
        made = db.session.scalar(sa.select(PreparedFile))
        assert (made.status, made.attempts) == (FileStatus.SELESAI, 2)
    assert "Impor peserta selesai: 3 baru" in html_of(client.get(status))


def test_an_import_whose_event_was_deleted_fails_as_gone(
    app, client, operator, make_event, monkeypatch
):
    event = make_event()
    _url, status = _queued_import(app, client, event, monkeypatch)
    with app.app_context():
        db.session.delete(db.session.get(Event, event.id))
        db.session.commit()
    assert run_jobs(app) == 1
    assert "Data untuk berkas ini sudah tidak ada" in html_of(client.get(status))


def test_import_updates_known_numbers_and_keeps_their_status(app, client, operator, make_event):
    """A number already registered is updated with what the file gives (blank cells keep what is
    stored); a cancelled person stays cancelled."""
    event = make_event()
    rid = register(app, event.id, "Ani", "0812-1111-1111", institution="PKK")
    with app.app_context():
        db.session.get(Registration, rid).status = RegistrationStatus.BATAL
        db.session.commit()
    data = csv_bytes(
        ["Nama", "HP", "Instansi", "Jabatan"], [["Ani Lestari", "081211111111", "", "Ketua"]]
    )
    token = participants_import_token(
        upload_participants(client, event.id, data, "a.csv"), event.id
    )
    url = f"/kegiatan/{event.id}/peserta/impor/{token}"
    assert counts(html_of(client.get(url))) == (1, 0, 1, 0, 0)
    assert confirm_import(client, url).status_code == 303
    [registration] = registrations_of(app, event.id)
    assert registration.name == "Ani Lestari" and registration.position == "Ketua"
    assert registration.institution == "PKK" and registration.status is RegistrationStatus.BATAL


def test_import_mapping_missing_columns_and_mapping_changes(
    app, client, operator, make_event, partial_headers
):
    """Without a phone column nothing can be checked; choosing it re-checks the file (htmx swaps
    the result, without JavaScript the page); confirming before that is a 422."""
    event = make_event()
    data = csv_bytes(["Nama", "Keterangan", "Catatan"], [["Ani", "no", "0812-1111-1111"]])
    token = participants_import_token(
        upload_participants(client, event.id, data, "a.csv"), event.id
    )
    url = f"/kegiatan/{event.id}/peserta/impor/{token}"
    page = html_of(client.get(url))
    assert "Pilih kolom berkas untuk: No HP/WhatsApp." in page
    refused = client.submit(url, {"kolom_name": "0", "aksi": "impor"})
    assert refused.status_code == 422 and "Tidak ada baris valid" in html_of(refused)
    fragment = client.submit(url, {"kolom_name": "0", "kolom_phone": "2"}, headers=partial_headers)
    assert html_of(fragment).startswith('<section id="hasil"')
    assert counts(html_of(fragment)) == (1, 1, 0, 0, 0)
    assert confirm_import(client, url).status_code == 303
    assert [r.phone for r in registrations_of(app, event.id)] == ["+6281211111111"]


def test_import_tokens_of_other_kinds_or_users_are_404(
    app, client, operator, make_user, make_event
):
    """A KIM-registry upload, another operator's upload or a made-up token is not found here;
    cancelling deletes the upload."""
    event = make_event()
    table = Table(headers=["Nama", "HP"], rows=[["Ani", "081211111111"]], lines=[2])
    other = make_user(Role.OPERATOR_KABKOTA, PPU)
    with app.test_request_context():
        kim_token = importing.save_upload(KimImporter(), table, "kim.csv", operator)
        foreign = importing.save_upload(ParticipantImporter(), table, "x.csv", other)
        mine = importing.save_upload(ParticipantImporter(), table, "x.csv", operator)
    for token in (kim_token, foreign, "a" * 22, "../../etc"):
        response = client.get(f"/kegiatan/{event.id}/peserta/impor/{token}")
        assert response.status_code == 404
    url = f"/kegiatan/{event.id}/peserta/impor/{mine}"
    assert client.get(url).status_code == 200
    cancelled = client.submit(url, {"aksi": "batal"})
    assert cancelled.status_code == 303 and client.get(url).status_code == 404


def test_upload_page_both_ways_and_bad_files(app, client, operator, make_event, partial_headers):
    """The upload page is a page (htmx or not); a file that is not XLSX/CSV is a 422 with the reason."""
    event = make_event()
    url = f"/kegiatan/{event.id}/peserta/impor"
    assert "<html" in html_of(client.get(url))
    response = upload_participants(client, event.id, b"%PDF-1.4 bukan tabel", "x.pdf")
    assert response.status_code == 422 and "bukan workbook Excel" in html_of(response)
    empty = client.submit(url, {})
    assert empty.status_code == 422 and "Pilih berkas XLSX atau CSV." in html_of(empty)


def test_guess_mapping_for_participant_headers(ctx):
    """Indonesian and English headers find the participant fields."""
    headers = [
        "No",
        "Nama Lengkap",
        "Nama Instansi",
        "Jabatan",
        "Jenis Kelamin",
        "No WA",
        "Asal KIM",
    ]
    assert importing.guess_mapping(ParticipantImporter(), headers) == {
        "name": 1, "institution": 2, "position": 3, "gender": 4, "phone": 5, "kim_name": 6,
    }  # fmt: skip
    english = ["Name", "Phone", "Institution", "Position", "Gender", "KIM"]
    assert importing.guess_mapping(ParticipantImporter(), english) == {
        "name": 0, "phone": 1, "institution": 2, "position": 3, "gender": 4, "kim_name": 5,
    }  # fmt: skip
    assert ParticipantImporter.label == "peserta kegiatan"


# --- export ---------------------------------------------------------------------------------------


def test_export_is_readable_filtered_audited_and_imports_back_unchanged(
    app, client, operator, make_event, make_kim
):
    """XLSX and CSV hold the list (filters apply, full numbers, zone in the header); the export is
    audited without search words; the exported file imported again changes nothing."""
    event = make_event()
    make_kim(name="KIM Sebakung Maju")
    bulk_registrations(app, event.id, 12)
    base = f"/kegiatan/{event.id}/peserta/ekspor"
    response = client.get(base + ".xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="peserta-{event.code}-'
    )
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:7] == (
        "No",
        "Nama",
        "No HP",
        "Instansi",
        "Jabatan",
        "Jenis Kelamin",
        "Nama KIM",
    )
    assert rows[0][9] == "Waktu daftar (WITA)"
    assert len(rows) == 13 and rows[1][1] == "Peserta 000" and rows[1][2] == "0813-0000-0000"
    text = client.get(base + ".csv", query_string={"status": "batal", "q": "0813"}).data.decode(
        "utf-8-sig"
    )
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert [line[1] for line in lines[1:]] == ["Peserta 009"]
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "registration.export")
            .order_by(AuditEntry.id)
        ).all()
        assert [(e.changes["format"], e.changes["rows"]) for e in entries] == [
            ("xlsx", 12),
            ("csv", 1),
        ]
        assert entries[1].changes["filters"] == {"q": "…", "status": "batal"}
    before = [(r.id, r.name, r.phone, r.status) for r in registrations_of(app, event.id)]
    token = participants_import_token(
        upload_participants(client, event.id, response.data, "ekspor.xlsx"), event.id
    )
    url = f"/kegiatan/{event.id}/peserta/impor/{token}"
    assert counts(html_of(client.get(url))) == (12, 0, 0, 12, 0)
    assert confirm_import(client, url).status_code == 303
    assert [(r.id, r.name, r.phone, r.status) for r in registrations_of(app, event.id)] == before


# --- queries and weight -----------------------------------------------------------------------------


def test_list_queries_do_not_grow_with_participants(
    app, client, operator, make_event, partial_headers
):
    """10 or 120 participants: the same number of queries for the page and for its results."""
    counts_seen = []
    for n in (10, 120):
        event = make_event()
        bulk_registrations(app, event.id, n)
        with counted_queries(app) as seen:
            assert client.get(f"/kegiatan/{event.id}/peserta").status_code == 200
        with counted_queries(app) as partial:
            url = f"/kegiatan/{event.id}/peserta"
            assert (
                client.get(url, query_string={"q": "peserta"}, headers=partial_headers).status_code
                == 200
            )
        counts_seen.append((len(seen), len(partial)))
    print(f"participant list queries (page, results): {counts_seen}")
    assert counts_seen[0] == counts_seen[1]


def test_pages_fit_in_14_kb(app, client, operator, make_event):
    """The list with 50 long rows, the edit page, the upload page and a preview full of errors
    each fit in 14 KB compressed with the stylesheet."""
    event = make_event(
        title="Pelatihan Jurnalistik Warga dan Literasi Digital bagi KIM se-Kabupaten"
    )
    bulk_registrations(
        app, event.id, 60,
        institution="Dinas Komunikasi, Informatika, Statistik dan Persandian Kabupaten",
        position="Pranata Hubungan Masyarakat Ahli Muda",
    )  # fmt: skip
    with app.app_context():
        rid = db.session.scalar(sa.select(Registration.id).where(Registration.event_id == event.id))
    rows = [
        [f"Nama Peserta Yang Panjang {i}", "12345", "Instansi", "Staf", "Z", ""] for i in range(300)
    ]
    token = participants_import_token(
        upload_participants(client, event.id, csv_bytes(PARTICIPANT_HEADER[1:], rows), "salah.csv"),
        event.id,
    )
    sizes = {
        "peserta": weigh(client.get(f"/kegiatan/{event.id}/peserta")),
        "ubah": weigh(client.get(f"/kegiatan/{event.id}/peserta/{rid}/ubah")),
        "impor": weigh(client.get(f"/kegiatan/{event.id}/peserta/impor")),
        "pratinjau": weigh(client.get(f"/kegiatan/{event.id}/peserta/impor/{token}")),
    }
    print(f"page weights: {sizes}")
    assert max(sizes.values()) <= BUDGET


# --- access -----------------------------------------------------------------------------------------

JATIM_REGENCY = "35.14"


def _requests(client, app, actor, event, rid):
    """Every participant endpoint once: (name, response)."""
    with app.test_request_context():
        table = Table(headers=["Nama", "HP"], rows=[["Ani", "081211111111"]], lines=[2])
        token = importing.save_upload(ParticipantImporter(), table, "a.csv", actor)
    base = f"/kegiatan/{event.id}/peserta"
    csrf = client.token("/")
    return [
        ("participants", client.get(base)),
        ("participant_edit", client.get(f"{base}/{rid}/ubah")),
        (
            "participant_status",
            client.post(f"{base}/{rid}/status", data={"csrf_token": csrf, "status": "batal"}),
        ),
        ("participants_import", client.get(f"{base}/impor")),
        ("participants_import_preview", client.get(f"{base}/impor/{token}")),
        ("participants_export", client.get(f"{base}/ekspor.csv")),
    ]


@pytest.mark.parametrize("role", list(ROLE_SCOPES), ids=lambda r: r.value)
def test_participants_scope_matrix(app, client, make_user, make_kim, login, make_event, role):
    """Managers reach the participants of events in their scope (404 outside: Majalengka for a
    regency operator, PPU for Jawa Timur's); village heads, pengurus and petugas get 403."""
    inside = make_event(region=JATIM_REGENCY if role is Role.OPERATOR_PROVINSI else PPU)
    outside = make_event(region="32.10")
    # a pengurus account always belongs to a KIM
    kim = {"kim_id": make_kim(ROLE_SCOPES[role]).id} if role is Role.PENGURUS_KIM else {}
    actor = make_user(role, ROLE_SCOPES[role], **kim)
    login(actor)
    for event, is_inside in ((inside, True), (outside, False)):
        rid = register(app, event.id, "Ani", "0812-1111-1111")
        for name, response in _requests(client, app, actor, event, rid):
            if role not in MANAGERS:
                expected = 403
            elif is_inside or role is Role.ADMIN:
                expected = 303 if name == "participant_status" else 200
            else:
                expected = 404
            assert response.status_code == expected, (role, name, is_inside)


def test_visitors_are_sent_to_sign_in(client):
    """The participant pages are behind sign-in."""
    for path in (
        "/kegiatan/1/peserta",
        "/kegiatan/1/peserta/impor",
        "/kegiatan/1/peserta/ekspor.csv",
    ):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith(
            "/login?next="
        )


def test_regency_operator_does_not_manage_the_province_event(
    app, client, make_user, login, make_event
):
    """A regency operator sees the province's events but does not manage their participants."""
    event = make_event(region="64")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    assert client.get(f"/kegiatan/{event.id}/peserta").status_code == 404
