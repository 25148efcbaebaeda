"""Forms of the event editor: the event with its sessions and speakers, status steps, cloning.

Messages WTForms would write in English (a bad date, a bad number, a tampered choice) are given
in the interface language on each field.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from kim_app.events.models import (
    Event,
    EventKind,
    Registration,
    RegistrationMode,
)
from kim_app.events.operations import (
    EventError,
    PersonData,
)
from kim_app.events.queries import origin_choices
from kim_app.groups.models import Gender
from kim_app.phones import PhoneError, display_phone, normalise_phone

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


def plausible_day(_form, field) -> None:
    """Keep dates within this century and the next, so moving an agenda never overflows."""
    value = field.data.date() if isinstance(field.data, datetime) else field.data
    if value is not None and not EARLIEST <= value <= LATEST:
        raise ValidationError(_l("Tanggal harus antara tahun 2000 dan 2100."))


def max_length(limit: int) -> Length:
    """At most ``limit`` characters, with the app's one message for it."""
    return Length(max=limit, message=TOO_LONG)


def web_link(_form, field) -> None:
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

    name = StringField(_l("Nama narasumber"), validators=[max_length(120)])
    position = StringField(_l("Jabatan"), validators=[max_length(120)])
    institution = StringField(_l("Instansi"), validators=[max_length(200)])

    @property
    def filled(self) -> bool:
        return bool((self.name.data or "").strip())


class SessionRow(Form):
    """One agenda item: a day, start and end time (local time of the event), topic, speakers."""

    # the session's id when editing, so the same session is updated instead of replaced
    id = HiddenField()
    day = DateField(
        _l("Tanggal"),
        validators=[Optional(), plausible_day],
        invalid_value_message=BAD_DATE,
        render_kw=DAY_LIMITS,
    )
    start = TimeField(_l("Jam mulai"), validators=[Optional()], invalid_value_message=BAD_TIME)
    end = TimeField(_l("Jam selesai"), validators=[Optional()], invalid_value_message=BAD_TIME)
    topic = StringField(_l("Topik atau acara"), validators=[max_length(300)])
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
    title = StringField(_l("Judul kegiatan"), validators=[DataRequired(REQUIRED), max_length(200)])
    description = TextAreaField(_l("Deskripsi"), validators=[max_length(5000)])
    organiser = StringField(
        _l("Penyelenggara"),
        validators=[max_length(200)],
        description=_l("Contoh: Diskominfo Kabupaten Penajam Paser Utara"),
    )
    contact = StringField(
        _l("Kontak panitia"),
        validators=[max_length(200)],
        # shown to everyone on the public page, and offered as a WhatsApp hand-off to a participant
        # who lost the ticket: the organiser's own office contact, never a person's private number
        description=_l(
            "Tampil untuk umum di halaman kegiatan dan bagi peserta yang kehilangan tiket: "
            "email, telepon atau WhatsApp kantor, bukan nomor pribadi."
        ),
    )
    # for operators below admin: their regency, or their province and its regencies
    region = SelectField(_l("Wilayah penyelenggara"), invalid_choice_message=BAD_CHOICE)
    venue_name = StringField(_l("Nama tempat"), validators=[max_length(200)])
    venue_address = StringField(
        _l("Alamat tempat"),
        validators=[max_length(300)],
        description=_l("Dipakai untuk tautan peta."),
    )
    online_link = StringField(
        _l("Tautan rapat daring"),
        validators=[max_length(300), web_link],
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
        validators=[Optional(), plausible_day],
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

    reason = TextAreaField(_l("Alasan pembatalan"), validators=[max_length(2000)])


class CloneForm(FlaskForm):
    first_day = DateField(
        _l("Hari pertama kegiatan baru"),
        validators=[DataRequired(REQUIRED), plausible_day],
        invalid_value_message=BAD_DATE,
        render_kw=DAY_LIMITS,
    )


def _gender_given(_form, field) -> None:
    if field.data not in {g.value for g in Gender}:
        raise ValidationError(_l("Pilih jenis kelamin."))


def _mobile_number(_form, field) -> None:
    try:
        normalise_phone(field.data)
    except PhoneError:
        raise ValidationError(_l("Nomor WhatsApp tidak valid. Contoh: 0812-3456-7890.")) from None


def offered_origin(_form, field) -> None:
    """A form's "asal daerah": empty, or one of the choices the form offered (a form that offers
    none, such as the walk-in form, takes none)."""
    if field.data and field.data not in {choice.value for choice in field.choices or ()}:
        raise ValidationError(_("Pilih kabupaten/kota dari daftar."))


def _gender_choice(_form, field) -> None:
    if (field.data or "") not in {"", *(g.value for g in Gender)}:
        raise ValidationError(_l("Pilihan tidak valid."))


class RegistrationForm(FlaskForm):
    """What a person gives to register: the minimum (no NIK, no address)."""

    name = StringField(
        _l("Nama lengkap"),
        validators=[DataRequired(REQUIRED), Length(max=120, message=TOO_LONG)],
    )
    phone = TelField(
        _l("Nomor WhatsApp"),
        validators=[DataRequired(REQUIRED), Length(max=30, message=TOO_LONG)],
        description=_l("Contoh: 0812-3456-7890. Tidak ditampilkan kepada siapa pun."),
    )
    institution = StringField(
        _l("KIM atau instansi"),
        validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)],
        description=_l("Misalnya KIM Sebakung Jaya, Diskominfo, PKK Kecamatan."),
    )
    position = StringField(_l("Jabatan"), validators=[Length(max=120, message=TOO_LONG)])
    gender = RadioField(
        _l("Jenis kelamin"),
        choices=[SelectChoice(g.value, g.label) for g in Gender],
        validate_choice=False,
        validators=[_gender_given],
    )
    origin = SelectField(
        _l("Asal daerah (boleh dikosongkan)"),
        choices=[],
        default="",
        validate_choice=False,
        validators=[offered_origin],
        description=_l("Kabupaten/kota tempat Anda tinggal atau bekerja."),
    )
    # explicit consent (UU 27/2022 art. 20-22): asked, never presumed, and kept with its version
    consent = BooleanField(
        _l("Saya setuju data saya diproses seperti tertulis di atas."),
        validators=[
            DataRequired(
                _l(
                    "Centang persetujuan ini untuk mendaftar. Tanpa itu tidak ada data yang disimpan."
                )
            )
        ],
    )

    def for_event(self, event: Event) -> RegistrationForm:
        """The event's province's regencies as origins; the first choice leaves it empty."""
        choices = [("", _("— pilih kabupaten/kota —")), *origin_choices(event)]
        self.origin.choices = [SelectChoice(code, name) for code, name in choices]
        return self

    def to_person(self) -> PersonData:
        return PersonData(
            name=self.name.data or "",
            phone=self.phone.data or "",
            institution=self.institution.data or "",
            position=self.position.data or "",
            gender=Gender(self.gender.data),
            origin_code=self.origin.data or None,
        )


