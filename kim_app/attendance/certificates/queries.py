"""Certificates, the reads: the numbers, who earned one (the event's rule and the eligible), the
certificates page's summary and rows, and finding a certificate by its public code, a
registration or a ticket.

A participant earns a certificate by being marked hadir in at least the event's minimum share of
its sessions (or on every day, under the every-day rule); only sessions that have ended count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager

from kim_app import signals
from kim_app.attendance.models import Attendance, Certificate, Presence
from kim_app.events.models import (
    CertificateRule,
    Event,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from kim_app.events.operations import local_now
from kim_app.extensions import db
from kim_app.formatting import when

ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
KNOWN_PLACEHOLDER = re.compile(r"no(?::0[1-9])?|tahun|bulan|kode")


# --- numbers -----------------------------------------------------------------------------------------


def number_format_problem(fmt: str) -> str | None:
    """Why ``fmt`` cannot number certificates (a message), or None when it can.

    Placeholders: ``{no}`` (required; ``{no:03}`` pads to 3 digits), ``{tahun}``, ``{bulan}``
    (the month in Roman numerals) and ``{kode}`` (the event's code).
    """
    unknown = [
        "{" + name + "}"
        for name in PLACEHOLDER.findall(fmt)
        if not KNOWN_PLACEHOLDER.fullmatch(name)
    ]
    if unknown:
        return _(
            "Kode %(codes)s tidak dikenal. Gunakan {no}, {no:03}, {tahun}, {bulan} atau {kode}.",
            codes=", ".join(unknown),
        )
    if "{" in PLACEHOLDER.sub("", fmt) or "}" in PLACEHOLDER.sub("", fmt):
        return _("Tanda kurung kurawal { } harus berpasangan, misalnya {no}.")
    if not any(name.startswith("no") for name in PLACEHOLDER.findall(fmt)):
        return _("Format harus memuat {no}, nomor urut sertifikat.")
    return None


def format_certificate_number(fmt: str, serial: int, event: Event, issued_on: date) -> str:
    """The certificate number: ``{no:03}/SERT-KIM/{bulan}/{tahun}`` → ``007/SERT-KIM/XI/2026``.

    Only the known placeholders are replaced (no ``str.format``, so a format cannot reach any
    attribute); anything else is copied as written.
    """

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name == "no":
            return str(serial)
        if name.startswith("no:0") and KNOWN_PLACEHOLDER.fullmatch(name):
            return str(serial).zfill(int(name[4:]))
        if name == "tahun":
            return str(issued_on.year)
        if name == "bulan":
            return ROMAN_MONTHS[issued_on.month - 1]
        if name == "kode":
            return event.code.upper()
        return match.group(0)

    return PLACEHOLDER.sub(replace, fmt)[:120]


# --- who earned one -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """The event's certificate rule as it stands at one moment: only sessions that have ended
    count. ``units`` is what can be attended so far (ended sessions, or days with an ended
    session under the every-day rule) and ``needed`` how many of them earn a certificate."""

    by_day: bool
    total: int  # every session of the event
    ended: tuple[int, ...]  # ids of the sessions that have ended
    days: dict[int, int]  # ended session id → its day's number (the every-day rule)
    units: int
    needed: int
    final: bool  # every session has ended: issuing may go ahead


def certificate_rule(event: Event, now: datetime | None = None) -> Rule | None:
    """The rule at ``now`` (local time; the event's clock by default); None when certificates
    are off or the event has no sessions."""
    if event.certificate_min_percent is None or not event.sessions:
        return None
    now = now or local_now(event)
    ended = [s for s in event.sessions if s.ends_at <= now]
    dates = sorted({s.starts_at.date() for s in ended})
    days = {s.id: dates.index(s.starts_at.date()) for s in ended}
    by_day = event.certificate_rule is CertificateRule.SETIAP_HARI
    if by_day:
        units = needed = len(dates)
    else:  # the least n with n × 100 ≥ min × ended
        units = len(ended)
        needed = -(-event.certificate_min_percent * units // 100)
    return Rule(
        by_day=by_day,
        total=len(event.sessions),
        ended=tuple(s.id for s in ended),
        days=days,
        units=units,
        needed=needed,
        final=len(ended) == len(event.sessions),
    )


def _attended(event: Event, rule: Rule):
    """SELECT registration_id, n — n the ended sessions attended (hadir), or under the every-day
    rule the days with at least one of them — for one event, grouped once."""
    n = (
        sa.func.count(sa.distinct(sa.case(rule.days, value=Attendance.session_id)))
        if rule.by_day and rule.days
        else sa.func.count()
    )
    return (
        sa.select(Attendance.registration_id.label("registration_id"), n.label("n"))
        .join(EventSession, EventSession.id == Attendance.session_id)
        .where(
            EventSession.event_id == event.id,
            Attendance.status == Presence.HADIR,
            Attendance.session_id.in_(rule.ended) if rule.ended else sa.false(),
        )
        .group_by(Attendance.registration_id)
    )


def attended_counts(event: Event, now: datetime | None = None) -> dict[int, int]:
    """What counts toward the rule per registration (sessions, or days), for those with any,
    in one query; empty when certificates are off."""
    rule = certificate_rule(event, now)
    if rule is None:
        return {}
    return {rid: n for rid, n in db.session.execute(_attended(event, rule))}


def _meets(attended, rule: Rule):
    """Whether ``attended`` earns a certificate: something has ended and enough of it was attended."""
    return attended >= rule.needed if rule.needed else sa.false()


def requirements(event: Event) -> list[signals.Requirement]:
    """What other packages ask of a holder beyond attendance (``signals.certificate_requirements``)."""
    return [
        found
        for _receiver, found in signals.certificate_requirements.send(event)
        if found is not None
    ]


def eligible_registrations(event: Event, now: datetime | None = None) -> list[Registration]:
    """Registered (terdaftar) people who meet the rule over the sessions ended by ``now``, by
    name; empty when certificates are off, no session has ended, or the event has no sessions."""
    rule = certificate_rule(event, now)
    if rule is None or not rule.needed:
        return []
    counts = _attended(event, rule).subquery()
    return list(
        db.session.scalars(
            sa.select(Registration)
            .join(counts, counts.c.registration_id == Registration.id)
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.TERDAFTAR,
                Registration.erased_at.is_(None),  # an erased person is a count, not a holder
                _meets(counts.c.n, rule),
                *(required.condition for required in requirements(event)),
            )
            .order_by(Registration.name, Registration.id)
        )
    )


def rule_text(event: Event, rule: Rule) -> str:
    """The rule in one sentence, for the certificates page (with any further requirement)."""
    if rule.by_day:
        days = len({s.starts_at.date() for s in event.sessions})
        text = _(
            "Syarat: hadir setiap hari, minimal satu sesi tiap hari (%(days)d hari).", days=days
        )
    else:
        text = _(
            "Syarat: hadir minimal %(percent)d%% sesi, yaitu %(needed)d dari %(total)d sesi.",
            percent=event.certificate_min_percent,
            needed=-(-event.certificate_min_percent * rule.total // 100),
            total=rule.total,
        )
    return " ".join([text, *filter(None, (required.text() for required in requirements(event)))])


def not_yet_text(event: Event) -> str:
    """Why certificates wait: the last session has not ended yet."""
    return _(
        "Sertifikat dapat diterbitkan setelah sesi terakhir selesai, %(when)s. Hanya sesi yang "
        "sudah selesai yang dihitung.",
        when=when(event.ends_at, event),
    )


# --- finding one ------------------------------------------------------------------------------------


def normalise_code(text: str) -> str:
    """What a person typed (``k7m4-qxp2 ab``) as a stored code: upper case, letters and digits."""
    return "".join(c for c in (text or "").upper() if c.isalnum())[:16]


def find_certificate(code: str) -> Certificate | None:
    """The certificate with this public code (valid or revoked), its registration and event
    loaded in the same query; None when there is none."""
    code = normalise_code(code)
    if not code:
        return None
    return db.session.scalar(
        sa.select(Certificate)
        .options(contains_eager(Certificate.registration).contains_eager(Registration.event))
        .join(Certificate.registration)
        .join(Registration.event)
        .where(Certificate.code == code)
    )


def valid_certificate(registration_id: int) -> Certificate | None:
    """The registration's certificate when it has one that is not revoked (for the ticket page)."""
    return db.session.scalar(
        sa.select(Certificate).where(
            Certificate.registration_id == registration_id, Certificate.revoked_at.is_(None)
        )
    )


def printable_count(event: Event) -> int:
    """How many certificates of the event are valid (what the PDF and the ZIP would hold)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Certificate.event_id == event.id, Certificate.revoked_at.is_(None)
            )
        )
        or 0
    )


def printable_certificates(event: Event) -> list[Certificate]:
    """Every valid certificate of the event with its registration, by number, to print."""
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .options(contains_eager(Certificate.registration))
            .join(Certificate.registration)
            .where(Certificate.event_id == event.id, Certificate.revoked_at.is_(None))
            .order_by(Certificate.serial)
        )
    )


def participant_certificate_of(event: Event, registration_id: int) -> Certificate | None:
    """One participant's valid certificate of the event, its registration loaded; None when none."""
    return db.session.scalar(
        sa.select(Certificate)
        .options(contains_eager(Certificate.registration))
        .join(Certificate.registration)
        .where(
            Certificate.event_id == event.id,
            Certificate.registration_id == registration_id,
            Certificate.revoked_at.is_(None),
        )
    )


def ticket_certificate_of(code: str, ticket: str) -> Certificate | None:
    """The valid certificate of the ticket's holder in a published event (the ticket token is
    the key), its registration and event loaded; None when none or revoked."""
    return db.session.scalar(
        sa.select(Certificate)
        .options(contains_eager(Certificate.registration).contains_eager(Registration.event))
        .join(Certificate.registration)
        .join(Registration.event)
        .where(
            Event.code == code,
            Event.status != EventStatus.DRAFT,
            Registration.ticket == ticket,
            Certificate.revoked_at.is_(None),
        )
    )


# --- the certificates page ---------------------------------------------------------------------------

PER_PAGE = 50


def summary(event: Event, rule: Rule | None) -> dict:
    """Participants, eligible (so far), valid and revoked certificates — one aggregate query."""
    if rule is not None:
        counts = _attended(event, rule).subquery()
        eligible = sa.and_(
            _meets(sa.func.coalesce(counts.c.n, 0), rule),
            *(required.condition for required in requirements(event)),
        )
    else:
        counts, eligible = None, sa.false()
    terdaftar = Registration.status == RegistrationStatus.TERDAFTAR
    query = sa.select(
        sa.func.count(Registration.id).filter(terdaftar),
        sa.func.count(Registration.id).filter(terdaftar, eligible),
        sa.func.count(Certificate.id).filter(Certificate.revoked_at.is_(None)),
        sa.func.count(Certificate.id).filter(Certificate.revoked_at.is_not(None)),
    ).select_from(Registration)
    if counts is not None:
        query = query.outerjoin(counts, counts.c.registration_id == Registration.id)
    row = db.session.execute(
        query.outerjoin(Certificate, Certificate.registration_id == Registration.id).where(
            Registration.event_id == event.id
        )
    ).one()
    return dict(zip(("participants", "eligible", "valid", "revoked"), row, strict=True))


def certificate_rows(event: Event, rule: Rule | None, page: int) -> list:
    """One page of participants (registered, or holding a certificate) with what they attended
    of the ended sessions (sessions, or days) and their certificate, by name — one query."""
    if rule is not None:
        counts = _attended(event, rule).subquery()
        attended = sa.func.coalesce(counts.c.n, 0)
    else:
        counts, attended = None, sa.literal(0)
    query = sa.select(
        Registration.id,
        Registration.name,
        Registration.institution,
        Registration.status,
        attended,
        Certificate.number,
        Certificate.revoked_at,
    ).select_from(Registration)
    if counts is not None:
        query = query.outerjoin(counts, counts.c.registration_id == Registration.id)
    return list(
        db.session.execute(
            query.outerjoin(Certificate, Certificate.registration_id == Registration.id)
            .where(*_listed(event))
            .order_by(Registration.name, Registration.id)
            .limit(PER_PAGE + 1)
            .offset((page - 1) * PER_PAGE)
        )
    )


def _listed(event: Event) -> tuple:
    """Who the list holds: the event's registered people and anyone holding a certificate
    (with ``Certificate`` outer-joined)."""
    return (
        Registration.event_id == event.id,
        sa.or_(Registration.status == RegistrationStatus.TERDAFTAR, Certificate.id.is_not(None)),
    )


def listed_count(event: Event) -> int:
    """How many people the list holds, for its last page."""
    return db.session.scalar(
        sa.select(sa.func.count(Registration.id))
        .outerjoin(Certificate, Certificate.registration_id == Registration.id)
        .where(*_listed(event))
    )
