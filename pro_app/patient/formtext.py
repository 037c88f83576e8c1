"""How form answers, limits and faults read on patient pages, in the page's language."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _

from pro_app import formatting
from pro_app.questionnaire.form_definitions import FormField, FormInstrument
from pro_app.questionnaire.formcheck import Finding


def number(value: Any) -> str:
    """60.0 reads as 60, 12.5 as 12.5."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def with_unit(value: Any, form_field: FormField, locale: str) -> str:
    """70 kg, 70公斤, 95%: Chinese units and % follow the number without a space."""
    unit = form_field.unit(locale)
    if not unit:
        return number(value)
    if unit == "%" or (locale.startswith("zh") and not unit.isascii()):
        return f"{number(value)}{unit}"
    return f"{number(value)} {unit}"


def duration(seconds: int, locale: str) -> str:
    minutes, rest = divmod(int(seconds), 60)
    if locale.startswith("zh"):
        return f"{minutes}分{rest}秒"
    return f"{minutes} min {rest} s"


def clock_text(seconds: float) -> str:
    """Time since the start as m:ss, as on the timer."""
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"


def input_text(form_field: FormField, value: Any) -> str:
    """A saved value as it goes back into its input box."""
    if value is None:
        return ""
    if form_field.type in ("integer", "decimal", "borg"):
        return number(value)
    return str(value)


def display(form_field: FormField, value: Any, locale: str) -> str:
    """A saved value as a person reads it on the review page."""
    if value is None or value == [] or value == "":
        return ""
    if form_field.type == "choice":
        option = form_field.option(value)
        return option.label(locale) if option else str(value)
    if form_field.type == "multi":
        labels = [o.label(locale) for o in form_field.options if o.value in value]
        return ("、" if locale.startswith("zh") else ", ").join(labels)
    if form_field.type == "date":
        return formatting.day(date.fromisoformat(value), locale)
    if form_field.type == "duration":
        return duration(value, locale)
    if form_field.type in ("integer", "decimal"):
        return with_unit(value, form_field, locale)
    return number(value) if form_field.type == "borg" else str(value)


def _range(low: Any, high: Any, form_field: FormField, locale: str) -> str:
    if form_field.type == "duration":
        return f"{clock_text(low)}–{clock_text(high)}"
    return f"{number(low)}–{with_unit(high, form_field, locale)}"


def message(instrument: FormInstrument, finding: Finding, locale: str) -> str:
    """The sentence shown next to a refused or unusual value."""
    form_field = instrument.field(finding.field)
    p = finding.params
    code = finding.code
    if code == "not_a_number":
        return _("Please enter a number.")
    if code == "not_whole":
        return _("Please enter a whole number.")
    if code == "too_many_decimals":
        return _("Please round to %(decimals)s decimal place.", decimals=p["decimals"])
    if code == "not_on_scale":
        return _("Please choose a number on the scale.")
    if code == "unknown_option":
        return _("Please choose one of the answers.")
    if code == "exclusive_with_others":
        option = form_field.option(form_field.exclusive or "")
        return _(
            "“%(option)s” cannot be chosen together with other answers.",
            option=option.label(locale) if option else "",
        )
    if code == "bad_date":
        return _("Please enter the date, for example 2026-11-25.")
    if code == "bad_time":
        return _("Please enter the time as hours:minutes, for example 09:30.")
    if code == "bad_duration":
        return _("Please enter minutes (0 to 5) and seconds (0 to 59).")
    if code == "too_long":
        return _("Please write at most %(max)s characters.", max=p["max"])
    if code == "out_of_range":
        if form_field.type == "duration":
            return _("The time must be less than 6 minutes.")
        return _(
            "Please enter a value from %(range)s.",
            range=_range(p["min"], p["max"], form_field, locale),
        )
    if code == "date_in_future":
        return _("The date cannot be later than today.")
    if code == "diastolic_not_below_systolic":
        return _("The lower number must be smaller than the upper number.")
    if code == "partial_not_below_lap":
        return _(
            "The final partial lap must be shorter than one lap (%(lap)s).",
            lap=with_unit(p["lap"], form_field, locale),
        )
    if code == "distance_over_max":
        return _(
            "This makes %(distance)s m, more than anyone walks in 6 minutes (%(max)s m). "
            "Please check the laps and the lap length.",
            distance=number(p["distance"]),
            max=number(p["max"]),
        )
    return _soft_message(form_field, finding, locale)


def _soft_message(form_field: FormField, finding: Finding, locale: str) -> str:
    p = finding.params
    code = finding.code
    if code == "unusual_value":
        low, high = p["soft_min"], p["soft_max"]
        if low is not None and high is not None:
            return _(
                "This is unusual: it is usually %(range)s. Is it correct?",
                range=_range(low, high, form_field, locale),
            )
        if low is not None:
            return _(
                "This is unusual: it is usually at least %(value)s. Is it correct?",
                value=with_unit(low, form_field, locale),
            )
        return _(
            "This is unusual: it is usually at most %(value)s. Is it correct?",
            value=with_unit(high, form_field, locale),
        )
    if code == "date_outside_window":
        return _(
            "This date is outside the time for this visit (%(start)s to %(end)s). Is it correct?",
            start=formatting.day(p["start"], locale),
            end=formatting.day(p["end"], locale),
        )
    if code == "lap_not_twice_course":
        return _(
            "A lap is usually twice the course length (%(expected)s). Is it correct?",
            expected=with_unit(p["expected"], form_field, locale),
        )
    if code == "distance_unusual":
        return _(
            "This makes a walk distance of %(distance)s m. That is unusual (usually "
            "%(low)s–%(high)s m). Is it correct?",
            distance=number(p["distance"]),
            low=number(p["soft_min"]),
            high=number(p["soft_max"]),
        )
    return _("This answer could not be read. Please enter it again.")
