"""The registry's two imports: KIM (one row per KIM, with its pengurus inti) and members (one
row per member of a KIM). Each checks every row with a handful of queries whatever the number of
rows and says what it will do (new, update, unchanged) or why it is refused; applying writes
the valid rows, flushes and audits the import once. The pipeline around them (upload, mapping,
preview, confirm) is ``kim_app.importing``.

At 600 lines: the two importers share the village finder and the pengurus rules, so they stay
together; their cell readers are in ``import_values.py``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from kim_app import audit
from kim_app.extensions import db
from kim_app.groups.import_values import VillageFinder, parse_bidang, parse_gender, parse_position
from kim_app.groups.models import (
    Kim,
    KimField,
    KimStatus,
    KimStatusChange,
    Member,
    Position,
    name_key,
)
from kim_app.groups.operations import kim_filter
from kim_app.importing import Action, Importer, Plan, Row, RowPlan, Target
from kim_app.importing.mapping import (
    EMAIL_WORDS,
    KIM_WORDS,
    NAME_WORDS,
    PHONE_WORDS,
    POSITION_WORDS,
    is_gender,
)
from kim_app.importing.values import (
    checked_email,
    checked_length,
    checked_phone,
    parse_date,
    person_key,
    shown,
)
from kim_app.security import scope_of, user_may_reach
from kim_app.timezones import utcnow

KIM_TARGETS = (
    Target("name", _l("Nama KIM"), True),
    Target("village", _l("Desa/kelurahan (kode atau nama)"), True),
    Target("district", _l("Kecamatan (jika desa ditulis dengan nama)")),
    Target("registration_number", _l("Nomor registrasi (KIM yang sudah terdaftar)")),
    Target("ketua_name", _l("Nama ketua"), True),
    Target("ketua_phone", _l("No HP ketua")),
    Target("sekretaris_name", _l("Nama sekretaris")),
    Target("sekretaris_phone", _l("No HP sekretaris")),
    Target("bendahara_name", _l("Nama bendahara")),
    Target("bendahara_phone", _l("No HP bendahara")),
    Target("address", _l("Alamat")),
    Target("whatsapp", _l("WhatsApp KIM")),
    Target("email", _l("Email KIM")),
    Target("sk_number", _l("Nomor SK")),
    Target("sk_date", _l("Tanggal SK")),
    Target("bidang", _l("Bidang")),
)
MEMBER_TARGETS = (
    Target("name", _l("Nama anggota"), True),
    Target("registration_number", _l("Nomor registrasi KIM")),
    Target("kim_name", _l("Nama KIM (jika tanpa nomor registrasi)")),
    Target("village", _l("Desa/kelurahan KIM (kode atau nama)")),
    Target("district", _l("Kecamatan")),
    Target("position", _l("Jabatan")),
    Target("gender", _l("Jenis kelamin")),
    Target("phone", _l("No HP/WhatsApp")),
    Target("email", _l("Email")),
)

ROLE_WORDS = {"ketua": "ketua", "sekretaris": "sekretaris", "sekertaris": "sekretaris"}
ROLE_WORDS |= {"bendahara": "bendahara", "chair": "ketua", "secretary": "sekretaris"}
ROLE_WORDS |= {"treasurer": "bendahara"}
REGISTRATION_WORDS = {"registrasi", "register", "registration", "reg", "noreg"}
DISTRICT_WORDS = {"kecamatan", "kec", "district"}
VILLAGE_WORDS = {"desa", "kelurahan", "kel", "village", "kemendagri", "wilayah"}


def _kim_target(w: set[str]) -> str | None:
    for word, role in ROLE_WORDS.items():
        if word in w:
            if w & {"wakil", "vice"}:
                return None
            return f"{role}_phone" if w & PHONE_WORDS else f"{role}_name"
    if w & REGISTRATION_WORDS:
        return "registration_number"
    if "sk" in w:
        return "sk_date" if w & {"tanggal", "tgl", "date"} else "sk_number"
    if w & DISTRICT_WORDS:
        return "district"
    if w & VILLAGE_WORDS:
        return "village"
    if w & {"alamat", "address", "sekretariat"}:
        return "address"
    if w & EMAIL_WORDS:
        return "email"
    if w & PHONE_WORDS:
        return "whatsapp"
    if w & {"bidang", "field", "fields"}:
        return "bidang"
    if w & (NAME_WORDS | {"kim"}):
        return "name"
    return None


def _member_target(w: set[str]) -> str | None:
    if w & REGISTRATION_WORDS:
        return "registration_number"
    if w & DISTRICT_WORDS:
        return "district"
    if w & VILLAGE_WORDS:
        return "village"
    if w & KIM_WORDS:
        return "kim_name"
    if w & POSITION_WORDS:
        return "position"
    if is_gender(w):
        return "gender"
    if w & EMAIL_WORDS:
        return "email"
    if w & PHONE_WORDS:
        return "phone"
    if w & NAME_WORDS:
        return "name"
    return None


# --- planning ---------------------------------------------------------------------------------


@dataclass
class MemberOp:
    """One member a row creates (``member`` None) or changes (``changes`` not empty)."""

    member: Member | None
    values: dict[str, Any]
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass
class RegistryRowPlan(RowPlan):
    """A row of a KIM or member import: its KIM and the members it creates or changes."""

    kim: Kim | None = None  # the existing KIM (KIM import) or the member's KIM (member import)
    members: list[MemberOp] = field(default_factory=list)


def _common_kim_values(row: Row, errors: list[str]) -> dict[str, Any]:
    """The KIM's own details from a row, validated (empty values mean "not given")."""
    values: dict[str, Any] = {}
    values["address"] = checked_length(row["address"], 255, _("Alamat"), errors)
    values["whatsapp"] = checked_phone(row["whatsapp"], _("Nomor WhatsApp KIM"), errors)
    values["email"] = checked_email(row["email"], errors)
    values["sk_number"] = checked_length(row["sk_number"], 100, _("Nomor SK"), errors)
    values["sk_date"] = None
    if row["sk_date"]:
        values["sk_date"] = parse_date(row["sk_date"])
        if values["sk_date"] is None:
            errors.append(
                _(
                    "Tanggal SK tidak terbaca: %(text)s (contoh: 05/01/2026).",
                    text=shown(row["sk_date"]),
                )
            )
    bidang, unknown = parse_bidang(row["bidang"])
    if unknown:
        errors.append(_("Bidang tidak dikenal: %(names)s.", names=shown(", ".join(unknown))))
    values["bidang"] = bidang
    return values


