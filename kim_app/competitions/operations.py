"""Writing competitions: a competition of the operator's own area, its categories and rubrics, its
stages; a KIM's entry (kept as a draft, sent until the last day, fixed when returned); the
operator's administrative check. Operations flush, never commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _

from kim_app import audit, signals
from kim_app.activity.models import ActivityReport, ReportStatus
from kim_app.auth.models import OPERATOR_ROLES, User
from kim_app.competitions.models import (
    Category,
    Competition,
    Criterion,
    Entry,
    EntryStatus,
    Stage,
)
from kim_app.errors import OperationError, decision_note
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimStatus
from kim_app.security import code_in_scope, scope_of, user_may_reach
from kim_app.timezones import local_today, utcnow

MAX_CRITERIA = 8
MAX_CATEGORIES = 12
MAX_LINKS = 5
MAX_REPORTS = 10
SCORE_BOUND = 1000  # the widest range a criterion's scores may have
# the stages this version runs; judging, the presentation and results come with the judges
READY_STAGES = (Stage.DRAF, Stage.PENDAFTARAN, Stage.ADMINISTRASI)


class CompetitionError(OperationError):
    """A competition, category or entry that cannot be kept; the message is for the user."""


# --- who may do what ------------------------------------------------------------------------------


def may_manage(user, competition: Competition) -> bool:
    """The operators of the competition's area (the admin for a national one)."""
    if getattr(user, "role", None) not in OPERATOR_ROLES:
        return False
    return user_may_reach(user, competition.area_code or None) or bool(
        getattr(user, "is_admin", False)
    )


def open_to(kim: Kim, competition: Competition) -> bool:
    """A KIM may enter: verified, of the competition's area, and the competition takes entries
    by the KIM itself (not only by nomination from the level below)."""
    return (
        kim.status is KimStatus.TERVERIFIKASI
        and code_in_scope(kim.village_code, competition.area_code)
        and not competition.nominated_only
    )


def area_today(competition: Competition) -> date:
    return local_today(competition.area_code)


def taking_entries(competition: Competition) -> bool:
    """Entries are taken: registration is on and its last day has not passed in the area."""
    return (
        competition.stage is Stage.PENDAFTARAN
        and competition.opens_on <= area_today(competition) <= competition.closes_on
    )


# --- the competition --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetitionData:
    title: str
    description: str
    year: int
    opens_on: date
    closes_on: date
    nominated_only: bool
    presentation: bool


def _apply(competition: Competition, data: CompetitionData) -> None:
    if data.closes_on < data.opens_on:
        raise CompetitionError(
            _("Hari terakhir pendaftaran tidak boleh sebelum hari pertamanya."), "closes_on"
        )
    competition.title = data.title.strip()
    competition.description = data.description.strip()
    competition.year = data.year
    competition.opens_on = data.opens_on
    competition.closes_on = data.closes_on
    competition.nominated_only = data.nominated_only
    competition.presentation = data.presentation


def create_competition(data: CompetitionData, by: User) -> Competition:
    """A competition of the operator's own area (the admin's: the whole country), as a draft."""
    if by.role not in OPERATOR_ROLES:
        raise CompetitionError(_("Hanya operator yang dapat membuat lomba."))
    competition = Competition(
        code=secrets.token_urlsafe(6), area_code=scope_of(by), created_by_id=by.id
    )
    _apply(competition, data)
    db.session.add(competition)
    db.session.flush()
    audit.record(
        "competition.create",
        "competition",
        competition.id,
        region_code=competition.area_code or None,
        changes={"title": competition.title},
        actor=by,
    )
    return competition


def update_competition(competition: Competition, data: CompetitionData, by: User) -> None:
    if competition.stage is Stage.HASIL:
        raise CompetitionError(_("Hasil lomba sudah diumumkan; lomba tidak dapat diubah lagi."))
    _apply(competition, data)
    db.session.flush()
    audit.record(
        "competition.update",
        "competition",
        competition.id,
        region_code=competition.area_code or None,
        changes={"title": competition.title},
        actor=by,
    )


def ready_to_open(competition: Competition) -> list[str]:
    """What is missing before entries can be taken (empty when nothing is)."""
    missing = []
    if not competition.categories:
        missing.append(_("Tambahkan paling sedikit satu kategori."))
    for category in competition.categories:
        if not category.criteria:
            missing.append(
                _("Kategori %(name)s belum punya kriteria penilaian.", name=category.name)
            )
    return missing


