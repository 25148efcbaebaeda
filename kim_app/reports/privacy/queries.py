"""Reads of the personal-data duties: everything held about one person (the file an operator
exports) and the audit log with its filters, labels and masked numbers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kim_app import queryargs
from kim_app.attendance.models import Attendance, AttendanceMark, Certificate
from kim_app.audit import AuditEntry
from kim_app.auth.models import ROLE_LABELS, User
from kim_app.db import contains_text
from kim_app.events.models import (
    Event,
    EventSession,
    Registration,
)
from kim_app.extensions import db
from kim_app.groups.models import Kim, Member
from kim_app.phones import display_phone, mask_phone
from kim_app.regions.models import Region
from kim_app.reports.history import same_person
from kim_app.security import scope_filter
from kim_app.timezones import WIB, utcnow

LOG_PER_PAGE = 50
SUMMARY_MAX = 140
# 9 or more digits written as one number (``0812-3456-7890``, ``+62 812 …``): a phone number
PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s().-]{7,}\d")


def role_label(role) -> str:
    return str(ROLE_LABELS.get(role, "")) if role else ""


# --- export ------------------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def person_registrations(registration: Registration, user) -> sa.Select:
    """The ids of the person's registrations in events ``user`` manages."""
    return (
        sa.select(Registration.id)
        .join(Event, Event.id == Registration.event_id)
        .where(same_person(registration), scope_filter(Event.region_code, user))
    )


def person_members(phone: str | None, user) -> sa.Select:
    """KIM members with the person's number, in KIM inside the scope (none without a number)."""
    if not phone:
        return sa.select(Member).where(sa.false())
    return (
        sa.select(Member)
        .join(Kim, Kim.id == Member.kim_id)
        .where(Member.phone == phone, scope_filter(Kim.village_code, user))
    )


