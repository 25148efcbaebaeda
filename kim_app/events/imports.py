"""Import of an event's participants from XLSX/CSV: one row per person, matched to the event's
registrations by phone number. Checked with two queries and written with one bulk insert,
whatever the number of rows; new people take the seats left in file order. The pipeline around
it (upload, mapping, preview, confirm) is ``kim_app.importing``."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from kim_app import audit, signals
from kim_app.events.models import Event, Registration, RegistrationStatus, Source
from kim_app.events.operations import EventError
from kim_app.events.participants.operations import ensure_editable, take_seats
from kim_app.events.queries import origin_choices
from kim_app.extensions import db
from kim_app.groups.import_values import parse_gender
from kim_app.groups.models import Kim, name_key
from kim_app.groups.operations import kim_filter
from kim_app.importing import Action, Importer, Plan, Row, RowPlan, Target
from kim_app.importing.mapping import (
    KIM_WORDS,
    NAME_WORDS,
    PHONE_WORDS,
    POSITION_WORDS,
    is_gender,
)
from kim_app.importing.values import checked_length, shown, words
from kim_app.phones import PhoneError, normalise_phone
from kim_app.security import codes_below

PARTICIPANT_TARGETS = (
    Target("name", _l("Nama"), True),
    Target("phone", _l("No HP/WhatsApp"), True),
    Target("institution", _l("Instansi/lembaga")),
    Target("position", _l("Jabatan")),
    Target("gender", _l("Jenis kelamin")),
    Target("kim_name", _l("Nama KIM (boleh kosong)")),
    Target("origin", _l("Asal daerah: kabupaten/kota (boleh kosong)")),
)

INSTITUTION_WORDS = {"instansi", "lembaga", "institusi", "institution", "organisasi", "opd"}
INSTITUTION_WORDS |= {"dinas", "kantor", "asal", "unit", "organization", "agency"}


def _participant_target(w: set[str]) -> str | None:
    if w & KIM_WORDS:
        return "kim_name"
    if w & {"daerah", "kabupaten", "kab", "kota", "domisili", "origin"}:
        return "origin"
    if w & INSTITUTION_WORDS:
        return "institution"
    if w & POSITION_WORDS:
        return "position"
    if is_gender(w):
        return "gender"
    if w & PHONE_WORDS:
        return "phone"
    if w & NAME_WORDS:
        return "name"
    return None


@dataclass
class ParticipantRowPlan(RowPlan):
    """A row of a participant file: the KIM it names and the registration its number has."""

    kim: Kim | None = None
    registration: Registration | None = None


def plan_participants(event: Event, rows: list[Row], user) -> list[ParticipantRowPlan]:
    """Check every row of a participant file and say what importing it will do; nothing is
    written. Two queries whatever the number of rows (the KIM named, the numbers already in)."""
    plans: list[ParticipantRowPlan] = []
    kim_keys: dict[int, str] = {}
    for row in rows:
        line = row.line
        plan = ParticipantRowPlan(line=line, label=row["name"])
        errors = plan.errors
        name = checked_length(row["name"], 120, _("Nama"), errors)
        if not name:
            errors.append(_("Nama kosong."))
        raw_phone = row["phone"]
        phone = None
        if not raw_phone:
            errors.append(_("No HP kosong."))
        else:
            try:
                phone = normalise_phone(raw_phone)
            except PhoneError:
                errors.append(_("No HP tidak valid: %(phone)s.", phone=shown(raw_phone)))
        gender = parse_gender(row["gender"])
        if gender is False:
            errors.append(
                _(
                    "Jenis kelamin tidak dikenal: %(text)s (isi L atau P).",
                    text=shown(row["gender"]),
                )
            )
            gender = None
        kim_name = row["kim_name"]
        if kim_name:
            key = name_key(kim_name)
            if key:
                kim_keys[line] = key
            else:
                errors.append(_("Nama KIM harus memuat nama selain kata KIM."))
        plan.values = {
            "name": name,
            "phone": phone,
            "institution": checked_length(row["institution"], 200, _("Instansi"), errors),
            "position": checked_length(row["position"], 120, _("Jabatan"), errors),
            "gender": gender,
            "kim_name": kim_name,
            "origin": row["origin"],
        }
        plans.append(plan)
    _read_origins(event, plans)
    kims = _kims_named(event, set(kim_keys.values()), user)
    phones = {p.values["phone"] for p in plans if p.values["phone"]}
    existing = {}
    if phones:
        existing = {
            r.phone: r
            for r in db.session.scalars(
                sa.select(Registration).where(
                    Registration.event_id == event.id, Registration.phone.in_(phones)
                )
            )
        }
    seen: dict[str, int] = {}
    for plan in plans:
        _match_row(plan, kim_keys.get(plan.line), kims, existing, seen)
    return plans


def _origin_key(text: str) -> str:
    """``Kab. Paser`` and ``KABUPATEN  PASER`` → ``paser``; ``Kota Balikpapan`` → ``kota balikpapan``
    (a city keeps its word: Bogor has a regency and a city)."""
    key = " ".join(words(text))
    for prefix in ("kabupaten ", "kab "):
        key = key.removeprefix(prefix)
    return key


def _read_origins(event: Event, plans: list[ParticipantRowPlan]) -> None:
    """Each row's "asal daerah" as a regency of the event's province (by code or name), or an
    error saying it is not one; one query when any row has one."""
    texts = [(plan, plan.values.pop("origin")) for plan in plans]
    if not any(text for _plan, text in texts):
        return
    known: dict[str, list[str]] = {}
    for code, name in origin_choices(event):
        for key in {code, _origin_key(name), " ".join(words(name))}:
            known.setdefault(key, []).append(code)
    for plan, text in texts:
        if not text:
            continue
        codes = known.get(text.strip()) or known.get(_origin_key(text), [])
        if len(codes) == 1:
            plan.values["origin_code"] = codes[0]
        else:
            plan.errors.append(
                _(
                    "Asal daerah tidak dikenal: %(text)s (tulis kabupaten/kota di provinsi kegiatan).",
                    text=shown(text),
                )
            )


def _kims_named(event: Event, keys: set[str], user) -> dict[str, list[Kim]]:
    """KIM in the event's area (and the user's scope) whose name key is among ``keys``."""
    found: dict[str, list[Kim]] = {}
    if keys:
        for kim in db.session.scalars(
            sa.select(Kim)
            .where(
                Kim.name_key.in_(keys),
                kim_filter(user),
                codes_below(Kim.village_code, event.region_code),
            )
            .order_by(Kim.id)
        ):
            found.setdefault(kim.name_key, []).append(kim)
    return found


def _match_row(plan: ParticipantRowPlan, key, kims, existing, seen: dict[str, int]) -> None:
    values, errors = plan.values, plan.errors
    if key is not None:
        candidates = kims.get(key, [])
        if not candidates:
            errors.append(
                _(
                    "KIM “%(name)s” tidak ditemukan di wilayah kegiatan.",
                    name=shown(values["kim_name"]),
                )
            )
        elif len(candidates) > 1:
            errors.append(
                _(
                    "Nama KIM “%(name)s” ada di %(n)d desa. Tulis nama KIM yang lebih lengkap.",
                    name=shown(values["kim_name"]),
                    n=len(candidates),
                )
            )
        else:
            plan.kim = candidates[0]
            values["institution"] = values["institution"] or plan.kim.name
    phone = values["phone"]
    if phone and not errors:
        if phone in seen:
            errors.append(_("Nomor HP sama dengan baris %(line)d.", line=seen[phone]))
        else:
            seen[phone] = plan.line
    plan.place = " · ".join(v for v in (values["position"], values["institution"]) if v)
    if errors:
        return
    registration = existing.get(phone)
    plan.registration = registration
    if registration is None:
        plan.action = Action.NEW
        return
    wanted = {
        "name": values["name"],
        "institution": values["institution"],
        "position": values["position"],
        "gender": values["gender"],
        "kim_id": plan.kim.id if plan.kim else None,
        # a KIM's people come from its village; others from the region the file names
        "origin_code": plan.kim.village_code if plan.kim else values.get("origin_code"),
    }
    # a blank cell leaves what is stored
    plan.changes = {
        key: value
        for key, value in wanted.items()
        if value not in (None, "") and getattr(registration, key) != value
    }
    plan.action = Action.UPDATE if plan.changes else Action.SAME


@dataclass
class ParticipantImport:
    created: int
    waiting: int
    updated: int
    unchanged: int
    skipped: int


def apply_participants(event: Event, plan: Plan, user, filename: str) -> ParticipantImport:
    """Write the valid rows: new people take the seats left in file order, the rest join the
    waiting list; known numbers are updated (their status never changes). Audited once."""
    ensure_editable(event)
    new_rows = [row for row in plan.valid if row.action is Action.NEW]
    seats = take_seats(event.id, len(new_rows))
    created = []
    for index, row in enumerate(new_rows):
        values = row.values
        created.append(
            Registration(
                event_id=event.id,
                kim_id=row.kim.id if row.kim else None,
                origin_code=row.kim.village_code if row.kim else values.get("origin_code"),
                name=values["name"],
                institution=values["institution"],
                position=values["position"],
                gender=values["gender"],
                phone=values["phone"],
                source=Source.IMPOR,
                status=RegistrationStatus.TERDAFTAR
                if index < seats
                else RegistrationStatus.DAFTAR_TUNGGU,
                ticket=secrets.token_urlsafe(18),
            )
        )
    db.session.add_all(created)
    for row in plan.valid:
        if row.action is Action.UPDATE:
            for key, value in row.changes.items():
                setattr(row.registration, key, value)
    db.session.flush()
    signals.tickets_prepared.send(event, registrations=created, by=user)
    result = ParticipantImport(
        created=len(new_rows),
        waiting=len(new_rows) - seats,
        updated=plan.count(Action.UPDATE),
        unchanged=plan.count(Action.SAME),
        skipped=len(plan.invalid),
    )
    audit.record(
        "registration.import",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"file": filename[:100], **asdict(result)},
        actor=user,
    )
    return result


class ParticipantImporter(Importer):
    """Participants of one event (``event`` is None only where no row is checked: staging an
    upload, guessing its columns)."""

    kind = "peserta"
    label = _l("peserta kegiatan")
    targets = PARTICIPANT_TARGETS

    def __init__(self, event: Event | None = None):
        self.event = event

    def params(self) -> dict:
        return {"event_id": self.event.id}

    @classmethod
    def from_params(cls, params: dict) -> ParticipantImporter | None:
        event = db.session.get(Event, params.get("event_id"))
        return cls(event) if event is not None else None

    def region_of(self, user) -> str | None:
        return self.event.region_code

    def guess(self, words: set[str]) -> str | None:
        return _participant_target(words)

    def check(self, rows: list[Row], user) -> list[RowPlan]:
        return plan_participants(self.event, rows, user)

    def apply(self, plan: Plan, user, filename: str) -> ParticipantImport:
        return apply_participants(self.event, plan, user, filename)

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, EventError):
            return str(error)
        if isinstance(error, IntegrityError):  # a number registered meanwhile another way in
            return _(
                "Seseorang baru saja mendaftar dengan nomor yang ada di berkas ini. "
                "Periksa pratinjau lalu impor lagi."
            )
        return None

    def finished(self, result: ParticipantImport) -> str:
        notice = _(
            "Impor peserta selesai: %(new)d baru, %(updated)d diperbarui, %(same)d tidak berubah, "
            "%(skipped)d baris tidak valid dilewati.",
            new=result.created,
            updated=result.updated,
            same=result.unchanged,
            skipped=result.skipped,
        )
        if result.waiting:
            notice += " " + _(
                "%(n)d orang masuk daftar tunggu karena kursi penuh.", n=result.waiting
            )
        return notice
