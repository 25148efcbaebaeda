"""Forms of information to spread: the operator's item (its file comes as ``berkas``, read by the
view) and a KIM's word that it relayed one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from kim_app.activity.forms import SpreadFields
from kim_app.events.forms import BAD_CHOICE, REQUIRED, max_length, web_link
from kim_app.phones import MAX_HANDOFF_TEXT


class ItemForm(FlaskForm):
    berkas_error: str | None = None  # the file is not a field: the view reads it

    title = StringField(_l("Judul"), validators=[DataRequired(REQUIRED), max_length(200)])
    text = TextAreaField(
        _l("Isi informasi"),
        validators=[DataRequired(REQUIRED), max_length(3000)],
        render_kw={"rows": 5},
    )
    link = StringField(
        _l("Tautan sumber (bila ada)"),
        validators=[max_length(300), web_link],
        render_kw={"inputmode": "url"},
    )
    share_text = TextAreaField(
        _l("Pesan WhatsApp yang siap dibagikan"),
        validators=[max_length(MAX_HANDOFF_TEXT)],
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


class RelayForm(SpreadFields):
    """A KIM's word that it spread an item."""