def advance(competition: Competition, expected: Stage, by: User) -> Stage:
    """Move the competition to its next stage; ``expected`` is the stage the operator saw (a
    second tap, or another operator first, finds it moved already and changes nothing)."""
    if competition.stage is not expected:
        raise CompetitionError(_("Tahap lomba sudah berubah. Periksa lagi halamannya."))
    following = competition.next_stage
    if following is None:
        raise CompetitionError(_("Lomba sudah di tahap terakhir."))
    if following not in READY_STAGES:
        raise CompetitionError(_("Penjurian di aplikasi belum tersedia."))
    if competition.stage is Stage.PENDAFTARAN and area_today(competition) <= competition.closes_on:
        raise CompetitionError(
            _(
                "Pendaftaran masih dibuka sampai %(day)s. Untuk menutupnya lebih awal, ubah hari "
                "terakhir pendaftaran.",
                day=format_date(competition.closes_on, "long"),
            )
        )
    if competition.stage is Stage.DRAF:
        missing = ready_to_open(competition)
        if missing:
            raise CompetitionError(" ".join(missing))
    before = competition.stage
    competition.stage = following
    db.session.flush()
    audit.record(
        "competition.stage",
        "competition",
        competition.id,
        region_code=competition.area_code or None,
        changes={"from": before.value, "to": following.value},
        actor=by,
    )
    return following


# --- categories and their rubric -----------------------------------------------------------------


@dataclass(frozen=True)
class CriterionData:
    name: str
    weight: int
    lowest: int
    highest: int


@dataclass(frozen=True)
class CategoryData:
    name: str
    description: str
    criteria: tuple[CriterionData, ...]


def _check_rubric(criteria: tuple[CriterionData, ...]) -> None:
    if not criteria:
        raise CompetitionError(_("Tuliskan paling sedikit satu kriteria penilaian."), "rubric")
    if len(criteria) > MAX_CRITERIA:
        raise CompetitionError(
            _("Paling banyak %(n)d kriteria per kategori.", n=MAX_CRITERIA), "rubric"
        )
    for n, criterion in enumerate(criteria):
        if not 1 <= criterion.weight <= 100:
            raise CompetitionError(_("Bobot antara 1 dan 100."), f"criteria-{n}-weight")
        if not 0 <= criterion.lowest < criterion.highest <= SCORE_BOUND:
            raise CompetitionError(
                _(
                    "Nilai terendah harus lebih kecil dari nilai tertinggi, antara 0 dan %(n)d.",
                    n=SCORE_BOUND,
                ),
                f"criteria-{n}-highest",
            )


def save_category(
    competition: Competition, category: Category | None, data: CategoryData, by: User
) -> Category:
    """Add a category or change one, its rubric replaced by ``data.criteria`` in order. A rubric
    is fixed once judging starts (scores were given against it)."""
    if competition.stage in (Stage.PENJURIAN, Stage.PRESENTASI, Stage.HASIL):
        raise CompetitionError(
            _("Penjurian sudah dimulai; kategori dan rubrik tidak dapat diubah.")
        )
    _check_rubric(data.criteria)
    if category is None:
        if len(competition.categories) >= MAX_CATEGORIES:
            raise CompetitionError(
                _("Paling banyak %(n)d kategori per lomba.", n=MAX_CATEGORIES), "name"
            )
        category = Category(competition=competition, position=len(competition.categories))
        db.session.add(category)
    category.name = data.name.strip()
    category.description = data.description.strip()
    category.criteria = [
        Criterion(
            name=c.name.strip(),
            weight=c.weight,
            lowest=c.lowest,
            highest=c.highest,
            position=n,
        )
        for n, c in enumerate(data.criteria)
    ]
    db.session.flush()
    audit.record(
        "competition.category",
        "competition",
        competition.id,
        region_code=competition.area_code or None,
        changes={"category": category.name, "criteria": len(data.criteria)},
        actor=by,
    )
    return category


# --- entries -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryData:
    summary: str
    links: tuple[str, ...]
    reports: tuple[int, ...]


def entry_of(kim: Kim, category: Category) -> Entry | None:
    return db.session.scalar(
        sa.select(Entry).where(Entry.category_id == category.id, Entry.kim_id == kim.id)
    )


