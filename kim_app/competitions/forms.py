"""Forms of competitions: the competition, a category with its rubric (criteria as rows), a KIM's
entry and the operator's administrative check."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError

from kim_app.competitions.operations import MAX_CRITERIA, MAX_LINKS, SCORE_BOUND
from kim_app.events.forms import (
    BAD_CHOICE,
    BAD_DATE,
    BAD_NUMBER,
    DAY_LIMITS,
    REQUIRED,
    max_length,
    plausible_day,
)
from kim_app.groups.forms import CheckboxesField

YEARS = NumberRange(min=2000, max=2100, message=_l("Tahun antara 2000 dan 2100."))


class CompetitionForm(FlaskForm):
    title = StringField(_l("Nama lomba"), validators=[DataRequired(REQUIRED), max_length(200)])
    year = IntegerField(
        _l("Tahun"),
        validators=[DataRequired(REQUIRED), YEARS],
        invalid_value_message=BAD_NUMBER,
        render_kw={"inputmode": "numeric"},
    )
    description = TextAreaField(
        _l("Keterangan"),
        validators=[max_length(3000)],
        description=_l("Tujuan, syarat peserta, hadiah, narahubung panitia."),
        render_kw={"rows": 4},
    )
    opens_on = DateField(
        _l("Pendaftaran dibuka"),
        validators=[DataRequired(REQUIRED), plausible_day],
        invalid_value_message=BAD_DATE,
        render_kw=DAY_LIMITS,
    )
    closes_on = DateField(
        _l("Hari terakhir pendaftaran"),
        validators=[DataRequired(REQUIRED), plausible_day],
        invalid_value_message=BAD_DATE,
        render_kw=DAY_LIMITS,
    )
    presentation = BooleanField(_l("Ada tahap presentasi atau kunjungan lapangan"))
    # "only KIM nominated by the level below" comes with nominations (the rest of issue 27)


class CriterionRow(Form):
    """One line of the rubric; a row without a name is skipped."""

    name = StringField(_l("Kriteria"), validators=[max_length(200)])
    weight = IntegerField(
        _l("Bobot"),
        validators=[],  # validate_weight: required on a row with a name
        invalid_value_message=BAD_NUMBER,
        render_kw={"inputmode": "numeric"},
    )
    lowest = IntegerField(
        _l("Nilai terendah"),
        default=1,
        validators=[Optional(), NumberRange(min=0, max=SCORE_BOUND)],
        invalid_value_message=BAD_NUMBER,
        render_kw={"inputmode": "numeric"},
    )
    highest = IntegerField(
        _l("Nilai tertinggi"),
        default=100,
        validators=[Optional(), NumberRange(min=0, max=SCORE_BOUND)],
        invalid_value_message=BAD_NUMBER,
        render_kw={"inputmode": "numeric"},
    )

    @property
    def filled(self) -> bool:
        return bool((self.name.data or "").strip())

    def validate_weight(self, field) -> None:
        blank = not (field.raw_data and str(field.raw_data[0]).strip())
        if blank:
            field.errors = []  # an empty box is no number to complain about
            if self.filled:
                raise ValidationError(_l("Tuliskan bobotnya."))
            return
        if self.filled and not field.errors and not 1 <= field.data <= 100:
            raise ValidationError(_l("Bobot antara 1 dan 100."))

    def validate_highest(self, field) -> None:
        """Checked with the other fields, so every row's mistakes show at once."""
        lowest = self.lowest.data if self.lowest.data is not None else 1
        highest = field.data if field.data is not None else 100
        if self.filled and lowest >= highest:
            raise ValidationError(
                _l(
                    "Nilai terendah harus lebih kecil dari nilai tertinggi, antara 0 dan %(n)d.",
                    n=SCORE_BOUND,
                )
            )


class CategoryForm(FlaskForm):
    rubric_error: str | None = None

    name = StringField(_l("Nama kategori"), validators=[DataRequired(REQUIRED), max_length(120)])
    description = TextAreaField(
        _l("Keterangan kategori"), validators=[max_length(1000)], render_kw={"rows": 3}
    )
    criteria = FieldList(
        FormField(CriterionRow), min_entries=MAX_CRITERIA, max_entries=MAX_CRITERIA
    )


def _web_links(_form, field) -> None:
    """One http(s) link per line."""
    lines = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
    for line in lines:
        parts = urlsplit(line)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in line:
            raise ValidationError(
                _l("Setiap baris harus alamat web lengkap, diawali http:// atau https://")
            )
    field.data = "\n".join(lines)


class EntryForm(FlaskForm):
    summary = TextAreaField(
        _l("Cerita kegiatan KIM"),
        validators=[max_length(3000)],
        description=_l(
            "Apa yang dilakukan KIM untuk kategori ini, untuk siapa, dan hasilnya. Wajib diisi "
            "sebelum dikirim."
        ),
        render_kw={"rows": 6, "maxlength": 3000},
    )
    links = TextAreaField(
        _l("Tautan karya (video, unggahan, situs)"),
        validators=[max_length(1600), _web_links],
        description=_l("Satu tautan per baris, paling banyak %(n)d.", n=MAX_LINKS),
        render_kw={"rows": 3, "inputmode": "url"},
    )
    reports = CheckboxesField(
        _l("Laporan kegiatan sebagai rekam jejak"),
        choices=[],
        coerce=int,
        invalid_choice_message=BAD_CHOICE,
    )

    def with_reports(self, reports) -> EntryForm:
        self.reports.choices = [
            SelectChoice(r.id, f"{r.done_on.isoformat()} · {r.kind.label} · {r.text[:60]}")
            for r in reports
        ]
        return self


class CheckForm(FlaskForm):
    note = TextAreaField(_l("Catatan untuk KIM"), validators=[max_length(500)])
