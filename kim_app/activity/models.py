"""What a KIM does between events (issue 26): the activities its pengurus or village head report
from the village, with their photos, the operator's review of each, and which kinds of activity
the KIM shows on its public profile."""

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


class ActivityKind(LabelledEnum):
    INFORMASI = "informasi"
    HOAKS = "hoaks"
    POTENSI = "potensi"
    ASPIRASI = "aspirasi"
    DARURAT = "darurat"
    PERTEMUAN = "pertemuan"
    KONTEN = "konten"
    LAINNYA = "lainnya"


set_labels(
    ActivityKind,
    {
        ActivityKind.INFORMASI: _l("Penyebaran informasi"),
        ActivityKind.HOAKS: _l("Klarifikasi hoaks"),
        ActivityKind.POTENSI: _l("Promosi potensi desa"),
        ActivityKind.ASPIRASI: _l("Aspirasi warga"),
        ActivityKind.DARURAT: _l("Tanggap darurat/bencana"),
        ActivityKind.PERTEMUAN: _l("Pertemuan/diskusi"),
        ActivityKind.KONTEN: _l("Konten digital"),
        ActivityKind.LAINNYA: _l("Lainnya"),
    },
)

# what a KIM shows on its public profile until it chooses: what it spreads and makes, not the
# aspirations of residents or its own meetings
PUBLIC_BY_DEFAULT = (
    ActivityKind.INFORMASI,
    ActivityKind.HOAKS,
    ActivityKind.POTENSI,
    ActivityKind.DARURAT,
    ActivityKind.KONTEN,
)


class Channel(LabelledEnum):
    WHATSAPP = "whatsapp"
    MEDSOS = "medsos"
    SITUS = "situs"
    PERTEMUAN = "pertemuan"
    RADIO = "radio"
    PAPAN = "papan"


set_labels(
    Channel,
    {
        Channel.WHATSAPP: _l("Grup WhatsApp"),
        Channel.MEDSOS: _l("Media sosial"),
        Channel.SITUS: _l("Situs web desa"),
        Channel.PERTEMUAN: _l("Pertemuan warga"),
        Channel.RADIO: _l("Radio"),
        Channel.PAPAN: _l("Papan informasi"),
    },
)


class ReportStatus(LabelledEnum):
    DIKIRIM = "dikirim"  # waiting for the operator's review
    DITERIMA = "diterima"
    PERLU_PERBAIKAN = "perlu_perbaikan"
    DISEMBUNYIKAN = "disembunyikan"


set_labels(
    ReportStatus,
    {
        ReportStatus.DIKIRIM: _l("Menunggu tinjauan"),
        ReportStatus.DITERIMA: _l("Diterima"),
        ReportStatus.PERLU_PERBAIKAN: _l("Perlu perbaikan"),
        ReportStatus.DISEMBUNYIKAN: _l("Disembunyikan"),
    },
)


