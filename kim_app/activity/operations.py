"""Writing a KIM's activity reports: sending one (once, whatever the number of tries), changing it
while it waits or was returned, the operator's review, the photos, and what the KIM shows in
public. Operations flush, never commit; the request commits once."""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _
from PIL import ExifTags, Image
from sqlalchemy.exc import IntegrityError

from kim_app import audit, signals
from kim_app.activity.models import (
    PUBLIC_BY_DEFAULT,
    ActivityKind,
    ActivityPhoto,
    ActivityReport,
    ActivitySettings,
    Channel,
    ReportStatus,
)
from kim_app.activity.monev.operations import refresh_kim
from kim_app.auth.models import User
from kim_app.errors import OperationError, decision_note
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimStatus
from kim_app.timezones import utcnow
from kim_app.uploads import ImageError, ImageTooLarge, reencode_image, sniff_type, upload_folder

MAX_PHOTOS = 3
PHOTO_MAX_BYTES = 8 * 1024 * 1024  # a phone's photo as it is taken (12 to 16 megapixels)
PHOTO_BUDGET = 200 * 1024  # what one kept photo may weigh, so a report stays light to open
# tried in order until the photo fits the budget: long side in pixels, JPEG quality
PHOTO_STEPS = ((1280, 72), (1280, 60), (1024, 60), (800, 55))
THUMB_SIDE, THUMB_QUALITY = 320, 60
FOLDER = "aktivitas"
REACH_MAX = 10_000_000


class ActivityError(OperationError):
    """A report or review that cannot be done; the message is for the user."""


@dataclass(frozen=True)
class ReportData:
    kind: ActivityKind
    done_on: date
    text: str
    channels: tuple[Channel, ...]
    link: str
    reach: int
    keep_location: bool = False


@dataclass(frozen=True)
class CleanPhoto:
    body: bytes
    thumb: bytes
    width: int
    height: int
    latitude: float | None
    longitude: float | None


# --- photos --------------------------------------------------------------------------------------


def clean_photo(data: bytes, keep_location: bool = False) -> CleanPhoto:
    """A phone photo made fit to keep: upright, every piece of metadata dropped, downscaled
    until it weighs at most ``PHOTO_BUDGET``. Its place (the EXIF GPS position) is read first
    and returned only with ``keep_location``; the file itself never carries it."""
    if len(data) > PHOTO_MAX_BYTES:
        raise ActivityError(_("Foto paling besar 8 MB."), "foto")
    if sniff_type(data[:16]) not in ("image/jpeg", "image/png"):
        raise ActivityError(
            _("Berkas ini bukan foto JPEG atau PNG. Pilih foto dari galeri atau kamera."), "foto"
        )
    source = data
    try:
        for side, quality in PHOTO_STEPS:
            body, width, height = reencode_image(source, "image/jpeg", side, quality=quality)
            if len(body) <= PHOTO_BUDGET:
                break
            source = body  # the next step starts from the smaller picture
        thumb, _w, _h = reencode_image(body, "image/jpeg", THUMB_SIDE, quality=THUMB_QUALITY)
    except ImageTooLarge as error:
        raise ActivityError(str(error), "foto") from None
    except ImageError:
        raise ActivityError(
            _("Foto tidak dapat dibaca: berkasnya rusak atau bukan foto. Pilih foto lain."), "foto"
        ) from None
    latitude = longitude = None
    if keep_location:
        latitude, longitude = gps_position(data)
    return CleanPhoto(body, thumb, width, height, latitude, longitude)


def _degrees(value, ref) -> float | None:
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = d + m / 60 + s / 3600
    return -result if ref in ("S", "W") else result


def gps_position(data: bytes) -> tuple[float | None, float | None]:
    """Latitude and longitude from a JPEG's EXIF GPS data; (None, None) when it has none or
    they make no sense. Only the header is read."""
    try:
        with warnings.catch_warnings(), Image.open(io.BytesIO(data)) as image:
            warnings.simplefilter("ignore")
            gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # a damaged EXIF block: no place, the photo itself was already read
        return None, None
    latitude = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef))
    longitude = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef))
    if latitude is None or longitude is None:
        return None, None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None, None
    return round(latitude, 6), round(longitude, 6)


