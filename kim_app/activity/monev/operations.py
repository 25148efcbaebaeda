"""Keeping the monev figures and the score's weights.

``refresh(year, condition)`` recounts the year's ``MonevTally`` row of every verified KIM the
condition selects, in a fixed number of statements: at once for one KIM when the activity
package records something of it, by the worker every half hour for everything (attendance,
certificates and members change in other packages), and for an area when its operator asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kim_app import audit, jobs
from kim_app.activity.models import ActivityReport, MonevTally, MonevWeights, Relay, ReportStatus
from kim_app.attendance.models import Attendance, Certificate, Presence
from kim_app.auth.models import User
from kim_app.errors import OperationError
from kim_app.events.models import EventSession, Registration
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimField, KimStatus, Member, Position
from kim_app.regions.models import ancestors_of
from kim_app.reports.models import YearKimTally
from kim_app.timezones import utcnow

REFRESH_JOB = "monev-hitung"
AREA_JOB = "monev-hitung-wilayah"
CHUNK = 2000  # rows written per INSERT


@dataclass(frozen=True)
class Part:
    key: str
    label: object  # a lazy string
    target: int  # what earns the part's whole weight in a year
    weight: int  # its default weight


# the score: each part's weight × min(figure ÷ target, 1), over the sum of the weights, × 100
PARTS = (
    Part("reports", _l("Laporan kegiatan diterima"), 24, 35),
    Part("relays", _l("Informasi disebarkan"), 12, 25),
    Part("hadir", _l("Kehadiran di kegiatan (tanda hadir)"), 10, 20),
    Part("certificates", _l("Sertifikat"), 2, 10),
    Part("data", _l("Kelengkapan data (%)"), 100, 10),
)
DEFAULT = {p.key: p.weight for p in PARTS}
WEIGHT_MAX = 100


class MonevError(OperationError):
    """Weights that cannot be kept; the message is for the user."""


# --- the figures -----------------------------------------------------------------------------


def _bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year + 1, 1, 1)


def _completeness(kim: sa.Row, officers: int, fields: int) -> int:
    """The share of the registry's checks a KIM meets: its SK document, address, founding date,
    a contact, a field of activity, and its three officers (ketua, sekretaris, bendahara)."""
    checks = [
        bool(kim.sk_file),
        bool(kim.address),
        kim.founded_on is not None,
        bool(kim.whatsapp or kim.email),
        fields > 0,
        officers >= 3,
    ]
    return round(100 * sum(checks) / len(checks))


def refresh(year: int, condition: sa.ColumnElement[bool]) -> int:
    """Recount the ``year`` rows of the verified KIM that ``condition`` (on ``Kim``) selects;
    returns how many rows are kept. Rows of KIM no longer verified are removed."""
    start, end = _bounds(year)
    chosen = sa.select(Kim.id).where(condition).scalar_subquery()
    kims = db.session.execute(
        sa.select(
            Kim.id,
            Kim.village_code,
            Kim.sk_file,
            Kim.address,
            Kim.founded_on,
            Kim.whatsapp,
            Kim.email,
        ).where(condition, Kim.status == KimStatus.TERVERIFIKASI)
    ).all()

    def grouped(statement) -> dict[int, tuple]:
        return {row[0]: tuple(row[1:]) for row in db.session.execute(statement)}

    reports = grouped(
        sa.select(
            ActivityReport.kim_id,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(ActivityReport.reach), 0),
            sa.func.max(ActivityReport.done_on),
        )
        .where(
            ActivityReport.kim_id.in_(chosen),
            ActivityReport.status == ReportStatus.DITERIMA,
            ActivityReport.done_on >= start,
            ActivityReport.done_on < end,
        )
        .group_by(ActivityReport.kim_id)
    )
    relays = grouped(
        sa.select(
            Relay.kim_id,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Relay.reach), 0),
            sa.func.max(Relay.relayed_at),
        )
        .where(
            Relay.kim_id.in_(chosen),
            Relay.relayed_at >= datetime(year, 1, 1),
            Relay.relayed_at < datetime(year + 1, 1, 1),
        )
        .group_by(Relay.kim_id)
    )
    hadir = grouped(
        sa.select(YearKimTally.kim_id, YearKimTally.hadir).where(
            YearKimTally.kim_id.in_(chosen), YearKimTally.year == year
        )
    )
    certificates = grouped(
        sa.select(Registration.kim_id, sa.func.count(Certificate.id))
        .join(Certificate, Certificate.registration_id == Registration.id)
        .where(
            Registration.kim_id.in_(chosen),
            Certificate.revoked_at.is_(None),
            Certificate.issued_at >= datetime(year, 1, 1),
            Certificate.issued_at < datetime(year + 1, 1, 1),
        )
        .group_by(Registration.kim_id)
    )
    attended = grouped(
        sa.select(Registration.kim_id, sa.func.max(EventSession.starts_at))
        .join(Attendance, Attendance.registration_id == Registration.id)
        .join(EventSession, EventSession.id == Attendance.session_id)
        .where(
            Registration.kim_id.in_(chosen),
            Attendance.status == Presence.HADIR,
            EventSession.starts_at >= datetime(year, 1, 1),
            EventSession.starts_at < datetime(year + 1, 1, 1),
        )
        .group_by(Registration.kim_id)
    )
    members = grouped(
        sa.select(
            Member.kim_id,
            sa.func.count(),
            sa.func.count(
                sa.distinct(
                    sa.case(
                        (
                            Member.position.in_(
                                (Position.KETUA, Position.SEKRETARIS, Position.BENDAHARA)
                            ),
                            Member.position,
                        )
                    )
                )
            ),
        )
        .where(Member.kim_id.in_(chosen), Member.active)
        .group_by(Member.kim_id)
    )
    fields = grouped(
        sa.select(KimField.kim_id, sa.func.count())
        .where(KimField.kim_id.in_(chosen))
        .group_by(KimField.kim_id)
    )
    now = utcnow()
    rows = []
    for kim in kims:
        r_n, r_reach, r_last = reports.get(kim.id, (0, 0, None))
        l_n, l_reach, l_last = relays.get(kim.id, (0, 0, None))
        m_n, officers = members.get(kim.id, (0, 0))
        days = [
            d.date() if isinstance(d, datetime) else d
            for d in (r_last, l_last, attended.get(kim.id, (None,))[0])
            if d is not None
        ]
        rows.append(
            {
                "kim_id": kim.id,
                "year": year,
                "village_code": kim.village_code,
                "reports": r_n,
                "relays": l_n,
                "reach": int(r_reach) + int(l_reach),
                "hadir": hadir.get(kim.id, (0,))[0],
                "certificates": certificates.get(kim.id, (0,))[0],
                "members": m_n,
                "completeness": _completeness(kim, officers, fields.get(kim.id, (0,))[0]),
                "last_active": max(days) if days else None,
                "refreshed_at": now,
            }
        )
    db.session.execute(
        sa.delete(MonevTally).where(MonevTally.year == year, MonevTally.kim_id.in_(chosen))
    )
    for first in range(0, len(rows), CHUNK):
        db.session.execute(sa.insert(MonevTally), rows[first : first + CHUNK])
    return len(rows)


def refresh_kim(kim_id: int, *days: date) -> None:
    """Recount one KIM for the year of each of ``days`` (what it just did changed them)."""
    for year in sorted({d.year for d in days}):
        refresh(year, Kim.id == kim_id)


def refresh_area(area_code: str, year: int) -> int:
    """Recount every verified KIM of an area (``""``: the whole country) for ``year``."""
    from kim_app.security import codes_within

    condition = codes_within(Kim.village_code, area_code) if area_code else sa.true()
    return refresh(year, condition)


@jobs.periodic(REFRESH_JOB, minute="*/30")
def refresh_job() -> None:
    """Every half hour: this year's figures of every KIM (and last year's in January)."""
    today = utcnow().date()
    for year in {today.year, *((today.year - 1,) if today.month == 1 else ())}:
        refresh_area("", year)
        db.session.commit()


@jobs.job(AREA_JOB)
def refresh_area_job(area_code: str, year: int) -> None:
    refresh_area(area_code, year)
    db.session.commit()


# --- the weights -----------------------------------------------------------------------------


def weights_for(area_code: str) -> tuple[dict[str, int], str | None]:
    """The weights that hold in an area: its own, its nearest ancestor's, else the defaults;
    with the code of the area that set them (None for the defaults)."""
    codes = ["", *ancestors_of(area_code)] if area_code else [""]
    found = {
        w.area_code: w
        for w in db.session.scalars(
            sa.select(MonevWeights).where(MonevWeights.area_code.in_(codes))
        )
    }
    for code in reversed(codes):
        if code in found:
            w = found[code]
            return {p.key: getattr(w, p.key) for p in PARTS}, code
    return dict(DEFAULT), None


def set_weights(area_code: str, weights: dict[str, int] | None, by: User) -> None:
    """Keep an area's weights (each 0–100, not all 0); ``None`` goes back to the inherited
    ones."""
    row = db.session.get(MonevWeights, area_code)
    if weights is None:
        if row is not None:
            db.session.delete(row)
    else:
        if any(not 0 <= v <= WEIGHT_MAX for v in weights.values()):
            raise MonevError(_("Setiap bobot antara 0 dan %(n)d.", n=WEIGHT_MAX))
        if sum(weights.values()) == 0:
            raise MonevError(_("Paling sedikit satu bobot lebih dari 0."))
        if row is None:
            row = MonevWeights(area_code=area_code)
            db.session.add(row)
        for key, value in weights.items():
            setattr(row, key, value)
        row.updated_by_id = by.id
    db.session.flush()
    audit.record(
        "monev.weights",
        "region",
        area_code or "-",
        region_code=area_code or None,
        changes={"weights": weights},
        actor=by,
    )
