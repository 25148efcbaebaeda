"""Forms of the notice pages (their only field is the CSRF token)."""

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A one-button action: mark a hand-off sent, prepare reminders."""
