"""Personal data duties (UU 27/2022): everything held about one person as a file, erasing it,
and the audit-log viewer.

A person is who the participation history says (``history.py``): the same E.164 number is the
same person; a registration without a number is a person of its own. An operator exports or
erases the person only inside their wilayah. Erasing anonymises in place: attendance rows and
marks stay, so every count (dashboard, daftar hadir, laporan) stays as it was.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from kim_app import audit, queryargs
from kim_app.attendance.models import Attendance, AttendanceMark, Certificate
from kim_app.audit import AuditEntry
from kim_app.auth.models import OPERATOR_ROLES, ROLE_LABELS, User
from kim_app.db import contains_text
from kim_app.events.models import (
    Event,
    EventSession,
    Registration,
    new_checkin_code,
)
from kim_app.extensions import db
from kim_app.groups.models import Kim, Member
from kim_app.htmx import redirect_after_post, render
from kim_app.phones import display_phone, mask_phone
from kim_app.regions.models import Region
from kim_app.reports import bp
from kim_app.reports.forms import EraseForm
from kim_app.reports.history import _same_person, registration_in_scope_or_404
from kim_app.security import roles_required, scope_filter, scope_of
from kim_app.timezones import WIB, utcnow

# what an erased registration and member are called (stored data, in the data's language)
ERASED_NAME = "Peserta dihapus"
ERASED_MEMBER = "Anggota dihapus"
# what replaces a personal value inside an audit entry
SCRUBBED = "[dihapus]"
CONFIRM_WORD = "HAPUS"
LOG_PER_PAGE = 50
SUMMARY_MAX = 140
# 9 or more digits written as one number (``0812-3456-7890``, ``+62 812 …``): a phone number
PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s().-]{7,}\d")


def _role_label(role) -> str:
    return str(ROLE_LABELS.get(role, "")) if role else ""


# --- export ------------------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def person_registrations(registration: Registration, user) -> sa.Select:
    """The ids of the person's registrations in events ``user`` manages."""
    return (
        sa.select(Registration.id)
        .join(Event, Event.id == Registration.event_id)
        .where(_same_person(registration), scope_filter(Event.region_code, user))
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
                "dicatat_oleh": _role_label(role),
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
                    "dicatat_oleh": _role_label(found.role) if found else None,
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


# --- erasure -----------------------------------------------------------------------------------


@dataclass
class Erased:
    """What an erasure changed, in counts (this is what the audit log keeps)."""

    registrations: int = 0
    signatures: int = 0
    certificates: int = 0
    members: int = 0
    audit_entries: int = 0


def phone_needles(phone: str | None) -> list[str]:
    """Spellings of a number that contain one another: the digits after +62 sit inside
    ``+62812…``, ``0812…`` and ``62812…``; the dashed form is the one the app shows."""
    if not phone:
        return []
    return [phone[3:], display_phone(phone)]


def _scrub(value: Any, needles: list[str]) -> Any:
    """``value`` with every string that holds a needle (case-insensitive) replaced."""
    if isinstance(value, dict):
        return {key: _scrub(item, needles) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, needles) for item in value]
    if isinstance(value, str):
        folded = value.casefold()
        if any(needle.casefold() in folded for needle in needles):
            return SCRUBBED
    return value


def scrub_audit(needles: list[str], user) -> int:
    """Replace the person's names and number inside audit entries of ``user``'s scope; returns
    how many entries changed. The database finds candidates by the JSON text (written by
    ``json.dumps``, so a needle is searched in that spelling); Python replaces whole values."""
    if not needles:
        return 0
    text = sa.cast(AuditEntry.changes, sa.Text)
    candidates = db.session.execute(
        sa.select(AuditEntry.id, AuditEntry.changes).where(
            scope_filter(AuditEntry.region_code, user),
            sa.or_(*[text.contains(json.dumps(n)[1:-1], autoescape=True) for n in needles]),
        )
    ).all()
    changed = 0
    for entry_id, changes in candidates:
        cleaned = _scrub(changes, needles)
        if cleaned != changes:
            db.session.execute(
                sa.update(AuditEntry).where(AuditEntry.id == entry_id).values(changes=cleaned)
            )
            changed += 1
    return changed