ROLE_POSITIONS = (
    ("ketua", Position.KETUA),
    ("sekretaris", Position.SEKRETARIS),
    ("bendahara", Position.BENDAHARA),
)


def _pengurus_values(row: Row, errors: list[str]) -> list[dict[str, Any]]:
    """Ketua (required), sekretaris and bendahara from a KIM row."""
    people = []
    for role, position in ROLE_POSITIONS:
        name, raw_phone = row[f"{role}_name"], row[f"{role}_phone"]
        if not name:
            if position is Position.KETUA:
                errors.append(_("Nama ketua kosong."))
            elif raw_phone:
                errors.append(
                    _("No HP %(role)s diisi tetapi namanya kosong.", role=position.label.lower())
                )
            continue
        checked_length(name, 120, _("Nama %(role)s", role=position.label.lower()), errors)
        phone = checked_phone(raw_phone, _("No HP %(role)s", role=position.label.lower()), errors)
        people.append({"name": name, "position": position, "phone": phone})
    phones = [p["phone"] for p in people if p["phone"]]
    if len(phones) != len(set(phones)):
        errors.append(_("Pengurus dalam satu baris tidak boleh memakai nomor HP yang sama."))
    return people


def _kims_by_number(numbers: set[str]) -> dict[str, Kim]:
    if not numbers:
        return {}
    statement = sa.select(Kim).where(Kim.registration_number.in_(numbers))
    return {k.registration_number: k for k in db.session.scalars(statement)}


def _kims_by_key(codes: set[str], condition=None) -> dict[tuple[str, str], Kim]:
    """Existing KIM in the given villages keyed by (village, name key); the oldest wins."""
    if not codes:
        return {}
    if condition is None:
        condition = sa.true()
    statement = sa.select(Kim).where(Kim.village_code.in_(codes), condition).order_by(Kim.id.desc())
    return {(k.village_code, k.name_key): k for k in db.session.scalars(statement)}


