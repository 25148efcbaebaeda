"""Account operations. They validate, change the session's objects and flush; callers commit."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import check_password_hash

from kim_app import audit
from kim_app.auth.models import Role, User, utcnow
from kim_app.extensions import db
from kim_app.regions.models import Region
from kim_app.security import user_may_reach

MIN_PASSWORD = 8


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is for the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (one answer for every failure).

    The password is checked outside any transaction: the check is slow by design, and a sign-in
    (a write request) holding SQLite's write lock through it would keep every other writer
    waiting."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return None
    password_hash = user.password_hash
    db.session.rollback()  # nothing written yet; ends the transaction and its lock
    if not check_password_hash(password_hash, password or ""):
        return None
    user.last_login_at = utcnow()
    return user


def check_scope_for_role(role: Role, scope_code: str | None) -> Region | None:
    """The scope region a ``role`` account needs, or AccountError when ``scope_code`` does not fit."""
    if role is Role.ADMIN:
        if scope_code:
            raise AccountError(
                _("Admin berlaku untuk seluruh Indonesia; kosongkan wilayahnya."), "scope"
            )
        return None
    region = db.session.get(Region, scope_code) if scope_code else None
    if region is None:
        raise AccountError(_("Kode wilayah tidak dikenal."), "scope")
    if region.level not in role.scope_levels:
        levels = ", ".join(level.label for level in role.scope_levels)
        raise AccountError(
            _(
                "Peran %(role)s memerlukan wilayah tingkat %(levels)s.",
                role=role.label,
                levels=levels,
            ),
            "scope",
        )
    return region


def create_user(
    *, email: str, name: str, role: Role, scope_code: str | None, password: str, by: User | None
) -> User:
    """Create an account. ``by`` (None for the command line) may only create roles below it, in scope."""
    email = normalise_email(email)
    name = " ".join((name or "").split())
    if "@" not in email or len(email) > 254:
        raise AccountError(_("Alamat email tidak valid."), "email")
    if not name:
        raise AccountError(_("Nama wajib diisi."), "name")
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(_("Kata sandi minimal %(n)d karakter.", n=MIN_PASSWORD), "password")
    region = check_scope_for_role(role, scope_code)
    if by is not None:
        if not by.may_manage(role):
            raise AccountError(_("Anda tidak dapat membuat akun dengan peran ini."), "role")
        if not user_may_reach(by, region.code if region else None):
            raise AccountError(_("Wilayah itu di luar wilayah kerja Anda."), "scope")
    if find_user_by_email(email) is not None:
        raise AccountError(_("Email ini sudah dipakai akun lain."), "email")
    user = User(email=email, name=name, role=role, scope_code=region.code if region else None)
    user.created_by_id = by.id if by else None
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        "user",
        user.id,
        region_code=user.scope_code,
        changes={"role": role.value, "scope": user.scope_code},
        actor=by,
    )
    return user


def set_user_active(user: User, active: bool, by: User) -> None:
    """Deactivate or reactivate an account; deactivation ends its sessions at once."""
    if user.id == by.id:
        raise AccountError(_("Anda tidak dapat menonaktifkan akun Anda sendiri."))
    if not by.may_manage(user.role):
        raise AccountError(_("Anda tidak dapat mengubah akun dengan peran ini."))
    if user.active == active:
        return
    user.active = active
    user.session_version += 1
    audit.record(
        "user.activate" if active else "user.deactivate",
        "user",
        user.id,
        region_code=user.scope_code,
        actor=by,
    )


def change_password(user: User, current: str, new: str) -> None:
    """Change one's own password; every other session of the account is signed out."""
    if not user.check_password(current or ""):
        raise AccountError(_("Kata sandi saat ini salah."), "current")
    if len(new or "") < MIN_PASSWORD:
        raise AccountError(_("Kata sandi minimal %(n)d karakter.", n=MIN_PASSWORD), "new")
    user.set_password(new)
    user.session_version += 1
    audit.record("user.password", "user", user.id, region_code=user.scope_code, actor=user)