def photo_path(photo: ActivityPhoto, *, small: bool = False) -> Path | None:
    path = upload_folder(FOLDER) / Path(photo.file).name
    if small:
        path = path.with_name(path.stem + "-kecil.jpg")
    return path if path.is_file() else None


def _store(report: ActivityReport, photo: CleanPhoto) -> None:
    name = secrets.token_hex(16)
    folder = upload_folder(FOLDER)
    (folder / f"{name}.jpg").write_bytes(photo.body)
    (folder / f"{name}-kecil.jpg").write_bytes(photo.thumb)
    report.photos.append(
        ActivityPhoto(
            file=f"{name}.jpg",
            size=len(photo.body),
            width=photo.width,
            height=photo.height,
            latitude=photo.latitude,
            longitude=photo.longitude,
        )
    )


def _remove_files(photos: list[ActivityPhoto]) -> None:
    for photo in photos:
        for small in (False, True):
            path = photo_path(photo, small=small)
            if path is not None:
                path.unlink(missing_ok=True)


# --- reports -------------------------------------------------------------------------------------


def _check(kim: Kim, data: ReportData) -> None:
    if kim.status is not KimStatus.TERVERIFIKASI:
        raise ActivityError(_("Hanya KIM yang sudah terverifikasi yang dapat melaporkan kegiatan."))
    if Channel.MEDSOS in data.channels and not data.link:
        raise ActivityError(_("Tulis tautan unggahan media sosialnya."), "link")
    if not 0 <= data.reach <= REACH_MAX:
        raise ActivityError(_("Jumlah orang tidak masuk akal."), "reach")


def _apply(report: ActivityReport, data: ReportData) -> None:
    report.kind = data.kind
    report.done_on = data.done_on
    report.text = data.text.strip()[:1000]
    report.channels = ",".join(c.value for c in data.channels)
    report.link = data.link.strip()[:300]
    report.reach = data.reach


def find_sent(kim: Kim, client_id: str) -> ActivityReport | None:
    return db.session.scalar(
        sa.select(ActivityReport).where(
            ActivityReport.kim_id == kim.id, ActivityReport.client_id == client_id
        )
    )


def send_report(
    kim: Kim, data: ReportData, photos: list[bytes], client_id: str, by: User
) -> tuple[ActivityReport, bool]:
    """Store a new report and its photos; ``(report, True)``. The same ``client_id`` sent again
    (a double tap, the outbox trying after a lost answer) gives ``(the first report, False)``."""
    sent = find_sent(kim, client_id)
    if sent is not None:
        return sent, False
    _check(kim, data)
    if len(photos) > MAX_PHOTOS:
        raise ActivityError(_("Paling banyak %(n)d foto per laporan.", n=MAX_PHOTOS), "foto")
    cleaned = [clean_photo(p, data.keep_location) for p in photos]
    report = ActivityReport(
        kim_id=kim.id, village_code=kim.village_code, client_id=client_id, created_by_id=by.id
    )
    _apply(report, data)
    for photo in cleaned:
        _store(report, photo)
    try:
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError:  # the same report, sent a moment ago by a parallel try
        _remove_files(report.photos)
        sent = find_sent(kim, client_id)
        if sent is None:
            raise
        return sent, False
    audit.record(
        "activity.report",
        "kim",
        kim.id,
        region_code=kim.village_code,
        changes={"report": report.id, "kind": report.kind.value, "photos": len(cleaned)},
        actor=by,
    )
    return report, True


