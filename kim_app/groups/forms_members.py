"""The form for one member row, used both to add a member and to edit one in place."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from kim_app.groups.models import POSITION_LABELS, Gender, Member, Position
from kim_app.groups.operations import MemberData
from kim_app.phones import display_phone

REQUIRED = _l("Wajib diisi.")
TOO_LONG = _l("Paling banyak %(max)d karakter.")
GENDER_CHOICES = [
    SelectChoice("", "—"),
    SelectChoice(Gender.L.value, _l("Laki-laki")),
    SelectChoice(Gender.P.value, _l("Perempuan")),
]


def _one_of(values: set[str]):
    """Choice check with an Indonesian message (WTForms' own one is English only)."""

    def check(_form, field) -> None:
        if (field.data or "") not in values:
            raise ValidationError(_l("Pilihan tidak valid."))

    return check


class MemberForm(FlaskForm):
    name = StringField(
        _l("Nama"), validators=[DataRequired(REQUIRED), Length(max=120, message=TOO_LONG)]
    )
    position = SelectField(
        _l("Jabatan"),
        choices=[SelectChoice(p.value, label) for p, label in POSITION_LABELS.items()],
        default=Position.ANGGOTA.value,
        validate_choice=False,
        validators=[_one_of({p.value for p in Position})],
    )
    gender = SelectField(
        _l("Jenis kelamin"),
        choices=GENDER_CHOICES,
        validate_choice=False,
        validators=[_one_of({"", *(g.value for g in Gender)})],
    )
    phone = TelField(
        _l("Nomor WhatsApp"),
        validators=[Length(max=30, message=TOO_LONG)],
        description=_l("Contoh: 0812-3456-7890"),
    )
    email = EmailField(
        _l("Email (boleh kosong)"),
        validators=[
            Optional(),
            Length(max=254, message=TOO_LONG),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Alamat email tidak valid.")),
        ],
    )

    def fill_from(self, member: Member) -> None:
        """Show a stored member as people read it (the number as 0812-3456-7890)."""
        self.name.data = member.name
        self.position.data = member.position.value
        self.gender.data = member.gender.value if member.gender else ""
        self.phone.data = display_phone(member.phone)
        self.email.data = member.email

    def number_ids(self, suffix: str) -> None:
        """Give the inputs unique ids, so an edit row and the add form can share one page."""
        for field in self:
            field.id = f"{field.id}-{suffix}"
            field.label.field_id = field.id

    def to_data(self) -> MemberData:
        return MemberData(
            name=self.name.data or "",
            position=Position(self.position.data),
            gender=Gender(self.gender.data) if self.gender.data else None,
            phone=self.phone.data or "",
            email=self.email.data or "",
        )
