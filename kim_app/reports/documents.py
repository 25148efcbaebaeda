"""The laporan kegiatan as the two documents officials take away: an A4 PDF (WeasyPrint) and a
DOCX (python-docx), each with the daftar hadir of every session appended; the facts, narrative
and photos they print come from ``operations.py``."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from datetime import datetime
from typing import BinaryIO

from babel.dates import format_date
from flask import render_template
from flask_babel import get_locale
from flask_babel import gettext as _

from kim_app.attendance.documents import (
    Person,
    daftar_hadir_html,
    session_people,
    signing_place,
)
from kim_app.attendance.models import Presence
from kim_app.documents import render_pdf
from kim_app.evaluation import report_lines, two_decimals
from kim_app.evaluation.queries import Findings, findings
from kim_app.evaluation.skm import WORDED
from kim_app.events.models import (
    Event,
    EventSession,
)
from kim_app.extensions import db
from kim_app.files.operations import FileGone, Progress, builder
from kim_app.formatting import session_when
from kim_app.i18n import one_decimal
from kim_app.reports.models import ReportPhoto
from kim_app.reports.operations import (
    FACT_SECTIONS,
    Facts,
    event_facts,
    event_photos,
    get_report,
    outline,
    photo_path,
)
from kim_app.tables import dated
from kim_app.text import printable
from kim_app.timezones import utcnow


def _photo_bytes(photo: ReportPhoto) -> bytes | None:
    path = photo_path(photo)
    return path.read_bytes() if path else None


def cover_lines(event: Event) -> list[str]:
    """Under the title: the kind of event and who organised it."""
    return [
        str(event.kind.label),
        _("Penyelenggara: %(name)s", name=event.organiser or event.region.display_name),
    ]


def venue(event: Event) -> str:
    return ", ".join(part for part in (event.venue_name, event.venue_address) if part)


def rate_text(value: float | None) -> str:
    """``87,5 %`` in Indonesian, ``87.5%`` in English, or a dash when there is nothing to divide
    by."""
    return "—" if value is None else _("%(value)s %%", value=one_decimal(value))


def participants_summary(facts: Facts) -> list[str]:
    """The Peserta section's sentences; the invitations only when there were any, the waiting
    list and cancellations only when not both zero."""
    lines = []
    if facts.invited_kims:
        lines.append(
            _(
                "Diundang: %(kims)d KIM dengan kuota %(quota)d orang.",
                kims=facts.invited_kims,
                quota=facts.invited_quota,
            )
        )
    if facts.waiting or facts.cancelled:
        lines.append(
            _(
                "Terdaftar: %(n)d orang; daftar tunggu: %(waiting)d; batal: %(cancelled)d.",
                n=facts.registered,
                waiting=facts.waiting,
                cancelled=facts.cancelled,
            )
        )
    else:
        lines.append(_("Terdaftar: %(n)d orang.", n=facts.registered))
    return [
        *lines,
        _(
            "Hadir sekurangnya satu sesi: %(n)d orang; tingkat kehadiran seluruh sesi: %(rate)s.",
            n=facts.attended,
            rate=rate_text(facts.overall_rate),
        ),
    ]


def material_lines(facts: Facts) -> list[str]:
    """The Materi section's list: each topic of the agenda with its sessions and speakers."""
    lines = []
    for topic in facts.topics:
        sessions = ", ".join(str(n) for n in topic.sessions)
        if topic.speakers:
            line = _(
                "%(topic)s (sesi %(sessions)s), oleh %(speakers)s",
                topic=topic.text,
                sessions=sessions,
                speakers=", ".join(topic.speakers),
            )
        else:
            line = _("%(topic)s (sesi %(sessions)s)", topic=topic.text, sessions=sessions)
        lines.append(line)
    return lines


def element_rows(found: Findings) -> list[tuple[str, str]]:
    """Each element of the survey with its average rating (two decimals), once indexed."""
    index = found.survey.index
    if index is None:
        return []
    return [(str(e.label), two_decimals(float(index.averages[e.key]))) for e in WORDED]


def score_rows(found: Findings) -> list[list[str]]:
    """Each person who sent a test: name, institution, pre, post, gain."""
    from kim_app.evaluation import score

    return [
        [p.name, p.institution, score(p.pre), score(p.post), score(p.gain)] for p in found.people
    ]