def erase_person(registration: Registration, by: User) -> Erased:
    """Anonymise the person inside ``by``'s scope, in the caller's transaction.

    Registrations keep their event, KIM, status, source and gender (an anonymous count: the
    dashboard's gender split and the laporan's tables stay true) and lose the name, number,
    institution, position and their link to a member; ticket and check-in code are replaced, so
    old links stop working. Signatures are removed, certificates revoked (numbers kept).
    Members with the number are anonymised, not deleted: the KIM keeps its pengurus positions
    and counts until it names someone else. Names and number are scrubbed from the audit log;
    the WhatsApp messages prepared for the number are deleted."""
    phone = registration.phone
    ids = [r for r in db.session.scalars(person_registrations(registration, by))]
    regs = list(db.session.scalars(sa.select(Registration).where(Registration.id.in_(ids))))
    members = list(db.session.scalars(person_members(phone, by)))
    names = {r.name for r in regs} | {m.name for m in members}
    needles = [n for n in names if len(n) >= 3 and n not in (ERASED_NAME, ERASED_MEMBER)]
    needles += phone_needles(phone)
    result = Erased(registrations=len(regs), members=len(members))
    for reg in regs:
        reg.name, reg.phone = ERASED_NAME, None
        reg.institution = reg.position = ""
        reg.member_id = None
        reg.ticket = secrets.token_urlsafe(18)
        reg.checkin_code = new_checkin_code()
        reg.erased_at = utcnow()
    for member in members:
        member.name, member.phone, member.email = ERASED_MEMBER, None, ""
    db.session.flush()
    result.signatures = db.session.execute(
        sa.update(Attendance)
        .where(Attendance.registration_id.in_(ids), Attendance.signature.is_not(None))
        .values(signature=None)
    ).rowcount
    result.certificates = db.session.execute(
        sa.update(Certificate)
        .where(Certificate.registration_id.in_(ids), Certificate.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    result.audit_entries = scrub_audit(needles, by)
    if phone:  # the messages prepared for them carry their name, number and ticket link
        from kim_app.notices.models import Notice

        db.session.execute(
            sa.delete(Notice).where(Notice.phone == phone, scope_filter(Notice.region_code, by))
        )
    audit.record(
        "person.erase",
        "registration",
        registration.id,
        region_code=scope_of(by) or None,
        changes=asdict(result),
        actor=by,
    )
    return result


def confirmation_expected(registration: Registration) -> str:
    """The last four digits of the number, or the word HAPUS for a person without one."""
    return registration.phone[-4:] if registration.phone else CONFIRM_WORD


# --- the audit log -----------------------------------------------------------------------------

ACTION_LABELS = {
    "attendance.export": _l("Ekspor kehadiran"),
    "attendance.mark": _l("Tanda hadir"),
    "attendance.officer_assign": _l("Petugas absensi ditugaskan"),
    "attendance.officer_unassign": _l("Petugas absensi dilepas"),
    "attendance.signature": _l("Tanda tangan"),
    "certificate.issue": _l("Sertifikat diterbitkan"),
    "event.attendance_settings": _l("Pengaturan absensi"),
    "event.clone": _l("Kegiatan disalin"),
    "event.create": _l("Kegiatan dibuat"),
    "event.invite": _l("Undangan KIM"),
    "event.status": _l("Status kegiatan"),
    "event.update": _l("Kegiatan diubah"),
    "invitation.delete": _l("Undangan dihapus"),
    "invitation.quota": _l("Kuota undangan"),
    "kim.create": _l("KIM didaftarkan"),
    "kim.export": _l("Ekspor KIM"),
    "kim.history_export": _l("Ekspor riwayat KIM"),
    "kim.import": _l("Impor KIM"),
    "kim.sk_upload": _l("Unggah SK"),
    "kim.status": _l("Status KIM"),
    "kim.update": _l("KIM diubah"),
    "member.activate": _l("Anggota diaktifkan"),
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
    "kim": _l("KIM"),
    "member": _l("Anggota"),
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


# --- views -------------------------------------------------------------------------------------


@bp.get("/laporan/orang/<int:registration_id>/data.json")
@roles_required(*OPERATOR_ROLES)
def person_data_export(registration_id: int):
    """Everything held about the person in the operator's scope, as one JSON file: private,
    never cached, audited with counts only."""
    registration = registration_in_scope_or_404(registration_id, current_user)
    data = person_data(registration, current_user)
    audit.record(
        "person.export",
        "registration",
        registration.id,
        region_code=scope_of(current_user) or None,
        changes={
            "format": "json",
            "rows": len(data["pendaftaran"]),
            "members": len(data["anggota_kim"]),
        },
    )
    response = Response(json.dumps(data, ensure_ascii=False, indent=1), mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="data-orang-{registration.id}-{date.today().isoformat()}.json"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/laporan/orang/<int:registration_id>/hapus", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def person_erase(registration_id: int):
    """Erase the person in the operator's scope after a typed confirmation (the number's last
    four digits, or HAPUS); one transaction."""
    registration = registration_in_scope_or_404(registration_id, current_user)
    form = EraseForm()
    expected = confirmation_expected(registration)
    rows = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            person_registrations(registration, current_user).subquery()
        )
    )
    form.konfirmasi.description = (
        _("Ketik 4 angka terakhir nomor WhatsApp orang ini, atau kata HAPUS.")
        if registration.phone
        else _("Ketik kata HAPUS.")
    )
    status = 200
    if form.validate_on_submit():
        typed = (form.konfirmasi.data or "").strip().upper()
        if typed in (expected, CONFIRM_WORD):
            result = erase_person(registration, current_user)
            flash(
                _(
                    "Data orang ini dihapus dari %(n)d pendaftaran. Jumlah kehadiran tetap.",
                    n=result.registrations,
                ),
                "success",
            )
            return redirect_after_post(url_for("reports.people"))
        form.konfirmasi.errors.append(_("Konfirmasi tidak cocok."))
        status = 422
    elif form.is_submitted():
        status = 422
    return render(
        "reports/person_erase.html",
        "reports/_person_erase_form.html",
        status=status,
        person=registration,
        phone=display_phone(registration.phone),
        rows=rows,
        form=form,
    )


@bp.get("/log-audit")
@roles_required(*OPERATOR_ROLES)
def audit_log():
    """The audit log of the operator's wilayah (everything for the admin), newest first, 50 a
    page, filtered by action, actor and dates."""
    filters = log_filters()
    rows, next_id = log_page(current_user, filters)
    return render(
        "reports/audit_log.html",
        "reports/_audit_log_rows.html",
        rows=rows,
        next_id=next_id,
        filters=filters,
        actions=ACTION_LABELS,
        objects=OBJECT_LABELS,
        roles=_role_label,
        summarise=summarise,
        zone=WIB,
    )


# --- no personal data in the development server's request log -----------------------------------


class _NoQueryString(logging.Filter):
    """The development server logs each request line; a search (``?q=0812…``) would put a number
    in it. Query strings are cut from those lines (gunicorn's format already leaves them out)."""

    QUERY = re.compile(r'(/[^\s?"]*)\?[^\s"]*')

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                self.QUERY.sub(r"\1", a) if isinstance(a, str) else a for a in record.args
            )
        record.msg = self.QUERY.sub(r"\1", str(record.msg))
        return True


@bp.record_once
def _quiet_request_log(_state) -> None:
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, _NoQueryString) for f in werkzeug.filters):
        werkzeug.addFilter(_NoQueryString())
