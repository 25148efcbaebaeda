"""Forms of the event editor: the event with its sessions and speakers, status steps, cloning.

Messages WTForms would write in English (a bad date, a bad number, a tampered choice) are given
in the interface language on each field.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from kim_app.events.models import EventKind, RegistrationMode

REQUIRED = _l("Wajib diisi.")
BAD_CHOICE = _l("Pilihan tidak valid.")
BAD_DATE = _l("Tanggal tidak valid.")
BAD_TIME = _l("Jam tidak valid. Contoh: 09:00.")
BAD_NUMBER = _l("Tuliskan angka saja.")
TOO_LONG = _l("Paling banyak %(max)d karakter.")

SPEAKERS_PER_SESSION = 3
MAX_SESSIONS = 20
MAX_CAPACITY = 100_000


EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
DAY_LIMITS = {"min": EARLIEST.isoformat(), "max": LATEST.isoformat()}


def _plausible_day(_form, field) -> None:
    """Keep dates within this century and the next, so moving an agenda never overflows."""
    value = field.data.date() if isinstance(field.data, datetime) else field.data
    if value is not None and not EARLIEST <= value <= LATEST:
        raise ValidationError(_l("Tanggal harus antara tahun 2000 dan 2100."))


def _length(limit: int) -> Length:
    return Length(max=limit, message=TOO_LONG)


def _web_link(_form, field) -> None:
    """Only http(s) links with a host: no ``javascript:`` or other schemes on the event page."""
    value = (field.data or "").strip()
    field.data = value
    if not value:
        return
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in value:
        raise ValidationError(_l("Tautan harus alamat web lengkap, diawali http:// atau https://"))


def _typed(field) -> bool:
    """Whether the person typed something into ``field`` (even something invalid)."""
    raw = [value for value in (field.raw_data or []) if str(value).strip()]
    return bool(raw) or field.data is not None


class SpeakerRow(Form):
    """One speaker of a session; a row without a name is ignored."""

    name = StringField(_l("Nama narasumber"), validators=[_length(120)])
    position = StringField(_l("Jabatan"), validators=[_length(120)])
    institution = StringField(_l("Instansi"), validators=[_length(200)])

    @property
    def filled(self) -> bool:
        return bool((self.name.data or "").strip())


class SessionRow(Form):
    """One agenda item: a day, start and end time (local time of the event), topic, speakers."""

    # the session's id when editing, so the same session is updated instead of replaced
    id = HiddenField()
    day = DateField(
        _l("Tanggal"),
        validators=[Optional(), _plausible_day],
        invalid_value_message=BAD_DATE,
        render_kw=DAY_LIMITS,
    )
    start = TimeField(_l("Jam mulai"), validators=[Optional()], invalid_value_message=BAD_TIME)
    end = TimeField(_l("Jam selesai"), validators=[Optional()], invalid_value_message=BAD_TIME)
    topic = StringField(_l("Topik atau acara"), validators=[_length(300)])
    speakers = FieldList(
        FormField(SpeakerRow),
        min_entries=SPEAKERS_PER_SESSION,
        max_entries=SPEAKERS_PER_SESSION,
    )

    @property
    def blank(self) -> bool:
        """Nothing typed in this row at all: it is skipped, not an error."""
        return (
            not any(_typed(f) for f in (self.day, self.start, self.end))
            and not (self.topic.data or "").strip()
            and not any(entry.form.filled for entry in self.speakers.entries)
        )


class EventForm(FlaskForm):
    kind = SelectField(
        _l("Jenis kegiatan"),
        choices=[SelectChoice(k.value, k.label) for k in EventKind],
        invalid_choice_message=BAD_CHOICE,
    )
    title = StringField(_l("Judul kegiatan"), validators=[DataRequired(REQUIRED), _length(200)])
    description = TextAreaField(_l("Deskripsi"), validators=[_length(5000)])
    organiser = StringField(
        _l("Penyelenggara"),
        validators=[_length(200)],
        description=_l("Contoh: Diskominfo Kabupaten Penajam Paser Utara"),
    )
    contact = StringField(
        _l("Kontak panitia"),
        validators=[_length(200)],
        # shown to everyone on the public page, and offered as a WhatsApp hand-off to a participant
        # who lost the ticket: the organiser's own office contact, never a person's private number
        description=_l(
            "Tampil untuk umum di halaman kegiatan dan bagi peserta yang kehilangan tiket: "
            "email, telepon atau WhatsApp kantor, bukan nomor pribadi."
        ),
    )
    # for operators below admin: their regency, or their province and its regencies
    region = SelectField(_l("Wilayah penyelenggara"), invalid_choice_message=BAD_CHOICE)
    venue_name = StringField(_l("Nama tempat"), validators=[_length(200)])
    venue_address = StringField(
        _l("Alamat tempat"),
        validators=[_length(300)],
        description=_l("Dipakai untuk tautan peta."),
    )
    online_link = StringField(
        _l("Tautan rapat daring"),
        validators=[_length(300), _web_link],
        description=_l("Kosongkan bila tidak ada. Zoom, Google Meet, YouTube…"),
    )
    capacity = IntegerField(
        _l("Kapasitas peserta"),
        validators=[
            Optional(),
            # the service says the same; checked here too so every mistake shows at once
            NumberRange(
                min=1, message=_l("Kapasitas harus lebih dari 0, atau kosongkan untuk tanpa batas.")
            ),
            NumberRange(max=MAX_CAPACITY, message=_l("Kapasitas terlalu besar.")),
        ],
        invalid_value_message=BAD_NUMBER,
        description=_l("Kosongkan untuk tanpa batas."),
        render_kw={"min": 1, "inputmode": "numeric"},
    )
    registration_mode = SelectField(
        _l("Cara pendaftaran"),
        choices=[SelectChoice(m.value, m.label) for m in RegistrationMode],
        default=RegistrationMode.KEDUANYA.value,
        invalid_choice_message=BAD_CHOICE,
    )
    registration_deadline = DateTimeLocalField(
        _l("Batas pendaftaran"),
        validators=[Optional(), _plausible_day],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        invalid_value_message=_l("Tanggal dan jam tidak valid."),
        description=_l("Waktu setempat penyelenggara. Kosongkan bila tanpa batas waktu."),
    )
    sessions = FieldList(FormField(SessionRow), min_entries=0, max_entries=MAX_SESSIONS)

    # errors the view finds beyond single fields: no session at all, a region the picker gave
    sessions_error: str | None = None
    region_error: str | None = None


class EventStatusForm(FlaskForm):
    """One status step; cancelling needs a reason participants will read."""

    reason = TextAreaField(_l("Alasan pembatalan"), validators=[_length(2000)])


class CloneForm(FlaskForm):
    first_day = DateField(
        _l("Hari pertama kegiatan baru"),
        validators=[DataRequired(REQUIRED), _plausible_day],
        invalid_value_message=BAD_DATE,
        render_kw=DAY_LIMITS,
    )