def _evaluation_docx(doc, found: Findings | None, text: str) -> None:
    if found is not None:
        for line in report_lines(found):
            doc.add_paragraph(line)
        if found.people:
            doc.add_heading(_("Nilai pre-test dan post-test"), level=2)
            _table(
                doc,
                [_("No."), _("Nama"), _("Instansi"), _("Pre"), _("Post"), _("Kenaikan")],
                [[i, *row] for i, row in enumerate(score_rows(found), 1)],
            )
        if found.survey.index is not None:
            doc.add_heading(_("Nilai rata-rata per unsur"), level=2)
            _table(doc, [_("Unsur"), _("Nilai rata-rata (1–4)")], element_rows(found))
        if found.speakers:
            doc.add_heading(_("Penilaian narasumber"), level=2)
            _table(
                doc,
                [_("Narasumber"), _("Materi"), _("Nilai rata-rata (1–4)"), _("Penilai")],
                [
                    [s.name, s.topic, two_decimals(float(s.average)), s.ratings]
                    for s in found.speakers
                ],
            )
        if found.survey.comments:
            doc.add_heading(_("Saran dan komentar"), level=2)
            for comment in found.survey.comments:
                doc.add_paragraph(printable(comment), style="List Bullet")
    _paragraphs(doc, text)


def signed_on(event: Event) -> str:
    """``16 Mei 2026``: the last day of the event, for the signing official's line."""
    if not event.sessions:
        return ""
    last = max(s.ends_at for s in event.sessions)
    return format_date(last, "long", locale=str(get_locale() or "id"))


def signer_lines(event: Event) -> list[str]:
    """The signing block: place and date, position, room to sign, name and NIP (dotted lines
    where the event has no signing official yet)."""
    dots = "…………………………………………"
    lines = [f"{signing_place(event)}, {signed_on(event)}", event.signer_position or dots, "", ""]
    lines.append(event.signer_name or dots)
    if event.signer_nip or not event.signer_name:
        lines.append(_("NIP. %(nip)s", nip=event.signer_nip or "……………………………"))
    return lines


def _daftar_hadir(event: Event) -> list[tuple[int, EventSession, list[Person]]]:
    """Each session with its registered people (one query per session)."""
    return [(i, s, session_people(s)) for i, s in enumerate(event.sessions, 1)]


def laporan_pdf(
    event: Event,
    *,
    printed_at: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    target: BinaryIO | None = None,
) -> bytes | None:
    """The A4 report: cover lines, the outline with facts and narrative, the photos, the signing
    official, then the daftar hadir of every session (the attendance module's own document,
    printed ``printed_at``). ``progress`` and ``target`` as ``render_pdf``'s."""
    report = get_report(event)
    photos = []
    for photo in event_photos(event):
        data = _photo_bytes(photo)
        if data:
            photos.append((photo, "data:image/jpeg;base64," + base64.b64encode(data).decode()))
    facts = event_facts(event)
    found = findings(event)
    html = render_template(
        "reports/laporan_pdf.html",
        event=event,
        cover=cover_lines(event),
        sections=outline(report, facts, photos=bool(photos), evaluated=found is not None),
        evaluation=found,
        evaluation_lines=report_lines(found) if found else [],
        element_rows=element_rows(found) if found else [],
        facts=facts,
        summary=participants_summary(facts),
        material=material_lines(facts),
        rate=rate_text,
        venue=venue(event),
        photos=photos,
        signer=signer_lines(event),
    )
    attachments = [
        daftar_hadir_html(event, s, n, blank=False, people=people, printed_at=printed_at)
        for n, s, people in _daftar_hadir(event)
    ]
    return render_pdf(html, *attachments, progress=progress, target=target)


def laporan_docx(event: Event, *, printed_at: datetime | None = None) -> bytes:
    """The same report as a Word document, kept plain (built-in headings, Table Grid) so an
    official can finish it in a word processor. Dated ``printed_at`` (default now), to the
    minute, inside and on every part of its package: the same report asked twice in a minute
    is the same bytes."""
    report = get_report(event)
    photos = [(p, data) for p in event_photos(event) if (data := _photo_bytes(p))]
    facts = event_facts(event)
    found = findings(event)
    sections = outline(report, facts, photos=bool(photos), evaluated=found is not None)
    moment = (printed_at or utcnow()).replace(second=0, microsecond=0)
    return _build_docx(event, sections, facts, photos, found, _daftar_hadir(event), moment)


# Every text a Word document is given passes through ``printable``: lxml refuses control
# characters, and stored text may hold some from before they were cleaned on the way in.


def _table(doc, headers: list[str], rows: list[list]) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(printable(str(text))).bold = True
    for values in rows:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = printable(str(value))
    doc.add_paragraph()


def _paragraphs(doc, text: str) -> None:
    for line in printable(text).splitlines():
        if line.strip():
            doc.add_paragraph(line.strip())