class _MemberIndex:
    """Members of some KIM, by (KIM, phone) and by (KIM, name): one query."""

    def __init__(self, kim_ids: set[int]):
        self.by_phone: dict[tuple[int, str], Member] = {}
        self.by_name: dict[tuple[int, str], Member] = {}
        if not kim_ids:
            return
        statement = sa.select(Member).where(Member.kim_id.in_(kim_ids)).order_by(Member.id.desc())
        for member in db.session.scalars(statement):
            if member.phone:
                self.by_phone[(member.kim_id, member.phone)] = member
            self.by_name[(member.kim_id, person_key(member.name))] = member

    def find(self, kim_id: int, name: str, phone: str | None) -> Member | None:
        """Match by KIM and phone; by KIM and name only when no phone is given."""
        if phone:
            return self.by_phone.get((kim_id, phone))
        return self.by_name.get((kim_id, person_key(name)))


def _member_op(index: _MemberIndex, kim: Kim | None, values: dict[str, Any]) -> MemberOp:
    """Create, or change only what the file gives and differs."""
    existing = index.find(kim.id, values["name"], values.get("phone")) if kim else None
    if existing is None:
        return MemberOp(None, values)
    changes = {
        key: value
        for key, value in values.items()
        if value not in (None, "") and getattr(existing, key) != value
    }
    return MemberOp(existing, values, changes)


def _plan_kims(rows: list[Row], user) -> list[RegistryRowPlan]:
    finder = VillageFinder(user, [(r["village"], r["district"]) for r in rows])
    plans: list[RegistryRowPlan] = []
    for row in rows:
        plan = RegistryRowPlan(line=row.line, label=row["name"])
        errors = plan.errors
        name = checked_length(row["name"], 120, _("Nama KIM"), errors)
        if not name:
            errors.append(_("Nama KIM kosong."))
        elif not name_key(name):
            errors.append(_("Nama KIM harus memuat nama selain kata KIM."))
        region, error = finder.resolve(row["village"], row["district"])
        if error:
            errors.append(error)
        else:
            plan.place = region.display_name
        number = checked_length(row["registration_number"], 30, _("Nomor registrasi"), errors)
        plan.values = {"name": name, "village_code": region.code if region else None}
        plan.values["registration_number"] = number or None
        plan.values.update(_common_kim_values(row, errors))
        plan.values["pengurus"] = _pengurus_values(row, errors)
        plans.append(plan)

    numbers = {p.values["registration_number"] for p in plans if p.values["registration_number"]}
    by_number = _kims_by_number(numbers)
    codes = {p.values["village_code"] for p in plans if p.values["village_code"]}
    by_key = _kims_by_key(codes)
    seen: dict[Any, int] = {}
    for plan in plans:
        if plan.errors:
            continue
        plan.kim = _match_kim(plan, by_number, by_key, seen, user)
    index = _MemberIndex({p.kim.id for p in plans if p.kim is not None and not p.errors})
    for plan in plans:
        if not plan.errors:
            _decide_kim(plan, index)
    return plans


def _match_kim(plan: RegistryRowPlan, by_number, by_key, seen: dict, user) -> Kim | None:
    """The existing KIM this row describes (by number, else village + name), or None."""
    values = plan.values
    number, code = values["registration_number"], values["village_code"]
    key = (code, name_key(values["name"]))
    for mark in ((("n", number),) if number else ()) + (("k", key),):
        if mark in seen:
            plan.errors.append(_("Sama dengan baris %(line)d.", line=seen[mark]))
            return None
    if number:
        seen[("n", number)] = plan.line
    seen[("k", key)] = plan.line
    kim = by_number.get(number) if number else None
    if kim is not None:
        if not user_may_reach(user, kim.village_code) or kim.village_code != code:
            plan.errors.append(
                _("Nomor registrasi %(number)s sudah dipakai KIM lain.", number=number)
            )
            return None
        return kim
    kim = by_key.get(key)
    if kim is not None and number and kim.registration_number not in (None, number):
        plan.errors.append(
            _(
                "KIM ini sudah terdaftar dengan nomor %(number)s.",
                number=kim.registration_number,
            )
        )
        return None
    return kim


KIM_DETAILS = ("address", "whatsapp", "email", "sk_number", "sk_date")


def _decide_kim(plan: RegistryRowPlan, index: _MemberIndex) -> None:
    values, kim = plan.values, plan.kim
    plan.members = [_member_op(index, kim, person) for person in values["pengurus"]]
    if kim is None:
        plan.action = Action.NEW
        return
    changes = {}
    number = values["registration_number"]
    if number and kim.registration_number == number and kim.name != values["name"]:
        changes["name"] = values["name"]  # matched by number: the registry's name is the truth
    if number and kim.registration_number is None:
        changes["registration_number"] = number
    for key in KIM_DETAILS:
        if values[key] not in (None, "") and getattr(kim, key) != values[key]:
            changes[key] = values[key]
    if values["bidang"] and sorted(f.field for f in kim.fields) != values["bidang"]:
        changes["bidang"] = values["bidang"]
    plan.changes = changes
    touched = changes or any(op.member is None or op.changes for op in plan.members)
    plan.action = Action.UPDATE if touched else Action.SAME


