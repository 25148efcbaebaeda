"""Every form of the reports: the dashboard period, the laporan kegiatan narrative and photos,
and erasing a person."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from kim_app.events.forms import TOO_LONG
from kim_app.reports.models import NARRATIVE_FIELDS
from kim_app.reports.operations import (
    CAPTION_MAX,
    NARRATIVE_HINTS,
    NARRATIVE_MAX,
    NARRATIVE_TITLES,
)
from kim_app.text import printable


def _clean(text: str | None) -> str:
    return printable(text or "").strip()


class RangeForm(FlaskForm):
    """The date range's fields as the page shows them (a GET form: no CSRF token); the dates
    themselves are read with ``queryargs.day``."""

    class Meta:
        csrf = False

    dari = DateField(_l("Dari tanggal"), validators=[Optional()])
    sampai = DateField(_l("Sampai tanggal"), validators=[Optional()])


class NarrativeForm(FlaskForm):
    """The narrative sections, in the order of the outline (field names as in the model)."""

    background = TextAreaField(
        filters=[_clean], validators=[Length(max=NARRATIVE_MAX, message=TOO_LONG)]
    )
    legal_basis = TextAreaField(
        filters=[_clean], validators=[Length(max=NARRATIVE_MAX, message=TOO_LONG)]
    )
    purpose = TextAreaField(
        filters=[_clean], validators=[Length(max=NARRATIVE_MAX, message=TOO_LONG)]
    )
    material = TextAreaField(
        filters=[_clean], validators=[Length(max=NARRATIVE_MAX, message=TOO_LONG)]
    )
    results = TextAreaField(
        filters=[_clean], validators=[Length(max=NARRATIVE_MAX, message=TOO_LONG)]
    )
    evaluation = TextAreaField(
        filters=[_clean], validators=[Length(max=NARRATIVE_MAX, message=TOO_LONG)]
    )
    conclusion = TextAreaField(
        filters=[_clean], validators=[Length(max=NARRATIVE_MAX, message=TOO_LONG)]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in NARRATIVE_FIELDS:
            self[name].label.text = NARRATIVE_TITLES[name]
            self[name].description = NARRATIVE_HINTS[name]


class PhotoForm(FlaskForm):
    """A photo's caption (the file comes as ``foto``, read by the view)."""

    caption = StringField(
        _l("Keterangan foto"),
        filters=[_clean],
        validators=[Length(max=CAPTION_MAX, message=TOO_LONG)],
        description=_l("Contoh: Peserta praktik menulis berita, hari pertama."),
    )


class EraseForm(FlaskForm):
    konfirmasi = StringField(_l("Ketik konfirmasi"), validators=[InputRequired(), Length(max=10)])
