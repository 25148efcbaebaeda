"""The forms of attendance: the walk-in at the door, the scan and its officers, self check-in and
the signature. The certificate settings form is in certificates/forms.py, beside the
certificates topic whose image and number checks its validators share."""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Length, Optional

from kim_app.events.forms import REQUIRED, PersonForm


class WalkInForm(PersonForm):
    """Someone at the door who did not register; the client id makes a double tap one person."""

    client_id = HiddenField()
    marked_at = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.client_id.data:
            self.client_id.data = "dl-" + secrets.token_urlsafe(12)


class SignatureForm(FlaskForm):
    tanda_tangan = HiddenField()


class ScanForm(FlaskForm):
    kode = StringField(
        _l("Kode tiket"),
        validators=[DataRequired(REQUIRED)],
        description=_l("8 huruf/angka di bawah kode QR tiket, atau tautan tiketnya."),
    )
    client_id = HiddenField()
    marked_at = HiddenField()


class AssignForm(FlaskForm):
    petugas = SelectField(_l("Petugas yang sudah punya akun"), coerce=str)


class NewOfficerForm(FlaskForm):
    """A new petugas absensi: no password here, the petugas sets it through an invitation link."""

    name = StringField(_l("Nama lengkap"), validators=[DataRequired(REQUIRED), Length(max=120)])
    phone = TelField(
        _l("Nomor WhatsApp"),
        validators=[DataRequired(REQUIRED), Length(max=30)],
        description=_l("Tautan undangan dikirim ke nomor ini; petugas masuk dengan nomor ini."),
    )
    email = EmailField(_l("Email (boleh kosong)"), validators=[Optional(), Length(max=254)])


class SelfCheckInForm(FlaskForm):
    """One field names the person (number or code); the ticket link fills ``tiket`` instead."""

    who = StringField(
        _l("Nomor WhatsApp atau kode tiket"),
        validators=[Length(max=300, message=_l("Paling banyak %(max)d karakter."))],
        description=_l("Nomor saat mendaftar, atau kode 8 huruf di bawah kode QR tiket Anda."),
    )
    tiket = HiddenField()
    pin = StringField(
        _l("PIN di layar ruangan"),
        validators=[Length(max=20, message=_l("Paling banyak %(max)d karakter."))],
        description=_l("Angka yang ditampilkan panitia di ruangan kegiatan."),
    )
    tanda_tangan = HiddenField()
    client_id = HiddenField()
