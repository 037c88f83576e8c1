"""One place that turns domain errors and HTTP errors into clear pages in both languages."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from pro_app import errors, formatting
from pro_app.languages import LANGUAGES


def _message(error: Exception) -> tuple[str, str]:
    """(title, explanation) in the current locale."""
    if isinstance(error, errors.LinkUnknown):
        return _("This link does not work"), _(
            "Please check that you opened the whole link. If it still does not work, "
            "please ask the study nurse for a new one."
        )
    if isinstance(error, errors.LinkRevoked):
        return _("This link is no longer valid"), _(
            "A newer link has replaced it, or it was cancelled. Please ask the study nurse "
            "for a new link."
        )
    if isinstance(error, errors.LinkExpired):
        return _("The time for this visit has ended"), _(
            "This link could be used until %(date)s. Please contact the study nurse.",
            date=formatting.day(error.window_end),
        )
    if isinstance(error, errors.LinkNotYetOpen):
        return _("It is not time yet"), _(
            "You can fill this in from %(date)s. Please open the link again on that day.",
            date=formatting.day(error.window_start),
        )
    if isinstance(error, errors.ParticipantWithdrawn):
        return _("This link is no longer valid"), _(
            "No answers are needed any more. Thank you for your help."
        )
    if isinstance(error, errors.PatientSessionMissing | CSRFError):
        return _("Please open your link again"), _(
            "This page was open for too long, or your browser forgot it. "
            "Your saved answers are kept. Please open the link from the study nurse again."
        )
    if isinstance(error, errors.InstrumentNotInVisit):
        return _("Page not found"), _("Please go back and try again.")
    if isinstance(error, errors.StaffEntryEnded):
        return _("Staff entry has ended"), _(
            "Your staff sign-in has ended. Sign in again and restart the entry from the "
            "participant page. Saved answers are kept."
        )
    return _("Something went wrong"), _("Please go back and try again.")


def _staff_message(error: Exception, status: int) -> tuple[str, str]:
    """(title, explanation) for staff pages, in the staff member's own language."""
    if isinstance(error, CSRFError):
        return _("This form has expired"), _(
            "Nothing was changed. Go back, reload the page and try again."
        )
    if status == 403:
        return _("No access"), _("Your role does not give access to this page.")
    if status == 404:
        return _("Not found"), _("It does not exist, or it belongs to a site you do not work at.")
    return _("Something went wrong"), _("Nothing was changed. Please go back and try again.")


def _bilingual(error: Exception) -> list[tuple[str, str, str]]:
    """The message in every language, Chinese first: we may not know the reader's language yet."""
    messages = []
    for language in LANGUAGES:
        with force_locale(language):
            title, text = _message(error)
        messages.append((language, title, text))
    return messages


def render_error(error: Exception, status: int) -> tuple[str, int]:
    return render_template("errors/message.html", messages=_bilingual(error), status=status), status


def _domain_error(error: errors.DomainError) -> tuple[str, int]:
    return render_error(error, error.status)


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return render_error(error, 400)


def _http_error(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    if status == 404:
        return render_error(errors.InstrumentNotInVisit(), 404)
    return render_error(error, status)


def staff_pages(bp: Blueprint) -> None:
    """Errors inside a staff area are shown in the staff layout, in the user's language only."""

    def handler(error: Exception) -> tuple[str, int]:
        if isinstance(error, errors.DomainError):
            status = error.status
        elif isinstance(error, HTTPException):
            status = error.code or 500
        else:
            status = 400
        title, text = _staff_message(error, status)
        return render_template("staff/error.html", title=title, text=text, status=status), status

    for exception in (CSRFError, errors.DomainError, HTTPException):
        bp.register_error_handler(exception, handler)


def init_app(app: Flask) -> None:
    handlers: list[tuple[type[Exception], Callable[..., tuple[str, int]]]] = [
        (CSRFError, _csrf_error),
        (errors.DomainError, _domain_error),
        (HTTPException, _http_error),
    ]
    for exception, handler in handlers:
        app.register_error_handler(exception, handler)
