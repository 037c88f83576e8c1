"""Form plumbing shared by the staff pages: a refused value becomes a message beside its field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field

from pro_app.errors import InputRejected

# (field, code) -> message; ("*", code) applies to any field. Placeholders are filled in `message`.
_MESSAGES = {
    ("*", "required"): _l("Please fill this in."),
    ("reason", "required"): _l("Please give a reason (at least 3 characters)."),
    ("reason", "too_long"): _l("Please keep the reason under 500 characters."),
    ("study_id", "format"): _l("Use this site's format, for example %(example)s."),
    ("study_id", "taken"): _l("This study id is already in use."),
    ("birth_year", "age"): _l("Age at Day 0 must be 18 to 80 years (protocol)."),
    ("height_cm", "range"): _l("Height must be between 100 and 230 cm."),
    ("preferred_language", "unknown"): _l("Choose a language from the list."),
    ("language", "unknown"): _l("Choose a language from the list."),
    ("day0", "range"): _l("Day 0 must be within a year before and 90 days after today."),
    ("day0", "unchanged"): _l("This is already the Day 0 on record."),
    ("day0", "overlaps_visit_with_data"): _l(
        "With this Day 0 a visit window would overlap a visit that already has answers."
    ),
    ("username", "format"): _l(
        "3 to 64 characters: lower-case letters, digits, dot, hyphen or underscore."
    ),
    ("username", "taken"): _l("This username is already taken."),
    ("password", "too_short"): _l("Use at least 12 characters."),
    ("password", "too_long"): _l("Use at most 128 characters."),
    ("password", "contains_username"): _l("The password must not contain the username."),
    ("password", "too_simple"): _l("Too simple: use more different characters."),
    ("password", "unchanged"): _l("Choose a password different from the current one."),
    ("current_password", "wrong"): _l("The current password is not right."),
    ("sites", "required"): _l("Choose at least one site."),
    ("timezone", "unknown"): _l("Unknown time zone: use a name such as Asia/Shanghai."),
    ("study_id_pattern", "invalid"): _l("This is not a valid regular expression."),
    ("study_id_example", "does_not_match"): _l("The example does not match the format."),
}


def message(field: str, code: str, **values: str) -> str:
    text = _MESSAGES.get((field, code)) or _MESSAGES.get(("*", code))
    if text is None:
        return _("This value cannot be accepted.")
    return str(text) % values if values else str(text)


def attach(form: FlaskForm, error: InputRejected, **values: str) -> None:
    """Show a service's refusal beside the field it names (or above the form if none matches)."""
    field: Field | None = getattr(form, error.field, None)
    text = message(error.field, error.code, **values)
    if isinstance(field, Field):
        field.errors = [*field.errors, text]
    else:
        form.form_errors.append(text)


def has_errors(form: FlaskForm) -> bool:
    return bool(form.errors) or bool(form.form_errors)


T = TypeVar("T")


@dataclass(frozen=True)
class Done(Generic[T]):
    """A form's service call went through; `value` is what it returned."""

    value: T


def attempt(form: FlaskForm, action: Callable[[], T], **values: str) -> Done[T] | None:
    """Run the service call of a valid form. A refusal is shown beside its field and gives None;
    the page then answers 400, so the request's changes are rolled back."""
    try:
        return Done(action())
    except InputRejected as error:
        attach(form, error, **values)
        return None


def form_page(template: str, form: FlaskForm, **context: object) -> tuple[str, int]:
    """A form's page: 400 when it was sent and refused (nothing is kept), else 200."""
    failed = form.is_submitted() and has_errors(form)
    return render_template(template, form=form, **context), (400 if failed else 200)
