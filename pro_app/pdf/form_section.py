"""The PDF section of a log (a form instrument, e.g. the 6MWT): the worksheet grouped as on the form,
the walk timer's raw data, then the computed values with the reason for every empty one.

Reads only the sealed record (`answers`, `scores`) and the instrument file; labels come from the
instrument's own bilingual wording or through gettext, in the record's language with English
alongside (like the questionnaire section).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from pro_app.i18n import LANGUAGE_NAMES
from pro_app.models import Response
from pro_app.patient.formtext import clock_text, display, number
from pro_app.pdf.document import FieldGroup, FieldLine, Line, Part, Section
from pro_app.pdf.lines import ENGLISH, both, pair
from pro_app.questionnaire import walktest
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.form_definitions import FormField, FormInstrument
from pro_app.questionnaire.formcheck import applies, is_blank

DASH = "—"


def form_section(
    instrument: FormInstrument, response: Response, catalog: Catalog, wording_available: bool
) -> Section:
    """Worksheet by screen (before the walk / the walk / after the walk), then computed values."""
    language = response.language
    answers: Mapping[str, Any] = response.answers
    worksheet: Mapping[str, Any] = answers.get("worksheet") or {}
    confirmed = _confirmed_by_field(answers.get("confirmed_warnings") or {})
    parts = []
    for screen in instrument.screens:
        groups = [
            FieldGroup(
                title=pair(language, section.title_zh, section.title_en),
                fields=tuple(
                    _field_line(
                        instrument.field(field_id),
                        worksheet,
                        confirmed.get(field_id, ()),
                        language,
                    )
                    for field_id in section.fields
                ),
            )
            for section in screen.sections
        ]
        if screen.id == "walk":
            groups.append(_timer_group(answers.get("timer"), worksheet, language))
        parts.append(
            Part(
                heading=pair(
                    language,
                    f"{screen.number} {screen.title_zh}",
                    f"{screen.number} {screen.title_en}",
                ),
                groups=tuple(groups),
            )
        )
    scores: Mapping[str, Any] = response.scores
    notes = [
        both(
            language,
            lambda: _(
                "The worksheet as sealed, grouped as on the form. A blank field shows —; a field "
                "that did not apply shows “Not applicable”."
            ),
        ),
        Line(instrument.standard),
    ]
    saved_by = _saved_by(answers.get("entered_by") or {}, language)
    if saved_by is not None:
        notes.append(saved_by)
    return Section(
        kind="form",
        heading=pair(language, instrument.title_zh, instrument.title_en),
        notes=tuple(notes),
        answer_heading=both(language, lambda: _("Worksheet")),
        rows=(),
        scores_heading=both(language, lambda: _("Computed values")),
        scores=(),
        score_notes=(
            both(
                language,
                lambda: _(
                    "Computed by the server when the record was sealed (%(version)s), from the "
                    "worksheet and the participant's sex, birth year and height.",
                    version=response.scoring_version,
                ),
            ),
        ),
        parts=tuple(parts),
        computed=(
            _distance_group(worksheet, scores, catalog, language),
            _reference_group(instrument, scores, language),
            _borg_group(instrument, answers.get("borg_scale") or {}, language),
        ),
    )


# --- the worksheet ------------------------------------------------------------------------------


def _value(form_field: FormField, value: Any, language: str) -> Line:
    text = display(form_field, value, language)
    if language.startswith(ENGLISH) or form_field.type == "text":
        return Line(text)
    english = display(form_field, value, ENGLISH)
    return Line(text, english if english != text else None)


def _field_line(
    form_field: FormField,
    worksheet: Mapping[str, Any],
    confirmed: tuple[str, ...],
    language: str,
) -> FieldLine:
    label = pair(language, form_field.label_zh, form_field.label_en)
    value = worksheet.get(form_field.id)
    if is_blank(value) and not applies(form_field, worksheet):
        return FieldLine(label, both(language, lambda: _("Not applicable")), "not_applicable")
    if is_blank(value):
        return FieldLine(label, Line(DASH), "blank")
    notes = tuple(_confirmed_note(code, language) for code in confirmed)
    return FieldLine(label, _value(form_field, value, language), notes=notes, flag=bool(notes))


def _confirmed_by_field(confirmations: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """ "baseline_hr:unusual_value" -> {"baseline_hr": ("unusual_value",)}."""
    found: dict[str, list[str]] = {}
    for key in sorted(confirmations):
        field_id, _sep, code = key.partition(":")
        found.setdefault(field_id, []).append(code)
    return {field_id: tuple(codes) for field_id, codes in found.items()}


def _confirmed_note(code: str, language: str) -> Line:
    if code == "unusual_value":
        return both(language, lambda: _("Unusual value, confirmed as correct at entry"))
    if code == "date_outside_window":
        return both(language, lambda: _("Date outside the visit window, confirmed at entry"))
    if code == "lap_not_twice_course":
        return both(language, lambda: _("Lap not twice the course length, confirmed at entry"))
    if code == "distance_unusual":
        return both(language, lambda: _("Unusual total distance, confirmed as correct at entry"))
    return both(language, lambda: _("Unusual value (%(code)s), confirmed at entry", code=code))


def _saved_by(entered_by: Mapping[str, str], language: str) -> Line | None:
    """Who saved the fields last, counted, e.g. "The participant 27; Staff user coord.li 4"."""
    if not entered_by:
        return None
    counts = sorted(Counter(entered_by.values()).items())
    return both(
        language,
        lambda: _(
            "Fields last saved by (number of fields): %(who)s",
            who="; ".join(f"{_who(who)} {count}" for who, count in counts),
        ),
    )


def _who(who: str) -> str:
    """Called under force_locale (inside `both`)."""
    if who == "participant":
        return _("The participant")
    if who.startswith("staff:"):
        return f"{_('Staff user')} {who.removeprefix('staff:')}"
    return who


# --- the walk timer -----------------------------------------------------------------------------


def _timer_group(
    timer: Mapping[str, Any] | None, worksheet: Mapping[str, Any], language: str
) -> FieldGroup:
    title = both(language, lambda: _("Walk timer (raw data, the source of the walk part)"))
    if not timer:
        return FieldGroup(
            title,
            (
                FieldLine(
                    both(language, lambda: _("Walk timer")),
                    both(language, lambda: _("Not used: the walk part was entered by hand")),
                ),
            ),
        )
    laps = int(timer.get("laps", 0))
    lap_times = [clock_text(t) for t in timer.get("lap_times_s", [])]
    pauses = timer.get("pauses") or []
    pause_text = ", ".join(
        f"{clock_text(start)}–{clock_text(end) if end is not None else '…'}"
        for start, end in pauses
    )
    lap_notes: tuple[Line, ...] = ()
    if worksheet.get("laps") is not None and worksheet.get("laps") != laps:
        lap_notes = (
            both(
                language,
                lambda: _(
                    "The worksheet says %(laps)s laps: changed by hand after the timer.",
                    laps=worksheet.get("laps"),
                ),
            ),
        )
    ended_early = bool(timer.get("ended_early"))
    fields = (
        FieldLine(
            both(language, lambda: _("Laps counted by the timer")),
            Line(str(laps)),
            notes=lap_notes,
            flag=bool(lap_notes),
        ),
        FieldLine(
            both(language, lambda: _("Lap times (since the start, m:ss)")),
            Line(", ".join(lap_times) if lap_times else DASH),
            state="answered" if lap_times else "blank",
        ),
        FieldLine(
            both(language, lambda: _("Pauses (from–to, m:ss)")),
            both(language, lambda: _("None")) if not pauses else Line(pause_text),
            notes=(both(language, lambda: _("Number of pauses: %(num)s", num=len(pauses))),)
            if pauses
            else (),
        ),
        FieldLine(
            both(language, lambda: _("Elapsed time (m:ss)")),
            Line(clock_text(float(timer.get("elapsed_s", 0)))),
            notes=(both(language, lambda: _("Ended early by the assessor")),)
            if ended_early
            else (),
            flag=ended_early,
        ),
    )
    return FieldGroup(title, fields)


# --- computed values ----------------------------------------------------------------------------


def _metres(value: Any) -> str:
    return f"{number(value)} m"


def _distance_group(
    worksheet: Mapping[str, Any], scores: Mapping[str, Any], catalog: Catalog, language: str
) -> FieldGroup:
    distance = scores.get("distance_m")
    laps, lap, partial = (worksheet.get(k) for k in ("laps", "lap_length_m", "partial_lap_m"))
    if distance is None:
        total = FieldLine(
            both(language, lambda: _("6-minute walk distance")),
            Line(DASH),
            "blank",
            (both(language, lambda: _("Not computed: laps, lap length or partial lap missing.")),),
        )
    else:
        total = FieldLine(
            both(language, lambda: _("6-minute walk distance")),
            Line(_metres(distance)),
            main=True,
            notes=(
                both(
                    language,
                    lambda: _(
                        "%(laps)s laps × %(lap)s m + %(partial)s m",
                        laps=number(laps),
                        lap=number(lap),
                        partial=number(partial),
                    ),
                ),
            ),
        )
    return FieldGroup(
        both(language, lambda: _("Distance")),
        (total, _change_line(scores, catalog, language)),
    )


def _visit_name(code: str, catalog: Catalog, language: str) -> Line:
    try:
        planned = catalog.schedule.visit(code)
    except KeyError:
        return Line(code)
    return pair(language, planned.name_zh, planned.name_en)


def _change_line(scores: Mapping[str, Any], catalog: Catalog, language: str) -> FieldLine:
    label = both(language, lambda: _("Change from baseline"))
    change = scores.get("change_from_baseline_m")
    why = scores.get("change_note")
    baseline = _visit_name(str(scores.get("baseline_visit") or ""), catalog, language)
    if change is not None:
        sign = "+" if change > 0 else ""
        note = both(
            language,
            lambda: _(
                "Baseline: %(distance)s m, record %(record)s",
                distance=number(scores.get("baseline_distance_m")),
                record=scores.get("baseline_record_id"),
            ),
        )
        return FieldLine(
            label, Line(f"{sign}{number(change)} m"), notes=(note, baseline), main=True
        )
    if why == walktest.THIS_IS_BASELINE:
        reason = both(language, lambda: _("None: this is the baseline visit."))
    elif why == walktest.NO_BASELINE_RECORD:
        reason = both(
            language,
            lambda: _("None: no sealed baseline 6MWT record when this record was sealed."),
        )
    else:
        reason = both(
            language, lambda: _("None: the distance of this or the baseline test is missing.")
        )
    return FieldLine(label, Line(DASH), "blank", (reason,))


def _reference_group(
    instrument: FormInstrument, scores: Mapping[str, Any], language: str
) -> FieldGroup:
    title = both(
        language, lambda: _("Reference values for non-Chinese adults (Enright & Sherrill 1998)")
    )
    equation = instrument.reference
    sex = scores.get("sex")
    inputs = FieldLine(
        both(language, lambda: _("Used: sex, age, height, weight")),
        _inputs(scores, language),
        notes=(
            both(
                language,
                lambda: _(
                    "Age = year of the test date minus birth year (only the birth year is collected)."
                ),
            ),
        ),
    )
    source = pair(language, equation.label_zh, equation.label_en)
    if not scores.get("reference_applicable"):
        if scores.get("reference_note") == walktest.AGE_OUTSIDE_RANGE:
            reason = both(
                language,
                lambda: _(
                    "Age %(age)s is outside the ages of the equation (%(low)s–%(high)s years).",
                    age=scores.get("age_years"),
                    low=equation.min_age,
                    high=equation.max_age,
                ),
            )
        else:
            reason = both(language, lambda: _("A value the equation needs is missing."))
        na = FieldLine(
            both(language, lambda: _("Predicted distance")),
            both(language, lambda: _("Not applicable")),
            "not_applicable",
            (reason, source),
        )
        return FieldGroup(title, (inputs, na))
    below = scores.get("below_lln")
    lln_notes: tuple[Line, ...] = ()
    if below is True:
        lln_notes = (both(language, lambda: _("The distance is below the lower limit of normal.")),)
    elif below is False:
        lln_notes = (
            both(language, lambda: _("The distance is not below the lower limit of normal.")),
        )
    lln_below = equation.for_sex(str(sex)).lln_below
    percent = scores.get("percent_predicted")
    fields = (
        inputs,
        FieldLine(
            both(language, lambda: _("Predicted distance")),
            Line(_metres(scores.get("predicted_m"))),
            notes=(source,),
            main=True,
        ),
        FieldLine(
            both(
                language,
                lambda: _("Lower limit of normal (predicted minus %(m)s m)", m=number(lln_below)),
            ),
            Line(_metres(scores.get("lln_m"))),
            notes=lln_notes,
            flag=below is True,
            main=True,
        ),
        FieldLine(
            both(language, lambda: _("Percent of predicted")),
            Line(f"{number(percent)}%") if percent is not None else Line(DASH),
            state="answered" if percent is not None else "blank",
            main=True,
        ),
    )
    return FieldGroup(title, fields)


def _inputs(scores: Mapping[str, Any], language: str) -> Line:
    def text() -> str:
        sex = {"male": _("Male"), "female": _("Female")}.get(str(scores.get("sex")), DASH)
        age, height, weight = (scores.get(k) for k in ("age_years", "height_cm", "weight_kg"))
        return _(
            "%(sex)s, %(age)s years, %(height)s cm, %(weight)s kg",
            sex=sex,
            age=DASH if age is None else age,
            height=DASH if height is None else number(height),
            weight=DASH if weight is None else number(weight),
        )

    return both(language, text)


def _borg_group(instrument: FormInstrument, borg: Mapping[str, Any], language: str) -> FieldGroup:
    wording: Mapping[str, Any] = borg.get("wording") or {}
    shown_lines = [_wording_line(used, wording[used], language) for used in sorted(wording)]
    first, rest = (shown_lines[0], tuple(shown_lines[1:])) if shown_lines else (Line(DASH), ())
    return FieldGroup(
        both(language, lambda: _("Borg scale")),
        (
            FieldLine(
                both(language, lambda: _("Scale and version")),
                _scale_version(
                    str(borg.get("version") or borg.get("name") or DASH), instrument, language
                ),
            ),
            FieldLine(both(language, lambda: _("Scale wording shown")), first, notes=rest),
        ),
    )


def _scale_version(stored: str, instrument: FormInstrument, language: str) -> Line:
    """The sealed scale version; the built-in one (no site pack) is described in the record's
    language too, with the stored English text alongside."""
    if stored != instrument.borg.version_without_pack or language.startswith(ENGLISH):
        return Line(stored)
    with force_locale(language):
        described = _(
            "Borg CR10, numbers 0 to 10 in steps of 0.5; wording not shown (no site text pack)"
        )
    return Line(described, stored)


def _wording_line(used: str, pack: Mapping[str, Any] | None, language: str) -> Line:
    """Whether the Borg wording was shown in one language of the answers, and from which pack."""
    name = LANGUAGE_NAMES.get(used, used)
    if pack:
        return both(
            language,
            lambda: _(
                "%(language)s: yes, site text pack %(pack)s (%(version)s)",
                language=name,
                pack=pack.get("pack_id"),
                version=pack.get("scale_version"),
            ),
        )
    return both(
        language,
        lambda: _("%(language)s: no, numbers only (no site text pack installed)", language=name),
    )
