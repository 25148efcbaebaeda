"""A prepared file: a document or export too big to make inside a request (certificates of a
big event, the daftar hadir of every session, ...), made by the job worker while its owner
watches the progress, then kept for a day to download."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from kim_app.extensions import db
from kim_app.labels import LabelledEnum, enum_type, set_labels
from kim_app.regions.models import RegionCode
from kim_app.timezones import utcnow


class FileStatus(LabelledEnum):
    ANTRE = "antre"  # waiting for the worker
    BERJALAN = "berjalan"  # the worker is making it; heartbeat_at moves while it does
    SELESAI = "selesai"  # ready to download until expires_at
    GAGAL = "gagal"  # failed; ``error`` says why, in words for its owner


ACTIVE = (FileStatus.ANTRE, FileStatus.BERJALAN)

set_labels(
    FileStatus,
    {
        FileStatus.ANTRE: _l("menunggu giliran"),
        FileStatus.BERJALAN: _l("sedang disiapkan"),
        FileStatus.SELESAI: _l("siap diunduh"),
        FileStatus.GAGAL: _l("gagal"),
    },
)


class PreparedFile(db.Model):
    """One file asked for by one account (only it sees the file). ``kind`` names the builder
    (``kim_app.files.operations.builder``) and ``params`` what it builds from (ids, the document
    language); ``done`` of ``total`` is the progress the worker reports. ``attempts`` counts the
    runs: a worker that dies leaves its run without heartbeat, and the next run (or the mark
    "gagal" after the last) is decided by ``operations.reap``."""

    __tablename__ = "prepared_files"
    __table_args__ = (
        # one file of a kind from the same things at a time per account: a double tap, or a
        # second tab, joins the file already on its way
        sa.Index(
            "ux_prepared_files_active",
            "user_id",
            "kind",
            "params",
            unique=True,
            sqlite_where=sa.text("status IN ('antre', 'berjalan')"),
            postgresql_where=sa.text("status IN ('antre', 'berjalan')"),
        ),
        # the worker's look for runs without heartbeat, and the hourly clean-up
        sa.Index("ix_prepared_files_status_heartbeat", "status", "heartbeat_at"),
        sa.Index("ix_prepared_files_expires", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[str] = mapped_column(sa.String(400))  # canonical JSON
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # the area it is about (its time zone shows its times); none for the whole country
    region_code: Mapped[str | None] = mapped_column(RegionCode, sa.ForeignKey("regions.code"))
    title: Mapped[str] = mapped_column(sa.String(300))
    filename: Mapped[str] = mapped_column(sa.String(200))
    # the document's address: "coba lagi" asks for it there again
    source: Mapped[str] = mapped_column(sa.String(300), default="")
    status: Mapped[FileStatus] = mapped_column(enum_type(FileStatus, 10), default=FileStatus.ANTRE)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    size: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.String(300), default="")
    # what the run said when done (an import's counts), in the language it was asked in
    summary: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]

    @property
    def percent(self) -> int:
        if self.status is FileStatus.SELESAI:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def __repr__(self) -> str:
        return f"<PreparedFile {self.id} {self.kind} {self.status}>"
