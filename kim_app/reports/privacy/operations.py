"""Erasing a person (UU 27/2022): anonymised in place, so attendance rows and marks stay and
every count stays as it was; their values are scrubbed from the audit log too."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from kim_app import audit
from kim_app.attendance.models import Attendance, Certificate
from kim_app.audit import AuditEntry
from kim_app.auth.models import User
from kim_app.events.models import (
    Registration,
    new_checkin_code,
)
from kim_app.extensions import db
from kim_app.phones import display_phone
from kim_app.reports.privacy.queries import person_members, person_registrations
from kim_app.security import scope_filter, scope_of
from kim_app.timezones import utcnow

ERASED_NAME = "Peserta dihapus"
ERASED_MEMBER = "Anggota dihapus"
# what replaces a personal value inside an audit entry
SCRUBBED = "[dihapus]"
CONFIRM_WORD = "HAPUS"


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
