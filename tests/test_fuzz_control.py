"""Control characters (issue 21, item 4): cleaned where text enters, and never in what is written.

One ESC in a name once made every export that held it answer 500 (openpyxl and python-docx
refuse such characters), and anyone could plant it through the public registration form. The
listed cases are regression tests: text enters through a form or an import without control
characters, and text stored before (planted here with the services, bypassing the forms) is
written by every export without them. Then the generated part: control characters in every text
field of every form, followed by every export route (XLSX, CSV, DOCX, PDF, calendar file), in
the world of tests/test_fuzz.py.
"""

from __future__ import annotations

import io
import itertools
import re
import time
import zipfile
from collections import Counter

import pytest
import sqlalchemy as sa
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from pypdf import PdfReader

from kim_app import tables
from kim_app.attendance.models import Presence
from kim_app.attendance.operations import mark_attendance
from kim_app.auth.models import Role, User
from kim_app.events.models import Event, EventStatus, Registration, Source
from kim_app.events.operations import PersonData, register_person
from kim_app.extensions import db
from kim_app.groups.models import Gender, KimStatus, KimStatusChange, Member
from kim_app.reports.operations import save_narrative
from tests.fuzz_forms import Form, add_script_fields, complete_pickers, form_values
from tests.fuzzing import (
    ACTORS,
    CSRF,
    VILLAGE_CHAIN,
    Fuzzer,
    collect_examples,
    form_pairs,
    html_pages,
    post_forms,
    url_for_endpoint,
)

# what no written file may hold: C0 but tab, line feed and carriage return, DEL, C1, and the
# noncharacters XML 1.0 forbids (with their kin); written out here, not taken from the app
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
ESC = "\x1b"


def control_characters(data: bytes, kind: str) -> list[str]:
    """The control characters in an export's text (each with a little context); empty when
    clean. XLSX and DOCX are read part by part (the XML a reader parses), a PDF through its
    extracted text, CSV and calendar files as UTF-8."""
    if kind in ("xlsx", "docx"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            texts = [
                archive.read(name).decode("utf-8")
                for name in archive.namelist()
                if name.endswith((".xml", ".rels"))
            ]
    elif kind == "pdf":
        texts = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    else:
        texts = [data.decode("utf-8-sig")]
    found = []
    for text in texts:
        lone_cr = re.finditer(r"\r(?!\n)", text)
        for match in [*CONTROL.finditer(text), *lone_cr]:
            found.append(repr(text[max(0, match.start() - 20) : match.end() + 20]))
    return found


def xlsx_text(data: bytes) -> str:
    """Every cell of every sheet, one line per row (the workbook must open)."""
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    lines = [
        " | ".join("" if v is None else str(v) for v in row)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    ]
    workbook.close()
    return "\n".join(lines)


def docx_text(data: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


# --- where text enters ----------------------------------------------------------------------------


def test_printable_keeps_text_and_drops_control_characters():
    """The one rule: C0 but tab and line feed, DEL, C1, surrogates and noncharacters go; CR LF
    and a lone CR become a line feed; letters of any script, emoji, NBSP and U+2028 stay."""
    from kim_app.text import printable

    kept = "Budi\tSantoso\nك ꦏꦶꦩ꧀ 🎉👩‍👩‍👧 é\u00a0\u2028\u202e\ufffd\U0010fffd"
    assert printable(kept) == kept
    dropped = "".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32), *range(0x7F, 0xA0)]))
    dropped += "\ud800\udfff\ufdd0\ufdef\ufffe\uffff\U0001fffe\U0010ffff"
    assert printable(f"Budi{dropped}Santoso") == "BudiSantoso"
    assert printable("baris 1\r\nbaris 2\rbaris 3") == "baris 1\nbaris 2\nbaris 3"


