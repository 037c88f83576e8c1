"""A page's language: a staff member's own; else chosen, the participant's, the browser's."""

from __future__ import annotations

from babel import Locale
from flask import Flask, g, request, session

from pro_app.languages import DEFAULT, LANGUAGES

# Parsed once. Flask-Babel parses what the selector returns on every request (and babel looks
# for the locale's data file on disk each time); a Locale it is given passes through as it is.
_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}


def request_locale() -> Locale:
    """Flask-Babel's locale selector: the page's language (`select_locale`) as a Locale."""
    return _LOCALES[select_locale()]


def select_locale() -> str:
    staff_language = g.get("staff_language")
    if staff_language in LANGUAGES:
        # Set by the staff areas' guard: a signed-in user's remembered choice wins there.
        return str(staff_language)
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    preferred = g.get("preferred_language")
    if preferred in LANGUAGES:
        return str(preferred)
    return browser_language()


def browser_language() -> str:
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best is None:
        return DEFAULT
    return "en" if best == "en" else "zh_Hans"


def _remember_language_choice() -> None:
    """`?lang=` on any page switches language for this browser; answers live on the server."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen


def init_app(app: Flask) -> None:
    app.before_request(_remember_language_choice)
