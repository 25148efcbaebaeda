"""Account forms. Messages are Indonesian source strings, translated by Flask-Babel."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from kim_app.auth.models import Role
from kim_app.auth.services import MIN_PASSWORD

REQUIRED = _l("Wajib diisi.")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Kata sandi"), validators=[DataRequired(REQUIRED), Length(max=200)])
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Kata sandi saat ini"), validators=[DataRequired(REQUIRED)])
    new = PasswordField(
        _l("Kata sandi baru"),
        validators=[DataRequired(REQUIRED), Length(min=MIN_PASSWORD, max=200)],
        description=_l("Minimal 8 karakter."),
    )
    confirm = PasswordField(
        _l("Ulangi kata sandi baru"),
        validators=[DataRequired(REQUIRED), EqualTo("new", _l("Kedua kata sandi tidak sama."))],
    )


class UserForm(FlaskForm):
    name = StringField(_l("Nama lengkap"), validators=[DataRequired(REQUIRED), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Length(max=254)])
    role = SelectField(_l("Peran"), validators=[DataRequired(REQUIRED)])
    password = PasswordField(
        _l("Kata sandi awal"),
        validators=[DataRequired(REQUIRED), Length(min=MIN_PASSWORD, max=200)],
        description=_l("Minimal 8 karakter. Sampaikan kepada pemilik akun secara langsung."),
    )

    def limit_roles(self, creator) -> None:
        """Offer only the roles ``creator`` may create, after an empty first choice: the role is
        chosen on purpose, never left at the first one offered (HTML's rule for a required select)."""
        roles = [SelectChoice(r.value, r.label) for r in Role if creator.may_manage(r)]
        self.role.choices = [SelectChoice("", _l("— pilih —")), *roles]
