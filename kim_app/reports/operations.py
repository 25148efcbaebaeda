"""The laporan kegiatan of an event: the facts computed from the data (grouped SQL, a fixed
number of queries whatever the number of people), the narrative, the documentation photos, and
the two documents officials take away — an A4 PDF (WeasyPrint) and a DOCX (python-docx) with
the daftar hadir of every session appended.

The outline follows the usual government activity report: the basis and purpose, when and where,
who took part, the material and who presented it, the results, the conclusion, the documentation.
Sections with nothing to say are left out rather than printed empty."""

from __future__ import annotations

import base64
import io
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from babel.dates import format_date
from flask import render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kim_app import audit
from kim_app.attendance.documents import (
    Person,
    daftar_hadir_html,
    session_people,
    signing_place,
)
from kim_app.attendance.models import Attendance, Presence
from kim_app.auth.models import User
from kim_app.documents import render_pdf
from kim_app.errors import OperationError
from kim_app.events.documents import event_days
from kim_app.events.models import (
    Event,
    EventSession,
    Invitation,
    Registration,
    RegistrationStatus,
)
from kim_app.extensions import db
from kim_app.formatting import session_when
from kim_app.groups.models import Gender, Kim
from kim_app.i18n import one_decimal
from kim_app.reports.models import NARRATIVE_FIELDS, EventReport, ReportPhoto
from kim_app.text import printable
from kim_app.uploads import ImageError, ImageTooLarge, reencode_image, sniff_type, upload_folder

NARRATIVE_MAX = 10_000
CAPTION_MAX = 200
PHOTO_MAX_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 12
PHOTO_SIDE = 1600  # px, the long side
PHOTO_QUALITY = 82
# what the report page shows on a phone: a 480 px copy (a few dozen KB instead of a few hundred)
THUMB_SIDE = 480
THUMB_QUALITY = 75
THUMB_SUFFIX = "-kecil.jpg"
TOP_GROUPS = 10  # rows of the "by KIM/institution" table

# the narrative sections: title and what goes in, in the order of the outline
NARRATIVE_TITLES = {
    "background": _l("Latar belakang"),
    "legal_basis": _l("Dasar hukum"),
    "purpose": _l("Maksud dan tujuan"),
    "material": _l("Materi"),
    "results": _l("Hasil"),
    "evaluation": _l("Evaluasi"),
    "conclusion": _l("Kesimpulan dan saran"),
}
NARRATIVE_HINTS = {
    "background": _l("Mengapa kegiatan ini diadakan: keadaan, masalah atau kebutuhan KIM."),
    "legal_basis": _l(
        "Peraturan dan dokumen yang mendasari, satu per baris (undang-undang, peraturan daerah, "
        "DPA, surat tugas)."
    ),
    "purpose": _l("Maksud kegiatan dan tujuan yang ingin dicapai."),
    "material": _l(
        "Topik dan narasumber tiap sesi diambil dari agenda kegiatan; tulis di sini uraian pokok "
        "materinya."
    ),
    "results": _l("Apa yang dicapai: keluaran, kesepakatan, tindak lanjut peserta."),
    "evaluation": _l("Kendala, hal yang berjalan baik dan yang perlu diperbaiki."),
    "conclusion": _l("Kesimpulan dan saran untuk kegiatan berikutnya."),
}
# the sections filled from the data ("material" is both: the agenda's topics, then the narrative)
FACT_SECTIONS = {
    "time_place": _l("Waktu dan tempat"),
    "participants": _l("Peserta"),
    "speakers": _l("Narasumber"),
    "documentation": _l("Dokumentasi"),
}
# the order of a government activity report: basis and purpose, when and where, who took part,
# what was presented and by whom, what came of it, the conclusion, the documentation
OUTLINE = (
    "background",
    "legal_basis",
    "purpose",
    "time_place",
    "participants",
    "material",
    "speakers",
    "results",
    "evaluation",
    "conclusion",
    "documentation",
)
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI")


class ReportError(OperationError):
    """Input the laporan cannot take; the message is for the user."""


