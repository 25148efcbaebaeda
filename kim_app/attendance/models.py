"""Attendance per registration × session, and every mark that led to it (DESIGN §3)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from kim_app.auth.models import utcnow
from kim_app.extensions import db
from kim_app.labels import LabelledEnum, enum_type, set_labels


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


class Method(enum.StrEnum):
    ROLL_CALL = "roll_call"
    QR = "qr"
    SELF = "self"


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
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AttendanceMark(db.Model):
    """One mark as it arrived: the history, and the guard that applies each client id once."""

    __tablename__ = "attendance_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
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