class ActivityReport(db.Model):
    """One activity of a KIM as its people reported it. ``client_id`` is made with the form
    (on the phone, for a report sent later from the outbox): the same report sent twice is
    stored once. ``village_code`` repeats the KIM's, so an area's reports are read by range."""

    __tablename__ = "activity_reports"
    __table_args__ = (
        sa.UniqueConstraint("kim_id", "client_id"),
        sa.Index("ix_activity_reports_kim_day", "kim_id", "done_on"),
        sa.Index("ix_activity_reports_status_area", "status", "village_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kim_id: Mapped[int] = mapped_column(sa.ForeignKey("kims.id", ondelete="CASCADE"))
    village_code: Mapped[str] = mapped_column(RegionCode)
    client_id: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[ActivityKind] = mapped_column(enum_type(ActivityKind, 12))
    done_on: Mapped[date]
    text: Mapped[str] = mapped_column(sa.String(1000))
    channels: Mapped[str] = mapped_column(sa.String(80), default="")  # Channel values, by comma
    link: Mapped[str] = mapped_column(sa.String(300), default="")
    reach: Mapped[int] = mapped_column(default=0)
    status: Mapped[ReportStatus] = mapped_column(
        enum_type(ReportStatus, 16), default=ReportStatus.DIKIRIM
    )
    review_note: Mapped[str] = mapped_column(sa.String(500), default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    kim: Mapped[Kim] = relationship(lazy="joined", innerjoin=True)
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    photos: Mapped[list[ActivityPhoto]] = relationship(
        back_populates="report",
        order_by="ActivityPhoto.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def channel_list(self) -> list[Channel]:
        known = {c.value for c in Channel}
        return [Channel(v) for v in self.channels.split(",") if v in known]

    @property
    def editable(self) -> bool:
        """Its people may still change it: not yet reviewed, or returned for fixes."""
        return self.status in (ReportStatus.DIKIRIM, ReportStatus.PERLU_PERBAIKAN)


class ActivityPhoto(db.Model):
    """A photo of a report, re-encoded and downscaled; its place only when the reporter kept it."""

    __tablename__ = "activity_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("activity_reports.id", ondelete="CASCADE"), index=True
    )
    file: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]

    report: Mapped[ActivityReport] = relationship(back_populates="photos")


class ActivitySettings(db.Model):
    """What a KIM shows of its accepted reports on its public profile (kinds, by comma)."""

    __tablename__ = "activity_settings"

    kim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kims.id", ondelete="CASCADE"), primary_key=True
    )
    public_kinds: Mapped[str] = mapped_column(sa.String(120))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InfoItem(db.Model):
    """Information an operator asks the KIM of an area (and, optionally, of one field) to spread:
    its text, a link or file, the WhatsApp-ready message, and whether it is urgent (a hoax
    clarification sits at the top of every KIM's home until the KIM has relayed it).
    ``area_code`` is the area it goes to (empty: the whole country); ``kims`` how many KIM it
    reached when sent, so the share that relayed it reads against a fixed number."""

    __tablename__ = "info_items"
    __table_args__ = (sa.Index("ix_info_items_area_sent", "area_code", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(RegionCode, default="")
    field: Mapped[str] = mapped_column(sa.String(24), default="")  # a bidang key, or every field
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.String(3000))
    link: Mapped[str] = mapped_column(sa.String(300), default="")
    share_text: Mapped[str] = mapped_column(sa.String(1000))
    file: Mapped[str | None] = mapped_column(sa.String(64))
    file_mime: Mapped[str | None] = mapped_column(sa.String(40))
    file_size: Mapped[int] = mapped_column(default=0)
    urgent: Mapped[bool] = mapped_column(default=False)
    kims: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    created_by: Mapped[User | None] = relationship()


class Relay(db.Model):
    """A KIM's word that it spread an item: where, to about how many people. One per KIM and
    item (confirming again changes it). ``village_code`` repeats the KIM's, for an area's sums."""

    __tablename__ = "info_relays"
    __table_args__ = (
        sa.UniqueConstraint("item_id", "kim_id"),
        sa.Index("ix_info_relays_kim_at", "kim_id", "relayed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("info_items.id", ondelete="CASCADE"))
    kim_id: Mapped[int] = mapped_column(sa.ForeignKey("kims.id", ondelete="CASCADE"))
    village_code: Mapped[str] = mapped_column(RegionCode)
    channels: Mapped[str] = mapped_column(sa.String(80), default="")
    link: Mapped[str] = mapped_column(sa.String(300), default="")
    reach: Mapped[int] = mapped_column(default=0)
    relayed_at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    kim: Mapped[Kim] = relationship(lazy="joined", innerjoin=True)

    @property
    def channel_list(self) -> list[Channel]:
        known = {c.value for c in Channel}
        return [Channel(v) for v in self.channels.split(",") if v in known]


class MonevTally(db.Model):
    """One KIM's figures of a calendar year for monitoring (monev), kept by
    ``monev.operations.refresh``: at once for what the activity package records (a report
    reviewed, a relay), by the worker for the rest (attendance, certificates, members, data).
    The page, its ranking and its exports all read these rows."""

    __tablename__ = "monev_tallies"
    __table_args__ = (
        sa.Index("ix_monev_tallies_year_area", "year", "village_code"),
        # the rankings and the idle list read these in order, ties by KIM
        sa.Index("ix_monev_tallies_year_score", "year", "score", "kim_id"),
        sa.Index("ix_monev_tallies_year_last", "year", "last_active", "kim_id"),
    )

    kim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kims.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    village_code: Mapped[str] = mapped_column(RegionCode)
    reports: Mapped[int] = mapped_column(default=0)  # accepted reports done in the year
    relays: Mapped[int] = mapped_column(default=0)  # information relayed in the year
    reach: Mapped[int] = mapped_column(default=0)  # people reached by both
    hadir: Mapped[int] = mapped_column(default=0)  # attendance marks of its people
    certificates: Mapped[int] = mapped_column(default=0)  # issued in the year, not revoked
    members: Mapped[int] = mapped_column(default=0)  # active members
    completeness: Mapped[int] = mapped_column(default=0)  # % of the registry's checks met
    last_active: Mapped[date | None]  # last report, relay or attended session
    # the activity score 0–100 with the weights that hold for the KIM's own area, and its level
    score: Mapped[float] = mapped_column(default=0.0)
    level: Mapped[str] = mapped_column(sa.String(16), default="tidak_aktif")
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonevArea(db.Model):
    """The sums of ``MonevTally`` rows for an area and a year (the country ``""``, each
    province, regency and district): a monev page reads one row for its totals and one per area
    below, whatever the number of KIM. Kept with the KIM rows: added to by each change,
    rebuilt by the worker's full recount. ``idle_<n>``: KIM without activity for ``n`` months as
    of the last count."""

    __tablename__ = "monev_areas"
    __table_args__ = (sa.Index("ix_monev_areas_year_depth_area", "year", "depth", "area_code"),)

    area_code: Mapped[str] = mapped_column(RegionCode, primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    depth: Mapped[int]  # 0 the country, 1 a province, 2 a regency, 3 a district
    kims: Mapped[int] = mapped_column(default=0)
    score_sum: Mapped[float] = mapped_column(default=0.0)
    sangat_aktif: Mapped[int] = mapped_column(default=0)
    aktif: Mapped[int] = mapped_column(default=0)
    kurang_aktif: Mapped[int] = mapped_column(default=0)
    tidak_aktif: Mapped[int] = mapped_column(default=0)
    idle_1: Mapped[int] = mapped_column(default=0)
    idle_2: Mapped[int] = mapped_column(default=0)
    idle_3: Mapped[int] = mapped_column(default=0)
    idle_6: Mapped[int] = mapped_column(default=0)
    idle_12: Mapped[int] = mapped_column(default=0)
    reports: Mapped[int] = mapped_column(default=0)
    relays: Mapped[int] = mapped_column(default=0)
    reach: Mapped[int] = mapped_column(default=0)
    hadir: Mapped[int] = mapped_column(default=0)
    certificates: Mapped[int] = mapped_column(default=0)
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonevWeights(db.Model):
    """The weights an area's operators give the parts of the activity score; an area without
    its own uses its nearest ancestor's, then the defaults (``monev.operations.DEFAULT``)."""

    __tablename__ = "monev_weights"

    area_code: Mapped[str] = mapped_column(RegionCode, primary_key=True)
    reports: Mapped[int]
    relays: Mapped[int]
    hadir: Mapped[int]
    certificates: Mapped[int]
    data: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