# --- facts -----------------------------------------------------------------------------------------


@dataclass
class Row:
    """A line of a facts table: registered people and how many of them attended any session."""

    label: str
    registered: int
    attended: int


@dataclass
class SessionFacts:
    number: int
    session: EventSession
    when: str
    hadir: int
    rate: float | None  # hadir / registered, 0–100


@dataclass
class Topic:
    """A subject of the agenda, with the sessions (numbers) and speakers that presented it."""

    text: str
    sessions: list[int] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)


@dataclass
class Facts:
    invited_kims: int = 0
    invited_quota: int = 0
    registered: int = 0
    waiting: int = 0
    cancelled: int = 0
    attended: int = 0  # registered people hadir in at least one session
    overall_rate: float | None = None  # hadir marks / (registered × sessions)
    sessions: list[SessionFacts] = field(default_factory=list)
    genders: list[Row] = field(default_factory=list)
    groups: list[Row] = field(default_factory=list)
    group_count: int = 0  # distinct KIM/institutions among the registered
    days: str = ""
    topics: list[Topic] = field(default_factory=list)  # the agenda's subjects, in session order

    @property
    def has_speakers(self) -> bool:
        return any(s.session.speakers for s in self.sessions)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _attended_any():
    """1 when the registration is hadir in at least one session, else 0 (a correlated EXISTS)."""
    hadir = sa.exists().where(
        Attendance.registration_id == Registration.id, Attendance.status == Presence.HADIR
    )
    return sa.case((hadir, 1), else_=0)


def event_facts(event: Event) -> Facts:
    """Everything the report states from the data, in five grouped queries (plus the event's
    sessions and speakers, loaded once)."""
    facts = Facts(days=event_days(event))
    invited = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Invitation.quota), 0)).where(
            Invitation.event_id == event.id
        )
    ).one()
    facts.invited_kims, facts.invited_quota = invited[0], int(invited[1])

    by_gender: dict[Gender | None, Row] = {}
    rows = db.session.execute(
        sa.select(
            Registration.status,
            Registration.gender,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(_attended_any()), 0),
        )
        .where(Registration.event_id == event.id)
        .group_by(Registration.status, Registration.gender)
    )
    for status, gender, n, attended in rows:
        status = RegistrationStatus(status)
        if status is RegistrationStatus.TERDAFTAR:
            facts.registered += n
            facts.attended += int(attended)
            gender = Gender(gender) if gender else None
            by_gender[gender] = Row(
                str(gender.label) if gender else _("Tidak diisi"), n, int(attended)
            )
        elif status is RegistrationStatus.DAFTAR_TUNGGU:
            facts.waiting += n
        else:
            facts.cancelled += n
    facts.genders = [by_gender[g] for g in (Gender.L, Gender.P, None) if g in by_gender]

    hadir = dict(
        db.session.execute(
            sa.select(Attendance.session_id, sa.func.count())
            .join(Registration, Registration.id == Attendance.registration_id)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.TERDAFTAR,
                Attendance.status == Presence.HADIR,
            )
            .group_by(Attendance.session_id)
        ).all()
    )
    facts.sessions = [
        SessionFacts(
            number=i,
            session=s,
            when=session_when(s, event),
            hadir=hadir.get(s.id, 0),
            rate=_percent(hadir.get(s.id, 0), facts.registered),
        )
        for i, s in enumerate(event.sessions, 1)
    ]
    facts.overall_rate = _percent(sum(hadir.values()), facts.registered * len(event.sessions))
    facts.topics = agenda_topics(event)

    group = sa.func.coalesce(Kim.name, sa.func.nullif(Registration.institution, ""), "")
    rows = db.session.execute(
        sa.select(
            group.label("label"),
            sa.func.count().label("n"),
            sa.func.coalesce(sa.func.sum(_attended_any()), 0),
            sa.func.count().over().label("groups"),
        )
        .select_from(Registration)
        .outerjoin(Kim, Kim.id == Registration.kim_id)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.TERDAFTAR,
        )
        .group_by(group)
        .order_by(sa.func.count().desc(), group)
        .limit(TOP_GROUPS)
    ).all()
    facts.groups = [Row(label or _("Tanpa KIM/instansi"), n, int(a)) for label, n, a, _g in rows]
    facts.group_count = rows[0][3] if rows else 0
    return facts