def reports_to_attach(kim: Kim) -> list[ActivityReport]:
    """The KIM's accepted activity reports, newest first: its track record to attach."""
    return list(
        db.session.scalars(
            sa.select(ActivityReport)
            .where(ActivityReport.kim_id == kim.id, ActivityReport.status == ReportStatus.DITERIMA)
            .order_by(ActivityReport.done_on.desc(), ActivityReport.id.desc())
            .limit(50)
        )
    )


def _may_write(entry: Entry | None, competition: Competition) -> None:
    returned = entry is not None and entry.status is EntryStatus.PERLU_PERBAIKAN
    if returned and competition.stage in (Stage.PENDAFTARAN, Stage.ADMINISTRASI):
        return  # a returned entry is fixed while the check goes on
    if entry is not None and not entry.editable:
        raise CompetitionError(_("Pendaftaran ini sudah dikirim dan tidak dapat diubah lagi."))
    if not taking_entries(competition):
        raise CompetitionError(_("Pendaftaran lomba ini sudah ditutup."))


def save_entry(
    kim: Kim, category: Category, data: EntryData, by: User, *, submit: bool
) -> tuple[Entry, bool]:
    """Keep the KIM's entry in a category as a draft, or send it (``submit``; then the summary
    is required). Returns the entry and whether it was sent now."""
    competition = category.competition
    if not open_to(kim, competition):
        raise CompetitionError(_("KIM ini tidak dapat mendaftar di lomba ini."))
    entry = entry_of(kim, category)
    _may_write(entry, competition)
    if len(data.links) > MAX_LINKS:
        raise CompetitionError(_("Paling banyak %(n)d tautan.", n=MAX_LINKS), "links")
    if len(data.reports) > MAX_REPORTS:
        raise CompetitionError(_("Paling banyak %(n)d laporan kegiatan.", n=MAX_REPORTS), "reports")
    allowed = {r.id for r in reports_to_attach(kim)}
    if not set(data.reports) <= allowed:
        raise CompetitionError(_("Pilihan tidak valid."), "reports")
    if submit and not data.summary.strip():
        raise CompetitionError(_("Ceritakan kegiatan KIM sebelum mengirim."), "summary")
    if entry is None:
        entry = Entry(
            competition_id=competition.id,
            category_id=category.id,
            kim_id=kim.id,
            village_code=kim.village_code,
            status=EntryStatus.DRAF,
            created_by_id=by.id,
        )
        db.session.add(entry)
    entry.summary = data.summary.strip()
    entry.links = "\n".join(data.links)
    entry.reports = ",".join(str(r) for r in data.reports)
    sent = submit and entry.status in (EntryStatus.DRAF, EntryStatus.PERLU_PERBAIKAN)
    if sent:
        entry.status = EntryStatus.DIKIRIM
        entry.submitted_at = utcnow()
    db.session.flush()
    audit.record(
        "competition.entry",
        "kim",
        kim.id,
        region_code=kim.village_code,
        changes={"competition": competition.id, "category": category.id, "sent": sent},
        actor=by,
    )
    return entry, sent


CHECKS = (EntryStatus.LOLOS, EntryStatus.PERLU_PERBAIKAN, EntryStatus.TIDAK_LOLOS)


def check_entry(entry: Entry, status: EntryStatus, note: str, by: User) -> None:
    """The operator's administrative check of a sent entry: complete (goes to judging), returned
    for fixes (the note says what), or not eligible (the note says why)."""
    if status not in CHECKS:
        raise CompetitionError(_("Pilihan tidak valid."))
    if entry.competition.stage not in (Stage.PENDAFTARAN, Stage.ADMINISTRASI):
        raise CompetitionError(_("Seleksi administrasi sudah selesai."))
    if entry.status is EntryStatus.DRAF:
        raise CompetitionError(_("Pendaftaran ini belum dikirim KIM."))
    note = decision_note(
        note,
        passed=status is EntryStatus.LOLOS,
        fix=status is EntryStatus.PERLU_PERBAIKAN,
        error=CompetitionError,
    )
    before = entry.status
    entry.status, entry.note = status, note
    entry.checked_by_id, entry.checked_at = by.id, utcnow()
    db.session.flush()
    audit.record(
        "competition.check",
        "kim",
        entry.kim_id,
        region_code=entry.village_code,
        changes={"entry": entry.id, "from": before.value, "to": status.value},
        actor=by,
    )
    signals.entry_checked.send(entry, by=by)
