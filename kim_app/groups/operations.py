"""KIM operations: who may see a KIM, registration, the verification workflow, members, SK files.

Operations validate, change objects and flush; the request commits once. Every change is audited.

Longer than 600 lines on purpose: these are the writes of one object, the KIM, and the rules
they share (who may do what, one KIM per village, the fields of activity) sit beside every step
that asks them. Members (≈ 60 lines) and SK files (≈ 70) could move to topic modules next.
"""

from __future__ import annotations

import difflib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from kim_app import audit, signals
from kim_app.auth.models import OPERATOR_ROLES, Role, User
from kim_app.errors import OperationError
from kim_app.extensions import db
from kim_app.groups.models import (
    HOLDS_VILLAGE,
    NATIONAL_BIDANG,
    REQUIRED_POSITIONS,
    Bidang,
    BidangOption,
    FieldLabel,
    Gender,
    Kim,
    KimField,
    KimStatus,
    KimStatusChange,
    Member,
    Position,
    SkSigner,
    name_key,
)
from kim_app.phones import PhoneError, normalise_phone
from kim_app.regions.models import Region, RegionLevel
from kim_app.security import Viewer, scope_filter, user_may_reach
from kim_app.timezones import utcnow
from kim_app.uploads import (
    ImageError,
    ImageTooLarge,
    PdfRefused,
    check_pdf,
    reencode_image,
    sniff_type,
    upload_folder,
)

SK_MAX_BYTES = 2 * 1024 * 1024
SK_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
SIMILARITY = 0.85


class KimError(OperationError):
    """A KIM operation that cannot be done; the message is for the user, ``field`` names the input."""


class VillageTaken(KimError):
    """The village already has a KIM holding its place (``others``, named and linked on the page);
    only an operator may allow another, deliberately and with a reason."""

    def __init__(self, others: list[Kim], by: User):
        names = ", ".join(f"{other.name} ({other.status.label})" for other in others)
        if by.role in OPERATOR_ROLES:
            message = _(
                "Desa ini sudah memiliki KIM: %(names)s. Satu desa satu KIM; KIM kedua hanya "
                "dengan izin operator beserta alasannya.",
                names=names,
            )
        else:
            message = _(
                "Desa ini sudah memiliki KIM: %(names)s. Satu desa satu KIM: lanjutkan KIM itu. "
                "Jika desa memang memerlukan KIM kedua, minta operator Diskominfo mengizinkannya.",
                names=names,
            )
        super().__init__(message, "village")
        self.others = others


# --- who may see and do what --------------------------------------------------------------


def kim_filter(user) -> sa.ColumnElement[bool]:
    """SQL condition for the KIM ``user`` may see: the scope rule, narrowed to one KIM for pengurus."""
    condition = scope_filter(Kim.village_code, user)
    if getattr(user, "role", None) is Role.PENGURUS_KIM:
        condition = sa.and_(condition, Kim.id == user.kim_id)
    return condition


def may_see_kim(user, kim: Kim) -> bool:
    if getattr(user, "role", None) is Role.PETUGAS_ABSENSI:
        return False
    if getattr(user, "role", None) is Role.PENGURUS_KIM and user.kim_id != kim.id:
        return False
    return user_may_reach(user, kim.village_code)


def get_kim_or_404(kim_id: int, user) -> Kim:
    """The KIM if ``user`` may see it; 404 otherwise (also for a KIM outside the scope)."""
    kim = db.session.get(Kim, kim_id)
    if kim is None or not may_see_kim(user, kim):
        abort(404)
    return kim


def may_edit_kim(user, kim: Kim) -> bool:
    """Operators always; the village head while the KIM is a draft or returned for fixes."""
    if user.role in OPERATOR_ROLES:
        return True
    return user.role is Role.KEPALA_DESA and kim.status in (
        KimStatus.DRAFT,
        KimStatus.PERLU_PERBAIKAN,
    )


def may_keep_members(user, kim: Kim) -> bool:
    return user.role in (*OPERATOR_ROLES, Role.KEPALA_DESA, Role.PENGURUS_KIM) and may_see_kim(
        user, kim
    )


# --- fields of activity ----------------------------------------------------------------------


def areas_above(code: str | None) -> list[str]:
    """The province and regency codes a region code lies in (``64.09.03.2006`` → 64, 64.09)."""
    code = code or ""
    return [area for area in (code[:2], code[:5]) if len(area) in (2, 5) and len(code) >= len(area)]