def person_data(registration: Registration, user) -> dict[str, Any]:
    """Everything held about the person inside ``user``'s scope, as plain JSON values: every
    registration with its event, sessions, attendance (with the signature's SVG path), every
    mark as it arrived (who recorded it by role only), the certificate; KIM memberships with
    the same number. Six queries, whatever the person's history."""
    ids = person_registrations(registration, user).scalar_subquery()
    regs = db.session.execute(
        sa.select(Registration, Event, Region.name.label("owner"), Kim.name.label("kim_name"))
        .join(Event, Event.id == Registration.event_id)
        .join(Region, Region.code == Event.region_code)
        .outerjoin(Kim, Kim.id == Registration.kim_id)
        .where(Registration.id.in_(ids))
        .order_by(Event.starts_on.desc().nulls_last(), Registration.id.desc())
    ).all()
    event_ids = [row.Event.id for row in regs]
    sessions = {
        s.id: s
        for s in db.session.scalars(
            sa.select(EventSession)
            .where(EventSession.event_id.in_(event_ids))
            .order_by(EventSession.starts_at, EventSession.id)
        )
    }
    standing: dict[tuple[int, int], Any] = {
        (row.Attendance.registration_id, row.Attendance.session_id): row
        for row in db.session.execute(
            sa.select(Attendance, User.role)
            .outerjoin(User, User.id == Attendance.recorded_by_id)
            .where(Attendance.registration_id.in_(ids))
        )
    }
    marks: dict[tuple[int, int], list[dict]] = {}
    for mark, role in db.session.execute(
        sa.select(AttendanceMark, User.role)
        .outerjoin(User, User.id == AttendanceMark.recorded_by_id)
        .where(AttendanceMark.registration_id.in_(ids))
        .order_by(AttendanceMark.marked_at, AttendanceMark.id)
    ):
        marks.setdefault((mark.registration_id, mark.session_id), []).append(
            {
                "status": str(mark.status.label),
                "cara": str(mark.method.label),
                "waktu_utc": _iso(mark.marked_at),
                "diterima_utc": _iso(mark.received_at),
                "berlaku": mark.applied,
                "dicatat_oleh": role_label(role),
            }
        )
    certificates = {
        c.registration_id: c
        for c in db.session.scalars(
            sa.select(Certificate).where(Certificate.registration_id.in_(ids))
        )
    }
    members = db.session.execute(
        person_members(registration.phone, user).add_columns(Kim.name).order_by(Member.id)
    ).all()

    def attendance_of(reg: Registration) -> list[dict]:
        rows = []
        for session in (s for s in sessions.values() if s.event_id == reg.event_id):
            found = standing.get((reg.id, session.id))
            att = found.Attendance if found else None
            rows.append(
                {
                    "sesi": session.topic,
                    "mulai": _iso(session.starts_at),
                    "selesai": _iso(session.ends_at),
                    "status": str(att.status.label) if att else None,
                    "cara": str(att.method.label) if att else None,
                    "waktu_utc": _iso(att.marked_at) if att else None,
                    "dicatat_oleh": role_label(found.role) if found else None,
                    "tanda_tangan": att.signature is not None if att else False,
                    "tanda_tangan_svg": att.signature if att else None,
                    "tanda": marks.get((reg.id, session.id), []),
                }
            )
        return rows

    def certificate_of(reg_id: int) -> dict | None:
        c = certificates.get(reg_id)
        if c is None:
            return None
        return {
            "nomor": c.number,
            "kode": c.code,
            "terbit_utc": _iso(c.issued_at),
            "dicabut_utc": _iso(c.revoked_at),
            "status": _("dicabut") if c.revoked_at else _("berlaku"),
        }

    return {
        "dibuat_utc": _iso(utcnow()),
        "nomor_whatsapp": display_phone(registration.phone) or None,
        "pendaftaran": [
            {
                "kegiatan": {
                    "judul": row.Event.title,
                    "jenis": str(row.Event.kind.label),
                    "penyelenggara": row.owner,
                    "tempat": row.Event.venue_name,
                    "mulai": _iso(row.Event.starts_on),
                },
                "nama": row.Registration.name,
                "instansi": row.Registration.institution,
                "jabatan": row.Registration.position,
                "jenis_kelamin": row.Registration.gender.value if row.Registration.gender else None,
                "nomor_whatsapp": display_phone(row.Registration.phone) or None,
                "kim": row.kim_name,
                "sumber": str(row.Registration.source.label),
                "status": str(row.Registration.status.label),
                "tiket": row.Registration.ticket,
                "kode_presensi": row.Registration.checkin_code,
                "didaftarkan_utc": _iso(row.Registration.created_at),
                # the person's own consent on the public form (None: someone else registered them)
                "persetujuan_utc": _iso(row.Registration.consent_at),
                "versi_pemberitahuan_privasi": row.Registration.consent_version,
                "dibatalkan_utc": _iso(row.Registration.cancelled_at),
                "kehadiran": attendance_of(row.Registration),
                "sertifikat": certificate_of(row.Registration.id),
            }
            for row in regs
        ],
        "anggota_kim": [
            {
                "kim": kim_name,
                "nama": m.name,
                "jabatan": str(m.position.label),
                "jenis_kelamin": m.gender.value if m.gender else None,
                "nomor_whatsapp": display_phone(m.phone) or None,
                "email": m.email,
                "aktif": m.active,
                "dicatat_utc": _iso(m.created_at),
            }
            for m, kim_name in members
        ],
    }


# --- the audit log -----------------------------------------------------------------------------

