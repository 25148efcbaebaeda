"""KIM, their officers and members, and the history of each KIM's status (DESIGN §3)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kim_app.auth.models import User
from kim_app.extensions import db
from kim_app.labels import LabelledEnum, enum_type, set_labels
from kim_app.regions.models import Region, RegionCode
from kim_app.timezones import utcnow


class KimStatus(LabelledEnum):
    DRAFT = "draft"
    DIAJUKAN = "diajukan"
    PERLU_PERBAIKAN = "perlu_perbaikan"
    TERVERIFIKASI = "terverifikasi"
    DITOLAK = "ditolak"
    NONAKTIF = "nonaktif"


STATUS_LABELS = set_labels(
    KimStatus,
    {
        KimStatus.DRAFT: _l("Draf"),
        KimStatus.DIAJUKAN: _l("Diajukan"),
        KimStatus.PERLU_PERBAIKAN: _l("Perlu perbaikan"),
        KimStatus.TERVERIFIKASI: _l("Terverifikasi"),
        KimStatus.DITOLAK: _l("Ditolak"),
        KimStatus.NONAKTIF: _l("Nonaktif"),
    },
)


# a village has one KIM: every status but these holds its place (see Kim.holds_village)
HOLDS_VILLAGE = (
    KimStatus.DRAFT,
    KimStatus.DIAJUKAN,
    KimStatus.PERLU_PERBAIKAN,
    KimStatus.TERVERIFIKASI,
)


class Bidang(LabelledEnum):
    """The national fields of activity a KIM works in; provinces and regencies add their own
    (``BidangOption``)."""

    INFORMASI_PUBLIK = "informasi_publik"
    LITERASI_DIGITAL = "literasi_digital"
    EKONOMI_KREATIF = "ekonomi_kreatif"
    POTENSI_DESA = "potensi_desa"
    PERTANIAN = "pertanian"
    SOSIAL_BUDAYA = "sosial_budaya"
    SENI_PERTUNJUKAN = "seni_pertunjukan"
    KEAGAMAAN = "keagamaan"
    LINGKUNGAN = "lingkungan"
    KESEHATAN = "kesehatan"
    PENDIDIKAN = "pendidikan"
    KEBENCANAAN = "kebencanaan"
    KONTEN_POSITIF = "konten_positif"


BIDANG_LABELS = set_labels(
    Bidang,
    {
        Bidang.INFORMASI_PUBLIK: _l("Informasi publik"),
        Bidang.LITERASI_DIGITAL: _l("Literasi digital & anti-hoaks"),
        Bidang.EKONOMI_KREATIF: _l("Ekonomi kreatif/UMKM"),
        Bidang.POTENSI_DESA: _l("Potensi desa & pariwisata"),
        Bidang.PERTANIAN: _l("Pertanian/perikanan"),
        Bidang.SOSIAL_BUDAYA: _l("Sosial budaya"),
        Bidang.SENI_PERTUNJUKAN: _l("Seni & pertunjukan rakyat"),
        Bidang.KEAGAMAAN: _l("Keagamaan"),
        Bidang.LINGKUNGAN: _l("Lingkungan"),
        Bidang.KESEHATAN: _l("Kesehatan"),
        Bidang.PENDIDIKAN: _l("Pendidikan"),
        Bidang.KEBENCANAAN: _l("Kebencanaan"),
        Bidang.KONTEN_POSITIF: _l("Konten positif"),
    },
)


class FieldLabel(NamedTuple):
    """A field of activity as forms and pages show it: the stored key and its label."""

    value: str
    label: str


NATIONAL_BIDANG = frozenset(b.value for b in Bidang)


class BidangOption(db.Model):
    """A field of activity a province or regency keeps beside the national list (the ``Bidang``
    enum): Majalengka's "komunitas strategis", say. The key is stored on KIM and never changes;
    renaming changes the label, retiring stops it being offered while the KIM that have it keep it.
    """

    __tablename__ = "bidang_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(RegionCode, sa.ForeignKey("regions.code"), index=True)
    key: Mapped[str] = mapped_column(sa.String(24), unique=True)
    label: Mapped[str] = mapped_column(sa.String(80))
    label_en: Mapped[str] = mapped_column(sa.String(80), default="")
    retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def shown_label(self) -> str:
        """The label in the reader's language (the Indonesian one when no English was given)."""
        locale = get_locale()
        if self.label_en and locale is not None and locale.language == "en":
            return self.label_en
        return self.label


def bidang_label(key: str, option: BidangOption | None = None) -> str:
    """The label of a field of activity: the national one, the area's, or the key itself."""
    if key in NATIONAL_BIDANG:
        return Bidang(key).label
    return option.shown_label if option is not None else key


class SkSigner(LabelledEnum):
    KEPALA_DESA = "kepala_desa"
    LURAH = "lurah"
    CAMAT = "camat"


SIGNER_LABELS = set_labels(
    SkSigner,
    {
        SkSigner.KEPALA_DESA: _l("Kepala desa"),
        SkSigner.LURAH: _l("Lurah"),
        SkSigner.CAMAT: _l("Camat"),
    },
)


class Position(LabelledEnum):
    KETUA = "ketua"
    WAKIL_KETUA = "wakil_ketua"
    SEKRETARIS = "sekretaris"
    BENDAHARA = "bendahara"
    KOORDINATOR_BIDANG = "koordinator_bidang"
    ANGGOTA = "anggota"


