"""Form plumbing shared by the staff pages: a refused value becomes a message beside its field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import render_template
from flask_wtf import FlaskForm
from wtforms import Field

from pro_app.errors import InputRejected
from pro_app.web.messages.staff import STAFF


def message(error: InputRejected, **values: str) -> str:
    """A refusal in the staff member's words, its limits filled in."""
    return STAFF.text(error.code, {**error.params, **values})


def attach(form: FlaskForm, error: InputRejected, **values: str) -> None:
    """Show a service's refusal beside the field it names (or above the form if none matches)."""
    field: Field | None = getattr(form, error.field, None)
    text = message(error, **values)
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
