"""What patients (and staff entering on their behalf) read: error pages, a refused answer, and the
findings of a worksheet's checks. Plain, short and polite (GLOSSARY.md)."""

from __future__ import annotations

from typing import Any, cast

from flask_babel import lazy_gettext as _l

from pro_app.formatting import clock_text, number, with_unit
from pro_app.questionnaire.definitions import Instrument
from pro_app.questionnaire.kinds.base import Finding
from pro_app.questionnaire.worksheet import Worksheet, WorksheetField
from pro_app.web.messages import Catalogue

PATIENT = Catalogue(
    "patient",
    {
        # --- whole pages: (title, explanation) ---------------------------------------------------
        "link.unknown": (
            _l("This link does not work"),
            _l(
                "Please check that you opened the whole link. If it still does not work, "
                "please ask the study nurse for a new one."
            ),
        ),
        "link.revoked": (
            _l("This link is no longer valid"),
            _l(
                "A newer link has replaced it, or it was cancelled. Please ask the study nurse "
                "for a new link."
            ),
        ),
        "link.expired": (
            _l("The time for this visit has ended"),
            _l("This link could be used until %(date)s. Please contact the study nurse."),
        ),
        "link.not_yet_open": (
            _l("It is not time yet"),
            _l("You can fill this in from %(date)s. Please open the link again on that day."),
        ),
        "participant.withdrawn": (
            _l("This link is no longer valid"),
            _l("No answers are needed any more. Thank you for your help."),
        ),
        "session.missing": (
            _l("Please open your link again"),
            _l(
                "This page was open for too long, or your browser forgot it. "
                "Your saved answers are kept. Please open the link from the study nurse again."
            ),
        ),
        "instrument.at_clinic": (
            _l("Done at the clinic"),
            _l(
                "This part is done at the clinic with the study nurse. You do not need to fill it in."
            ),
        ),
        "session.answer_lost": (
            _l("Please give this answer again"),
            _l(
                "Your browser forgot this visit, so your last answer could not be saved. "
                "Your other answers are kept. Please open the link from the study nurse again "
                "and answer this one question again."
            ),
        ),
        "not_found": (_l("Page not found"), _l("Please go back and try again.")),
        # The site's address on its own (a link cut short, or the address `make run` prints).
        "home": (
            _l("PRIME-HFrEF study"),
            _l(
                "To fill in your questionnaire, please open the link in the message from the "
                "study nurse."
            ),
        ),
        "staff_entry.ended": (
            _l("Staff entry has ended"),
            _l(
                "Your staff sign-in has ended. Sign in again and restart the entry from the "
                "participant page. Saved answers are kept."
            ),
        ),
        "error": (_l("Something went wrong"), _l("Please go back and try again.")),
        "request.refused": (
            _l("This could not be read"),
            _l(
                "Something in the address or the form could not be read. Nothing was changed. "
                "Please go back and try again."
            ),
        ),
        "too_many_attempts": (
            _l("Too many attempts"),
            _l("Please wait %(minutes)s minutes, then try again."),
        ),
        # --- one answer -------------------------------------------------------------------------
        "answer.invalid": _l(
            "Please choose one answer. If this question does not apply to you, choose 0."
        ),
        # --- worksheet findings: a value refused (hard) ------------------------------------------
        "not_a_number": _l("Please enter a number."),
        "not_whole": _l("Please enter a whole number."),
        "too_many_decimals": _l("Please round to %(decimals)s decimal place."),
        "not_on_scale": _l("Please choose a number on the scale."),
        "unknown_option": _l("Please choose one of the answers."),
        "exclusive_with_others": _l("“%(option)s” cannot be chosen together with other answers."),
        "bad_date": _l("Please enter the date, for example 2026-11-25."),
        "bad_time": _l("Please enter the time as hours:minutes, for example 09:30."),
        "bad_duration": _l("Please enter minutes (0 to %(minutes)s) and seconds (0 to 59)."),
        "too_long": _l("Please write at most %(max)s characters."),
        "unreadable": _l("This answer could not be read. Please enter it again."),
        "out_of_range": _l("Please enter a value from %(range)s."),
        "date_in_future": _l("The date cannot be later than today."),
        "diastolic_not_below_systolic": _l(
            "The lower number (diastolic) must be smaller than the upper number (systolic)."
        ),
        "partial_not_below_lap": _l(
            "The final partial lap must be shorter than one lap (%(limit)s). "
            "If a whole lap was walked, please add 1 to the laps."
        ),
        "distance_over_max": _l(
            "This makes %(distance)s m, more than anyone walks in 6 minutes (%(max)s m). "
            "Please check the laps and the lap length."
        ),
        # --- worksheet findings: an unusual value that needs a yes (soft) -------------------------
        "unusual_value": _l("This is unusual: it is usually %(range)s. Is it correct?"),
        "unusual_value.low": _l(
            "This is unusual: it is usually at least %(value)s. Is it correct?"
        ),
        "unusual_value.high": _l(
            "This is unusual: it is usually at most %(value)s. Is it correct?"
        ),
        "date_outside_window": _l(
            "This date is outside the time for this visit (%(start)s to %(end)s). Is it correct?"
        ),
        "lap_not_twice_course": _l(
            "A lap is usually twice the course length (%(expected)s). Is it correct?"
        ),
        "distance_unusual": _l(
            "This makes a walk distance of %(distance)s m. That is unusual (usually "
            "%(low)s–%(high)s m). Is it correct?"
        ),
        "timer_recorded_stop": _l(
            "The walk timer recorded a stop at %(time)s. Is “%(option)s” correct?"
        ),
    },
)


