"""The coordinator's forms. Types and presence are checked here; trial rules in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from pro_app.languages import LANGUAGE_NAMES
from pro_app.models import Sex

REASON_HINT = _l("Required. Shown in the audit trail.")


def _reason(label: object | None = None) -> TextAreaField:
    return TextAreaField(
        label or _l("Reason"),
        validators=[InputRequired(_l("Please give a reason.")), Length(max=500)],
        render_kw={"rows": 2, "maxlength": 500},
    )


def _languages() -> list[SelectChoice]:
    return [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]


class EnrolForm(FlaskForm):
    site_id = SelectField(_l("Site"), coerce=int, validate_choice=False)
    study_id = StringField(
        _l("Study id"),
        validators=[InputRequired(_l("Please enter the study id.")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    sex = RadioField(
        _l("Sex"),
        choices=[
            SelectChoice(Sex.FEMALE.value, _l("Female")),
            SelectChoice(Sex.MALE.value, _l("Male")),
        ],
        validators=[InputRequired(_l("Please choose one."))],
    )
    birth_year = IntegerField(
        _l("Year of birth"),
        validators=[InputRequired(_l("Please enter the year of birth."))],
        invalid_value_message=_l("Enter a year, for example 1958."),
        render_kw={"inputmode": "numeric", "min": 1900, "max": 2100},
    )
    height_cm = IntegerField(
        _l("Height (cm)"),
        validators=[InputRequired(_l("Please enter the height."))],
        invalid_value_message=_l("Enter whole centimetres, for example 165."),
        render_kw={"inputmode": "numeric", "min": 100, "max": 230},
    )
    preferred_language = RadioField(
        _l("Preferred language"),
        choices=_languages(),
        default="zh_Hans",
        validators=[InputRequired(_l("Please choose one."))],
    )
    day0 = DateField(
        _l("Day 0 (first infusion date)"),
        validators=[InputRequired(_l("Please enter Day 0."))],
        invalid_value_message=_l("Enter a date as YYYY-MM-DD."),
    )
    # Asked for only when Day 0 is so far back that visit windows have already closed.
    confirm_past = BooleanField(_l("Yes, Day 0 is right: mark those visits as missed"))


class Day0Form(FlaskForm):
    day0 = DateField(
        _l("Corrected Day 0"),
        validators=[InputRequired(_l("Please enter Day 0."))],
        invalid_value_message=_l("Enter a date as YYYY-MM-DD."),
    )
    reason = _reason(_l("Reason for the correction"))


class WithdrawForm(FlaskForm):
    reason = _reason(_l("Reason for withdrawal"))
    confirm = BooleanField(
        _l("I understand: no new links; answers and records are kept."),
        validators=[InputRequired(_l("Please tick to confirm."))],
    )


class ReasonForm(FlaskForm):
    """Reissue and revoke: the reason is required and goes into the audit trail."""

    reason = _reason()


class StaffEntryForm(FlaskForm):
    reason = _reason(_l("Why staff enter the answers"))
    language = RadioField(
        _l("Language of the questionnaire (as on the paper form)"),
        choices=_languages(),
        validators=[InputRequired(_l("Please choose one."))],
    )


class CorrectionForm(FlaskForm):
    """Why a sealed record changes; the new values come from the record's own fields."""

    reason_code = SelectField(_l("Reason from the list"), validate_choice=False)
    reason = _reason(_l("Explain the change"))


class VoidForm(FlaskForm):
    reason_code = SelectField(_l("Why the record is void"), validate_choice=False)
    reason = _reason(_l("Explain (e.g. which participant or visit it belongs to)"))
    confirm = BooleanField(
        _l(
            "I understand: the record no longer counts; it is kept, and the visit can be filled in again."
        ),
        validators=[InputRequired(_l("Please tick to confirm."))],
    )


class QueryAnswerForm(FlaskForm):
    text = TextAreaField(
        _l("Answer"),
        validators=[InputRequired(_l("Please write an answer.")), Length(max=500)],
        render_kw={"rows": 3, "maxlength": 500},
    )