def test_public_registration_stores_the_name_without_control_characters(app, client, make_event):
    """``name=Budi\\x1bSantoso`` through the public form is kept as ``BudiSantoso``; the other
    text fields lose theirs too."""
    event = make_event(capacity=40)
    response = client.submit(
        f"/e/{event.code}",
        {
            "name": f"Budi{ESC}Santoso",
            "phone": "0813-5555-0101",
            "institution": "KIM\x9b Sebakung\x0c Jaya",
            "position": "Sekre\x00\x01taris\r\n",
            "gender": "L",
            "consent": "y",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        row = db.session.scalar(sa.select(Registration).where(Registration.event_id == event.id))
        assert (row.name, row.institution, row.position, row.phone) == (
            "BudiSantoso",
            "KIM Sebakung Jaya",
            "Sekretaris",
            "+6281355550101",
        )


def test_textarea_lines_are_kept_as_line_feeds(app, client, make_kim, make_user, login):
    """A browser sends a textarea's lines with CR LF: the note returned with a KIM keeps them as
    line feeds, and the vertical tab and ESC typed into it are dropped."""
    kim = make_kim(status=KimStatus.DIAJUKAN)
    login(make_user(Role.OPERATOR_KABKOTA))
    note = "Tanggal SK keliru,\r\nmohon\x0b periksa\x1b lagi.\r\n"
    response = client.submit(
        f"/kim/{kim.id}/status",
        {"to": "perlu_perbaikan", "note": note},
        form_page=f"/kim/{kim.id}",
    )
    assert response.status_code == 303
    with app.app_context():
        change = db.session.scalar(
            sa.select(KimStatusChange).where(KimStatusChange.kim_id == kim.id)
        )
        assert change.note == "Tanggal SK keliru,\nmohon periksa lagi."


def test_imported_cells_lose_control_characters(app):
    """An import reads cells without control characters: C1 and DEL inside an XLSX (XML allows
    them), ESC in a CSV row after the first 4 KB (which alone is sniffed for binary files)."""
    workbook = Workbook()
    workbook.active.append(["nama\x85", "nomor whatsapp"])
    workbook.active.append(["Budi\x9bSantoso\x7f", "0812-5555-0101"])
    out = io.BytesIO()
    workbook.save(out)
    with app.app_context():
        table = tables.read_table(out.getvalue())
        assert table.headers == ["nama", "nomor whatsapp"]
        assert table.rows == [["BudiSantoso", "0812-5555-0101"]]
        text = "nama,instansi\n" + "Ani,Dinas\n" * 500 + f"Budi{ESC}Santoso,Din\x01as\n"
        table = tables.read_table(text.encode())
        assert table.rows[-1] == ["BudiSantoso", "Dinas"]


# --- what is already stored -----------------------------------------------------------------------


@pytest.fixture
def planted(app, make_event, make_kim, make_user):
    """Text stored before the rule: a participant named ``Budi\\x1bSantoso`` marked hadir, with
    other control characters in the event and its report, and a member ``Siti\\x1bAminah``, all
    written through the services (no request cleans them)."""
    operator = make_user(Role.OPERATOR_KABKOTA)
    kim = make_kim(members=3)
    event = make_event(
        status=EventStatus.BERLANGSUNG,
        title="Pelatihan\x0b Jurnalistik\x85",
        venue_name="Aula\x1f Kantor Bupati",
        signer_name="Ahmad\x08 Fauzi",
        certificate_min_percent=25,
    )
    with app.test_request_context():
        ev = db.session.get(Event, event.id)
        ev.sessions[0].topic = "Menulis\x1b[31m berita"
        person = PersonData(f"Budi{ESC}Santoso", "0812-7777-0001", "Dinas\x07", "Staf", Gender.L)
        registration, _new = register_person(ev, person, Source.MANDIRI, kim_id=kim.id)
        mark_attendance(registration, ev.sessions[0], Presence.HADIR, None)
        texts = {"background": "Latar\x0c belakang\x1b", "results": "Hasil\x9b"}
        save_narrative(ev, texts, db.session.get(User, operator.id))
        member = db.session.scalar(sa.select(Member).where(Member.kim_id == kim.id).limit(1))
        member.name = f"Siti{ESC}Aminah"
        db.session.flush()
        ids = {
            "event": ev.id,
            "registration": registration.id,
            "session": ev.sessions[0].id,
            "code": ev.code,
            "ticket": registration.ticket,
        }
        db.session.commit()
        return {"operator": operator, "ids": ids}


def export_text(data: bytes, kind: str) -> str:
    """An export's text as a reader sees it (a calendar file's folded lines joined again)."""
    if kind == "xlsx":
        return xlsx_text(data)
    if kind == "docx":
        return docx_text(data)
    if kind == "pdf":
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return data.decode("utf-8-sig").replace("\r\n ", "")


# the exports of the planted data, and what each must show of it (its control characters gone)
STORED_EXPORTS = [
    ("/absensi/kegiatan/{event}/kehadiran.xlsx", ["BudiSantoso", "Menulis[31m berita"]),
    ("/kegiatan/{event}/peserta/ekspor.xlsx", ["BudiSantoso", "Dinas"]),
    ("/kegiatan/{event}/peserta/ekspor.csv", ["BudiSantoso;", "Dinas;"]),
    ("/laporan/orang/{registration}.xlsx", ["BudiSantoso", "Pelatihan Jurnalistik"]),
    ("/laporan/orang/{registration}.csv", ["BudiSantoso", "Pelatihan Jurnalistik"]),
    (
        "/kegiatan/{event}/laporan.docx",
        ["BudiSantoso", "Pelatihan Jurnalistik", "Latar belakang", "Ahmad Fauzi", "Aula Kantor"],
    ),
    ("/kegiatan/{event}/laporan.pdf", ["BudiSantoso", "Pelatihan Jurnalistik"]),
    ("/absensi/sesi/{session}/daftar-hadir.pdf", ["BudiSantoso"]),
    ("/kim/anggota/ekspor.xlsx", ["SitiAminah"]),
    ("/kim/anggota/ekspor.csv", ["SitiAminah"]),
    ("/e/{code}/tiket/{ticket}.ics", ["SUMMARY:Pelatihan Jurnalistik — Menulis[31m berita"]),
]


@pytest.mark.parametrize(("path", "shown"), STORED_EXPORTS, ids=[p for p, _s in STORED_EXPORTS])
def test_exports_write_stored_text_without_control_characters(client, login, planted, path, shown):
    """With ``Budi\\x1bSantoso`` stored and marked hadir, ``Siti\\x1bAminah`` a member, and
    control characters in the event, its session and its report, every export answers 200 with
    the text and without the characters (each once answered 500 or carried them)."""
    login(planted["operator"])
    path = path.format(**planted["ids"])
    kind = path.rsplit(".", 1)[1]
    response = client.get(path)
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    data = response.get_data()
    assert control_characters(data, kind) == []
    text = export_text(data, kind)
    for expected in shown:
        assert expected in text, expected


# --- generated: control characters in every text field, then every export -----------------------

# the inputs a person types text into (passwords too: they are cleaned like the rest, and are
# never written into any file)
TEXT_KINDS = frozenset({"text", "textarea", "search", "email", "tel", "url", "password"})
# what is put into them: ESC first (hypothesis leans towards it), then the rest of C0 and C1, DEL,
# a lone CR and noncharacters; no surrogates, which no request can carry (UTF-8 cannot encode them)
CONTROLS = [ESC, "\r", "\x7f", "\ufffe", "\uffff", "\ufdd0"] + [
    chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x1B), *range(0x1C, 0x20))
]
CONTROLS += [chr(c) for c in range(0x80, 0xA0)]
CONTROLLED_EXAMPLES = 4  # submissions per distinct form
EXPORT_RULE = re.compile(r"\.(xlsx|docx|csv|pdf|ics)$|\.<any\(")
CHOICES = re.compile(r"<any\(([^)]*)\):(\w+)>")
MARKER = "<kimfuzz"  # what fuzz_forms.plausible puts into free text


