"""The laporan kegiatan of an event: the narrative the operator writes and the documentation
photos (DESIGN §4). The facts (invited, registered, attended) are computed, never stored."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kim_app.extensions import db
from kim_app.timezones import utcnow

# the narrative sections of a government activity report, in their usual order
NARRATIVE_FIELDS = (
    "background",  # latar belakang
    "legal_basis",  # dasar hukum
    "purpose",  # maksud dan tujuan
    "material",  # materi
    "results",  # hasil
    "evaluation",  # evaluasi
    "conclusion",  # kesimpulan dan saran
)


class EventReport(db.Model):
    """One report per event; empty sections are left out of the documents."""

    __tablename__ = "event_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), unique=True
    )
    background: Mapped[str] = mapped_column(sa.Text, default="")
    legal_basis: Mapped[str] = mapped_column(sa.Text, default="")
    purpose: Mapped[str] = mapped_column(sa.Text, default="")
    material: Mapped[str] = mapped_column(sa.Text, default="")
    results: Mapped[str] = mapped_column(sa.Text, default="")
    evaluation: Mapped[str] = mapped_column(sa.Text, default="")
    conclusion: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class ReportPhoto(db.Model):
    """A documentation photo, re-encoded and downscaled on upload, stored under a random name."""

    __tablename__ = "report_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    file: Mapped[str] = mapped_column(sa.String(64))
    caption: Mapped[str] = mapped_column(sa.String(200), default="")
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
