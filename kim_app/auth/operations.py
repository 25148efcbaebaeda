"""Account operations. They validate, change the session's objects and flush; callers commit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, request, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from kim_app import audit, jobs, signals
from kim_app.auth.models import AccountLink, LinkPurpose, Role, User
from kim_app.errors import OperationError
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.mail import email_configured, send_email
from kim_app.phones import PhoneError, normalise_phone, whatsapp_link
from kim_app.regions.models import Region
from kim_app.security import MAX_RECORD_ID, user_may_reach
from kim_app.timezones import utcnow

MIN_PASSWORD = 8


class AccountError(OperationError):
    """A request about an account that cannot be carried out; the message is for the user."""


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()


def sign_in_key(identifier: str | None) -> str:
    """One spelling for what a person signs in with: an email in lower case, a WhatsApp number
    as E.164 (``0812…``, ``+62 812…`` and ``62812…`` are one account), anything else as typed."""
    text = (identifier or "").strip()
    if "@" in text:
        return normalise_email(text)
    try:
        return normalise_phone(text) or ""
    except PhoneError:
        return text.lower()


def find_user(identifier: str | None) -> User | None:
    """The account that signs in with this email or WhatsApp number."""
    key = sign_in_key(identifier)
    if not key:
        return None
    column = User.phone if key.startswith("+") else User.email
    return db.session.scalar(sa.select(User).where(column == key))


# checked when no account matches, so that an unknown name costs what a wrong password costs
_NOBODY_HASH = generate_password_hash("nobody-has-this-password")


def authenticate(identifier: str, password: str) -> User | None:
    """The active user with this email or number and password, or None (one answer, and one
    cost, for every failure: an unknown account checks a hash too).

    The password is checked outside any transaction: the check is slow by design, and a sign-in
    (a write request) holding SQLite's write lock through it would keep every other writer
    waiting."""
    user = find_user(identifier)
    usable = user is not None and user.active and user.password_hash is not None
    password_hash = user.password_hash if usable else _NOBODY_HASH
    db.session.rollback()  # nothing written yet; ends the transaction and its lock
    if not check_password_hash(password_hash, password or "") or not usable:
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


def _contact(
    email: str | None, phone: str | None, *, ignore: User | None = None, optional: bool = False
):
    """The account's email and number as stored, or AccountError: at least one of them (unless
    ``optional``: its owner gives a number when opening the invitation), each well formed and
    used by no other account."""
    email = normalise_email(email) or None
    if email is not None and ("@" not in email or len(email) > 254 or " " in email):
        raise AccountError(_("Alamat email tidak valid."), "email")
    try:
        phone = normalise_phone(phone)
    except PhoneError:
        raise AccountError(
            _("Nomor WhatsApp tidak valid. Contoh: 0812-3456-7890."), "phone"
        ) from None
    if email is None and phone is None and not optional:
        raise AccountError(_("Isi email atau nomor WhatsApp: salah satunya untuk masuk."), "email")
    for column, value, field, message in (
        (User.email, email, "email", _("Email ini sudah dipakai akun lain.")),
        (User.phone, phone, "phone", _("Nomor ini sudah dipakai akun lain.")),
    ):
        if value is None:
            continue
        owner = db.session.scalar(sa.select(User.id).where(column == value))
        if owner is not None and (ignore is None or owner != ignore.id):
            raise AccountError(message, field)
    return email, phone


def _flush_contact() -> None:
    """Write the account now, in a savepoint: an email or number taken by a request that ran at
    the same moment (after ``_contact`` looked) is a refusal like any other, not an error."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise AccountError(_("Email atau nomor ini sudah dipakai akun lain."), "phone") from None


def _account_name(name: str | None) -> str:
    """The name as stored (spaces collapsed), or AccountError when empty or too long."""
    name = " ".join((name or "").split())
    if not name:
        raise AccountError(_("Nama wajib diisi."), "name")
    if len(name) > 120:
        raise AccountError(_("Nama terlalu panjang (maksimal 120 karakter)."), "name")
    # control and format characters (ESC, a right-to-left override…) would travel into every
    # list, export and WhatsApp message
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise AccountError(_("Nama berisi karakter yang tidak bisa dipakai."), "name")
    return name