def offered_bidang(
    code: str | None, keep: set[str] | frozenset[str] = frozenset()
) -> list[FieldLabel]:
    """The fields a KIM in ``code`` (a village, or an operator's scope) may choose: the national
    ones, then those its province and regency keep; retired ones only where ``keep`` has them."""
    national = [FieldLabel(b.value, b.label) for b in Bidang]
    areas = areas_above(code)
    extra = set(keep) - NATIONAL_BIDANG
    if not areas and not extra:
        return national
    condition = sa.and_(BidangOption.area_code.in_(areas), ~BidangOption.retired)
    if extra:
        condition = sa.or_(condition, BidangOption.key.in_(sorted(extra)[:50]))
    options = db.session.scalars(sa.select(BidangOption).where(condition)).all()
    local = sorted(
        (FieldLabel(o.key, o.shown_label) for o in options), key=lambda c: c.label.lower()
    )
    return national + local


def _plain(text: str) -> str:
    """Words of a label for comparison and keys: ASCII, lower case, no punctuation."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(w for w in re.split(r"[^a-z0-9]+", ascii_text) if w)


def _clean_label(label: str, field: str, limit: int = 80) -> str:
    label = " ".join((label or "").split())
    if field == "label" and not label:
        raise KimError(_("Nama bidang wajib diisi."), field)
    if len(label) > limit:
        raise KimError(_("Nama bidang paling panjang %(n)d huruf.", n=limit), field)
    return label


def _label_taken(area_code: str, label: str, other_than: int | None = None) -> bool:
    """Whether the area's form already offers a field of this name (national, or its own and
    those of the areas above it)."""
    wanted = _plain(label)
    if any(wanted in (_plain(b.label), _plain(b.value.replace("_", " "))) for b in Bidang):
        return True
    query = sa.select(BidangOption.label).where(
        sa.or_(
            BidangOption.area_code.in_(areas_above(area_code)),
            BidangOption.area_code.startswith(area_code),
        )
    )
    if other_than is not None:
        query = query.where(BidangOption.id != other_than)
    return any(_plain(found) == wanted for found in db.session.scalars(query.limit(2000)))


def _new_key(label: str) -> str:
    """A lasting key for a new field (stored on each KIM that has it): the label's words, made
    unique among all areas' fields with a number."""
    base = _plain(label).replace(" ", "_")[:20].strip("_") or "bidang"
    taken = (
        set(
            db.session.scalars(sa.select(BidangOption.key).where(BidangOption.key.startswith(base)))
        )
        | NATIONAL_BIDANG
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def add_bidang(area: Region, label: str, label_en: str, by: User) -> BidangOption:
    """Add a field of activity to a province's or regency's list."""
    label = _clean_label(label, "label")
    label_en = _clean_label(label_en, "label_en")
    if _label_taken(area.code, label):
        raise KimError(_("Bidang %(label)s sudah ada di daftar.", label=label), "label")
    option = BidangOption(area_code=area.code, key=_new_key(label), label=label, label_en=label_en)
    db.session.add(option)
    db.session.flush()
    audit.record(
        "bidang.create",
        "bidang",
        option.id,
        region_code=area.code,
        changes={"key": option.key, "label": label},
        actor=by,
    )
    return option


def rename_bidang(option: BidangOption, label: str, label_en: str, by: User) -> None:
    """Rename a field; its key, and so every KIM that has it, stays."""
    label = _clean_label(label, "label")
    label_en = _clean_label(label_en, "label_en")
    if _label_taken(option.area_code, label, option.id):
        raise KimError(_("Bidang %(label)s sudah ada di daftar.", label=label), "label")
    changes = {
        key: value
        for key, value in (("label", label), ("label_en", label_en))
        if getattr(option, key) != value
    }
    if changes:
        option.label, option.label_en = label, label_en
        audit.record(
            "bidang.update",
            "bidang",
            option.id,
            region_code=option.area_code,
            changes=changes,
            actor=by,
        )


def set_bidang_retired(option: BidangOption, retired: bool, by: User) -> None:
    """Stop (or start again) offering a field; KIM that have it keep it."""
    if option.retired != retired:
        option.retired = retired
        audit.record(
            "bidang.retire" if retired else "bidang.restore",
            "bidang",
            option.id,
            region_code=option.area_code,
            actor=by,
        )


# --- registration ---------------------------------------------------------------------------


@dataclass
class KimData:
    """What the registration form collects about the KIM itself."""

    name: str
    village_code: str
    address: str = ""
    founded_on: date | None = None
    sk_number: str = ""
    sk_date: date | None = None
    sk_signer: SkSigner | None = None
    bidang: tuple[str, ...] = ()
    potensi: str = ""
    whatsapp: str = ""
    email: str = ""
    website: str = ""
    social_links: str = ""
    public_contact: bool = False
    show_ketua: bool = False
    # an operator's reason for allowing this KIM beside another of the village (empty: not allowed)
    second_reason: str = ""


@dataclass
class MemberData:
    name: str
    position: Position = Position.ANGGOTA
    gender: Gender | None = None
    phone: str = ""
    email: str = ""


def _check_village(code: str, by: User) -> Region:
    """The KIM's village, locked until the request ends: two registrations of one village at
    once take turns, so the second sees the first (one KIM per village)."""
    region = db.session.get(Region, code, with_for_update=True) if code else None
    if region is None or region.level is not RegionLevel.DESA:
        raise KimError(_("Pilih desa/kelurahan KIM ini."), "village")
    if not user_may_reach(by, region.code):
        raise KimError(_("Desa itu di luar wilayah kerja Anda."), "village")
    return region


def _apply(kim: Kim, data: KimData) -> dict:
    """Copy form data onto ``kim``; return the fields that changed (for the audit log)."""
    name = " ".join(data.name.split())
    if not name:
        raise KimError(_("Nama KIM wajib diisi."), "name")
    try:
        whatsapp = normalise_phone(data.whatsapp)
    except PhoneError:
        raise KimError(
            _("Nomor WhatsApp tidak valid. Contoh: 0812-3456-7890."), "whatsapp"
        ) from None
    values = {
        "name": name,
        "name_key": name_key(name),
        "village_code": data.village_code,
        "address": data.address.strip(),
        "founded_on": data.founded_on,
        "sk_number": data.sk_number.strip(),
        "sk_date": data.sk_date,
        "sk_signer": data.sk_signer,
        "potensi": data.potensi.strip(),
        "whatsapp": whatsapp,
        "email": data.email.strip().lower(),
        "website": data.website.strip(),
        "social_links": "\n".join(
            line.strip() for line in data.social_links.splitlines() if line.strip()
        ),
        "public_contact": data.public_contact,
        "show_ketua": data.show_ketua,
    }
    changed = {}
    for key, value in values.items():
        if getattr(kim, key, None) != value:
            changed[key] = str(value) if value is not None else None
            setattr(kim, key, value)
    wanted = sorted({str(b) for b in data.bidang})
    held = {f.field for f in kim.fields}
    offered = {choice.value for choice in offered_bidang(data.village_code, keep=held)}
    if not set(wanted) <= offered:
        raise KimError(_("Pilih bidang kegiatan dari daftar."), "bidang")
    if sorted(held) != wanted:
        kim.fields = [KimField(field=value) for value in wanted]
        changed["bidang"] = ",".join(wanted)
    changed.pop("name_key", None)
    return changed


def member_from(data: MemberData, member: Member | None = None) -> Member:
    """Validate member data (phone normalised to E.164) onto a new or existing Member."""
    name = " ".join(data.name.split())
    if not name:
        raise KimError(_("Nama anggota wajib diisi."), "name")
    try:
        phone = normalise_phone(data.phone)
    except PhoneError:
        raise KimError(
            _(
                "%(phone)s bukan nomor HP Indonesia yang valid. Contoh: 0812-3456-7890.",
                phone=data.phone.strip(),
            ),
            "phone",
        ) from None
    member = member or Member()
    member.name, member.position, member.gender = name, data.position, data.gender
    member.phone, member.email = phone, data.email.strip().lower()
    return member


# --- one KIM per village --------------------------------------------------------------------


def village_holders(village_code: str, other_than: int | None = None) -> list[Kim]:
    """The KIM holding ``village_code``'s place (any status but ditolak and nonaktif)."""
    if not village_code:
        return []
    query = sa.select(Kim).where(Kim.village_code == village_code, Kim.status.in_(HOLDS_VILLAGE))
    if other_than is not None:
        query = query.where(Kim.id != other_than)
    return list(db.session.scalars(query.order_by(Kim.id).limit(5)))


def _one_per_village(kim: Kim, reason: str, by: User) -> list[int]:
    """Refuse ``kim`` in a village another KIM holds, unless it was allowed already or an
    operator allows it now with a reason (kept on the KIM); returns the KIM it was allowed beside
    (empty when nothing was allowed now), for the audit log."""
    if kim.second_allowed_note is not None:
        return []
    others = village_holders(kim.village_code, kim.id)
    if not others:
        return []
    reason = " ".join((reason or "").split())
    if not reason or by.role not in OPERATOR_ROLES:
        raise VillageTaken(others, by)
    kim.second_allowed_note = reason[:500]
    return [other.id for other in others]


def _audit_allowance(kim: Kim, beside: list[int], by: User) -> None:
    if beside:
        audit.record(
            "kim.allow_second",
            "kim",
            kim.id,
            region_code=kim.village_code,
            changes={"beside": beside, "reason": kim.second_allowed_note},
            actor=by,
        )


def register_kim(data: KimData, pengurus: list[MemberData], by: User) -> Kim:
    """Create a draft KIM with its first pengurus; a village another KIM holds is refused unless an
    operator allows a second one."""
    _check_village(data.village_code, by)
    kim = Kim(created_by_id=by.id, status=KimStatus.DRAFT)
    kim.fields = []
    _apply(kim, data)
    beside = _one_per_village(kim, data.second_reason, by)
    members = []
    for index, row in enumerate(pengurus):
        try:
            members.append(member_from(row))
        except KimError as error:
            raise KimError(str(error), f"pengurus-{index}-{error.field}") from None
    kim.members = members
    db.session.add(kim)
    db.session.flush()
    db.session.add(
        KimStatusChange(kim_id=kim.id, from_status=None, to_status=KimStatus.DRAFT, by_id=by.id)
    )
    audit.record(
        "kim.create",
        "kim",
        kim.id,
        region_code=kim.village_code,
        changes={"name": kim.name},
        actor=by,
    )
    _audit_allowance(kim, beside, by)
    return kim


def update_kim(kim: Kim, data: KimData, by: User) -> dict:
    """Change a KIM's details; the village may change only to one inside the editor's scope."""
    if not may_edit_kim(by, kim):
        raise KimError(
            _("KIM ini tidak dapat diubah pada status %(status)s.", status=kim.status.label)
        )
    _check_village(data.village_code, by)
    changed = _apply(kim, data)
    beside = []
    # a reason allows it now (also a deactivated KIM, before it is reactivated)
    if data.second_reason or (kim.holds_village and "village_code" in changed):
        beside = _one_per_village(kim, data.second_reason, by)
    if changed:
        audit.record(
            "kim.update", "kim", kim.id, region_code=kim.village_code, changes=changed, actor=by
        )
    _audit_allowance(kim, beside, by)
    return changed


# --- the verification workflow --------------------------------------------------------------

# status → statuses it may move to, and the roles that may move it there
TRANSITIONS: dict[tuple[KimStatus, KimStatus], tuple[Role, ...]] = {
    (KimStatus.DRAFT, KimStatus.DIAJUKAN): (Role.KEPALA_DESA, *OPERATOR_ROLES),
    (KimStatus.PERLU_PERBAIKAN, KimStatus.DIAJUKAN): (Role.KEPALA_DESA, *OPERATOR_ROLES),
    (KimStatus.DIAJUKAN, KimStatus.TERVERIFIKASI): OPERATOR_ROLES,
    (KimStatus.DIAJUKAN, KimStatus.PERLU_PERBAIKAN): OPERATOR_ROLES,
    (KimStatus.DIAJUKAN, KimStatus.DITOLAK): OPERATOR_ROLES,
    (KimStatus.TERVERIFIKASI, KimStatus.NONAKTIF): OPERATOR_ROLES,
    (KimStatus.NONAKTIF, KimStatus.TERVERIFIKASI): OPERATOR_ROLES,
}
NOTE_REQUIRED = {KimStatus.PERLU_PERBAIKAN, KimStatus.DITOLAK, KimStatus.NONAKTIF}


def next_steps(kim: Kim, user) -> list[KimStatus]:
    """The statuses ``user`` may move ``kim`` to now."""
    return [
        to for (src, to), roles in TRANSITIONS.items() if src is kim.status and user.role in roles
    ]


class Missing(NamedTuple):
    """One thing a KIM lacks before submission, and where it is fixed: a field of the KIM form
    (its name), ``sk`` (the upload) or ``members`` (the member list)."""

    text: str
    where: str

    def __str__(self) -> str:
        return self.text


def missing_for_submission(kim: Kim) -> list[Missing]:
    """What a KIM still lacks before it can be submitted (empty when ready)."""
    missing = []
    for value, what, where in (
        (kim.sk_number, _("nomor SK"), "sk_number"),
        (kim.sk_date, _("tanggal SK"), "sk_date"),
        (kim.sk_signer, _("penanda tangan SK"), "sk_signer"),
    ):
        if not value:
            missing.append(Missing(what, where))
    if not kim.sk_file:
        missing.append(Missing(_("dokumen SK"), "sk"))
    held = {m.position for m in kim.members if m.active}
    for position in REQUIRED_POSITIONS:
        if position not in held:
            missing.append(Missing(position.label.lower(), "members"))
    if not kim.fields:
        missing.append(Missing(_("bidang kegiatan"), "bidang"))
    return missing


def change_status(kim: Kim, to: KimStatus, by: User, note: str = "") -> KimStatusChange:
    """Move ``kim`` along the workflow, recording who, when and why.

    One change at a time per KIM: the row is locked first, so a second operator (or a double
    tap) waits and then meets the status the first one left."""
    db.session.refresh(kim, with_for_update=True)
    if kim.status is to:
        raise KimError(_("KIM ini sudah berstatus %(status)s.", status=to.label.lower()))
    roles = TRANSITIONS.get((kim.status, to))
    if roles is None or by.role not in roles:
        raise KimError(_("Perubahan status ini tidak diizinkan."))
    note = (note or "").strip()
    if to in NOTE_REQUIRED and not note:
        raise KimError(_("Tuliskan catatan atau alasannya."), "note")
    if to in (KimStatus.DIAJUKAN, KimStatus.TERVERIFIKASI) and kim.second_allowed_note is None:
        others = village_holders(kim.village_code, kim.id)
        if others:
            raise VillageTaken(others, by)
    if to is KimStatus.DIAJUKAN:
        missing = missing_for_submission(kim)
        if missing:
            raise KimError(_("Belum lengkap: %(items)s.", items=", ".join(str(m) for m in missing)))
        kim.submitted_at = utcnow()
    if to is KimStatus.TERVERIFIKASI:
        if kim.registration_number is None:
            _number(kim)
        kim.verified_at = utcnow()
    change = KimStatusChange(
        kim_id=kim.id, from_status=kim.status, to_status=to, by_id=by.id, note=note
    )
    db.session.add(change)
    audit.record(
        "kim.status",
        "kim",
        kim.id,
        region_code=kim.village_code,
        changes={"from": kim.status.value, "to": to.value, "note": note},
        actor=by,
    )
    kim.status = to
    db.session.flush()
    signals.kim_status_changed.send(kim, note=note, by=by)
    return change


def _number(kim: Kim, attempts: int = 20) -> None:
    """Give ``kim`` the next registration number of its regency. Two KIM of one regency verified
    at the same moment both see the same highest number; the unique constraint turns the second
    away and it takes the next one."""
    for _attempt in range(attempts):
        try:
            with db.session.begin_nested():
                kim.registration_number = _next_registration_number(kim)
                db.session.flush()
            return
        except IntegrityError:
            continue
    raise KimError(_("Nomor registrasi belum dapat diberikan. Coba lagi."))


def _next_registration_number(kim: Kim) -> str:
    """``KIM-64.09-0007``: the regency's code and the next number in that regency."""
    regency = kim.village_code[:5]
    prefix = f"KIM-{regency}-"
    last = db.session.scalar(
        sa.select(sa.func.max(Kim.registration_number)).where(
            Kim.registration_number.startswith(prefix)
        )
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def similar_kims(kim: Kim) -> list[Kim]:
    """Other KIM in the same village whose names are nearly the same (flagged to the operator)."""
    others = db.session.scalars(
        sa.select(Kim).where(
            Kim.village_code == kim.village_code, Kim.id != kim.id, Kim.status != KimStatus.DITOLAK
        )
    )
    return [
        other
        for other in others
        if difflib.SequenceMatcher(None, other.name_key, kim.name_key).ratio() >= SIMILARITY
    ]


def verification_queue(user):
    """KIM waiting for verification in ``user``'s scope, oldest submission first."""
    return (
        sa.select(Kim)
        .where(Kim.status == KimStatus.DIAJUKAN, kim_filter(user))
        .order_by(Kim.submitted_at, Kim.id)
    )


@lru_cache(maxsize=256)
def queue_count_statement(viewer: Viewer) -> sa.Select:
    """KIM waiting for verification that ``viewer`` may see (the badge on every operator page),
    built once per viewer; asked together with the unread count (``notices.queries.badges``)."""
    return (
        sa.select(sa.func.count())
        .select_from(Kim)
        .where(Kim.status == KimStatus.DIAJUKAN, kim_filter(viewer))
    )


# --- members ----------------------------------------------------------------------------------


def add_member(kim: Kim, data: MemberData, by: User) -> Member:
    member = member_from(data)
    member.kim_id = kim.id
    db.session.add(member)
    db.session.flush()
    audit.record(
        "member.create",
        "member",
        member.id,
        region_code=kim.village_code,
        changes={"kim": kim.id, "position": member.position.value},
        actor=by,
    )
    return member


def update_member(member: Member, data: MemberData, by: User) -> None:
    before = {
        "name": member.name,
        "position": member.position,
        "gender": member.gender,
        "phone": member.phone,
        "email": member.email,
    }
    member_from(data, member)
    changed = [key for key, value in before.items() if getattr(member, key) != value]
    if changed:
        audit.record(
            "member.update",
            "member",
            member.id,
            region_code=member.kim.village_code,
            changes={"fields": changed},
            actor=by,
        )


def set_member_active(member: Member, active: bool, by: User) -> None:
    if member.active != active:
        member.active = active
        audit.record(
            "member.activate" if active else "member.deactivate",
            "member",
            member.id,
            region_code=member.kim.village_code,
            actor=by,
        )


def active_member_count(kim: Kim) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Member).where(Member.kim_id == kim.id, Member.active)
    )


