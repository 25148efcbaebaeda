"""The registry's documents: the KIM list and the member list as rows for an XLSX or CSV export
(``kim_app.tables`` builds the file). Each is a fixed number of queries whatever the number of rows;
phone numbers are in full (the export is audited)."""

from __future__ import annotations

from typing import Any, BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from kim_app import audit, tables
from kim_app.auth.models import User
from kim_app.extensions import db
from kim_app.files.operations import FileGone, Progress, builder
from kim_app.groups.models import (
    REQUIRED_POSITIONS,
    BidangOption,
    Gender,
    Kim,
    KimField,
    KimStatus,
    Member,
    Position,
    bidang_label,
)
from kim_app.groups.queries import (
    RegistryFilter,
    Sort,
    district,
    registry_conditions,
    registry_order,
    village,
)
from kim_app.phones import display_phone
from kim_app.regions.models import Region
from kim_app.security import scope_of

regency = aliased(Region, name="regency")


def _kim_ids(filters: RegistryFilter, user) -> sa.Select:
    return (
        sa.select(Kim.id)
        .join(village, village.code == Kim.village_code)
        .join(district, district.code == village.parent_code)
        .where(*registry_conditions(filters, user))
    )


def kim_export(filters: RegistryFilter, user) -> tuple[list[str], list[list[Any]]]:
    """The registry in scope as rows (header first): KIM, place, contact, SK, fields, pengurus.

    Four queries whatever the number of KIM; phone numbers in full (the export is audited).
    """
    headers = [
        _("No Registrasi"), _("Nama KIM"), _("Status"), _("Kode Desa"), _("Desa/Kelurahan"),
        _("Kecamatan"), _("Kabupaten/Kota"), _("Alamat"), _("WhatsApp"), _("Email"),
        _("No SK"), _("Tanggal SK"), _("Bidang"), _("Ketua"), _("No HP Ketua"), _("Sekretaris"),
        _("No HP Sekretaris"), _("Bendahara"), _("No HP Bendahara"), _("Jumlah Anggota Aktif"),
    ]  # fmt: skip
    ids = _kim_ids(filters, user)
    kims = db.session.execute(
        sa.select(
            Kim.id,
            Kim.registration_number,
            Kim.name,
            Kim.status,
            Kim.village_code,
            village.name.label("village_name"),
            district.name.label("district_name"),
            regency.name.label("regency_name"),
            Kim.address,
            Kim.whatsapp,
            Kim.email,
            Kim.sk_number,
            Kim.sk_date,
        )
        .join(village, village.code == Kim.village_code)
        .join(district, district.code == village.parent_code)
        .join(regency, regency.code == district.parent_code)
        .where(*registry_conditions(filters, user))
        .order_by(*registry_order(filters.sort))
    ).all()
    fields: dict[int, list[str]] = {}
    for kim_id, value, option in db.session.execute(
        sa.select(KimField.kim_id, KimField.field, BidangOption)
        .outerjoin(BidangOption, BidangOption.key == KimField.field)
        .where(KimField.kim_id.in_(ids))
        .order_by(KimField.field)
    ):
        fields.setdefault(kim_id, []).append(bidang_label(value, option))
    officers: dict[tuple[int, Position], tuple[str, str | None]] = {}
    for kim_id, position, name, phone in db.session.execute(
        sa.select(Member.kim_id, Member.position, Member.name, Member.phone)
        .where(Member.kim_id.in_(ids), Member.active, Member.position.in_(REQUIRED_POSITIONS))
        .order_by(Member.id.desc())
    ):
        officers[(kim_id, position)] = (name, phone)  # the earliest officer wins
    counts = dict(
        db.session.execute(
            sa.select(Member.kim_id, sa.func.count())
            .where(Member.kim_id.in_(ids), Member.active)
            .group_by(Member.kim_id)
        ).all()
    )
    rows = []
    for kim in kims:
        row = [
            kim.registration_number or "",
            kim.name,
            KimStatus(kim.status).label,
            kim.village_code,
            kim.village_name,
            kim.district_name,
            kim.regency_name,
            kim.address,
            display_phone(kim.whatsapp),
            kim.email,
            kim.sk_number,
            kim.sk_date,
            ", ".join(fields.get(kim.id, [])),
        ]
        for position in REQUIRED_POSITIONS:
            name, phone = officers.get((kim.id, position), ("", None))
            row += [name, display_phone(phone)]
        row.append(counts.get(kim.id, 0))
        rows.append(row)
    return headers, rows


