"""Events, their sessions and speakers, KIM invitations and participant registrations (DESIGN §3)."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kim_app.extensions import db
from kim_app.groups.models import Gender, Kim, Member
from kim_app.labels import LabelledEnum, enum_type, set_labels
from kim_app.regions.models import Region, RegionCode
from kim_app.timezones import utcnow, zone_label


class EventKind(LabelledEnum):
    PELATIHAN = "pelatihan"
    BIMTEK = "bimtek"
    SOSIALISASI = "sosialisasi"
    FORUM_KEMITRAAN = "forum_kemitraan"
    WORKSHOP = "workshop"
    RAPAT_KOORDINASI = "rapat_koordinasi"
    LOMBA = "lomba"
    MONEV = "monev"


class EventStatus(LabelledEnum):
    DRAFT = "draft"
    TERBIT = "terbit"
    BERLANGSUNG = "berlangsung"
    SELESAI = "selesai"
    DIBATALKAN = "dibatalkan"


class RegistrationMode(LabelledEnum):
    UNDANGAN = "undangan"
    TERBUKA = "terbuka"
    KEDUANYA = "keduanya"


class Source(LabelledEnum):
    UNDANGAN = "undangan"
    MANDIRI = "mandiri"
    WALK_IN = "walk_in"
    IMPOR = "impor"
    OPERATOR = "operator"


class CertificateRule(LabelledEnum):
    """What attendance earns a certificate: a share of the sessions, or every day of the event."""

    PERSEN = "persen"
    SETIAP_HARI = "setiap_hari"


class RegistrationStatus(LabelledEnum):
    TERDAFTAR = "terdaftar"
    DAFTAR_TUNGGU = "daftar_tunggu"
    BATAL = "batal"


set_labels(
    EventKind,
    {
        EventKind.PELATIHAN: _l("Pelatihan"),
        EventKind.BIMTEK: _l("Bimbingan teknis"),
        EventKind.SOSIALISASI: _l("Sosialisasi"),
        EventKind.FORUM_KEMITRAAN: _l("Forum kemitraan"),
        EventKind.WORKSHOP: _l("Workshop"),
        EventKind.RAPAT_KOORDINASI: _l("Rapat koordinasi"),
        EventKind.LOMBA: _l("Lomba/festival"),
        EventKind.MONEV: _l("Monitoring dan evaluasi"),
    },
)
set_labels(
    EventStatus,
    {
        EventStatus.DRAFT: _l("Draf"),
        EventStatus.TERBIT: _l("Terbit"),
        EventStatus.BERLANGSUNG: _l("Berlangsung"),
        EventStatus.SELESAI: _l("Selesai"),
        EventStatus.DIBATALKAN: _l("Dibatalkan"),
    },
)
set_labels(
    RegistrationMode,
    {
        RegistrationMode.UNDANGAN: _l("Hanya undangan"),
        RegistrationMode.TERBUKA: _l("Tautan pendaftaran terbuka"),
        RegistrationMode.KEDUANYA: _l("Undangan dan tautan terbuka"),
    },
)
set_labels(
    Source,
    {
        Source.UNDANGAN: _l("Diundang"),
        Source.MANDIRI: _l("Daftar mandiri"),
        Source.WALK_IN: _l("Datang langsung"),
        Source.IMPOR: _l("Impor"),
        Source.OPERATOR: _l("Ditambahkan operator"),
    },
)
set_labels(
    CertificateRule,
    {
        CertificateRule.PERSEN: _l("Hadir minimal sekian persen sesi"),
        CertificateRule.SETIAP_HARI: _l("Hadir setiap hari (minimal satu sesi tiap hari)"),
    },
)
set_labels(
    RegistrationStatus,
    {
        RegistrationStatus.TERDAFTAR: _l("Terdaftar"),
        RegistrationStatus.DAFTAR_TUNGGU: _l("Daftar tunggu"),
        RegistrationStatus.BATAL: _l("Dibatalkan"),
    },
)


# the privacy notice at /privasi (UU 27/2022) a person agrees to on the public form; a new
# version whenever what it says changes, so each consent names the text it was given to
PRIVACY_NOTICE_VERSION = "2026-12"

# no 0/O, 1/I/L: the code is read aloud and typed on a phone
CHECKIN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_checkin_code() -> str:
    """Eight random characters (31⁸ ≈ 8.5 × 10¹¹ codes), unique within an event."""
    return "".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(8))


def normalise_checkin_code(text: str) -> str:
    """What a person typed (``k7m4-qxp2``, ``K7M4 QXP2``) as the stored code."""
    return "".join(c for c in text.upper() if c.isalnum())


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # the short, unguessable code in the public link /e/<code>
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind, 20))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    organiser: Mapped[str] = mapped_column(sa.String(200), default="")
    contact: Mapped[str] = mapped_column(sa.String(200), default="")
    # the regency or province that owns the event; its scope rule and its time zone
    region_code: Mapped[str] = mapped_column(RegionCode, sa.ForeignKey("regions.code"), index=True)
    timezone: Mapped[str] = mapped_column(sa.String(32))
    venue_name: Mapped[str] = mapped_column(sa.String(200), default="")
    venue_address: Mapped[str] = mapped_column(sa.String(300), default="")
    online_link: Mapped[str] = mapped_column(sa.String(300), default="")
    capacity: Mapped[int | None]
    registration_mode: Mapped[RegistrationMode] = mapped_column(
        enum_type(RegistrationMode, 12), default=RegistrationMode.KEDUANYA
    )
    # local time of the event's zone, like the sessions
    registration_deadline: Mapped[datetime | None]
    status: Mapped[EventStatus] = mapped_column(
        enum_type(EventStatus, 12), default=EventStatus.DRAFT, index=True
    )
    cancel_reason: Mapped[str] = mapped_column(sa.Text, default="")
    # seats taken by registrations with status terdaftar; changed only by conditional UPDATEs
    registered_count: Mapped[int] = mapped_column(default=0)
    starts_on: Mapped[datetime | None] = mapped_column(index=True)  # first session, for lists
    cloned_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id"))
    # attendance: self check-in opens this many minutes before a session starts (None: off) and
    # closes at its end; a venue PIN shown in the hall keeps people from checking in from home
    checkin_opens_minutes: Mapped[int | None] = mapped_column(default=60)
    venue_pin: Mapped[str] = mapped_column(sa.String(8), default="")
    signatures: Mapped[bool] = mapped_column(default=False)
    # the official who signs the daftar hadir and the certificates
    signer_name: Mapped[str] = mapped_column(sa.String(120), default="")
    signer_position: Mapped[str] = mapped_column(sa.String(200), default="")
    signer_nip: Mapped[str] = mapped_column(sa.String(30), default="")
    # the signing official's signature and the agency's logo on the certificates: cleaned images
    # under random names in the "sertifikat" upload folder ("" when none)
    signer_signature: Mapped[str] = mapped_column(sa.String(40), default="")
    certificate_logo: Mapped[str] = mapped_column(sa.String(40), default="")
    # certificates on when set: for those who attended at least this share of the sessions that
    # have ended, or (rule SETIAP_HARI) at least one session on each day (the share then unused)
    certificate_min_percent: Mapped[int | None]
    certificate_rule: Mapped[CertificateRule] = mapped_column(
        enum_type(CertificateRule, 12), default=CertificateRule.PERSEN
    )
    certificate_number_format: Mapped[str] = mapped_column(
        sa.String(80), default="{no}/SERT-KIM/{bulan}/{tahun}"
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship(lazy="joined", innerjoin=True)
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by="EventSession.starts_at, EventSession.id",
    )
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Invitation.id"
    )

    @property
    def zone_label(self) -> str:
        return zone_label(self.timezone)

    @property
    def ends_at(self) -> datetime | None:
        """When the last session ends (local time of the event's zone); None without sessions."""
        return max((s.ends_at for s in self.sessions), default=None)

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.registered_count)

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r} {self.status}>"