def _facts_docx(doc, key: str, event: Event, facts: Facts, photos) -> None:
    if key == "participants":
        for line in participants_summary(facts):
            doc.add_paragraph(line)
        doc.add_heading(_("Kehadiran per sesi"), level=2)
        _table(
            doc,
            [_("Sesi"), _("Waktu"), _("Hadir"), _("Persentase")],
            [[s.number, s.when, s.hadir, rate_text(s.rate)] for s in facts.sessions],
        )
        doc.add_heading(_("Menurut jenis kelamin"), level=2)
        _table(
            doc,
            [_("Jenis kelamin"), _("Terdaftar"), _("Hadir")],
            [[r.label, r.registered, r.attended] for r in facts.genders],
        )
        doc.add_heading(_("Menurut KIM/instansi"), level=2)
        _table(
            doc,
            [_("KIM/Instansi"), _("Terdaftar"), _("Hadir")],
            [[r.label, r.registered, r.attended] for r in facts.groups],
        )
    elif key == "speakers":
        rows = [
            [s.number, sp.name, sp.position, sp.institution, s.session.topic]
            for s in facts.sessions
            for sp in s.session.speakers
        ]
        _table(doc, [_("Sesi"), _("Nama"), _("Jabatan"), _("Instansi"), _("Materi")], rows)
    elif key == "documentation":
        from docx.shared import Cm

        for photo, data in photos:
            doc.add_picture(io.BytesIO(data), width=Cm(15))
            if photo.caption:
                doc.add_paragraph(printable(photo.caption), style="Caption")
    else:
        doc.add_paragraph(_("Hari/tanggal: %(days)s", days=facts.days or "—"))
        doc.add_paragraph(printable(_("Tempat: %(place)s", place=venue(event) or "—")))
        _table(
            doc,
            [_("Sesi"), _("Waktu"), _("Acara")],
            [[s.number, s.when, s.session.topic] for s in facts.sessions],
        )


def _build_docx(event, sections, facts, photos, found, daftar_hadir, moment: datetime) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Cm, Pt

    doc = Document()
    page = doc.sections[0]
    page.orientation = WD_ORIENT.PORTRAIT
    page.page_width, page.page_height = Cm(21), Cm(29.7)
    page.left_margin = page.right_margin = Cm(2.5)
    page.top_margin = page.bottom_margin = Cm(2)
    doc.styles["Normal"].font.size = Pt(11)
    doc.core_properties.created = doc.core_properties.modified = moment

    for text, size in [(_("LAPORAN KEGIATAN"), 16), (event.title, 14)]:
        cover = doc.add_paragraph()
        cover.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = cover.add_run(printable(text))
        run.bold, run.font.size = True, Pt(size)
    for line in [*cover_lines(event), facts.days]:
        doc.add_paragraph(printable(line)).alignment = WD_ALIGN_PARAGRAPH.CENTER

    for section in sections:
        doc.add_heading(f"{section.number}. {section.title}", level=1)
        if section.key in FACT_SECTIONS:
            _facts_docx(doc, section.key, event, facts, photos)
        elif section.key == "evaluation":
            _evaluation_docx(doc, found, section.text)
        else:
            if section.key == "material":
                for i, line in enumerate(material_lines(facts), 1):
                    doc.add_paragraph(printable(f"{i}. {line}"))
            _paragraphs(doc, section.text)

    for line in signer_lines(event):  # empty lines: room to sign
        doc.add_paragraph(printable(line)).alignment = WD_ALIGN_PARAGRAPH.RIGHT

    for number, session, people in daftar_hadir:
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        doc.add_heading(_("Lampiran %(n)d: Daftar hadir sesi %(n)d", n=number), level=1)
        topic = f" — {session.topic}" if session.topic else ""
        doc.add_paragraph(printable(session_when(session, event) + topic))
        present = [p for p in people if p.status is Presence.HADIR]
        _table(
            doc,
            [_("No."), _("Nama"), _("KIM/Instansi"), _("Jabatan"), _("L/P"), _("Tanda tangan")],
            [
                [
                    i,
                    p.name,
                    p.group,
                    p.position,
                    p.gender,
                    _("✓ (tanda tangan digital)") if p.signature else "",
                ]
                for i, p in enumerate(present, 1)
            ],
        )
        if not present:
            doc.add_paragraph(_("Belum ada peserta yang ditandai hadir di sesi ini."))
    out = io.BytesIO()
    doc.save(out)
    return dated(out.getvalue(), moment)


# --- as prepared files (kim_app.files): the worker makes the big ones --------------------------------

# made inside the request up to this many rows of daftar hadir (people × sessions); more go to the
# worker
AT_ONCE = 100


def _event_of(params: dict) -> Event:
    event = db.session.get(Event, params["event_id"])
    if event is None:
        raise FileGone
    return event


@builder("laporan_pdf")
def laporan_pdf_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    laporan_pdf(_event_of(params), printed_at=params["asked_at"], progress=progress, target=out)


@builder("laporan_docx")
def laporan_docx_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    out.write(laporan_docx(_event_of(params), printed_at=params["asked_at"]))