def _plan_members(rows: list[Row], user) -> list[RegistryRowPlan]:
    scope = kim_filter(user)
    finder = VillageFinder(
        user, [(r["village"], r["district"]) for r in rows if not r["registration_number"]]
    )
    numbers = {r["registration_number"] for r in rows if r["registration_number"]}
    by_number = {}
    if numbers:
        statement = sa.select(Kim).where(Kim.registration_number.in_(numbers), scope)
        by_number = {k.registration_number: k for k in db.session.scalars(statement)}
    plans: list[RegistryRowPlan] = []
    wanted: dict[int, tuple[str, str]] = {}
    for row in rows:
        plan = RegistryRowPlan(line=row.line, label=row["name"])
        plans.append(plan)
        errors = plan.errors
        number = row["registration_number"]
        if number:
            plan.kim = by_number.get(number)
            if plan.kim is None:
                errors.append(
                    _(
                        "KIM nomor %(number)s tidak ditemukan di wilayah kerja Anda.",
                        number=shown(number),
                    )
                )
        elif not row["kim_name"]:
            errors.append(_("Isi nomor registrasi KIM, atau nama KIM dan desanya."))
        else:
            region, error = finder.resolve(row["village"], row["district"])
            if error:
                errors.append(error)
            else:
                wanted[row.line] = (region.code, name_key(row["kim_name"]))
        _member_values(plan, row)
    by_key = _kims_by_key({code for code, _key in wanted.values()}, scope)
    for plan, row in zip(plans, rows, strict=True):
        if row.line in wanted:
            plan.kim = by_key.get(wanted[row.line])
            if plan.kim is None:
                plan.errors.append(
                    _("KIM “%(name)s” tidak ditemukan di desa itu.", name=shown(row["kim_name"]))
                )
    index = _MemberIndex({p.kim.id for p in plans if p.kim is not None and not p.errors})
    seen: dict[tuple[int, str], int] = {}
    for plan in plans:
        if plan.errors:
            continue
        plan.place = f"{plan.kim.name} · {plan.kim.village.display_name}"
        phone = plan.values["phone"]
        mark = (plan.kim.id, phone or "nama:" + person_key(plan.values["name"]))
        if mark in seen:
            plan.errors.append(_("Sama dengan baris %(line)d.", line=seen[mark]))
            continue
        seen[mark] = plan.line
        op = _member_op(index, plan.kim, plan.values)
        plan.members = [op]
        if op.member is None:
            plan.action = Action.NEW
        else:
            plan.action = Action.UPDATE if op.changes else Action.SAME
    return plans


def _member_values(plan: RegistryRowPlan, row: Row) -> None:
    errors = plan.errors
    name = checked_length(row["name"], 120, _("Nama anggota"), errors)
    if not name:
        errors.append(_("Nama anggota kosong."))
    position = parse_position(row["position"])
    if position is None:
        errors.append(_("Jabatan tidak dikenal: %(text)s.", text=shown(row["position"])))
    gender = parse_gender(row["gender"])
    if gender is False:
        errors.append(
            _("Jenis kelamin tidak dikenal: %(text)s (isi L atau P).", text=shown(row["gender"]))
        )
        gender = None
    email = checked_email(row["email"], errors)
    plan.values = {
        "name": name,
        # a blank position means "anggota" for a new member and "unchanged" for an existing one
        "position": position if row["position"] else None,
        "gender": gender,
        "phone": checked_phone(row["phone"], _("No HP"), errors),
        "email": email,
    }


# --- applying ----------------------------------------------------------------------------------


