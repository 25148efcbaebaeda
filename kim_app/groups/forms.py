"""Every form of the registry: registering and editing a KIM, its workflow steps, the bidang
options, the registry import and one member row (add, or edit in place)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from kim_app.groups.imports import REGISTRY_IMPORTERS, KimImporter, MemberImporter
from kim_app.groups.models import POSITION_LABELS, Bidang, Gender, Member, Position, SkSigner
from kim_app.groups.operations import MemberData
from kim_app.importing import Importer, UploadForm
from kim_app.phones import display_phone

REQUIRED = _l("Wajib diisi.")
DATE_INVALID = _l("Tanggal tidak valid.")


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _http_url(_form, field) -> None:
    value = (field.data or "").strip()
    if value and not value.lower().startswith(("http://", "https://")):
        raise ValidationError(_l("Alamat web harus diawali http:// atau https://"))


class PengurusRow(Form):
    """One officer row of the registration form (no CSRF of its own: it lives inside KimForm)."""

    name = StringField(_l("Nama"), validators=[Length(max=120)])
    position = SelectField(
        _l("Jabatan"), choices=[SelectChoice(p.value, p.label) for p in Position]
    )
    gender = SelectField(
        _l("Jenis kelamin"),
        choices=[SelectChoice("", "—"), *[SelectChoice(g.value, g.label) for g in Gender]],
        validators=[Optional()],
    )
    phone = StringField(_l("Nomor WhatsApp"), validators=[Length(max=30)])


class KimForm(FlaskForm):
    name = StringField(_l("Nama KIM"), validators=[DataRequired(REQUIRED), Length(max=120)])
    address = StringField(_l("Alamat sekretariat"), validators=[Length(max=255)])
    founded_on = DateField(
        _l("Tanggal berdiri"), validators=[Optional()], render_kw={"max": "2100-12-31"}
    )
    sk_number = StringField(_l("Nomor SK"), validators=[Length(max=100)])
    sk_date = DateField(_l("Tanggal SK"), validators=[Optional()])
    sk_signer = SelectField(
        _l("SK ditandatangani oleh"),
        choices=[SelectChoice("", "—"), *[SelectChoice(s.value, s.label) for s in SkSigner]],
        validators=[Optional()],
    )
    bidang = CheckboxesField(
        _l("Bidang kegiatan"), choices=[SelectChoice(b.value, b.label) for b in Bidang]
    )
    potensi = TextAreaField(
        _l("Potensi desa"),
        validators=[Length(max=2000)],
        description=_l("Hasil bumi, wisata, UMKM, budaya…"),
    )
    whatsapp = StringField(
        _l("WhatsApp KIM"), validators=[Length(max=30)], description=_l("Contoh: 0812-3456-7890")
    )
    email = EmailField(_l("Email KIM"), validators=[Length(max=254)])
    website = StringField(_l("Situs web"), validators=[Length(max=255), _http_url])
    social_links = TextAreaField(
        _l("Media sosial"), validators=[Length(max=1000)], description=_l("Satu alamat per baris.")
    )
    public_contact = BooleanField(_l("Tampilkan email dan situs KIM di direktori publik"))
    show_ketua = BooleanField(_l("Tampilkan nama ketua di direktori publik"))
    pengurus = FieldList(FormField(PengurusRow), min_entries=0, max_entries=30)
    # shown to operators only when the village already has a KIM (one KIM per village)
    allow_second = BooleanField(_l("Saya mengizinkan KIM kedua di desa ini"))
    second_reason = TextAreaField(
        _l("Alasan mengizinkan KIM kedua"),
        validators=[Length(max=500)],
        description=_l("Dicatat di riwayat dan log audit."),
    )

    def set_bidang_choices(self, choices) -> None:
        """Offer the fields of the KIM's area (national, its province's and its regency's)."""
        self.bidang.choices = [SelectChoice(c.value, c.label) for c in choices]

    def second_reason_given(self) -> str:
        """The reason, when the operator ticked the allowance (a reason alone allows nothing)."""
        return (self.second_reason.data or "").strip() if self.allow_second.data else ""


class BidangOptionForm(FlaskForm):
    """A field of activity an area keeps: its Indonesian label and, if known, the English one."""

    label = StringField(_l("Nama bidang"), validators=[DataRequired(REQUIRED), Length(max=80)])
    label_en = StringField(
        _l("Nama dalam bahasa Inggris (boleh kosong)"), validators=[Length(max=80)]
    )


class StatusForm(FlaskForm):
    """One workflow step; the note is required for returning, rejecting and deactivating."""

    note = TextAreaField(_l("Catatan"), validators=[Length(max=2000)])


class ImportForm(UploadForm):
    """A registry import's file and what it holds: KIM or members."""

    jenis = RadioField(
        _l("Yang diimpor"),
        choices=[
            SelectChoice(KimImporter.kind, _l("Data KIM: satu baris per KIM, dengan pengurusnya")),
            SelectChoice(MemberImporter.kind, _l("Anggota KIM: satu baris per anggota")),
        ],
        default=KimImporter.kind,
        validators=[InputRequired(_l("Pilih jenis data yang diimpor."))],
    )

    def importer(self) -> Importer:
        """The importer of the kind chosen (after validation)."""
        return next(i for i in REGISTRY_IMPORTERS if i.kind == self.jenis.data)


# --- one member row (add, or edit in place) ------------------------------------------------------

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