# --- SK documents -----------------------------------------------------------------------------


def _reencode(data: bytes, mime: str) -> bytes:
    """Decode and re-encode an image: upright, without EXIF (location, device), comments or
    anything else hidden in it."""
    try:
        return reencode_image(data, mime)[0]
    except ImageTooLarge as error:
        raise KimError(str(error), "sk") from None
    except ImageError:
        raise KimError(
            _("Gambar tidak dapat dibaca. Unggah ulang sebagai PDF, JPEG atau PNG."), "sk"
        ) from None


def store_sk(kim: Kim, data: bytes, by: User) -> None:
    """Check, clean and store an SK document under a random name; replaces the previous one."""
    if not may_edit_kim(by, kim):
        raise KimError(
            _("KIM ini tidak dapat diubah pada status %(status)s.", status=kim.status.label)
        )
    if not data:
        raise KimError(_("Pilih berkas SK terlebih dahulu."), "sk")
    if len(data) > SK_MAX_BYTES:
        raise KimError(_("Berkas SK paling besar 2 MB."), "sk")
    mime = sniff_type(data[:16])
    if mime is None:
        raise KimError(_("Dokumen SK harus berupa PDF, JPEG atau PNG."), "sk")
    if mime != "application/pdf":
        data = _reencode(data, mime)
    else:
        try:
            check_pdf(data)
        except PdfRefused as error:
            raise KimError(str(error), "sk") from None
    name = secrets.token_hex(16) + SK_TYPES[mime]
    (upload_folder("sk") / name).write_bytes(data)
    old = kim.sk_file
    kim.sk_file, kim.sk_mime = name, mime
    if old:
        (upload_folder("sk") / Path(old).name).unlink(missing_ok=True)
    audit.record(
        "kim.sk_upload",
        "kim",
        kim.id,
        region_code=kim.village_code,
        changes={"type": mime},
        actor=by,
    )


def sk_path(kim: Kim) -> Path | None:
    if not kim.sk_file:
        return None
    path = upload_folder("sk") / Path(kim.sk_file).name
    return path if path.is_file() else None


def sk_may_show(kim: Kim, data: bytes) -> bool:
    """Whether the stored SK may be shown in the browser rather than only downloaded: images
    were re-encoded on upload; a PDF must pass ``check_pdf`` (again: older files were stored
    before it existed)."""
    if kim.sk_mime != "application/pdf":
        return kim.sk_mime in SK_TYPES
    try:
        check_pdf(data)
    except PdfRefused:
        return False
    return True
