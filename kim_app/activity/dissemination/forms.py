"""Forms of information to spread: the operator's item (its file comes as ``berkas``, read by the
view) and a KIM's word that it relayed one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional

from kim_app.activity.forms import limited, web_link
from kim_app.activity.models import Channel
from kim_app.activity.operations import REACH_MAX
from kim_app.events.forms import BAD_CHOICE, BAD_NUMBER, REQUIRED
from kim_app.groups.forms import CheckboxesField
from kim_app.phones import MAX_HANDOFF_TEXT


class ItemForm(FlaskForm):
    berkas_error: str | None = None  # the file is not a field: the view reads it

    title = StringField(_l("Judul"), validators=[DataRequired(REQUIRED), limited(200)])
    text = TextAreaField(
        _l("Isi informasi"),
        validators=[DataRequired(REQUIRED), limited(3000)],
        render_kw={"rows": 5},
    )
    link = StringField(
        _l("Tautan sumber (bila ada)"),
        validators=[limited(300), web_link],
        render_kw={"inputmode": "url"},
    )
    share_text = TextAreaField(
        _l("Pesan WhatsApp yang siap dibagikan"),
        validators=[limited(MAX_HANDOFF_TEXT)],
        description=_l("Kosongkan untuk memakai judul, isi dan tautan."),
        render_kw={"rows": 4},
    )
    area = SelectField(_l("Dikirim ke KIM di"), invalid_choice_message=BAD_CHOICE)
    field = SelectField(_l("Bidang KIM"), invalid_choice_message=BAD_CHOICE)
    urgent = BooleanField(
        _l(
            "Mendesak (klarifikasi hoaks): tampil paling atas di beranda setiap KIM sampai disebarkan"
        )
    )

    def with_choices(self, areas: list[tuple[str, str]], fields, every_field: str) -> ItemForm:
        self.area.choices = [SelectChoice(code, name) for code, name in areas]
        self.field.choices = [SelectChoice("", every_field)] + [
            SelectChoice(f.value, f.label) for f in fields
        ]
        return self


class RelayForm(FlaskForm):
    channels = CheckboxesField(
        _l("Disebarkan lewat"),
        choices=[SelectChoice(c.value, c.label) for c in Channel],
        invalid_choice_message=BAD_CHOICE,
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
    link = StringField(
        _l("Tautan unggahan (bila ada)"),
        validators=[limited(300), web_link],
        render_kw={"inputmode": "url"},
    )