class EventSession(db.Model):
    """A day or agenda item of an event; times are local to the event's zone."""

    __tablename__ = "event_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(index=True)  # the dashboard: today's ended sessions
    topic: Mapped[str] = mapped_column(sa.String(300), default="")

    event: Mapped[Event] = relationship(back_populates="sessions")
    speakers: Mapped[list[Speaker]] = relationship(
        cascade="all, delete-orphan", order_by="Speaker.id", lazy="selectin"
    )


class Speaker(db.Model):
    __tablename__ = "event_speakers"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event_sessions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[str] = mapped_column(sa.String(120), default="")
    institution: Mapped[str] = mapped_column(sa.String(200), default="")


class Invitation(db.Model):
    """A KIM invited to an event, with how many people it may send."""

    __tablename__ = "event_invitations"
    __table_args__ = (sa.UniqueConstraint("event_id", "kim_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    kim_id: Mapped[int] = mapped_column(sa.ForeignKey("kims.id", ondelete="CASCADE"), index=True)
    quota: Mapped[int] = mapped_column(default=2)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship(back_populates="invitations")
    kim: Mapped[Kim] = relationship(lazy="joined", innerjoin=True)


class Registration(db.Model):
    """A person in one event: a KIM member (delegate) or anyone else who registered.

    One row per person per event: the phone number (E.164) is unique within an event, so a
    second registration with the same number finds the first instead of duplicating it.
    """

    __tablename__ = "registrations"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "phone"),
        sa.UniqueConstraint("event_id", "checkin_code", name="uq_registrations_checkin_code"),
        sa.Index("ix_registrations_event_status", "event_id", "status", "created_at"),
        # one person across events (participation history): found by the number alone
        sa.Index("ix_registrations_phone", "phone"),
        # the people of an area at any event (its operator's read-only view and dashboard):
        # a range on the origin, with the status and the event in the index
        sa.Index("ix_registrations_origin", "origin_code", "status", "event_id"),
        # a check-in code of another event, recognised as such at the scan (issue 22 item 2)
        sa.Index("ix_registrations_checkin_code", "checkin_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    kim_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("kims.id", ondelete="SET NULL"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    institution: Mapped[str] = mapped_column(sa.String(200), default="")
    position: Mapped[str] = mapped_column(sa.String(120), default="")
    gender: Mapped[Gender | None] = mapped_column(enum_type(Gender, 1))
    phone: Mapped[str | None] = mapped_column(sa.String(16))
    # "asal daerah": the region the person comes from — their KIM's village, or the region
    # they (or the operator) picked; None when nobody said. The scope rule lets the operators
    # of that region see the registration, read-only, at events of other areas
    origin_code: Mapped[str | None] = mapped_column(RegionCode)
    source: Mapped[Source] = mapped_column(enum_type(Source, 12))
    status: Mapped[RegistrationStatus] = mapped_column(enum_type(RegistrationStatus, 14))
    # the private ticket link and QR code carry this random token
    ticket: Mapped[str] = mapped_column(sa.String(32), unique=True)
    # a short code printed under the QR code, typed by hand when scanning is impossible
    checkin_code: Mapped[str] = mapped_column(sa.String(8), default=new_checkin_code)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None]
    promoted_at: Mapped[datetime | None]
    # the person's data was erased (UU 27/2022): kept as an anonymous count, never certified
    erased_at: Mapped[datetime | None]
    # the person's own consent to the privacy notice (its version), given on the public form;
    # None when someone else registered them (an operator, an invitation, an import, a walk-in)
    consent_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(sa.String(16))

    event: Mapped[Event] = relationship()
    kim: Mapped[Kim | None] = relationship()
    member: Mapped[Member | None] = relationship()
    origin: Mapped[Region | None] = relationship(
        primaryjoin="foreign(Registration.origin_code) == Region.code", viewonly=True
    )
