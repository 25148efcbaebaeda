"""Keeping the monev figures and the score's weights.

``refresh(year, condition)`` recounts the year's ``MonevTally`` row of every verified KIM the
condition selects, in a fixed number of statements: at once for one KIM when the activity
package records something of it, by the worker every half hour for everything (attendance,
certificates and members change in other packages), and for an area when its operator asks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kim_app import audit, jobs, signals
from kim_app.activity.models import (
    ActivityReport,
    MonevArea,
    MonevTally,
    MonevWeights,
    Relay,
    ReportStatus,
)
from kim_app.attendance.models import Attendance, Certificate, Presence
from kim_app.auth.models import User
from kim_app.db import hold_write_lock, on_postgresql
from kim_app.errors import OperationError
from kim_app.events.models import EventSession, Registration
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimField, KimStatus, Member, Position
from kim_app.regions.models import ancestors_of
from kim_app.reports.models import YearKimTally
from kim_app.timezones import utcnow

REFRESH_JOB = "monev-hitung"
AREA_JOB = "monev-hitung-wilayah"
KIM_JOB = "monev-hitung-kim"
TURN_KEY = 0x4D4F4E  # "MON": PostgreSQL's advisory lock that a year's recounts take turns on
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
# the activity levels, by score: (lowest score, key)
LEVELS = ((70, "sangat_aktif"), (40, "aktif"), (10, "kurang_aktif"), (0, "tidak_aktif"))
IDLE_MONTHS = (1, 2, 3, 6, 12)  # the choices of "without activity for"
SUMMED = ("reports", "relays", "reach", "hadir", "certificates")
# an area refreshed in the request when it has at most this many KIM (weights saved, "Hitung
# ulang"); a bigger one goes to the worker
AT_ONCE = 3000


class MonevError(OperationError):
    """Weights that cannot be kept; the message is for the user."""


# --- the figures -----------------------------------------------------------------------------


def _bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year + 1, 1, 1)


def months_before(today: date, months: int) -> date:
    """The day ``months`` months before ``today`` (the 28th at most, so every month has it)."""
    month = today.month - months
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, min(today.day, 28))


def score_of(figures: dict, weights: dict[str, int]) -> float:
    """Σ weight × min(figure ÷ target, 1) ÷ Σ weights × 100, as the page prints it."""
    total = sum(weights.values()) or 1
    shares = {
        p.key: min((figures["completeness"] if p.key == "data" else figures[p.key]) / p.target, 1)
        for p in PARTS
    }
    return round(sum(weights.get(k, 0) * v for k, v in shares.items()) / total * 100, 4)


def level_of(score: float) -> str:
    for lowest, key in LEVELS:
        if score >= lowest:
            return key
    return LEVELS[-1][1]


class Weighing:
    """The weights that hold for each KIM: those of its nearest area that set some, else the
    country's, else the defaults (all weights rows are few; read once per recount)."""

    def __init__(self) -> None:
        self.by_area = {
            w.area_code: {p.key: getattr(w, p.key) for p in PARTS}
            for w in db.session.scalars(sa.select(MonevWeights))
        }

    def of(self, village_code: str) -> dict[str, int]:
        for code in reversed(["", *ancestors_of(village_code)]):
            if code in self.by_area:
                return self.by_area[code]
        return DEFAULT


def _areas_of(village_code: str) -> list[tuple[str, int]]:
    """The country, province, regency and district a village lies in, with their depth."""
    codes = ancestors_of(village_code)[:3]
    return [("", 0), *((code, depth) for depth, code in enumerate(codes, 1))]


def _contribution(row: dict, today: date) -> dict[str, float]:
    """What one KIM row adds to each of its areas' sums."""
    part = {"kims": 1, "score_sum": row["score"], row["level"]: 1}
    part.update({key: row[key] for key in SUMMED})
    for months in IDLE_MONTHS:
        idle = row["last_active"] is None or row["last_active"] < months_before(today, months)
        part[f"idle_{months}"] = int(idle)
    return part


