"""Writing information items and relays: sending an item to the KIM of an area (checked against
the sender's wilayah), its file (a PDF checked as the SK is, or an image re-encoded), and a KIM's
word that it relayed it. Operations flush, never commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from kim_app import audit, signals
from kim_app.activity.models import Channel, InfoItem, Relay
from kim_app.activity.monev.operations import refresh_kim
from kim_app.activity.operations import REACH_MAX, ActivityError
from kim_app.auth.models import User
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimField, KimStatus
from kim_app.groups.operations import offered_bidang
from kim_app.phones import MAX_HANDOFF_TEXT
from kim_app.regions.models import ancestors_of
from kim_app.security import codes_within, user_may_reach
from kim_app.timezones import utcnow
from kim_app.uploads import (
    ImageError,
    PdfRefused,
    check_pdf,
    reencode_image,
    sniff_type,
    upload_folder,
)

FILE_MAX_BYTES = 5 * 1024 * 1024
FOLDER = "informasi"
IMAGE_SIDE = 1280
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True)
class ItemData:
    area_code: str  # "" for the whole country
    field: str  # "" for every field
    title: str
    text: str
    link: str
    share_text: str
    urgent: bool


def targeted(area_code: str, field: str) -> sa.ColumnElement[bool]:
    """SQL condition on ``Kim``: the verified KIM an item of this area and field goes to."""
    condition = Kim.status == KimStatus.TERVERIFIKASI
    if area_code:
        condition = sa.and_(condition, codes_within(Kim.village_code, area_code))
    if field:
        condition = sa.and_(
            condition,
            sa.exists().where(KimField.kim_id == Kim.id, KimField.field == field),
        )
    return condition


def for_kim(kim: Kim) -> sa.ColumnElement[bool]:
    """SQL condition on ``InfoItem``: the items that go to ``kim`` (its areas, its fields)."""
    areas = ["", *ancestors_of(kim.village_code)]
    fields = ["", *(f.field for f in kim.fields)]
    return sa.and_(InfoItem.area_code.in_(areas), InfoItem.field.in_(fields))


def default_share_text(title: str, text: str, link: str) -> str:
    parts = [f"*{title.strip()}*", text.strip()]
    if link:
        parts.append(link.strip())
    joined = "\n\n".join(p for p in parts if p)
    return joined if len(joined) <= MAX_HANDOFF_TEXT else joined[: MAX_HANDOFF_TEXT - 1] + "…"


def _clean_file(data: bytes) -> tuple[bytes, str]:
    if len(data) > FILE_MAX_BYTES:
        raise ActivityError(_("Berkas paling besar 5 MB."), "berkas")
    mime = sniff_type(data[:16])
    if mime == "application/pdf":
        try:
            check_pdf(data)
        except PdfRefused as error:
            raise ActivityError(str(error), "berkas") from None
        return data, mime
    if mime in ("image/jpeg", "image/png"):
        try:
            body, _w, _h = reencode_image(data, mime, IMAGE_SIDE, quality=80)
        except ImageError as error:
            message = str(error) if str(error) != "unreadable image" else ""
            raise ActivityError(
                message or _("Gambar tidak dapat dibaca. Unggah ulang sebagai JPEG atau PNG."),
                "berkas",
            ) from None
        return body, mime
    raise ActivityError(_("Berkas harus berupa PDF, JPEG atau PNG."), "berkas")


def file_path(item: InfoItem) -> Path | None:
    if not item.file:
        return None
    path = upload_folder(FOLDER) / Path(item.file).name
    return path if path.is_file() else None


def send_item(data: ItemData, file: bytes | None, by: User) -> InfoItem:
    """Send an item to the verified KIM of an area (inside the sender's wilayah) and field; the
    KIM's people are told (an urgent one by WhatsApp to each ketua too)."""
    if not user_may_reach(by, data.area_code or None) and not (by.is_admin and not data.area_code):
        raise ActivityError(_("Wilayah ini di luar wilayah kerja Anda."), "area")
    if data.field and data.field not in {f.value for f in offered_bidang(data.area_code or None)}:
        raise ActivityError(_("Pilihan tidak valid."), "field")
    share = data.share_text.strip() or default_share_text(data.title, data.text, data.link)
    item = InfoItem(
        area_code=data.area_code,
        field=data.field,
        title=data.title.strip(),
        text=data.text.strip(),
        link=data.link.strip(),
        share_text=share[:MAX_HANDOFF_TEXT],
        urgent=data.urgent,
        created_by_id=by.id,
    )
    if file:
        body, mime = _clean_file(file)
        name = secrets.token_hex(16) + EXTENSIONS[mime]
        (upload_folder(FOLDER) / name).write_bytes(body)
        item.file, item.file_mime, item.file_size = name, mime, len(body)
    item.kims = db.session.scalar(
        sa.select(sa.func.count()).select_from(Kim).where(targeted(data.area_code, data.field))
    )
    if item.kims == 0:
        raise ActivityError(_("Belum ada KIM terverifikasi di wilayah dan bidang ini."), "area")
    db.session.add(item)
    db.session.flush()
    audit.record(
        "info.send",
        "info",
        item.id,
        region_code=data.area_code or None,
        changes={"kims": item.kims, "urgent": item.urgent, "field": item.field},
        actor=by,
    )
    signals.info_sent.send(item, by=by)
    return item


def _relay_row(item: InfoItem, kim: Kim) -> tuple[Relay, date | None]:
    """The KIM's relay of the item, made when it has none (a parallel first tap that made it a
    moment ago is found instead); with the day it was last recorded, None for a new one."""
    where = (Relay.item_id == item.id, Relay.kim_id == kim.id)
    relay = db.session.scalar(sa.select(Relay).where(*where))
    if relay is not None:
        return relay, relay.relayed_at.date()
    relay = Relay(item_id=item.id, kim_id=kim.id, village_code=kim.village_code)
    try:
        with db.session.begin_nested():
            db.session.add(relay)
            db.session.flush()
    except IntegrityError:
        relay = db.session.scalar(sa.select(Relay).where(*where))
        if relay is None:
            raise
        return relay, relay.relayed_at.date()
    return relay, None


def relay_item(
    item: InfoItem, kim: Kim, channels: tuple[Channel, ...], reach: int, link: str, by: User
) -> Relay:
    """Record (or change) that ``kim`` spread ``item``: where, to about how many people."""
    if not channels:
        raise ActivityError(_("Pilih di mana informasi ini disebarkan."), "channels")
    if not 0 <= reach <= REACH_MAX:
        raise ActivityError(_("Jumlah orang tidak masuk akal."), "reach")
    relay, before = _relay_row(item, kim)
    relay.channels = ",".join(c.value for c in channels)
    relay.reach = reach
    relay.link = link.strip()[:300]
    relay.by_id = by.id
    relay.relayed_at = utcnow()
    db.session.flush()
    refresh_kim(kim.id, relay.relayed_at.date(), *([before] if before else []))
    audit.record(
        "info.relay",
        "kim",
        kim.id,
        region_code=kim.village_code,
        changes={"item": item.id, "reach": reach, "channels": relay.channels},
        actor=by,
    )
    return relay
