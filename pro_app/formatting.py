"""Dates and times as people read them: 2026年11月25日 / 25 Nov 2026, always with the zone."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import Flask, request
from flask_babel import get_locale

from pro_app.i18n import LANGUAGE_NAMES, html_lang

# Babel's generic names are not what a Shanghai clinic says; other zones use Babel's.
_ZONE_NAMES = {"Asia/Shanghai": {"zh": "北京时间", "en": "China Standard Time"}}


def _lang(locale: str | None) -> str:
    return "zh" if (locale or str(get_locale())).startswith("zh") else "en"


def day(value: date, locale: str | None = None) -> str:
    if _lang(locale) == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return format_date(value, "d MMM y", locale="en")


def zone_name(timezone: str, locale: str | None = None) -> str:
    names = _ZONE_NAMES.get(timezone)
    if names:
        return names[_lang(locale)]
    return timezone


def moment(value: datetime, timezone: str, locale: str | None = None) -> str:
    """A UTC instant shown in the site's zone, with the zone written out."""
    local = value.astimezone(ZoneInfo(timezone))
    clock_time = format_time(local, "HH:mm", locale="en")
    if _lang(locale) == "zh":
        return f"{day(local.date(), 'zh')} {clock_time}（{zone_name(timezone, 'zh')}）"
    return f"{day(local.date(), 'en')} {clock_time} {zone_name(timezone, 'en')}"


def utc_moment(value: datetime) -> str:
    return value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S UTC")


def switch_language_url(language: str) -> str:
    """This page again in another language (answers are on the server, so nothing is lost)."""
    args = {key: value for key, value in request.args.items() if key != "lang"}
    args["lang"] = language
    return f"{request.path}?{urlencode(args)}"


def init_app(app: Flask) -> None:
    app.add_template_filter(day, "day")
    app.add_template_filter(moment, "moment")
    app.add_template_filter(utc_moment, "utc_moment")

    @app.context_processor
    def _locale_helpers() -> dict[str, object]:
        locale = str(get_locale())
        return {
            "locale": locale,
            "html_lang": html_lang(locale),
            "language_names": LANGUAGE_NAMES,
            "switch_language_url": switch_language_url,
            "demo_wording": bool(app.extensions["pro_catalog"].demo_packs),
        }