def _area_sums(rows: list[dict], today: date) -> dict[tuple[str, int], dict[str, float]]:
    sums: dict[tuple[str, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        part = _contribution(row, today)
        for area in _areas_of(row["village_code"]):
            target = sums[area]
            for key, value in part.items():
                target[key] += value
    return sums


AREA_COLUMNS = (
    "kims", "score_sum", *(key for _l, key in LEVELS), *(f"idle_{n}" for n in IDLE_MONTHS),
    *SUMMED,
)  # fmt: skip


def _add_to_areas(year: int, old: list[dict], new: list[dict], today: date) -> None:
    """Move each area's sums from the KIM rows ``old`` to ``new``: one UPDATE per area touched
    (an INSERT for an area's first KIM)."""
    before, after = _area_sums(old, today), _area_sums(new, today)
    now = utcnow()
    for area in set(before) | set(after):
        delta = {
            key: after.get(area, {}).get(key, 0) - before.get(area, {}).get(key, 0)
            for key in AREA_COLUMNS
        }
        if not any(delta.values()):
            continue
        code, depth = area
        changed = db.session.execute(
            sa.update(MonevArea)
            .where(MonevArea.area_code == code, MonevArea.year == year)
            .values(
                {getattr(MonevArea, k): getattr(MonevArea, k) + v for k, v in delta.items()}
                | {MonevArea.refreshed_at: now}
            )
        ).rowcount
        if not changed:
            db.session.execute(
                sa.insert(MonevArea).values(
                    area_code=code, year=year, depth=depth, refreshed_at=now, **delta
                )
            )


def _rebuild_areas(year: int, rows: list[dict], today: date) -> None:
    """Every area's sums of the year afresh, from the whole country's KIM rows."""
    db.session.execute(sa.delete(MonevArea).where(MonevArea.year == year))
    now = utcnow()
    values = [
        {"area_code": code, "year": year, "depth": depth, "refreshed_at": now}
        | {key: sums.get(key, 0) for key in AREA_COLUMNS}
        for (code, depth), sums in _area_sums(rows, today).items()
    ]
    for first in range(0, len(values), CHUNK):
        db.session.execute(sa.insert(MonevArea), values[first : first + CHUNK])


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


def _take_turn(year: int, *, wait: bool = True) -> bool:
    """Wait until no other transaction recounts ``year`` (or, ``wait=False``, say whether none
    does), and hold the turn to the end of this one. A recount reads a KIM's old row and moves
    its areas' sums by the difference, so two at once would count a change twice or insert the
    same row twice, and a recount whose reads turned stale would write old figures.
    PostgreSQL: a transaction-scoped advisory lock. SQLite: the database's one write lock,
    which a write request holds from its start and a job takes here."""
    if not on_postgresql():
        hold_write_lock()
        return True
    take = sa.func.pg_advisory_xact_lock if wait else sa.func.pg_try_advisory_xact_lock
    taken = db.session.execute(sa.select(take(TURN_KEY, year))).scalar()
    return wait or bool(taken)


def refresh(year: int, condition: sa.ColumnElement[bool], *, everything: bool = False) -> int:
    """Recount the ``year`` rows of the verified KIM that ``condition`` (on ``Kim``) selects,
    with their scores, and their areas' sums; returns how many rows are kept. Rows of KIM no
    longer verified are removed. ``everything``: the condition selects the whole country, so
    the areas' sums are rebuilt rather than moved. Recounts of a year take turns."""
    _take_turn(year)
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
    now, today, weighing = utcnow(), utcnow().date(), Weighing()
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
        rows[-1]["score"] = score_of(rows[-1], weighing.of(kim.village_code))
        rows[-1]["level"] = level_of(rows[-1]["score"])
    old = []
    if not everything:
        old = [
            dict(row)
            for row in db.session.execute(
                sa.select(MonevTally.__table__).where(
                    MonevTally.year == year, MonevTally.kim_id.in_(chosen)
                )
            ).mappings()
        ]
    db.session.execute(
        sa.delete(MonevTally).where(MonevTally.year == year, MonevTally.kim_id.in_(chosen))
    )
    for first in range(0, len(rows), CHUNK):
        db.session.execute(sa.insert(MonevTally), rows[first : first + CHUNK])
    if everything:
        _rebuild_areas(year, rows, today)
    else:
        _add_to_areas(year, old, rows, today)
    return len(rows)


def refresh_kim(kim_id: int, *days: date) -> None:
    """Recount one KIM for the year of each of ``days`` (what it just did changed them): now,
    or by the worker right after this request when another recount of the year is running (a
    request does not wait behind the country's half-hourly one)."""
    for year in sorted({d.year for d in days}):
        if _take_turn(year, wait=False):
            refresh(year, Kim.id == kim_id)
        else:
            jobs.after_commit(KIM_JOB, kim_id, year)


@jobs.job(KIM_JOB)
def refresh_kim_job(kim_id: int, year: int) -> None:
    refresh(year, Kim.id == kim_id)
    db.session.commit()


def refresh_area(area_code: str, year: int) -> int:
    """Recount every verified KIM of an area (``""``: the whole country) for ``year``."""
    from kim_app.security import codes_within

    condition = codes_within(Kim.village_code, area_code) if area_code else sa.true()
    return refresh(year, condition, everything=not area_code)


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


def rescore(area_code: str) -> bool:
    """Recount the scores of an area's KIM (its weights changed), every year kept: now when the
    area is small, else by the worker. True when done now."""
    from kim_app.security import codes_within

    where = codes_within(MonevTally.village_code, area_code) if area_code else sa.true()
    size = db.session.scalar(sa.select(sa.func.count()).select_from(MonevTally).where(where))
    kept_years = db.session.scalars(sa.select(MonevTally.year).where(where).distinct()).all()
    if size > AT_ONCE:
        for year in kept_years:
            jobs.after_commit(AREA_JOB, area_code, year)
        return False
    for year in kept_years:
        refresh_area(area_code, year)
    return True


def set_weights(area_code: str, weights: dict[str, int] | None, by: User) -> bool:
    """Keep an area's weights (each 0–100, not all 0); ``None`` goes back to the inherited
    ones. The area's scores follow (``rescore``); True when they already have."""
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
    return rescore(area_code)


def _kim_status_changed(kim: Kim, **_about) -> None:
    """A KIM verified (or no longer verified) joins (or leaves) its areas' monev at once."""
    refresh_kim(kim.id, utcnow().date())


signals.kim_status_changed.connect(_kim_status_changed)