class LostTicketForm(FlaskForm):
    """The number and the name given when registering: together they stand for the person.
    Its own ids: htmx may load it into the event page, beside the registration form."""

    phone = TelField(
        _l("Nomor WhatsApp"),
        id="hilang-phone",
        validators=[DataRequired(REQUIRED), Length(max=30, message=TOO_LONG), _mobile_number],
        description=_l("Nomor yang Anda pakai saat mendaftar."),
    )
    name = StringField(
        _l("Nama"),
        id="hilang-name",
        validators=[DataRequired(REQUIRED), Length(max=120, message=TOO_LONG)],
        description=_l("Seperti saat mendaftar; nama depan saja juga boleh."),
    )

    @property
    def e164(self) -> str:
        """The number as stored (call after validation)."""
        return normalise_phone(self.phone.data) or ""


class PersonForm(FlaskForm):
    """One person: an outsider added by hand, or a participant corrected in place."""

    name = StringField(
        _l("Nama"), validators=[DataRequired(REQUIRED), Length(max=120, message=TOO_LONG)]
    )
    phone = TelField(
        _l("Nomor WhatsApp"),
        validators=[Length(max=30, message=TOO_LONG)],
        description=_l("Contoh: 0812-3456-7890"),
    )
    institution = StringField(
        _l("Instansi/lembaga"), validators=[Length(max=200, message=TOO_LONG)]
    )
    position = StringField(_l("Jabatan"), validators=[Length(max=120, message=TOO_LONG)])
    gender = SelectField(
        _l("Jenis kelamin"),
        choices=[
            SelectChoice("", "—"),
            SelectChoice(Gender.L.value, _l("Laki-laki")),
            SelectChoice(Gender.P.value, _l("Perempuan")),
        ],
        validate_choice=False,
        validators=[_gender_choice],
    )
    origin = SelectField(
        _l("Asal daerah"),
        choices=[],
        default="",
        validate_choice=False,
        validators=[offered_origin],
        description=_l("Kabupaten/kota asal peserta. Peserta dari KIM berasal dari desa KIM-nya."),
    )

    def for_event(self, event: Event, current: Registration | None = None) -> PersonForm:
        """Offer the event's province's regencies as origins (and the one already stored)."""
        choices = [("", _("— tidak diketahui / dari luar provinsi —")), *origin_choices(event)]
        if current is not None and current.origin_code not in {c for c, _n in choices}:
            origin = current.origin
            choices.insert(1, (current.origin_code, origin.name if origin else current.origin_code))
        self.origin.choices = [SelectChoice(code, name) for code, name in choices]
        return self

    def fill_from(self, registration: Registration) -> None:
        self.name.data = registration.name
        self.phone.data = display_phone(registration.phone)
        self.institution.data = registration.institution
        self.position.data = registration.position
        self.gender.data = registration.gender.value if registration.gender else ""
        self.origin.data = registration.origin_code or ""

    def number_ids(self, suffix: str) -> None:
        """Unique ids, so several rows can be edited on one page."""
        for field in self:
            field.id = f"{field.id}-{suffix}"
            field.label.field_id = field.id

    def to_person(self) -> PersonData:
        return PersonData(
            name=self.name.data or "",
            phone=self.phone.data or "",
            institution=self.institution.data or "",
            position=self.position.data or "",
            gender=Gender(self.gender.data) if self.gender.data else None,
            origin_code=self.origin.data or "",
        )

    def attach(self, error: EventError) -> None:
        """Show a service error beside its field (or above the form)."""
        field = getattr(self, error.field or "", None)
        (field.errors if field is not None else self.form_errors).append(str(error))