POSITION_LABELS = set_labels(
    Position,
    {
        Position.KETUA: _l("Ketua"),
        Position.WAKIL_KETUA: _l("Wakil ketua"),
        Position.SEKRETARIS: _l("Sekretaris"),
        Position.BENDAHARA: _l("Bendahara"),
        Position.KOORDINATOR_BIDANG: _l("Koordinator bidang"),
        Position.ANGGOTA: _l("Anggota"),
    },
)
REQUIRED_POSITIONS = (Position.KETUA, Position.SEKRETARIS, Position.BENDAHARA)


class Gender(LabelledEnum):
    L = "L"
    P = "P"


set_labels(Gender, {Gender.L: _l("Laki-laki"), Gender.P: _l("Perempuan")})


def name_key(name: str) -> str:
    """A KIM name reduced for comparison: no accents, case, punctuation or the word 'KIM'."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    words = [
        w
        for w in re.split(r"[^a-z0-9]+", text)
        if w and w not in {"kim", "komunitas", "informasi", "masyarakat"}
    ]
    return " ".join(words)[:120]


class Kim(db.Model):
    __tablename__ = "kims"
    __table_args__ = (sa.Index("ix_kims_village_name_key", "village_code", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_number: Mapped[str | None] = mapped_column(sa.String(30), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    name_key: Mapped[str] = mapped_column(sa.String(120))
    village_code: Mapped[str] = mapped_column(RegionCode, sa.ForeignKey("regions.code"))
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    founded_on: Mapped[date | None]
    sk_number: Mapped[str] = mapped_column(sa.String(100), default="")
    sk_date: Mapped[date | None]
    sk_signer: Mapped[SkSigner | None] = mapped_column(enum_type(SkSigner, 12))
    sk_file: Mapped[str | None] = mapped_column(sa.String(64))
    sk_mime: Mapped[str | None] = mapped_column(sa.String(40))
    potensi: Mapped[str] = mapped_column(sa.Text, default="")
    whatsapp: Mapped[str | None] = mapped_column(sa.String(16))
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    website: Mapped[str] = mapped_column(sa.String(255), default="")
    social_links: Mapped[str] = mapped_column(sa.Text, default="")
    public_contact: Mapped[bool] = mapped_column(default=False)
    show_ketua: Mapped[bool] = mapped_column(default=False)
    # set when an operator deliberately allowed this KIM beside another of its village: the reason
    second_allowed_note: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[KimStatus] = mapped_column(
        enum_type(KimStatus, 16), default=KimStatus.DRAFT, index=True
    )
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    village: Mapped[Region] = relationship(lazy="joined", innerjoin=True)
    fields: Mapped[list[KimField]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="KimField.field"
    )
    members: Mapped[list[Member]] = relationship(
        back_populates="kim", cascade="all, delete-orphan", order_by="Member.id", lazy="select"
    )
    history: Mapped[list[KimStatusChange]] = relationship(
        cascade="all, delete-orphan", order_by="KimStatusChange.id", lazy="select"
    )

    @property
    def bidang(self) -> list[FieldLabel]:
        return [FieldLabel(f.field, bidang_label(f.field, f.option)) for f in self.fields]

    @property
    def holds_village(self) -> bool:
        """Whether this KIM takes its village's one place: from the draft on, until it is
        rejected or deactivated."""
        return self.status in HOLDS_VILLAGE

    @property
    def social_list(self) -> list[str]:
        return [line.strip() for line in self.social_links.splitlines() if line.strip()]

    @property
    def is_active(self) -> bool:
        return self.status is KimStatus.TERVERIFIKASI

    def __repr__(self) -> str:
        return f"<Kim {self.id} {self.name!r} {self.status}>"


class KimField(db.Model):
    """One field of activity (bidang) of a KIM; a table so registries can filter by it."""

    __tablename__ = "kim_fields"

    kim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("kims.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(sa.String(24), primary_key=True, index=True)

    # an area's own field (None for the national ones), loaded with the field for its label
    option: Mapped[BidangOption | None] = relationship(
        primaryjoin="foreign(KimField.field) == BidangOption.key", viewonly=True, lazy="joined"
    )


class KimStatusChange(db.Model):
    """One step of a KIM's workflow: who moved it, when, from what to what, and why."""

    __tablename__ = "kim_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kim_id: Mapped[int] = mapped_column(sa.ForeignKey("kims.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[KimStatus | None] = mapped_column(enum_type(KimStatus, 16))
    to_status: Mapped[KimStatus] = mapped_column(enum_type(KimStatus, 16))
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(sa.Text, default="")

    by: Mapped[User | None] = relationship(lazy="joined")


class Member(db.Model):
    """A pengurus or anggota of one KIM. No NIK: only what the work needs (UU 27/2022)."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    kim_id: Mapped[int] = mapped_column(sa.ForeignKey("kims.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[Position] = mapped_column(enum_type(Position, 20), default=Position.ANGGOTA)
    gender: Mapped[Gender | None] = mapped_column(enum_type(Gender, 1))
    phone: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    kim: Mapped[Kim] = relationship(back_populates="members")


class KimTally(db.Model):
    """KIM per regency (the first five characters of their village code) and status, kept by
    database triggers on ``kims`` (migration 0021): the status table of the country's and a
    province's dashboard sums a few hundred rows instead of every KIM."""

    __tablename__ = "kim_tallies"

    regency_code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    kims: Mapped[int]


class VillageTally(db.Model):
    """Villages per regency and those with at least one verified KIM, kept by database
    triggers on ``regions`` and ``kims`` (migration 0021): the coverage of the country and of a
    province."""

    __tablename__ = "village_tallies"

    regency_code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    villages: Mapped[int]
    active: Mapped[int]
