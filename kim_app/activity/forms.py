"""Forms of a KIM's activity reports: the report (its photos come as ``foto``, read by the view),
the operator's review, and the kinds the KIM shows in public."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from kim_app.activity.models import ActivityKind, Channel
from kim_app.activity.operations import REACH_MAX
from kim_app.events.forms import (
    BAD_CHOICE,
    BAD_DATE,
    BAD_NUMBER,
    REQUIRED,
    max_length,
    plausible_day,
    web_link,
)
from kim_app.groups.forms import CheckboxesField


class SpreadFields(FlaskForm):
    """Where something was shared and to about how many people: a report's and a relay's."""

    channels = CheckboxesField(
        _l("Disebarkan lewat"),
        choices=[SelectChoice(c.value, c.label) for c in Channel],
        invalid_choice_message=BAD_CHOICE,
    )
    link = StringField(
        _l("Tautan unggahan (bila ada)"),
        validators=[max_length(300), web_link],
        description=_l("Tautan ke unggahan media sosial atau situs desa."),
        render_kw={"inputmode": "url"},
    )
    reach = IntegerField(
        _l("Perkiraan jumlah orang yang dijangkau"),
        validators=[
            Optional(),
            NumberRange(min=0, max=REACH_MAX, message=_l("Jumlah orang tidak masuk akal.")),
        ],
        invalid_value_message=BAD_NUMBER,
        render_kw={"min": 0, "inputmode": "numeric"},
    )


class ReportForm(SpreadFields):
    """An activity in under a minute: what, when, what happened, where it was shared, how many."""

    foto_error: str | None = None  # the photos are not a field: the view reads them

    client_id = HiddenField(validators=[DataRequired(), Length(min=8, max=40)])
    kind = RadioField(
        _l("Jenis kegiatan KIM"),
        choices=[SelectChoice(k.value, k.label) for k in ActivityKind],
        validators=[DataRequired(REQUIRED)],
        invalid_choice_message=BAD_CHOICE,
    )
    done_on = DateField(
        _l("Tanggal kegiatan"),
        validators=[DataRequired(REQUIRED), plausible_day],
        invalid_value_message=BAD_DATE,
    )
    text = TextAreaField(
        _l("Apa yang dilakukan"),
        validators=[DataRequired(REQUIRED), max_length(1000)],
        description=_l("Singkat saja: apa, untuk siapa, hasilnya."),
        render_kw={"rows": 3, "maxlength": 1000},
    )
    keep_location = BooleanField(
        _l("Simpan lokasi foto (untuk bukti tempat kegiatan; hanya Diskominfo yang melihatnya)")
    )


class ReviewForm(FlaskForm):
    note = TextAreaField(_l("Catatan untuk KIM"), validators=[max_length(500)])


class PublicKindsForm(FlaskForm):
    kinds = CheckboxesField(
        _l("Tampilkan di profil publik KIM"),
        choices=[SelectChoice(k.value, k.label) for k in ActivityKind],
        invalid_choice_message=BAD_CHOICE,
    )