def _apply_kim_row(row: RegistryRowPlan, user, note: str) -> None:
    values = row.values
    if row.action is Action.NEW:
        number = values["registration_number"]
        status = KimStatus.TERVERIFIKASI if number else KimStatus.DRAFT
        kim = Kim(
            name=values["name"],
            name_key=name_key(values["name"]),
            village_code=values["village_code"],
            registration_number=number,
            status=status,
            verified_at=utcnow() if number else None,
            created_by_id=user.id,
            address=values["address"],
            whatsapp=values["whatsapp"],
            email=values["email"],
            sk_number=values["sk_number"],
            sk_date=values["sk_date"],
        )
        kim.fields = [KimField(field=value) for value in values["bidang"]]
        kim.members = [_new_member(op.values) for op in row.members]
        kim.history = [
            KimStatusChange(from_status=None, to_status=status, by_id=user.id, note=note)
        ]
        db.session.add(kim)
        return
    kim = row.kim
    for key, value in row.changes.items():
        if key == "bidang":
            kim.fields = [KimField(field=v) for v in value]
        else:
            setattr(kim, key, value)
            if key == "name":
                kim.name_key = name_key(value)
    for op in row.members:
        _apply_member_op(op, kim.id)


def _new_member(values: dict[str, Any]) -> Member:
    return Member(
        name=values["name"],
        position=values.get("position") or Position.ANGGOTA,
        gender=values.get("gender"),
        phone=values.get("phone"),
        email=values.get("email") or "",
    )


def _apply_member_op(op: MemberOp, kim_id: int) -> None:
    if op.member is None:
        member = _new_member(op.values)
        member.kim_id = kim_id
        db.session.add(member)
        return
    for key, value in op.changes.items():
        setattr(op.member, key, value)


# --- the importers -------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    skipped: int


class RegistryImporter(Importer):
    """What the KIM and the member import share: writing the valid rows, the audit, the message."""

    audit_action: ClassVar[str]

    def apply(self, plan: Plan, user, filename: str) -> ImportResult:
        """Write the valid rows of ``plan`` (nothing else), flush, and audit the import once."""
        note = (
            _("Diimpor dari berkas %(name)s", name=filename)
            if filename
            else _("Diimpor dari berkas")
        )
        for row in plan.valid:
            self.apply_row(row, user, note)
        db.session.flush()
        result = ImportResult(
            created=plan.count(Action.NEW),
            updated=plan.count(Action.UPDATE),
            unchanged=plan.count(Action.SAME),
            skipped=len(plan.invalid),
        )
        audit.record(
            self.audit_action,
            "import",
            self.kind,
            region_code=scope_of(user) or None,
            changes={"file": filename[:100], **asdict(result)},
            actor=user,
        )
        return result

    def apply_row(self, row: RegistryRowPlan, user, note: str) -> None:
        raise NotImplementedError

    def finished(self, result: ImportResult) -> str:
        return _(
            "Impor %(what)s selesai: %(new)d baru, %(updated)d diperbarui, %(same)d tidak berubah, "
            "%(skipped)d baris tidak valid dilewati.",
            what=self.label,
            new=result.created,
            updated=result.updated,
            same=result.unchanged,
            skipped=result.skipped,
        )


class KimImporter(RegistryImporter):
    """KIM with their village, details, fields of activity and pengurus inti; a row matches an
    existing KIM by registration number, else by village and name."""

    kind = "kim"
    label = _l("KIM")
    targets = KIM_TARGETS
    audit_action = "kim.import"

    def guess(self, words: set[str]) -> str | None:
        return _kim_target(words)

    def check(self, rows: list[Row], user) -> list[RowPlan]:
        return _plan_kims(rows, user)

    def apply_row(self, row: RegistryRowPlan, user, note: str) -> None:
        _apply_kim_row(row, user, note)


class MemberImporter(RegistryImporter):
    """Members of KIM in scope, the KIM named by registration number or by name and village; a
    row matches an existing member by phone number, else by name."""

    kind = "anggota"
    label = _l("anggota KIM")
    targets = MEMBER_TARGETS
    audit_action = "member.import"

    def guess(self, words: set[str]) -> str | None:
        return _member_target(words)

    def missing(self, mapping: dict[str, int]) -> list[str]:
        missing = super().missing(mapping)
        by_name = {"kim_name", "village"} <= mapping.keys()
        if "registration_number" not in mapping and not by_name:
            missing.append(_("nomor registrasi KIM, atau nama KIM dan desanya"))
        return missing

    def check(self, rows: list[Row], user) -> list[RowPlan]:
        return _plan_members(rows, user)

    def apply_row(self, row: RegistryRowPlan, user, note: str) -> None:
        _apply_member_op(row.members[0], row.kim.id)


REGISTRY_IMPORTERS = (KimImporter(), MemberImporter())
