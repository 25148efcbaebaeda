"""Attendance per registration × session, and every mark that led to it (DESIGN §3)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kim_app.events.models import Registration
from kim_app.extensions import db
from kim_app.labels import LabelledEnum, enum_type, set_labels
from kim_app.timezones import utcnow


class Presence(LabelledEnum):
    HADIR = "hadir"
    IZIN = "izin"
    SAKIT = "sakit"
    ALPA = "alpa"
    # an undo: the person is back to "not marked yet"
    BELUM = "belum"


PRESENCE_LABELS = set_labels(
    Presence,
    {
        Presence.HADIR: _l("Hadir"),
        Presence.IZIN: _l("Izin"),
        Presence.SAKIT: _l("Sakit"),
        Presence.ALPA: _l("Alpa"),
        Presence.BELUM: _l("Belum"),
    },
)


class Method(LabelledEnum):
    ROLL_CALL = "roll_call"
    QR = "qr"
    SELF = "self"
    # an operator's mark after the session's attendance window closed
    KOREKSI = "correction"


METHOD_LABELS = set_labels(
    Method,
    {
        Method.ROLL_CALL: _l("Daftar panggil"),
        Method.QR: _l("Pindai tiket"),
        Method.SELF: _l("Presensi mandiri"),
        Method.KOREKSI: _l("Koreksi operator"),
    },
)


class Attendance(db.Model):
    """Where one person stands in one session: the latest mark by the time it was made."""

    __tablename__ = "attendance"
    __table_args__ = (sa.UniqueConstraint("registration_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="CASCADE")
    )
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event_sessions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[Presence] = mapped_column(enum_type(Presence, 8))
    method: Mapped[Method] = mapped_column(enum_type(Method, 10))
    # when the mark was made (on the device, UTC); the latest one wins when devices disagree
    marked_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # the person's signature as SVG path data in a 300 × 100 box (≤ 8 KB), when captured
    signature: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AttendanceTally(db.Model):
    """Marks of registered (*terdaftar*) people per session, KIM (``kim_id`` 0: people from no
    KIM) and status, for the dashboard and the roll call's counters: they sum a few rows per
    session instead of walking every mark (belum is the registered people not counted here).
    Kept by database triggers on ``attendance`` and ``registrations`` (migration 0010), so every
    way of writing them keeps them exact; ``kim_app.attendance.tallies`` recounts them."""

    __tablename__ = "attendance_tallies"
    __table_args__ = (sa.Index("ix_attendance_tallies_kim_session", "kim_id", "session_id"),)

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    kim_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hadir: Mapped[int]
    izin: Mapped[int]
    sakit: Mapped[int]
    alpa: Mapped[int]


class AttendanceMark(db.Model):
    """One mark as it arrived: the history, and the guard that applies each client id once."""

    __tablename__ = "attendance_marks"
    __table_args__ = (
        # a client id is the device's name for one tap, known within its session: the same id
        # again is a replay of that tap (refused visibly when it names someone else)
        sa.UniqueConstraint("session_id", "client_id", name="uq_attendance_marks_client"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(40))
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("event_sessions.id", ondelete="CASCADE"))
    status: Mapped[Presence] = mapped_column(enum_type(Presence, 8))
    method: Mapped[Method] = mapped_column(enum_type(Method, 10))
    marked_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # False when a later mark from another device already stood (the conflict stays visible here)
    applied: Mapped[bool] = mapped_column(default=True)


class Certificate(db.Model):
    """A certificate for a participant who met the event's attendance rule. The PDF is drawn
    on demand; the public code opens the verification page ``/v/<code>``."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="CASCADE"), unique=True
    )
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    # the running number within the event, formatted by the event's number format
    serial: Mapped[int]
    number: Mapped[str] = mapped_column(sa.String(120))
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # set when attendance changed afterwards and the holder no longer meets the rule
    revoked_at: Mapped[datetime | None]

    registration: Mapped[Registration] = relationship(lazy="joined", innerjoin=True)
