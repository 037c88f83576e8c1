"""How a worksheet's refused and unusual values read on its screens, in the page's language."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from pro_app import formatting
from pro_app.formatting import clock_text, number, with_unit
from pro_app.questionnaire.formcheck import Finding
from pro_app.questionnaire.worksheet import Worksheet, WorksheetField


def _range(low: Any, high: Any, form_field: WorksheetField, locale: str) -> str:
    if form_field.type == "duration":
        return f"{clock_text(low)}–{clock_text(high)}"
    return f"{number(low)}–{with_unit(high, form_field, locale)}"


def message(instrument: Worksheet, finding: Finding, locale: str) -> str:
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
            lap=with_unit(p["limit"], form_field, locale),
        )
    if code == "distance_over_max":
        return _(
            "This makes %(distance)s m, more than anyone walks in 6 minutes (%(max)s m). "
            "Please check the laps and the lap length.",
            distance=number(p["distance"]),
            max=number(p["max"]),
        )
    return _soft_message(form_field, finding, locale)


def _soft_message(form_field: WorksheetField, finding: Finding, locale: str) -> str:
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