@st.composite
def with_controls(draw, form: Form, n: int) -> dict:
    """Plausible values for ``form`` (every radio group answered, as a person would to be let
    through), each text field's with control characters put inside."""
    values = draw(form_values(form, n, keep=CSRF, only_plausible=True))
    for name, item in form.fields.items():
        if item.kind in TEXT_KINDS and name not in CSRF:
            values[name] = [_spoiled(draw, value) for value in values.get(name, [item.value])]
        elif item.kind == "radio" and name not in values and item.options:
            values[name] = [draw(st.sampled_from(item.options))]
    return values


def _spoiled(draw, value: str) -> str:
    controls = draw(st.text(st.sampled_from(CONTROLS), min_size=1, max_size=3))
    at = draw(st.integers(0, len(value)))
    return value[:at] + controls + value[at:]


def export_urls(app, ids: dict) -> list[str]:
    """Every GET route that answers with a file of text (XLSX, DOCX, CSV, PDF, calendar), in the
    fuzz world, once for each choice of an ``<any(…)>`` part (format, report name)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not EXPORT_RULE.search(rule.rule):
            continue
        parts = {name: items.split(", ") for items, name in CHOICES.findall(rule.rule)}
        for chosen in itertools.product(*parts.values()):
            urls.append(
                url_for_endpoint(app, rule.endpoint, ids, dict(zip(parts, chosen, strict=True)))
            )
    return sorted(urls)


def _text_columns():
    for table in db.metadata.sorted_tables:
        if table.name != "regions":
            yield from (c for c in table.columns if isinstance(c.type, sa.String))


def stored_with_controls() -> list[str]:
    """Every stored text value (any table but the regions) holding a control character."""
    found = []
    for column in _text_columns():
        for value in db.session.scalars(sa.select(column).where(column.is_not(None))):
            if CONTROL.search(value) or "\r" in value:
                found.append(f"{column.table.name}.{column.name}: {value[:60]!r}")
    return found


def plant_controls() -> int:
    """Text the forms stored, as if from before the rule: ESC instead of the ``<`` of each
    marker (the same length, so every column still fits). Returns the rows changed."""
    changed = 0
    for column in _text_columns():
        statement = (
            sa.update(column.table)
            .where(column.contains(MARKER, autoescape=True))
            .values({column.name: sa.func.replace(column, MARKER, ESC + MARKER[1:])})
        )
        changed += db.session.execute(statement).rowcount
    db.session.commit()
    return changed


def test_control_characters_in_every_text_field_reach_no_export(app, world):
    """Every POST form any actor finds, sent with control characters in each text field: no 5xx,
    and nothing stored keeps one. Then, with ESC planted into all the text those forms stored
    (as if kept from before), every export route answers without a 5xx and its text (XML
    parts, PDF text, CSV and calendar lines) holds no control character."""
    fz = Fuzzer(app, world)
    sent, accepted = Counter(), Counter()
    forms = post_forms(fz, html_pages(app, world).values())
    for n, (actor, form, target) in enumerate(forms, start=1):
        complete_pickers(form, VILLAGE_CHAIN)
        add_script_fields(form, int(time.time() * 1000))

        def body(values: dict, actor=actor, form=form, target=target) -> None:
            response = fz.send(
                fz.client(actor),
                "POST",
                form.action,
                what=f"{actor} controls",
                data=form_pairs(values),
            )
            sent[target] += 1
            if response is not None and 300 <= response.status_code < 400:
                accepted[target] += 1

        collect_examples(with_controls(form, 7000 + n), body, CONTROLLED_EXAMPLES)
    with app.app_context():
        kept = stored_with_controls()
        planted = plant_controls()
    assert not fz.problems, "\n\n".join(fz.problems)
    assert kept == [], "\n".join(kept)
    # not a vacuous pass: many forms took text, and much of it reaches the exports
    assert len(accepted) >= 10, accepted
    assert planted >= 10

    shown, opened = [], []
    for url in export_urls(app, world):
        for actor in ACTORS:
            response = fz.send(fz.client(actor), "GET", url, what=f"{actor} exports")
            if response is None or response.status_code != 200:
                continue
            opened.append(url)
            kind = url.rsplit(".", 1)[1]
            data = response.get_data()
            found = control_characters(data, kind)
            if found:
                fz.problems.append(f"CONTROL in {url} (as {actor}): {found[:3]}")
            elif "kimfuzz" in export_text(data, kind):
                shown.append(url)
            break
        else:
            fz.problems.append(f"nobody could open {url}")
    assert not fz.problems, "\n\n".join(fz.problems)
    assert len(opened) >= 30, opened
    assert len(shown) >= 10, shown
