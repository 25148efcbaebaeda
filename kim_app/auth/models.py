"""User accounts: one role and one wilayah scope each (DESIGN §2)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from kim_app.extensions import db
from kim_app.labels import LabelledEnum, enum_type, set_labels
from kim_app.phones import display_phone
from kim_app.regions.models import Region, RegionCode, RegionLevel
from kim_app.timezones import local_time, utcnow


class Role(LabelledEnum):
    ADMIN = "admin"
    OPERATOR_PROVINSI = "operator_provinsi"
    OPERATOR_KABKOTA = "operator_kabkota"
    KEPALA_DESA = "kepala_desa"
    PENGURUS_KIM = "pengurus_kim"
    PETUGAS_ABSENSI = "petugas_absensi"

    @property
    def rank(self) -> int:
        """Lower ranks manage higher ones: admin 0, province 1, regency 2, the rest 3."""
        return {Role.ADMIN: 0, Role.OPERATOR_PROVINSI: 1, Role.OPERATOR_KABKOTA: 2}.get(self, 3)

    @property
    def scope_levels(self) -> tuple[RegionLevel, ...]:
        """The region levels this role's scope code may have (none for admin)."""
        return ROLE_SCOPE_LEVELS[self]


ROLE_LABELS = set_labels(
    Role,
    {
        Role.ADMIN: _l("Admin"),
        Role.OPERATOR_PROVINSI: _l("Operator provinsi"),
        Role.OPERATOR_KABKOTA: _l("Operator kabupaten/kota"),
        Role.KEPALA_DESA: _l("Kepala desa/lurah"),
        Role.PENGURUS_KIM: _l("Pengurus KIM"),
        Role.PETUGAS_ABSENSI: _l("Petugas absensi"),
    },
)
ROLE_SCOPE_LEVELS = {
    Role.ADMIN: (),
    Role.OPERATOR_PROVINSI: (RegionLevel.PROVINSI,),
    Role.OPERATOR_KABKOTA: (RegionLevel.KABUPATEN,),
    Role.KEPALA_DESA: (RegionLevel.DESA,),
    Role.PENGURUS_KIM: (RegionLevel.DESA,),
    Role.PETUGAS_ABSENSI: (RegionLevel.KABUPATEN, RegionLevel.PROVINSI),
}
OPERATOR_ROLES = (Role.ADMIN, Role.OPERATOR_PROVINSI, Role.OPERATOR_KABKOTA)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # an account has an email, a WhatsApp number, or both; either signs in
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(16), unique=True)  # E.164
    name: Mapped[str] = mapped_column(sa.String(120))
    # None until the owner sets one through their invitation link
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, 20))
    scope_code: Mapped[str | None] = mapped_column(
        RegionCode, sa.ForeignKey("regions.code"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    # bumped on password change and deactivation: every older session stops working
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # a pengurus KIM account belongs to one KIM (its scope is that KIM's village)
    kim_id: Mapped[int | None] = mapped_column(sa.ForeignKey("kims.id", use_alter=True), index=True)
    last_login_at: Mapped[datetime | None]
    # a petugas absensi account checks people in at this one event and does nothing else
    event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("events.id", use_alter=True, ondelete="SET NULL"), index=True
    )

    scope: Mapped[Region | None] = relationship(lazy="joined", innerjoin=False)

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive accounts cannot sign in
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_operator(self) -> bool:
        return self.role in OPERATOR_ROLES

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    @property
    def sign_in_name(self) -> str:
        """What the owner signs in with: the email, else the WhatsApp number as people write it."""
        return self.email or display_phone(self.phone)

    def may_manage(self, role: Role) -> bool:
        """Admins create any role; operators only the roles below their own."""
        return self.is_admin or (self.is_operator and role.rank > self.role.rank)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class LinkPurpose(LabelledEnum):
    INVITE = "invite"  # a new account: its owner sets the first password
    RESET = "reset"  # a forgotten password


set_labels(
    LinkPurpose,
    {LinkPurpose.INVITE: _l("Undangan akun"), LinkPurpose.RESET: _l("Atur ulang kata sandi")},
)


class AccountLink(db.Model):
    """A one-time link that lets an account's owner set a password (DESIGN §2: nobody types a
    password for someone else). The link's secret is not stored: it is an HMAC of the row's id
    and nonce under the app's secret key, so the operator can show the same link again while it
    is pending, and a copy of the database alone opens nothing."""

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(enum_type(LinkPurpose, 10))
    nonce: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # a newer link for the same account retires this one
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def pending(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > utcnow()

    @property
    def expires_local(self) -> datetime:
        """When the link stops working, on the clocks of its owner's area (WIB for an account
        of all Indonesia): the date the pages and the message both give."""
        return local_time(self.expires_at, self.user.scope_code or "")