def change_report(
    report: ActivityReport,
    data: ReportData,
    photos: list[bytes],
    remove: set[int],
    by: User,
) -> None:
    """Change a report that waits for review or was returned for fixes; a returned one goes back
    to the operator. Photos in ``remove`` (ids) are dropped, ``photos`` added."""
    if not report.editable:
        raise ActivityError(_("Laporan yang sudah ditinjau tidak dapat diubah lagi."))
    _check(report.kim, data)
    kept = [p for p in report.photos if p.id not in remove]
    if len(kept) + len(photos) > MAX_PHOTOS:
        raise ActivityError(_("Paling banyak %(n)d foto per laporan.", n=MAX_PHOTOS), "foto")
    cleaned = [clean_photo(p, data.keep_location) for p in photos]
    dropped = [p for p in report.photos if p.id in remove]
    _apply(report, data)
    for photo in dropped:
        report.photos.remove(photo)
    for photo in cleaned:
        _store(report, photo)
    resent = report.status is ReportStatus.PERLU_PERBAIKAN
    if resent:
        report.status = ReportStatus.DIKIRIM
    db.session.flush()
    _remove_files(dropped)
    audit.record(
        "activity.report_update",
        "kim",
        report.kim_id,
        region_code=report.village_code,
        changes={"report": report.id, "resent": resent, "photos": len(report.photos)},
        actor=by,
    )


def delete_report(report: ActivityReport, by: User) -> None:
    """Take back a report not yet reviewed (sent by mistake)."""
    if report.status is not ReportStatus.DIKIRIM:
        raise ActivityError(_("Hanya laporan yang belum ditinjau yang dapat dihapus."))
    photos = list(report.photos)
    db.session.delete(report)
    db.session.flush()
    _remove_files(photos)
    audit.record(
        "activity.report_delete",
        "kim",
        report.kim_id,
        region_code=report.village_code,
        changes={"report": report.id},
        actor=by,
    )


REVIEWS = (ReportStatus.DITERIMA, ReportStatus.PERLU_PERBAIKAN, ReportStatus.DISEMBUNYIKAN)


def review_report(report: ActivityReport, status: ReportStatus, note: str, by: User) -> None:
    """The operator's decision: accept, ask for a fix (the note says what), or hide (the note
    says why). A decision may be changed later; the KIM's people are told of a fix or a hide."""
    if status not in REVIEWS:
        raise ActivityError(_("Pilihan tidak valid."))
    note = decision_note(
        note,
        passed=status is ReportStatus.DITERIMA,
        fix=status is ReportStatus.PERLU_PERBAIKAN,
        error=ActivityError,
    )
    before = report.status
    report.status = status
    report.review_note = note
    report.reviewed_by_id = by.id
    report.reviewed_at = utcnow()
    db.session.flush()
    audit.record(
        "activity.review",
        "kim",
        report.kim_id,
        region_code=report.village_code,
        changes={"report": report.id, "from": before.value, "to": status.value},
        actor=by,
    )
    if ReportStatus.DITERIMA in (before, status):
        refresh_kim(report.kim_id, report.done_on)
    if status is not ReportStatus.DITERIMA:
        signals.activity_reviewed.send(report, by=by)


# --- what the KIM shows in public ----------------------------------------------------------------


def public_kinds(kim_id: int) -> tuple[ActivityKind, ...]:
    stored = db.session.scalar(
        sa.select(ActivitySettings.public_kinds).where(ActivitySettings.kim_id == kim_id)
    )
    if stored is None:
        return PUBLIC_BY_DEFAULT
    known = {k.value for k in ActivityKind}
    return tuple(ActivityKind(v) for v in stored.split(",") if v in known)


def set_public_kinds(kim: Kim, kinds: list[ActivityKind], by: User) -> None:
    settings = db.session.get(ActivitySettings, kim.id)
    if settings is None:
        settings = ActivitySettings(kim_id=kim.id)
        db.session.add(settings)
    settings.public_kinds = ",".join(k.value for k in ActivityKind if k in kinds)
    db.session.flush()
    audit.record(
        "activity.public_kinds",
        "kim",
        kim.id,
        region_code=kim.village_code,
        changes={"kinds": settings.public_kinds},
        actor=by,
    )