def agenda_topics(event: Event) -> list[Topic]:
    """The sessions' topics in order, a topic repeated over sessions written once with all of its
    sessions and speakers; sessions without a topic are left out."""
    topics: dict[str, Topic] = {}
    for number, session in enumerate(event.sessions, 1):
        text = " ".join((session.topic or "").split())
        if not text:
            continue
        topic = topics.setdefault(text.casefold(), Topic(text))
        topic.sessions.append(number)
        for speaker in session.speakers:
            if speaker.name not in topic.speakers:
                topic.speakers.append(speaker.name)
    return list(topics.values())


# --- the narrative ---------------------------------------------------------------------------------


def get_report(event: Event) -> EventReport | None:
    return db.session.scalar(sa.select(EventReport).where(EventReport.event_id == event.id))


def save_narrative(event: Event, texts: dict[str, str], by: User) -> list[str]:
    """Store the narrative sections (the report is created on first save); returns the names
    of the sections that changed, which the audit log records (not the text)."""
    report = get_report(event)
    if report is None:
        report = EventReport(event_id=event.id, **dict.fromkeys(NARRATIVE_FIELDS, ""))
        db.session.add(report)
    changed = []
    for name in NARRATIVE_FIELDS:
        text = texts.get(name, "")
        if len(text) > NARRATIVE_MAX:
            raise ReportError(_("Paling banyak %(max)d karakter.", max=NARRATIVE_MAX))
        if (getattr(report, name) or "") != text:
            setattr(report, name, text)
            changed.append(name)
    if changed:
        report.updated_by_id = by.id
        db.session.flush()
        audit.record(
            "report.narrative",
            "event",
            event.id,
            region_code=event.region_code,
            changes={"sections": changed},
            actor=by,
        )
    return changed


@dataclass
class Section:
    number: str  # I, II, …
    key: str  # a narrative field or a FACT_SECTIONS key
    title: str
    text: str  # the narrative ("" for a facts section)


def _narrative(report: EventReport | None, key: str) -> str:
    if report is None or key not in NARRATIVE_FIELDS:
        return ""
    return (getattr(report, key) or "").strip()


def outline(report: EventReport | None, facts: Facts, *, photos: bool = False) -> list[Section]:
    """The report's sections in the order of ``OUTLINE``, each only when it has something to
    say: when and where and the participants always; the material when the agenda has topics or
    the operator wrote about it; the speakers when any were recorded; the documentation when
    there are photos; every other section when written."""
    shown = {
        "time_place": True,
        "participants": True,
        "material": bool(facts.topics or _narrative(report, "material")),
        "speakers": facts.has_speakers,
        "documentation": photos,
    }
    keys = [key for key in OUTLINE if shown.get(key, bool(_narrative(report, key)))]
    return [
        Section(
            ROMAN[i],
            key,
            str(FACT_SECTIONS.get(key) or NARRATIVE_TITLES[key]),
            _narrative(report, key),
        )
        for i, key in enumerate(keys)
    ]


# --- photos ----------------------------------------------------------------------------------------


def event_photos(event: Event) -> list[ReportPhoto]:
    return list(
        db.session.scalars(
            sa.select(ReportPhoto).where(ReportPhoto.event_id == event.id).order_by(ReportPhoto.id)
        )
    )