def member_export(filters: RegistryFilter, user, kim: Kim | None = None):
    """Members (active and not) of the KIM in scope matching ``filters``, or of one ``kim``."""
    headers = [
        _("No Registrasi KIM"), _("Nama KIM"), _("Kode Desa"), _("Desa/Kelurahan"),
        _("Kecamatan"), _("Nama"), _("Jabatan"), _("Jenis Kelamin"), _("No HP"), _("Email"),
        _("Aktif"),
    ]  # fmt: skip
    statement = (
        sa.select(
            Kim.registration_number,
            Kim.name,
            Kim.village_code,
            village.name,
            district.name,
            Member.name,
            Member.position,
            Member.gender,
            Member.phone,
            Member.email,
            Member.active,
        )
        .join(Kim, Kim.id == Member.kim_id)
        .join(village, village.code == Kim.village_code)
        .join(district, district.code == village.parent_code)
        .where(*registry_conditions(filters, user))
        .order_by(sa.func.lower(Kim.name), Kim.id, Member.id)
    )
    if kim is not None:
        statement = statement.where(Kim.id == kim.id)
    rows = [
        [
            number or "",
            kim_name,
            code,
            village_name,
            district_name,
            name,
            Position(position).label,
            Gender(gender).value if gender else "",
            display_phone(phone),
            email,
            _("ya") if active else _("tidak"),
        ]
        for (
            number,
            kim_name,
            code,
            village_name,
            district_name,
            name,
            position,
            gender,
            phone,
            email,
            active,
        ) in db.session.execute(statement)
    ]
    return headers, rows


# --- as prepared files (kim_app.files): the worker makes the big ones --------------------------------

# rows written inside the request (about a second); more go to the worker
EXPORT_AT_ONCE = 2_000


def filter_values(filters: RegistryFilter) -> dict:
    """``filters`` as a prepared file keeps them (the area already resolved in the asker's scope)."""
    return {
        "q": filters.q,
        "status": filters.status.value if filters.status else None,
        "bidang": filters.bidang,
        "area": filters.area,
        "urut": filters.sort.value,
    }


def _filters_of(values: dict) -> RegistryFilter:
    return RegistryFilter(
        q=values["q"],
        status=KimStatus(values["status"]) if values["status"] else None,
        bidang=values["bidang"],
        area=values["area"],
        sort=Sort(values["urut"]),
    )


def export_size(what: str, filters: RegistryFilter, user, kim: Kim | None = None) -> int:
    """How many rows the export will have: KIM, or members (of one KIM, or of those in scope)."""
    if what == "kim":
        ids = _kim_ids(filters, user).subquery()
        return db.session.scalar(sa.select(sa.func.count()).select_from(ids)) or 0
    members = (
        sa.select(sa.func.count())
        .select_from(Member)
        .where(Member.kim_id.in_(_kim_ids(filters, user)))
    )
    if kim is not None:
        members = members.where(Member.kim_id == kim.id)
    return db.session.scalar(members) or 0


def _export_file(what: str, params: dict, out: BinaryIO, progress: Progress) -> None:
    """Write the export and audit it (in the asker's scope, with its filters)."""
    user = db.session.get(User, params["user_id"])
    if user is None or not user.active:
        raise FileGone
    filters = _filters_of(params["filters"])
    kim = db.session.get(Kim, params["kim"]) if params.get("kim") else None
    if params.get("kim") and kim is None:
        raise FileGone
    progress(0, 1)
    if what == "kim":
        headers, rows = kim_export(filters, user)
    else:
        headers, rows = member_export(filters, user, kim)
    values = params["filters"]
    summary = {
        "q": values["q"],
        "status": values["status"],
        "bidang": values["bidang"],
        "wilayah": values["area"],
        "kim": kim.id if kim else "",
    }
    summary = {key: value for key, value in summary.items() if value}
    audit.record(
        "kim.export" if what == "kim" else "member.export",
        "export",
        params["fmt"],
        region_code=scope_of(user) or None,
        changes={"rows": len(rows), "filters": summary},
        actor=user,
    )
    sheet = _("KIM") if what == "kim" else _("Anggota")
    out.write(tables.table_bytes(params["fmt"], sheet, headers, rows, params["asked_at"]))
    progress(1, 1)


@builder("ekspor_kim")
def kim_export_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    _export_file("kim", params, out, progress)


@builder("ekspor_anggota")
def member_export_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    _export_file("anggota", params, out, progress)