def _kim_for_role(role: Role, kim_id: int | None, region: Region | None, by: User | None):
    """The KIM a pengurus account belongs to (inside ``by``'s reach); None for other roles."""
    if role is not Role.PENGURUS_KIM:
        return None
    kim = db.session.get(Kim, kim_id) if kim_id else None
    if kim is None and region is not None:
        has_kim = db.session.scalar(sa.select(Kim.id).where(Kim.village_code == region.code))
        if has_kim is None:
            raise AccountError(
                _(
                    "Desa ini belum punya KIM. Daftarkan KIM-nya dulu, lalu buat akun "
                    "pengurusnya dari daftar anggota KIM."
                ),
                "kim",
            )
    if kim is None or (by is not None and not user_may_reach(by, kim.village_code)):
        raise AccountError(_("Pilih KIM tempat pengurus ini bertugas."), "kim")
    if region is not None and kim.village_code != region.code:
        raise AccountError(_("KIM itu tidak berada di desa yang dipilih."), "kim")
    return kim


def create_user(
    *,
    name: str,
    role: Role,
    scope_code: str | None,
    by: User | None,
    email: str | None = None,
    phone: str | None = None,
    password: str | None = None,
    kim_id: int | None = None,
    contact_optional: bool = False,
) -> User:
    """Create an account. ``by`` (None for the command line) may only create roles below it, in
    scope. Without ``password`` the account waits for its owner to set one through an
    invitation link (``issue_link``). A pengurus KIM account needs its KIM; its scope is the
    KIM's village."""
    name = _account_name(name)
    if password is not None and len(password) < MIN_PASSWORD:
        raise AccountError(_("Kata sandi minimal %(n)d karakter.", n=MIN_PASSWORD), "password")
    if role is Role.PENGURUS_KIM and kim_id and not scope_code:
        kim = db.session.get(Kim, kim_id)
        scope_code = kim.village_code if kim else None
    region = check_scope_for_role(role, scope_code)
    if by is not None:
        if not by.may_manage(role):
            raise AccountError(_("Anda tidak dapat membuat akun dengan peran ini."), "role")
        if not user_may_reach(by, region.code if region else None):
            raise AccountError(_("Wilayah itu di luar wilayah kerja Anda."), "scope")
    kim = _kim_for_role(role, kim_id, region, by)
    email, phone = _contact(email, phone, optional=contact_optional)
    user = User(
        email=email,
        phone=phone,
        name=name,
        role=role,
        scope_code=region.code if region else None,
        kim_id=kim.id if kim else None,
    )
    user.created_by_id = by.id if by else None
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    _flush_contact()
    audit.record(
        "user.create",
        "user",
        user.id,
        region_code=user.scope_code,
        changes={"role": role.value, "scope": user.scope_code, "kim": user.kim_id},
        actor=by,
    )
    return user


def _snapshot(user: User) -> dict:
    """What an operator may change of an account, to compare before and after."""
    return {
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "role": user.role.value,
        "scope": user.scope_code,
        "kim": user.kim_id,
    }


def update_user(
    user: User,
    *,
    name: str,
    email: str | None,
    phone: str | None,
    role: Role,
    scope_code: str | None,
    kim_id: int | None,
    by: User,
) -> None:
    """Change an account in ``by``'s reach: name, contact, role (below ``by``'s own), scope and
    KIM. A changed role, scope or KIM ends the account's sessions (what it may see changed)."""
    if user.id == by.id:
        raise AccountError(_("Ubah akun Anda sendiri lewat operator di atas Anda."), "role")
    if not by.may_manage(user.role) or not by.may_manage(role):
        raise AccountError(_("Anda tidak dapat memberi peran ini."), "role")
    name = _account_name(name)
    if role is Role.PENGURUS_KIM and kim_id and not scope_code:
        kim = db.session.get(Kim, kim_id)
        scope_code = kim.village_code if kim else None
    region = check_scope_for_role(role, scope_code)
    if not user_may_reach(by, region.code if region else None):
        raise AccountError(_("Wilayah itu di luar wilayah kerja Anda."), "scope")
    kim = _kim_for_role(role, kim_id, region, by)
    email, phone = _contact(email, phone, ignore=user)
    before = _snapshot(user)
    user.name, user.email, user.phone, user.role = name, email, phone, role
    user.scope_code = region.code if region else None
    user.kim_id = kim.id if kim else None
    if role is not Role.PETUGAS_ABSENSI:
        user.event_id = None
    after = _snapshot(user)
    changed = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if not changed:
        return
    if {"role", "scope", "kim", "email", "phone"} & changed.keys():
        user.session_version += 1
    _flush_contact()
    # names and numbers are personal data: the log says which fields changed, not their values
    audit.record(
        "user.update",
        "user",
        user.id,
        region_code=user.scope_code,
        changes={
            key: (value if key in ("role", "scope", "kim") else "diubah")
            for key, value in changed.items()
        },
        actor=by,
    )


