"""Account forms. Messages are Indonesian source strings, translated by Flask-Babel."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from kim_app.auth.models import Role
from kim_app.auth.operations import MIN_PASSWORD

REQUIRED = _l("Wajib diisi.")


class LoginForm(FlaskForm):
    # the field keeps its name ``email``; it takes an email or a WhatsApp number
    email = StringField(
        _l("Email atau nomor WhatsApp"), validators=[DataRequired(REQUIRED), Length(max=254)]
    )
    password = PasswordField(_l("Kata sandi"), validators=[DataRequired(REQUIRED), Length(max=200)])
    next = HiddenField()


class NewPasswordForm(FlaskForm):
    """A new password typed twice (the base of changing one's own and of setting one by link)."""

    new = PasswordField(
        _l("Kata sandi baru"),
        validators=[DataRequired(REQUIRED), Length(min=MIN_PASSWORD, max=200)],
        description=_l("Minimal 8 karakter."),
    )
    confirm = PasswordField(
        _l("Ulangi kata sandi baru"),
        validators=[DataRequired(REQUIRED), EqualTo("new", _l("Kedua kata sandi tidak sama."))],
    )


class PasswordForm(NewPasswordForm):
    current = PasswordField(_l("Kata sandi saat ini"), validators=[DataRequired(REQUIRED)])


class UserForm(FlaskForm):
    """A new account, or changes to one. No password: the owner sets it through a one-time link."""

    name = StringField(_l("Nama lengkap"), validators=[DataRequired(REQUIRED), Length(max=120)])
    phone = TelField(
        _l("Nomor WhatsApp"),
        validators=[Optional(), Length(max=30)],
        description=_l("Untuk masuk dan untuk menerima tautan undangan lewat WhatsApp."),
    )
    email = EmailField(
        _l("Email (boleh kosong)"),
        validators=[Optional(), Length(max=254)],
        description=_l("Isi email atau nomor WhatsApp; keduanya boleh."),
    )
    role = SelectField(_l("Peran"), validators=[DataRequired(REQUIRED)])
    kim = SelectField(
        _l("KIM (untuk pengurus KIM)"),
        choices=[],
        validate_choice=False,
        description=_l("Pilih desa di atas; KIM desa itu muncul di sini."),
    )

    def limit_roles(self, creator) -> None:
        """Offer only the roles ``creator`` may create, after an empty first choice: the role is
        chosen on purpose, never left at the first one offered (HTML's rule for a required select)."""
        roles = [SelectChoice(r.value, r.label) for r in Role if creator.may_manage(r)]
        self.role.choices = [SelectChoice("", _l("— pilih —")), *roles]

    def offer_kims(self, kims) -> None:
        self.kim.choices = [SelectChoice("", _l("— pilih —"))] + [
            SelectChoice(str(kim.id), kim.name) for kim in kims
        ]

    @property
    def kim_id(self) -> int | None:
        value = self.kim.data or ""
        return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


class AcceptForm(NewPasswordForm):
    """The owner of a one-time link sets a password (and, when the account has neither, the
    number to sign in with)."""

    phone = TelField(_l("Nomor WhatsApp Anda"), validators=[Optional(), Length(max=30)])


class ForgotForm(FlaskForm):
    email = StringField(
        _l("Email atau nomor WhatsApp akun Anda"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
    )


class OnboardForm(FlaskForm):
    """Village-head accounts for every village of an area that has none; the numbers come as
    ``nomor-<village code>`` fields, one per listed village."""
