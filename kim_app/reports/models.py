"""The laporan kegiatan of an event: the narrative the operator writes and the documentation
photos (DESIGN §4). The facts (invited, registered, attended) are computed, never stored.

Below them, the dashboard's year tallies: its figures per area and calendar year, which database
triggers keep exact (migration 0021)."""

from __future__ import annotations

from datetime import date, datetime

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


# --- the dashboard's figures of a calendar year, kept by database triggers (migration 0021) ---
#
# Per area — the country (``area_code`` ''), a province, a regency: every area an event's owner
# lies in — and the calendar year of the event's first session, for events that are neither
# drafts nor cancelled. ``kim_app.reports.tallies`` recounts them from the rows; the dashboard
# reads them for a calendar year of the country, a province or a regency (reports/figures.py).


class YearTally(db.Model):
    """Registered (*terdaftar*) people of the area's counted events of a year: registrations,
    by gender, without a number, and people (distinct numbers, each once however many of the
    area's events it registered for that year)."""

    __tablename__ = "year_tallies"

    area_code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    registrations: Mapped[int]
    men: Mapped[int]
    women: Mapped[int]
    no_phone: Mapped[int]
    people: Mapped[int]


class YearOriginTally(db.Model):
    """Those registrations by where their person comes from: the child area of the origin
    (a province for the country, a regency for a province, a district for a regency), ``~``
    from outside the area, ``''`` unknown."""

    __tablename__ = "year_origin_tallies"

    area_code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    origin_key: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    registrations: Mapped[int]


class YearEventTally(db.Model):
    """The area's counted events by the month of their first session and kind."""

    __tablename__ = "year_event_tallies"

    area_code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    events: Mapped[int]


class YearSessionTally(db.Model):
    """Sessions of the area's counted events that start in the events' year, by the day they
    end: how many, the attendances expected (each session × its event's registrations) and the
    hadir marks. The marks are spread over ``stripe`` rows (by session and KIM), so taps in two
    halls never wait for each other's row."""

    __tablename__ = "year_session_tallies"

    area_code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    ends_on: Mapped[date] = mapped_column(primary_key=True)
    stripe: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sessions: Mapped[int]
    expected: Mapped[int]
    hadir: Mapped[int]


class YearKimTally(db.Model):
    """Hadir marks of a KIM's registered people in the sessions of a year (by the session's
    start) of events that are neither drafts nor cancelled, wherever held: the most and least
    active ranking."""

    __tablename__ = "year_kim_tallies"
    __table_args__ = (sa.Index("ix_year_kim_tallies_year_hadir", "year", "hadir"),)

    kim_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hadir: Mapped[int]
