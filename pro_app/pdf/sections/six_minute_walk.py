"""The computed values of the 6-minute walk computation in the PDF: distance and change from
baseline, and the Enright & Sherrill reference values, each empty one with its reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from flask_babel import gettext as _

from pro_app.formatting import number
from pro_app.pdf.document import FieldGroup, FieldLine, Line
from pro_app.pdf.lines import both, pair
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.computations import six_minute_walk as walk
from pro_app.questionnaire.computations.six_minute_walk import SixMinuteWalk
from pro_app.questionnaire.worksheet import Worksheet

DASH = "—"


def six_minute_walk_groups(
    instrument: Worksheet,
    worksheet: Mapping[str, Any],
    scores: Mapping[str, Any],
    catalog: Catalog,
    language: str,
) -> tuple[FieldGroup, ...]:
    computation = cast(SixMinuteWalk, instrument.computation)
    return (
        _distance_group(worksheet, scores, catalog, language),
        _reference_group(computation, scores, language),
    )


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
    return pair(language, planned.name)


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
    if why == walk.THIS_IS_BASELINE:
        reason = both(language, lambda: _("None: this is the baseline visit."))
    elif why == walk.NO_BASELINE_RECORD:
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
    computation: SixMinuteWalk, scores: Mapping[str, Any], language: str
) -> FieldGroup:
    title = both(
        language, lambda: _("Reference values for non-Chinese adults (Enright & Sherrill 1998)")
    )
    equation = computation.reference
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
    source = pair(language, equation.label)
    if not scores.get("reference_applicable"):
        if scores.get("reference_note") == walk.AGE_OUTSIDE_RANGE:
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
