"""Forms for managing staff accounts and sites."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from pro_app.languages import LANGUAGE_NAMES
from pro_app.web.messages.staff import ROLES


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _roles() -> list[SelectChoice]:
    return [SelectChoice(role.value, label) for role, label in ROLES.items()]


class StaffForm(FlaskForm):
    role = RadioField(
        _l("Role"), choices=_roles(), validators=[InputRequired(_l("Please choose one."))]
    )
    sites = CheckboxesField(_l("Sites"), coerce=int, validate_choice=False)
    active = BooleanField(_l("Account is active (can sign in)"))


class NewStaffForm(StaffForm):
    username = StringField(
        _l("Username"),
        validators=[InputRequired(_l("Please enter a username.")), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    language = RadioField(
        _l("Language"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        default="zh_Hans",
        validators=[InputRequired(_l("Please choose one."))],
    )


class SiteForm(FlaskForm):
    name_zh = StringField(_l("Name (Chinese)"), validators=[Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=200)])
    timezone = StringField(_l("Time zone"), validators=[Length(max=64)])
    study_id_pattern = StringField(
        _l("Study id format (regular expression)"), validators=[Length(max=100)]
    )
    study_id_example = StringField(_l("Study id example"), validators=[Length(max=40)])
    contact_zh = StringField(_l("Contact line on slips (Chinese)"), validators=[Length(max=300)])
    contact_en = StringField(_l("Contact line on slips (English)"), validators=[Length(max=300)])
    phone = StringField(_l("Phone number for patients"), validators=[Length(max=40)])
