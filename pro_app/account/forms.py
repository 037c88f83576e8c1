"""Forms for a staff member's own account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from pro_app.languages import LANGUAGES


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(_l("Please enter a new password.")), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(_l("Please enter the new password again.")),
            EqualTo("password", _l("The two new passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class TotpForm(FlaskForm):
    code = StringField(
        _l("6-digit code"),
        validators=[
            InputRequired(_l("Please enter the code from your authenticator app.")),
            Length(max=12),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class LanguageForm(FlaskForm):
    language = HiddenField(validators=[InputRequired()])
    next = HiddenField()

    def chosen(self) -> str | None:
        value = self.language.data
        return value if value in LANGUAGES else None
