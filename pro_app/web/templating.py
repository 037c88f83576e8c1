"""What every template can use: date filters, the page's language, the language switch."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, request
from flask_babel import get_locale

from pro_app import formatting
from pro_app.languages import LANGUAGE_NAMES, html_lang


def switch_language_url(language: str) -> str:
    """This page again in another language (answers are on the server, so nothing is lost)."""
    args = {key: value for key, value in request.args.items() if key != "lang"}
    args["lang"] = language
    return f"{request.path}?{urlencode(args)}"


def init_app(app: Flask) -> None:
    app.add_template_filter(formatting.day, "day")
    app.add_template_filter(formatting.window, "window")
    app.add_template_filter(formatting.moment, "moment")
    app.add_template_filter(formatting.utc_moment, "utc_moment")

    # The catalogue never changes while the process runs.
    demo_wording = bool(app.extensions["pro_catalog"].demo_packs)

    @app.context_processor
    def _locale_helpers() -> dict[str, object]:
        locale = str(get_locale())
        return {
            "locale": locale,
            "html_lang": html_lang(locale),
            "language_names": LANGUAGE_NAMES,
            "switch_language_url": switch_language_url,
            "demo_wording": demo_wording,
            "formatting": formatting,
        }