# --- one-time links ---------------------------------------------------------------------------

LINK_DAYS = 7


def _link_signature(link: AccountLink) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{link.id}:{link.user_id}:{link.purpose.value}:{link.nonce}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def link_token(link: AccountLink) -> str:
    """The secret part of the link's address: the row's id and its signature."""
    return f"{link.id}-{_link_signature(link)}"


def link_url(link: AccountLink) -> str:
    return url_for("auth.accept", token=link_token(link), _external=True)


def issue_link(user: User, purpose: LinkPurpose, by: User | None) -> AccountLink:
    """A new one-time link for ``user``; earlier pending links of the account stop working."""
    now = utcnow()
    db.session.execute(
        sa.update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.used_at.is_(None),
            AccountLink.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    link = AccountLink(
        user_id=user.id,
        purpose=purpose,
        nonce=secrets.token_hex(16),
        created_at=now,
        created_by_id=by.id if by else None,
        expires_at=now + timedelta(days=LINK_DAYS),
    )
    link.user = user
    db.session.add(link)
    db.session.flush()
    audit.record(
        "user.link",
        "user",
        user.id,
        region_code=user.scope_code,
        changes={"purpose": purpose.value},
        actor=by,
    )
    return link


def find_link(token: str | None) -> AccountLink | None:
    """The pending link this token opens, or None (unknown, forged, used, replaced or expired)."""
    ident, _sep, signature = (token or "").partition("-")
    if not (ident.isascii() and ident.isdigit() and len(ident) <= 10) or len(signature) != 32:
        return None
    link = db.session.get(AccountLink, int(ident)) if int(ident) <= MAX_RECORD_ID else None
    if link is None or not hmac.compare_digest(_link_signature(link), signature):
        return None
    if not link.pending or not link.user.active:
        return None
    return link


def pending_link(user: User) -> AccountLink | None:
    """The account's link still waiting to be opened, if any."""
    link = db.session.scalar(
        sa.select(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.used_at.is_(None),
            AccountLink.revoked_at.is_(None),
            AccountLink.expires_at > utcnow(),
        )
        .order_by(AccountLink.id.desc())
        .limit(1)
    )
    return link


def pending_links(users: list[User]) -> dict[int, AccountLink]:
    """The link still waiting to be opened of each of these accounts that has one, by account
    id (one query for a list)."""
    ids = [user.id for user in users]
    if not ids:
        return {}
    links = db.session.scalars(
        sa.select(AccountLink)
        .where(
            AccountLink.user_id.in_(ids),
            AccountLink.used_at.is_(None),
            AccountLink.revoked_at.is_(None),
            AccountLink.expires_at > utcnow(),
        )
        .order_by(AccountLink.id)
    )
    return {link.user_id: link for link in links}  # the newest wins


def accept_link(link: AccountLink, password: str, phone: str | None = None) -> User:
    """The owner sets a password through the link (once); every other session of the account
    ends. An account with neither email nor number also gets the number it will sign in with."""
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(_("Kata sandi minimal %(n)d karakter.", n=MIN_PASSWORD), "password")
    user = link.user
    if user.email is None and user.phone is None:
        if not (phone or "").strip():
            raise AccountError(_("Isi nomor WhatsApp Anda: nomor ini untuk masuk."), "phone")
        _email, user.phone = _contact(None, phone, ignore=user)
    user.set_password(password)
    user.session_version += 1
    link.used_at = utcnow()
    audit.record(
        "user.link_used",
        "user",
        user.id,
        region_code=user.scope_code,
        changes={"purpose": link.purpose.value},
        actor=user,
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


# --- onboarding and the messages that carry a link ---------------------------------------------


def head_title(village: Region) -> str:
    """``Kepala Desa Sebakung Jaya`` or ``Lurah Nipah-Nipah``: the account's name until its
    owner's own is known."""
    with force_locale("id"):
        if village.is_kelurahan:
            return _("Lurah %(name)s", name=village.name)
        return _("Kepala Desa %(name)s", name=village.name)


def onboard_village_heads(
    villages: list[Region], numbers: dict[str, str | None], by: User
) -> list[AccountLink]:
    """A village-head account with an invitation link for each village (in ``by``'s reach),
    with the WhatsApp number given for it, if any. The numbers are checked all first: one bad
    number refuses the whole step, so nothing is half done."""
    checked: dict[str, str | None] = {}
    seen: set[str] = set()
    for village in villages:
        try:
            phone = normalise_phone(numbers.get(village.code))
        except PhoneError:
            raise AccountError(
                _("Nomor WhatsApp untuk %(village)s tidak valid.", village=village.name),
                village.code,
            ) from None
        if phone is not None:
            taken = phone in seen or db.session.scalar(
                sa.select(User.id).where(User.phone == phone)
            )
            if taken:
                raise AccountError(
                    _("Nomor untuk %(village)s sudah dipakai akun lain.", village=village.name),
                    village.code,
                )
            seen.add(phone)
        checked[village.code] = phone
    links = []
    for village in villages:
        user = create_user(
            name=head_title(village),
            role=Role.KEPALA_DESA,
            scope_code=village.code,
            phone=checked[village.code],
            by=by,
            contact_optional=True,
        )
        links.append(issue_link(user, LinkPurpose.INVITE, by))
    return links


def link_message(link: AccountLink) -> str:
    """The WhatsApp message that carries a link to its owner, always in Bahasa Indonesia."""
    user = link.user
    with force_locale("id"):
        until = format_date(link.expires_local, "d MMMM yyyy", rebase=False)
        if link.purpose is LinkPurpose.RESET:
            text = _(
                "Halo %(name)s, ini tautan untuk mengganti kata sandi akun KIM Anda. "
                "Tautan hanya bisa dipakai sekali dan berlaku sampai %(until)s:",
                name=user.name,
                until=until,
            )
        else:
            where = user.scope.display_name if user.scope else _("Seluruh Indonesia")
            text = _(
                "Halo %(name)s, Anda diundang memakai aplikasi KIM sebagai %(role)s "
                "(%(where)s). Buka tautan ini untuk membuat kata sandi Anda. Tautan hanya bisa "
                "dipakai sekali dan berlaku sampai %(until)s:",
                name=user.name,
                role=user.role.label,
                where=where,
                until=until,
            )
        parts = [text, link_url(link)]
        if user.sign_in_name:
            parts.append(_("Setelah itu masuk dengan: %(who)s", who=user.sign_in_name))
        return "\n".join(parts)


def link_handoff(link: AccountLink) -> str:
    """``wa.me`` hand-off of the link's message, to the owner's number when it is known."""
    return whatsapp_link(link.user.phone, link_message(link))


def request_reset(identifier: str) -> AccountLink | None:
    """A reset link for the active account with this email or number, when it can travel by
    email (an email address and SMTP configured); otherwise no link is made, so that a
    stranger typing someone's number cannot retire that person's pending invitation. Either
    way the request is in the audit log of the account's area, and the operators who manage the
    account get a notice with the way to its page (where they make a new link)."""
    user = find_user(identifier)
    if user is None or not user.active:
        return None
    # the operators of the area see the request in their audit log, and can send a new link
    audit.record("user.reset_request", "user", user.id, region_code=user.scope_code, actor=None)
    signals.reset_requested.send(user)
    if not email_configured() or not user.email:
        return None
    link = issue_link(user, LinkPurpose.RESET, None)
    # the worker builds the message itself: the link's secret never sits in the queue
    jobs.after_commit(LINK_EMAIL_JOB, link.id, request.host_url)
    return link


LINK_EMAIL_JOB = "auth.link_email"


@jobs.job(LINK_EMAIL_JOB)
def send_link_email(link_id: int, base_url: str) -> None:
    """The worker's job: email a reset link to its account, if the link is still pending (a
    newer link, or one already used, is not sent). A failure raises; huey retries."""
    with current_app.test_request_context(base_url=base_url):
        link = db.session.get(AccountLink, link_id)
        if link is None or not link.pending or not link.user.email:
            return
        with force_locale("id"):
            subject = _("Atur ulang kata sandi akun KIM")
        send_email(link.user.email, subject, link_message(link))
