"""The laporan kegiatan of an event: the facts computed from the data (grouped SQL, a fixed
number of queries whatever the number of people), the narrative, the documentation photos, and
the two documents officials take away — an A4 PDF (WeasyPrint) and a DOCX (python-docx) with
the daftar hadir of every session appended.

The outline follows the usual government activity report: the basis and purpose, when and where,
who took part, the material and who presented it, the results, the conclusion, the documentation.
Sections with nothing to say are left out rather than printed empty."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kim_app import audit
from kim_app.attendance.models import Attendance, Presence
from kim_app.auth.models import User
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
from kim_app.reports.models import NARRATIVE_FIELDS, EventReport, ReportPhoto
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


def outline(
    report: EventReport | None, facts: Facts, *, photos: bool = False, evaluated: bool = False
) -> list[Section]:
    """The report's sections in the order of ``OUTLINE``, each only when it has something to
    say: when and where and the participants always; the material when the agenda has topics or
    the operator wrote about it; the speakers when any were recorded; the documentation when
    there are photos; the evaluation when tests or surveys were sent or it is written; every
    other section when written."""
    shown = {
        "time_place": True,
        "participants": True,
        "material": bool(facts.topics or _narrative(report, "material")),
        "speakers": facts.has_speakers,
        "documentation": photos,
        "evaluation": evaluated or bool(_narrative(report, "evaluation")),
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
