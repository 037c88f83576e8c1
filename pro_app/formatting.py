"""How values read to people: dates and times with the zone written out (2026年11月25日 /
25 Nov 2026), numbers with their units, durations. Pure formatters shared by pages and PDFs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask_babel import get_locale, gettext
from markupsafe import Markup, escape

from pro_app.languages import is_chinese

if TYPE_CHECKING:
    from pro_app.questionnaire.worksheet import WorksheetField

# Babel's generic names are not what a Shanghai clinic says; other zones use Babel's.
_ZONE_NAMES = {"Asia/Shanghai": {"zh": "北京时间", "en": "China Standard Time"}}


def _lang(locale: str | None) -> str:
    return "zh" if is_chinese(locale or str(get_locale())) else "en"


def day(value: date, locale: str | None = None) -> str:
    if _lang(locale) == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return _english_day(value)


@lru_cache(maxsize=4096)
def _english_day(value: date) -> str:
    """Babel's formatting, remembered: a staff list shows a few hundred dates of one season."""
    return format_date(value, "d MMM y", locale="en")


_NOWRAP = Markup('<span class="nowrap">%s</span>')


def whole_day(value: date, locale: str | None = None) -> Markup:
    """A date that never breaks across lines, for a sentence around it: a phone broke "Please
    fill in between … and 25 / Nov 2026" and "2026年11月11 / 日"."""
    return _NOWRAP % day(value, locale)


def window(
    start: date,
    end: date,
    locale: str | None = None,
    translate: Callable[[str], str] | None = None,
) -> Markup:
    """A date range whose dates never break across lines: 2026年11月11日至2026年11月25日.
    `translate`: the page's own gettext, which a template has at hand (the board shows 150
    windows; Flask-Babel's gettext looks the page's translations up again for each)."""
    # Written out twice: the extractor finds the words only in a call of gettext.
    text = translate("%(start)s – %(end)s") if translate else gettext("%(start)s – %(end)s")
    return _window(start, end, _lang(locale), text)


@lru_cache(maxsize=4096)
def _window(start: date, end: date, lang: str, text: str) -> Markup:
    """Remembered: a board shows 150 windows, many alike, and escaping costs more than a look-up."""
    return escape(text) % {"start": _NOWRAP % day(start, lang), "end": _NOWRAP % day(end, lang)}


def zone_name(timezone: str, locale: str | None = None) -> str:
    names = _ZONE_NAMES.get(timezone)
    if names:
        return names[_lang(locale)]
    return timezone


def moment(value: datetime, timezone: str, locale: str | None = None) -> str:
    """A UTC instant shown in the site's zone, with the zone written out."""
    day_text, clock_time, zone, joint = _moment_parts(value, timezone, _lang(locale))
    return f"{day_text} {clock_time}{joint}{zone}"


def whole_moment(value: datetime, timezone: str, locale: str | None = None) -> Markup:
    """`moment` for a sentence on a phone: the date, the time and the zone each move to the next
    line whole (a receipt broke "10:00（北 / 京时间）")."""
    day_text, clock_time, zone, joint = _moment_parts(value, timezone, _lang(locale))
    return _NOWRAP % day_text + Markup(" ") + _NOWRAP % clock_time + joint + _NOWRAP % zone


def _moment_parts(value: datetime, timezone: str, lang: str) -> tuple[str, str, str, str]:
    """(the site's date, its HH:mm, the zone as written after them, what goes between)."""
    local = value.astimezone(ZoneInfo(timezone))
    clock_time = format_time(local, "HH:mm", locale="en")
    zone = zone_name(timezone, lang)
    if lang == "zh":
        return day(local.date(), "zh"), clock_time, f"（{zone}）", ""
    return day(local.date(), "en"), clock_time, zone, " "


def local_time(value: datetime, timezone: str, locale: str | None = None) -> str:
    """Date and time in the site's zone, compact (a table heading names the zone once)."""
    local = value.astimezone(ZoneInfo(timezone))
    return f"{day(local.date(), locale)} {local:%H:%M:%S}"


def utc_moment(value: datetime) -> str:
    return value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- numbers and worksheet values ---------------------------------------------------------------


def number(value: Any) -> str:
    """60.0 reads as 60, 12.5 as 12.5."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def with_unit(value: Any, form_field: WorksheetField, locale: str, patient: bool = False) -> str:
    """70 kg, 70公斤, 95%: Chinese units and % follow the number without a space. `patient`: in
    the words of patient pages (公斤) rather than staff pages and the PDF (kg)."""
    unit = form_field.unit_for(patient)(locale)
    if not unit:
        return number(value)
    if unit == "%" or (is_chinese(locale) and not unit.isascii()):
        return f"{number(value)}{unit}"
    return f"{number(value)} {unit}"


def duration(seconds: int, locale: str) -> str:
    minutes, rest = divmod(int(seconds), 60)
    if is_chinese(locale):
        return f"{minutes}分{rest}秒"
    return f"{minutes} min {rest} s"


def clock_text(seconds: float) -> str:
    """Time since the start as m:ss, as on the timer."""
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"


def input_text(form_field: WorksheetField, value: Any) -> str:
    """A saved value as it goes back into its input box."""
    if value is None:
        return ""
    if form_field.type in ("integer", "decimal", "scale"):
        return number(value)
    return str(value)


def display(form_field: WorksheetField, value: Any, locale: str, patient: bool = False) -> str:
    """A saved value as a person reads it on the review page and in the PDF."""
    if value is None or value == [] or value == "":
        return ""
    if form_field.type == "choice":
        option = form_field.option(value)
        return option.label(locale) if option else str(value)
    if form_field.type == "multi":
        labels = [o.label(locale) for o in form_field.options if o.value in value]
        return ("、" if is_chinese(locale) else ", ").join(labels)
    if form_field.type == "date":
        return day(date.fromisoformat(value), locale)
    if form_field.type == "duration":
        return duration(value, locale)
    if form_field.type in ("integer", "decimal"):
        return with_unit(value, form_field, locale, patient)
    return number(value) if form_field.type == "scale" else str(value)
