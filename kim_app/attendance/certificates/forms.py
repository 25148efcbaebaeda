"""Certificates, the form: the event's attendance and certificate settings (self check-in
window, venue PIN, signatures, the signing official and images, the rule and the number format)
with its validators."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, FileField, IntegerField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from kim_app.attendance.certificates.operations import (
    IMAGE_MAX_BYTES,
    CertificateError,
    clean_image,
)
from kim_app.attendance.certificates.queries import number_format_problem
from kim_app.events.models import CertificateRule, Event

BAD_NUMBER = _l("Tuliskan angka saja.")
TOO_LONG = _l("Paling banyak %(max)d karakter.")


def _digits(_form, field) -> None:
    field.data = (field.data or "").strip()
    if field.data and not field.data.isdigit():
        raise ValidationError(_l("Hanya angka, tanpa spasi atau titik."))


# a new venue PIN has at least six digits: a million to try, against the per-event limit on wrong
# PINs at self check-in (KIM_RATELIMIT_PIN). Four-digit PINs saved before still work; the settings
# page asks for a new one.
PIN_DIGITS = 6


def _pin(_form, field) -> None:
    if field.data and field.data.isdigit() and not PIN_DIGITS <= len(field.data) <= 8:
        raise ValidationError(_l("PIN terdiri dari 6–8 angka, atau kosongkan."))


def _number_format(_form, field) -> None:
    field.data = (field.data or "").strip()
    problem = number_format_problem(field.data)
    if problem:
        raise ValidationError(problem)


class SettingsForm(FlaskForm):
    """The attendance and certificate settings of one event."""

    checkin_on = BooleanField(_l("Peserta boleh presensi mandiri dari ponselnya"))
    checkin_opens_minutes = IntegerField(
        _l("Presensi mandiri dibuka (menit sebelum sesi mulai)"),
        validators=[
            Optional(),
            NumberRange(0, 240, _l("Antara 0 dan 240 menit.")),
        ],
        invalid_value_message=BAD_NUMBER,
        render_kw={"min": 0, "max": 240, "inputmode": "numeric"},
        description=_l("Ditutup saat sesi berakhir. 0 = dibuka tepat saat sesi mulai."),
    )
    venue_pin = StringField(
        _l("PIN lokasi"),
        validators=[_digits, _pin],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 8},
        description=_l(
            "6–8 angka yang ditampilkan di ruangan, agar tidak ada yang presensi dari rumah. "
            "Kosongkan bila tidak perlu."
        ),
    )
    signatures = BooleanField(_l("Minta tanda tangan peserta saat presensi"))
    signer_name = StringField(
        _l("Nama pejabat penandatangan"), validators=[Length(max=120, message=TOO_LONG)]
    )
    signer_position = StringField(
        _l("Jabatan"),
        validators=[Length(max=200, message=TOO_LONG)],
        description=_l("Misalnya Kepala Dinas Komunikasi dan Informatika."),
    )
    signer_nip = StringField(
        _l("NIP (boleh kosong)"),
        validators=[_digits, Length(max=30, message=TOO_LONG)],
        render_kw={"inputmode": "numeric"},
        description=_l("Angka saja; NIP PNS terdiri dari 18 angka."),
    )
    signer_signature = FileField(
        _l("Gambar tanda tangan pejabat (boleh kosong)"),
        description=_l(
            "PNG atau JPEG, paling besar 2 MB; tanda tangan di kertas putih, difoto atau dipindai."
        ),
        render_kw={"accept": "image/png,image/jpeg"},
    )
    remove_signer_signature = BooleanField(_l("Hapus gambar tanda tangan"))
    certificate_logo = FileField(
        _l("Logo instansi (boleh kosong)"),
        description=_l("PNG atau JPEG, paling besar 2 MB; dicetak di atas sertifikat."),
        render_kw={"accept": "image/png,image/jpeg"},
    )
    remove_certificate_logo = BooleanField(_l("Hapus logo"))
    certificates_on = BooleanField(_l("Terbitkan sertifikat bagi peserta yang cukup hadir"))
    certificate_rule = RadioField(
        _l("Syarat kehadiran"), default=CertificateRule.PERSEN.value, validate_choice=False
    )
    certificate_min_percent = IntegerField(
        _l("Kehadiran minimal (persen dari jumlah sesi)"),
        validators=[Optional(), NumberRange(1, 100, _l("Antara 1 dan 100."))],
        invalid_value_message=BAD_NUMBER,
        render_kw={"min": 1, "max": 100, "inputmode": "numeric"},
    )
    certificate_number_format = StringField(
        _l("Format nomor sertifikat"),
        validators=[_number_format, Length(max=80, message=TOO_LONG)],
        description=_l(
            "{no} nomor urut ({no:03} menjadi 001), {bulan} bulan dalam angka Romawi, "
            "{tahun} tahun, {kode} kode kegiatan."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # labels in the reader's language, so made per request
        self.certificate_rule.choices = [SelectChoice(r.value, r.label) for r in CertificateRule]

    def validate_checkin_opens_minutes(self, field) -> None:
        if self.checkin_on.data and field.data is None:
            raise ValidationError(_l("Isi berapa menit sebelum sesi presensi dibuka."))

    def validate_certificate_rule(self, field) -> None:
        if field.data not in {rule.value for rule in CertificateRule}:
            field.data = CertificateRule.PERSEN.value
            raise ValidationError(_l("Pilih salah satu syarat kehadiran."))

    def validate_certificate_min_percent(self, field) -> None:
        if (
            self.certificates_on.data
            and self.certificate_rule.data == CertificateRule.PERSEN
            and field.data is None
        ):
            raise ValidationError(_l("Isi kehadiran minimal, misalnya 75."))

    def validate_signer_signature(self, field) -> None:
        field.cleaned = _uploaded_image(field, "signer_signature")

    def validate_certificate_logo(self, field) -> None:
        field.cleaned = _uploaded_image(field, "certificate_logo")


def _uploaded_image(field, column: str) -> tuple[bytes, str] | None:
    """The cleaned image a file field carries, or None when no file was chosen."""
    upload = field.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None
    try:
        return clean_image(upload.read(IMAGE_MAX_BYTES + 1), column)
    except CertificateError as error:
        raise ValidationError(_("%(problem)s Pilih berkasnya lagi.", problem=str(error))) from None


SETTING_FIELDS = (
    "checkin_opens_minutes",
    "venue_pin",
    "signatures",
    "signer_name",
    "signer_position",
    "signer_nip",
    "certificate_min_percent",
    "certificate_rule",
    "certificate_number_format",
)


def settings_form_for(event: Event) -> SettingsForm:
    """The settings form filled in from the event, with the defaults for what is off."""
    form = SettingsForm(formdata=None, obj=event)
    form.checkin_on.data = event.checkin_opens_minutes is not None
    form.checkin_opens_minutes.data = event.checkin_opens_minutes
    if form.checkin_opens_minutes.data is None:
        form.checkin_opens_minutes.data = 60
    form.certificates_on.data = event.certificate_min_percent is not None
    if event.certificate_min_percent is None:
        form.certificate_min_percent.data = 75
    form.certificate_rule.data = (event.certificate_rule or CertificateRule.PERSEN).value
    return form
