"""The registry's documents: the KIM list and the member list as rows for an XLSX or CSV export
(``kim_app.tables`` builds the file). Each is a fixed number of queries whatever the number of rows;
phone numbers are in full (the export is audited)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from kim_app.extensions import db
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
    district,
    registry_conditions,
    registry_order,
    village,
)
from kim_app.phones import display_phone
from kim_app.regions.models import Region

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
