"""The form of an area's score weights: one whole number 0–100 per part."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from kim_app.activity.monev.operations import PARTS, WEIGHT_MAX
from kim_app.events.forms import BAD_NUMBER, REQUIRED


def _weight(part) -> IntegerField:
    return IntegerField(
        part.label,
        validators=[
            InputRequired(REQUIRED),
            NumberRange(min=0, max=WEIGHT_MAX, message=_l("Setiap bobot antara 0 dan 100.")),
        ],
        invalid_value_message=BAD_NUMBER,
        render_kw={"min": 0, "max": WEIGHT_MAX, "inputmode": "numeric"},
    )


class WeightsForm(FlaskForm):
    pass


for _part in PARTS:
    setattr(WeightsForm, _part.key, _weight(_part))
