"""KIM competitions (lomba KIM, issue 27): a competition of an area (a regency, a province, the
country) with its categories and each category's rubric, and the KIM's entries.

A competition moves through stages: ``draf`` (only its operators see it) → ``pendaftaran``
(public; the area's verified KIM enter until ``closes_at``) → ``administrasi`` (the operator
checks each entry and may return it for fixes) → ``penjurian`` → ``presentasi`` (optional) →
``hasil``. ``area_code`` is the area whose KIM may enter (empty: the whole country)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kim_app.auth.models import User
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.labels import LabelledEnum, enum_type, set_labels
from kim_app.regions.models import RegionCode
from kim_app.timezones import utcnow


class Stage(LabelledEnum):
    DRAF = "draf"
    PENDAFTARAN = "pendaftaran"
    ADMINISTRASI = "administrasi"
    PENJURIAN = "penjurian"
    PRESENTASI = "presentasi"
    HASIL = "hasil"


set_labels(
    Stage,
    {
        Stage.DRAF: _l("Draf"),
        Stage.PENDAFTARAN: _l("Pendaftaran"),
        Stage.ADMINISTRASI: _l("Seleksi administrasi"),
        Stage.PENJURIAN: _l("Penjurian"),
        Stage.PRESENTASI: _l("Presentasi/kunjungan lapangan"),
        Stage.HASIL: _l("Hasil"),
    },
)


class Competition(db.Model):
    __tablename__ = "competitions"
    __table_args__ = (sa.Index("ix_competitions_area_year", "area_code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)  # of its public page
    area_code: Mapped[str] = mapped_column(RegionCode, default="")
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.String(3000), default="")
    year: Mapped[int]
    opens_on: Mapped[date]
    closes_on: Mapped[date]  # the last day entries are taken, in the area's zone
    nominated_only: Mapped[bool] = mapped_column(default=False)
    presentation: Mapped[bool] = mapped_column(default=False)  # a presentation or field visit
    stage: Mapped[Stage] = mapped_column(enum_type(Stage, 16), default=Stage.DRAF)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    categories: Mapped[list[Category]] = relationship(
        back_populates="competition",
        order_by="(Category.position, Category.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def stages(self) -> list[Stage]:
        """The stages this competition goes through, in order."""
        return [s for s in Stage if s is not Stage.PRESENTASI or self.presentation]

    @property
    def next_stage(self) -> Stage | None:
        stages = self.stages
        at = stages.index(self.stage) if self.stage in stages else 0
        return stages[at + 1] if at + 1 < len(stages) else None


class Category(db.Model):
    """A category of a competition (ekonomi kreatif, literasi digital…) with its rubric."""

    __tablename__ = "competition_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.String(1000), default="")
    position: Mapped[int] = mapped_column(default=0)

    competition: Mapped[Competition] = relationship(back_populates="categories")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="category",
        order_by="(Criterion.position, Criterion.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def total_weight(self) -> int:
        return sum(c.weight for c in self.criteria)


class Criterion(db.Model):
    """One line of a category's rubric: what is judged, its weight, the range of a score."""

    __tablename__ = "competition_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competition_categories.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    weight: Mapped[int]
    lowest: Mapped[int] = mapped_column(default=1)
    highest: Mapped[int] = mapped_column(default=100)
    position: Mapped[int] = mapped_column(default=0)

    category: Mapped[Category] = relationship(back_populates="criteria")


class EntryStatus(LabelledEnum):
    DRAF = "draf"
    DIKIRIM = "dikirim"
    PERLU_PERBAIKAN = "perlu_perbaikan"
    LOLOS = "lolos"  # administratively complete: goes to judging
    TIDAK_LOLOS = "tidak_lolos"


set_labels(
    EntryStatus,
    {
        EntryStatus.DRAF: _l("Draf"),
        EntryStatus.DIKIRIM: _l("Terkirim"),
        EntryStatus.PERLU_PERBAIKAN: _l("Perlu perbaikan"),
        EntryStatus.LOLOS: _l("Lolos administrasi"),
        EntryStatus.TIDAK_LOLOS: _l("Tidak lolos administrasi"),
    },
)


class Entry(db.Model):
    """A KIM's entry in one category: what it says of its work, its links, the activity reports
    it attaches as its track record. One per KIM and category. ``village_code`` repeats the
    KIM's, for the conflict-of-interest check and an area's entries."""

    __tablename__ = "competition_entries"
    __table_args__ = (sa.UniqueConstraint("category_id", "kim_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competition_categories.id", ondelete="CASCADE")
    )
    kim_id: Mapped[int] = mapped_column(sa.ForeignKey("kims.id", ondelete="CASCADE"), index=True)
    village_code: Mapped[str] = mapped_column(RegionCode)
    status: Mapped[EntryStatus] = mapped_column(
        enum_type(EntryStatus, 16), default=EntryStatus.DRAF
    )
    summary: Mapped[str] = mapped_column(sa.String(3000), default="")
    links: Mapped[str] = mapped_column(sa.String(1600), default="")  # one per line
    reports: Mapped[str] = mapped_column(sa.String(200), default="")  # report ids, by comma
    note: Mapped[str] = mapped_column(sa.String(500), default="")  # the operator's, on return
    submitted_at: Mapped[datetime | None]
    checked_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    checked_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    kim: Mapped[Kim] = relationship(lazy="joined", innerjoin=True)
    category: Mapped[Category] = relationship(lazy="joined", innerjoin=True)
    competition: Mapped[Competition] = relationship()
    checked_by: Mapped[User | None] = relationship(foreign_keys=[checked_by_id])

    @property
    def link_list(self) -> list[str]:
        return [line for line in self.links.splitlines() if line.strip()]

    @property
    def report_ids(self) -> list[int]:
        return [int(v) for v in self.reports.split(",") if v.isdigit()]

    @property
    def editable(self) -> bool:
        """Its KIM may still change it: a draft, or returned for fixes."""
        return self.status in (EntryStatus.DRAF, EntryStatus.PERLU_PERBAIKAN)