def _range(low: Any, high: Any, form_field: WorksheetField, locale: str, patient: bool) -> str:
    """85–180 cm in English, 85至180 cm in Chinese (one way to write a range in each language)."""
    joint = "至" if locale.startswith("zh") else "–"
    if form_field.type == "duration":
        return f"{clock_text(low)}{joint}{clock_text(high)}"
    return f"{number(low)}{joint}{with_unit(high, form_field, locale, patient)}"


# Findings whose words need nothing of the field (a choice answered off the scale).
_FIELD_FREE = ("answer.invalid",)


def finding_text(instrument: Instrument, finding: Finding, locale: str) -> str:
    """The sentence shown next to a refused or unusual value: the finding's code, with its limits
    written with the field's unit in the words of the page's audience."""
    if finding.code in _FIELD_FREE:
        return PATIENT.text(finding.code, finding.params)
    worksheet = cast(Worksheet, instrument)
    form_field = worksheet.field(finding.field)
    patient = worksheet.patient_administered
    p = finding.params
    code = finding.code
    values: dict[str, Any] = dict(p)
    if code == "exclusive_with_others":
        option = form_field.option(form_field.exclusive or "")
        values["option"] = option.label(locale) if option else ""
    elif code == "bad_duration":
        values["minutes"] = int(form_field.max or 0) // 60
    elif code == "out_of_range":
        values["range"] = _range(p["min"], p["max"], form_field, locale, patient)
    elif code in ("partial_not_below_lap", "lap_not_twice_course"):
        key = "limit" if "limit" in p else "expected"
        values[key] = with_unit(p[key], form_field, locale, patient)
    elif code in ("distance_over_max", "distance_unusual"):
        values = {
            "distance": number(p["distance"]),
            "max": number(p.get("max", "")),
            "low": number(p.get("soft_min", "")),
            "high": number(p.get("soft_max", "")),
        }
    elif code == "timer_recorded_stop":
        option = form_field.option("no")
        values = {"time": clock_text(p["at_s"]), "option": option.label(locale) if option else ""}
    elif code == "unusual_value":
        low, high = p["soft_min"], p["soft_max"]
        if low is not None and high is not None:
            values["range"] = _range(low, high, form_field, locale, patient)
        else:
            code = "unusual_value.low" if low is not None else "unusual_value.high"
            values["value"] = with_unit(
                low if low is not None else high, form_field, locale, patient
            )
    return PATIENT.text(code if code in PATIENT else "unreadable", values)
