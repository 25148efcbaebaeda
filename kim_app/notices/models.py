"""A notice: one prepared message to one person (DESIGN §3, "Notice")."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from kim_app.extensions import db
from kim_app.labels import LabelledEnum, enum_type, set_labels
from kim_app.regions.models import RegionCode
from kim_app.timezones import utcnow


class NoticeKind(LabelledEnum):
    KIM_TERVERIFIKASI = "kim_terverifikasi"
    KIM_PERLU_PERBAIKAN = "kim_perlu_perbaikan"
    KIM_DITOLAK = "kim_ditolak"
    UNDANGAN = "undangan"
    TIKET = "tiket"
    PROMOSI = "promosi"
    KEGIATAN_BERUBAH = "kegiatan_berubah"
    KEGIATAN_BATAL = "kegiatan_batal"
    PENGINGAT = "pengingat"
    ATUR_ULANG = "atur_ulang"  # someone asked for a new password: their operators are told
    BERKAS = "berkas"  # a file made by the worker is ready (or failed): its owner is told
    AKTIVITAS_PERBAIKAN = "aktivitas_perbaikan"  # an activity report returned for a fix
    AKTIVITAS_DISEMBUNYIKAN = "aktivitas_disembunyikan"  # an activity report hidden
    INFORMASI = "informasi"  # information Diskominfo asks a KIM to spread
    LOMBA_LOLOS = "lomba_lolos"  # a competition entry passed the administrative check
    LOMBA_PERBAIKAN = "lomba_perbaikan"  # a competition entry returned for fixes
    LOMBA_TIDAK_LOLOS = "lomba_tidak_lolos"  # a competition entry found not eligible


set_labels(
    NoticeKind,
    {
        NoticeKind.KIM_TERVERIFIKASI: _l("KIM terverifikasi"),
        NoticeKind.KIM_PERLU_PERBAIKAN: _l("KIM perlu perbaikan"),
        NoticeKind.KIM_DITOLAK: _l("KIM ditolak"),
        NoticeKind.UNDANGAN: _l("Undangan kegiatan"),
        NoticeKind.TIKET: _l("Tiket kegiatan"),
        NoticeKind.PROMOSI: _l("Naik dari daftar tunggu"),
        NoticeKind.KEGIATAN_BERUBAH: _l("Kegiatan berubah"),
        NoticeKind.KEGIATAN_BATAL: _l("Kegiatan dibatalkan"),
        NoticeKind.PENGINGAT: _l("Pengingat H-1"),
        NoticeKind.ATUR_ULANG: _l("Minta atur ulang kata sandi"),
        NoticeKind.BERKAS: _l("Berkas disiapkan"),
        NoticeKind.AKTIVITAS_PERBAIKAN: _l("Laporan kegiatan perlu perbaikan"),
        NoticeKind.AKTIVITAS_DISEMBUNYIKAN: _l("Laporan kegiatan disembunyikan"),
        NoticeKind.INFORMASI: _l("Informasi untuk disebarkan"),
        NoticeKind.LOMBA_LOLOS: _l("Lolos seleksi administrasi lomba"),
        NoticeKind.LOMBA_PERBAIKAN: _l("Pendaftaran lomba perlu perbaikan"),
        NoticeKind.LOMBA_TIDAK_LOLOS: _l("Tidak lolos seleksi administrasi lomba"),
    },
)


class Notice(db.Model):
    """A message to an account (``user_id``: it is in that account's list), or to someone with
    no account (a delegate, a guest, a participant) known only by name and number.

    ``phone`` (E.164) is who must get it by WhatsApp: such notices are in the outbox of the area
    ``region_code`` (and, for a KIM's own people, of that KIM), whose people send them with one tap
    and mark them sent. ``email``: sent by email too when SMTP is configured, off the request.
    The subject and text are in Bahasa Indonesia, as they travel; ``link`` is an absolute URL.
    """

    __tablename__ = "notices"
    __table_args__ = (
        # the unread count in the navigation of every page: one index range
        sa.Index("ix_notices_user_read", "user_id", "read_at"),
        # an area's outbox, newest first
        sa.Index("ix_notices_region_created", "region_code", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NoticeKind] = mapped_column(enum_type(NoticeKind, 24))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    phone: Mapped[str | None] = mapped_column(sa.String(16))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    # none for an account's notice about the whole country (in no area's outbox)
    region_code: Mapped[str | None] = mapped_column(RegionCode, sa.ForeignKey("regions.code"))
    kim_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("kims.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    # the same message is prepared once (``tiket:12``, ``pengingat:12``)
    key: Mapped[str | None] = mapped_column(sa.String(60), unique=True)
    subject: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    read_at: Mapped[datetime | None]
    whatsapp_sent_at: Mapped[datetime | None]
    whatsapp_sent_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    emailed_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Notice {self.id} {self.kind}>"