ACTION_LABELS = {
    "activity.public_kinds": _l("Profil publik kegiatan KIM"),
    "activity.report": _l("Laporan kegiatan KIM dikirim"),
    "activity.report_delete": _l("Laporan kegiatan KIM dihapus"),
    "activity.report_update": _l("Laporan kegiatan KIM diubah"),
    "activity.review": _l("Laporan kegiatan KIM ditinjau"),
    "attendance.export": _l("Ekspor kehadiran"),
    "attendance.mark": _l("Tanda hadir"),
    "attendance.officer_assign": _l("Petugas absensi ditugaskan"),
    "attendance.officer_unassign": _l("Petugas absensi dilepas"),
    "attendance.signature": _l("Tanda tangan"),
    "bidang.create": _l("Bidang ditambahkan"),
    "bidang.retire": _l("Bidang dihentikan"),
    "bidang.update": _l("Bidang diubah"),
    "certificate.issue": _l("Sertifikat diterbitkan"),
    "competition.category": _l("Kategori dan rubrik lomba"),
    "competition.check": _l("Seleksi administrasi pendaftaran lomba"),
    "competition.create": _l("Lomba dibuat"),
    "competition.entry": _l("Pendaftaran lomba disimpan"),
    "competition.stage": _l("Tahap lomba"),
    "competition.update": _l("Lomba diubah"),
    "event.attendance_settings": _l("Pengaturan absensi"),
    "event.clone": _l("Kegiatan disalin"),
    "event.create": _l("Kegiatan dibuat"),
    "event.invite": _l("Undangan KIM"),
    "event.status": _l("Status kegiatan"),
    "event.update": _l("Kegiatan diubah"),
    "evaluation.export": _l("Ekspor nilai tes"),
    "evaluation.material_add": _l("Materi ditambahkan"),
    "evaluation.material_delete": _l("Materi dihapus"),
    "evaluation.question_add": _l("Soal tes ditambahkan"),
    "evaluation.question_delete": _l("Soal tes dihapus"),
    "evaluation.question_edit": _l("Soal tes diubah"),
    "evaluation.question_import": _l("Impor soal tes"),
    "evaluation.settings": _l("Pengaturan evaluasi"),
    "info.relay": _l("Informasi disebarkan KIM"),
    "info.send": _l("Informasi dikirim ke KIM"),
    "invitation.delete": _l("Undangan dihapus"),
    "invitation.quota": _l("Kuota undangan"),
    "kim.allow_second": _l("KIM kedua di desa diizinkan"),
    "kim.create": _l("KIM didaftarkan"),
    "kim.export": _l("Ekspor KIM"),
    "kim.history_export": _l("Ekspor riwayat KIM"),
    "kim.import": _l("Impor KIM"),
    "kim.sk_upload": _l("Unggah SK"),
    "kim.status": _l("Status KIM"),
    "kim.update": _l("KIM diubah"),
    "member.activate": _l("Anggota diaktifkan"),
    "monev.weights": _l("Bobot skor monev"),
    "member.create": _l("Anggota ditambahkan"),
    "member.deactivate": _l("Anggota dinonaktifkan"),
    "member.export": _l("Ekspor anggota"),
    "member.import": _l("Impor anggota"),
    "member.update": _l("Anggota diubah"),
    "person.erase": _l("Data orang dihapus"),
    "person.export": _l("Ekspor data orang"),
    "registration.cancel": _l("Pendaftaran dibatalkan"),
    "registration.consent": _l("Persetujuan data pribadi"),
    "registration.create": _l("Pendaftaran"),
    "registration.export": _l("Ekspor peserta"),
    "registration.import": _l("Impor peserta"),
    "registration.restore": _l("Pendaftaran dipulihkan"),
    "registration.update": _l("Peserta diubah"),
    "report.export": _l("Ekspor laporan"),
    "report.narrative": _l("Laporan kegiatan diubah"),
    "report.photo_add": _l("Foto laporan ditambahkan"),
    "report.photo_delete": _l("Foto laporan dihapus"),
    "user.activate": _l("Akun diaktifkan"),
    "user.create": _l("Akun dibuat"),
    "user.deactivate": _l("Akun dinonaktifkan"),
    "user.link": _l("Tautan masuk dibuat"),
    "user.link_used": _l("Kata sandi dibuat lewat tautan"),
    "user.password": _l("Kata sandi diganti"),
    "user.reset_request": _l("Minta atur ulang kata sandi"),
    "user.update": _l("Akun diubah"),
}
OBJECT_LABELS = {
    "event": _l("Kegiatan"),
    "export": _l("Ekspor"),
    "import": _l("Impor"),
    "info": _l("Informasi"),
    "kim": _l("KIM"),
    "member": _l("Anggota"),
    "region": _l("Wilayah"),
    "registration": _l("Peserta"),
    "report": _l("Laporan"),
    "user": _l("Akun"),
}


