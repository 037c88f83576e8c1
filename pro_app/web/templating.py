"""What every template can use: date filters, the page's language, the language switch."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Flask, request, url_for
from flask_babel import get_locale, get_translations
from jinja2.runtime import Context
from jinja2.utils import pass_context
from markupsafe import Markup, escape

from pro_app import formatting
from pro_app.languages import LANGUAGE_NAMES, html_lang


def switch_language_url(language: str) -> str:
    """This page again in another language (answers are on the server, so nothing is lost)."""
    args = {key: value for key, value in request.args.items() if key != "lang"}
    args["lang"] = language
    return f"{request.path}?{urlencode(args)}"


# A page's translations, looked up once per render by the context processor below; Flask-Babel's
# own template callables look them up again for every string of the page.
_TRANSLATIONS = "_page_translations"


def _translations(context: Context) -> Any:
    found = context.get(_TRANSLATIONS)
    return found if found is not None else get_translations()


# The template callables, "newstyle" as Jinja's i18n extension makes them (escaped when the
# template autoescapes, always %-formatted with their keyword arguments, ngettext's count as
# `num`), written out so that `_("...")` is one call into the page's translations: the extension's
# own wrap Flask-Babel's in two more layers of Jinja's call machinery, for each string of a page.


def _newstyle(context: Context, text: str, variables: dict[str, Any]) -> str:
    # Our own catalogue, trusted as the template is (Jinja's rule); the variables are escaped.
    shown: str = Markup(text) if context.eval_ctx.autoescape else text  # noqa: S704
    if not variables and "%" not in text:
        # What `%` would give back unchanged, without Markup's escaping wrapper around `{}`
        # (most of a page's strings have no placeholders).
        return shown
    return shown % variables


@pass_context
def _gettext(context: Context, string: str, /, **variables: Any) -> str:
    return _newstyle(context, _translations(context).ugettext(string), variables)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, num: int, /, **variables: Any) -> str:
    variables.setdefault("num", num)
    text = _translations(context).ungettext(singular, plural, num)
    return _newstyle(context, text, variables)


@pass_context
def _pgettext(context: Context, message_context: str, string: str, /, **variables: Any) -> str:
    variables.setdefault("context", message_context)
    text = _translations(context).upgettext(message_context, string)
    return _newstyle(context, text, variables)


@pass_context
def _npgettext(
    context: Context,
    message_context: str,
    singular: str,
    plural: str,
    num: int,
    /,
    **variables: Any,
) -> str:
    variables.setdefault("context", message_context)
    variables.setdefault("num", num)
    text = _translations(context).unpgettext(message_context, singular, plural, num)
    return _newstyle(context, text, variables)


@pass_context
def _window(context: Context, start: date, end: date) -> Markup:
    return formatting.window(start, end, context.get("locale"), _translations(context).ugettext)


# A phone number, or any run of digits with the spaces and dashes between its groups; a time or
# a range of times ("8:00–17:00").
_NUMBER = re.compile(r"\+?\d[\d :–-]*\d")


def whole_numbers(text: str) -> Markup:
    """`text` escaped, each number in it marked (`<span class="number">`, which the stylesheet
    moves to the next line whole): a phone's screen broke a site's "研究护士电话：021-3880 4518"
    between 3880 and 4518, and its hours "8:00–17:00" after "8:"."""
    parts: list[str] = []
    last = 0
    for found in _NUMBER.finditer(text):
        parts.append(escape(text[last : found.start()]))
        parts.append(Markup('<span class="number">%s</span>') % found.group(0))
        last = found.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


class RowUrl:
    """`url_for(endpoint, **{key: id})` for each row of a long list: the route is built once, with
    a marker where the id goes, and each row's id is put in its place (the due board builds 300
    links; `url_for` for each cost about a sixth of its render). The same string `url_for` builds."""

    # Where the id goes: a number found nowhere else in a built URL, which the bounded `int`
    # converter takes (2^31 - 1 is its largest).
    MARKER = 2_147_480_011

    def __init__(self, endpoint: str, key: str, **values: Any) -> None:
        arguments: dict[str, Any] = {**values, key: self.MARKER}
        built = url_for(endpoint, **arguments)
        self.before, _marker, self.after = built.partition(str(self.MARKER))

    def __call__(self, row_id: int) -> str:
        return f"{self.before}{int(row_id)}{self.after}"


def init_app(app: Flask) -> None:
    # Flask-Babel added Jinja's i18n extension; its {% trans %} blocks call these globals too.
    app.jinja_env.newstyle_gettext = True  # type: ignore[attr-defined]
    app.jinja_env.globals.update(
        url_for_each=RowUrl,
        _=_gettext,
        gettext=_gettext,
        ngettext=_ngettext,
        pgettext=_pgettext,
        npgettext=_npgettext,
    )

    app.add_template_filter(whole_numbers, "whole_numbers")
    app.add_template_filter(formatting.day, "day")
    app.add_template_filter(formatting.whole_day, "whole_day")
    app.add_template_filter(formatting.whole_moment, "whole_moment")
    app.add_template_filter(_window, "window")
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
            _TRANSLATIONS: get_translations(),
        }
