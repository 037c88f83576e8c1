"""The one place errors become pages: patients get both languages (we may not know theirs yet),
staff get their own language in the staff layout. Words come from the message catalogues."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, g, render_template
from flask_babel import force_locale, gettext
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from pro_app import errors
from pro_app.extensions import db
from pro_app.languages import LANGUAGES
from pro_app.models import Site
from pro_app.web import i18n, ratelimits, unit_of_work
from pro_app.web.guard import InputRefused
from pro_app.web.messages.patient import PATIENT
from pro_app.web.messages.staff import STAFF

Page = tuple[str, int]
Reply = Page | tuple[str, int, dict[str, str]]  # a page, with headers of its own


def _patient_code(error: Exception) -> tuple[str, dict[str, object]]:
    if isinstance(error, errors.DomainError):
        return error.code, error.params
    if isinstance(error, CSRFError):
        return "session.missing", {}
    if isinstance(error, InputRefused):
        return "request.refused", {}
    if isinstance(error, RateLimitExceeded):
        return "too_many_attempts", {"minutes": ratelimits.minutes_to_wait()}
    if isinstance(error, HTTPException) and error.code == 404:
        return "not_found", {}
    return "error", {}


def _bilingual(code: str, params: dict[str, object]) -> list[tuple[str, str, str]]:
    """The message in every language, the page's own first (Chinese, unless the patient chose
    English or their browser prefers it)."""
    messages = []
    own = i18n.select_locale()
    for language in sorted(LANGUAGES, key=lambda language: language != own):
        with force_locale(language):
            messages.append((language, PATIENT.title(code, params), PATIENT.text(code, params)))
    return messages


def _contact_site() -> Site | None:
    """Whom the patient can call: the site of the link or visit in hand, else the trial's only
    site (an unknown link names none; PRIME-HFrEF has one site)."""
    known = g.get("patient_site_id")
    try:
        if isinstance(known, int):
            return db.session.get(Site, known)
        sites = list(db.session.scalars(select(Site).order_by(Site.id).limit(2)))
    except SQLAlchemyError:
        db.session.rollback()
        return None
    return sites[0] if len(sites) == 1 else None


def _call_words() -> dict[str, str]:
    words = {}
    for language in LANGUAGES:
        with force_locale(language):
            words[language] = gettext("Call the study nurse:")
    return words


def render_message(code: str, params: dict[str, object], status: int, **extra: object) -> Page:
    """A patient's message page: in both languages, with the number of the study nurse."""
    page = render_template(
        "errors/message.html",
        messages=_bilingual(code, params),
        status=status,
        site=_contact_site(),
        call_words=_call_words(),
        **extra,
    )
    return page, status


def render_error(error: Exception, status: int) -> Page:
    unit_of_work.discard()
    code, params = _patient_code(error)
    return render_message(code, params, status)


def _status(error: Exception) -> int:
    if isinstance(error, errors.DomainError):
        return error.status
    if isinstance(error, HTTPException):
        return error.code or 500
    return 400


def _staff_code(error: Exception, status: int) -> str:
    if isinstance(error, CSRFError):
        return "csrf"
    if status == 403:
        return "forbidden"
    if status == 404:
        return "not_found"
    return "error"


def staff_pages(bp: Blueprint) -> None:
    """Errors inside a staff area are shown in the staff layout, in the user's language only."""

    def handler(error: Exception) -> Page:
        unit_of_work.discard()
        status = _status(error)
        code = _staff_code(error, status)
        page = render_template(
            "staff/error.html", title=STAFF.title(code), text=STAFF.text(code), status=status
        )
        return page, status

    for exception in (CSRFError, errors.DomainError, HTTPException):
        bp.register_error_handler(exception, handler)


def _too_many(error: Exception) -> Reply:
    """429 in both languages, with the wait in minutes, and in seconds as Retry-After."""
    page, status = render_error(error, 429)
    return page, status, {"Retry-After": str(ratelimits.seconds_to_wait())}


def init_app(app: Flask) -> None:
    handlers: list[tuple[type[Exception], Callable[[Exception], Reply]]] = [
        # Registered under its status code, so it wins over the staff areas' own pages too:
        # refused input gets the bilingual page wherever it was sent.
        (InputRefused, lambda error: render_error(error, 400)),
        (RateLimitExceeded, _too_many),
        (CSRFError, lambda error: render_error(error, 400)),
        (errors.DomainError, lambda error: render_error(error, _status(error))),
        (HTTPException, lambda error: render_error(error, _status(error))),
    ]
    for exception, handler in handlers:
        app.register_error_handler(exception, handler)