def mask_numbers(text: str) -> str:
    """Phone-like runs of 9 or more digits shown masked (``0812-****-7890``); dates and counts
    have fewer digits and stay."""

    def masked(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) < 9:
            return match.group(0)
        if match.group(0).startswith("+"):
            return mask_phone(match.group(0)) if digits.startswith("62") else "*" * len(digits)
        return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]

    return PHONE_IN_TEXT.sub(masked, text)


def summarise(changes: Any) -> str:
    """``key: value; key: value`` of an entry's changes, short, with numbers masked."""
    if not changes:
        return ""
    if isinstance(changes, dict):
        parts = []
        for key, value in changes.items():
            shown = (
                json.dumps(value, ensure_ascii=False)
                if isinstance(value, dict | list)
                else str(value)
            )
            parts.append(f"{key}: {shown}")
        text = "; ".join(parts)
    else:
        text = json.dumps(changes, ensure_ascii=False)
    text = mask_numbers(text)
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


@dataclass
class LogFilters:
    action: str = ""
    actor: str = ""
    start: date | None = None
    end: date | None = None
    before: int | None = None
    note: str = ""  # why a date that was sent is not used

    def query_args(self, **extra) -> dict:
        args = {
            "aksi": self.action or None,
            "pelaku": self.actor or None,
            "dari": _iso(self.start),
            "sampai": _iso(self.end),
        }
        return {k: v for k, v in (args | extra).items() if v is not None}


def log_filters() -> LogFilters:
    """The filters from the query string; anything malformed is ignored (a date, visibly)."""
    start, end = queryargs.day("dari"), queryargs.day("sampai")
    return LogFilters(
        action=queryargs.one_of("aksi", ACTION_LABELS),
        actor=queryargs.text("pelaku"),
        start=start,
        end=end,
        before=queryargs.record_id("sebelum") or None,
        note=_ignored_dates_note(start, end),
    )


def _ignored_dates_note(start: date | None, end: date | None) -> str:
    if (start or not queryargs.given("dari")) and (end or not queryargs.given("sampai")):
        return ""
    return _(
        "Tanggal yang tidak dapat dibaca atau di luar tahun %(first)d–%(last)d diabaikan.",
        first=queryargs.EARLIEST.year,
        last=queryargs.LATEST.year,
    )


def _wib_start(day: date) -> datetime:
    """The UTC moment a WIB day starts (entries are stored in UTC)."""
    local = datetime.combine(day, time.min, tzinfo=ZoneInfo(WIB))
    return local.astimezone(UTC).replace(tzinfo=None)


def log_page(user, filters: LogFilters) -> tuple[list[sa.Row], int | None]:
    """Up to 50 entries in ``user``'s scope, newest first, from before ``filters.before``
    (keyset paging on the id), and the id to continue from (None on the last page): one query."""
    actor = User
    conditions = [scope_filter(AuditEntry.region_code, user)]
    if filters.action:
        conditions.append(AuditEntry.action == filters.action)
    if filters.actor:
        conditions.append(
            sa.or_(
                contains_text(actor.name, filters.actor), contains_text(actor.email, filters.actor)
            )
        )
    if filters.start:
        conditions.append(AuditEntry.at >= _wib_start(filters.start))
    if filters.end:
        conditions.append(AuditEntry.at < _wib_start(filters.end + timedelta(days=1)))
    if filters.before:
        conditions.append(AuditEntry.id < filters.before)
    rows = db.session.execute(
        sa.select(
            AuditEntry.id,
            AuditEntry.at,
            AuditEntry.action,
            AuditEntry.object_type,
            AuditEntry.object_id,
            AuditEntry.region_code,
            AuditEntry.changes,
            actor.name.label("actor_name"),
            actor.role.label("actor_role"),
        )
        .outerjoin(actor, actor.id == AuditEntry.actor_id)
        .where(*conditions)
        .order_by(AuditEntry.id.desc())
        .limit(LOG_PER_PAGE + 1)
    ).all()
    more = len(rows) > LOG_PER_PAGE
    rows = rows[:LOG_PER_PAGE]
    return rows, (rows[-1].id if more else None)