def add_photo(event: Event, data: bytes, caption: str, by: User) -> ReportPhoto:
    """Check, clean (EXIF dropped, upright, at most 1600 px, JPEG) and store a photo under a
    random name."""
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(ReportPhoto).where(ReportPhoto.event_id == event.id)
    )
    if count >= MAX_PHOTOS:
        raise ReportError(_("Paling banyak %(n)d foto per laporan.", n=MAX_PHOTOS))
    if not data:
        raise ReportError(_("Pilih foto terlebih dahulu."))
    if len(data) > PHOTO_MAX_BYTES:
        raise ReportError(_("Foto paling besar 5 MB."))
    if sniff_type(data[:16]) not in ("image/jpeg", "image/png"):
        raise ReportError(_("Foto harus berupa berkas JPEG atau PNG."))
    try:
        body, width, height = reencode_image(data, "image/jpeg", PHOTO_SIDE, quality=PHOTO_QUALITY)
    except ImageTooLarge as error:
        raise ReportError(str(error)) from None
    except ImageError:
        raise ReportError(
            _("Foto tidak dapat dibaca. Unggah ulang sebagai JPEG atau PNG.")
        ) from None
    thumb, _w, _h = reencode_image(body, "image/jpeg", THUMB_SIDE, quality=THUMB_QUALITY)
    name = secrets.token_hex(16) + ".jpg"
    folder = upload_folder("laporan")
    (folder / name).write_bytes(body)
    (folder / name.replace(".jpg", THUMB_SUFFIX)).write_bytes(thumb)
    photo = ReportPhoto(
        event_id=event.id,
        file=name,
        caption=caption.strip()[:CAPTION_MAX],
        width=width,
        height=height,
        created_by_id=by.id,
    )
    db.session.add(photo)
    db.session.flush()
    audit.record(
        "report.photo_add",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"photo": photo.id, "width": width, "height": height},
        actor=by,
    )
    return photo


def delete_photo(event: Event, photo: ReportPhoto, by: User) -> None:
    paths = [photo_path(photo), photo_path(photo, small=True)]
    db.session.delete(photo)
    db.session.flush()
    for path in paths:
        if path is not None:
            path.unlink(missing_ok=True)
    audit.record(
        "report.photo_delete",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"photo": photo.id},
        actor=by,
    )


def photo_path(photo: ReportPhoto, *, small: bool = False) -> Path | None:
    """The stored photo, or with ``small`` its 480 px copy (the full photo when a copy is
    missing, e.g. for photos stored before copies were made)."""
    path = upload_folder("laporan") / Path(photo.file).name
    if small:
        copy = path.with_name(path.name.replace(".jpg", THUMB_SUFFIX))
        if copy.is_file():
            return copy
    return path if path.is_file() else None


def _photo_bytes(photo: ReportPhoto) -> bytes | None:
    path = photo_path(photo)
    return path.read_bytes() if path else None


# --- documents -------------------------------------------------------------------------------------


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


def laporan_pdf(event: Event) -> bytes:
    """The A4 report: cover lines, the outline with facts and narrative, the photos, the signing
    official, then the daftar hadir of every session (the attendance module's own document)."""
    report = get_report(event)
    photos = []
    for photo in event_photos(event):
        data = _photo_bytes(photo)
        if data:
            photos.append((photo, "data:image/jpeg;base64," + base64.b64encode(data).decode()))
    facts = event_facts(event)
    html = render_template(
        "reports/laporan_pdf.html",
        event=event,
        cover=cover_lines(event),
        sections=outline(report, facts, photos=bool(photos)),
        facts=facts,
        summary=participants_summary(facts),
        material=material_lines(facts),
        rate=rate_text,
        venue=venue(event),
        photos=photos,
        signer=signer_lines(event),
    )
    attachments = [
        daftar_hadir_html(event, s, n, blank=False, people=people)
        for n, s, people in _daftar_hadir(event)
    ]
    return render_pdf(html, *attachments)


def laporan_docx(event: Event) -> bytes:
    """The same report as a Word document, kept plain (built-in headings, Table Grid) so an
    official can finish it in a word processor."""
    report = get_report(event)
    photos = [(p, data) for p in event_photos(event) if (data := _photo_bytes(p))]
    facts = event_facts(event)
    sections = outline(report, facts, photos=bool(photos))
    return _build_docx(event, sections, facts, photos, _daftar_hadir(event))


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


def _build_docx(event, sections, facts, photos, daftar_hadir) -> bytes:
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
    return out.getvalue()
