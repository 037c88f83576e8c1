"""6MWT computations: distance, reference equation, change from baseline. Pure functions of data."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pro_app.questionnaire.form_definitions import FormInstrument, ReferenceEquation

# Why a reference value or a change is empty (stored in the record, so a blank is never silent).
AGE_OUTSIDE_RANGE = "age_outside_reference_range"
MISSING_INPUT = "missing_input"
THIS_IS_BASELINE = "this_is_the_baseline_visit"
NO_BASELINE_RECORD = "no_sealed_baseline_record"

# Columns of the computed part of a sealed 6MWT record, in export order.
COMPUTED_KEYS = (
    "distance_m",
    "age_years",
    "age_rule",
    "sex",
    "height_cm",
    "weight_kg",
    "reference_equation",
    "reference_population",
    "reference_applicable",
    "reference_note",
    "predicted_m",
    "lln_m",
    "percent_predicted",
    "below_lln",
    "baseline_visit",
    "baseline_record_id",
    "baseline_distance_m",
    "change_from_baseline_m",
    "change_note",
)


def _dec(value: float | int) -> Decimal:
    return Decimal(str(value))


def _tenth(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def total_distance(
    laps: int | None, lap_length_m: float | None, partial_m: float | None
) -> float | None:
    """Completed laps x lap length + final partial lap, in metres (None if any input is missing)."""
    if laps is None or lap_length_m is None or partial_m is None:
        return None
    return _tenth(_dec(laps) * _dec(lap_length_m) + _dec(partial_m))


def age_at_test(test_date: date, birth_year: int) -> int:
    """Only the birth year is collected: age = year of the test date - birth year."""
    return test_date.year - birth_year


@dataclass(frozen=True)
class Reference:
    applicable: bool
    note: str | None
    predicted_m: float | None = None
    lln_m: float | None = None
    percent_predicted: float | None = None
    below_lln: bool | None = None


def reference_values(
    equation: ReferenceEquation,
    *,
    sex: str,
    age: int,
    height_cm: float,
    weight_kg: float | None,
    distance_m: float | None,
) -> Reference:
    """Predicted distance, lower limit of normal and percent predicted; only for ages in range."""
    if not equation.min_age <= age <= equation.max_age:
        return Reference(applicable=False, note=AGE_OUTSIDE_RANGE)
    if weight_kg is None:
        return Reference(applicable=False, note=MISSING_INPUT)
    chosen = equation.for_sex(sex)
    predicted = chosen.predicted(age=age, height_cm=height_cm, weight_kg=weight_kg)
    lln = predicted - _dec(chosen.lln_below)
    if distance_m is None:
        return Reference(True, MISSING_INPUT, _tenth(predicted), _tenth(lln))
    percent = _dec(distance_m) / predicted * 100 if predicted > 0 else None
    return Reference(
        applicable=True,
        note=None,
        predicted_m=_tenth(predicted),
        lln_m=_tenth(lln),
        percent_predicted=_tenth(percent) if percent is not None else None,
        below_lln=_dec(distance_m) < lln,
    )


@dataclass(frozen=True)
class Baseline:
    """The baseline visit's sealed 6MWT: which visit, which record, which distance."""

    visit_code: str
    record_id: int | None
    distance_m: float | None


def change_from_baseline(
    distance_m: float | None, visit_code: str, baseline: Baseline
) -> tuple[float | None, str | None]:
    """(change in metres, why it is empty)."""
    if visit_code == baseline.visit_code:
        return None, THIS_IS_BASELINE
    if baseline.record_id is None:
        return None, NO_BASELINE_RECORD
    if distance_m is None or baseline.distance_m is None:
        return None, MISSING_INPUT
    return _tenth(_dec(distance_m) - _dec(baseline.distance_m)), None


@dataclass(frozen=True)
class Participant:
    """What the computation needs to know about the participant (never a name, never the arm)."""

    sex: str
    birth_year: int
    height_cm: float


def compute(
    instrument: FormInstrument,
    values: Mapping[str, Any],
    participant: Participant,
    visit_code: str,
    baseline: Baseline,
) -> dict[str, Any]:
    """Every computed value of a 6MWT record, keyed as COMPUTED_KEYS."""
    distance = total_distance(
        values.get("laps"), values.get("lap_length_m"), values.get("partial_lap_m")
    )
    test_date = values.get("test_date")
    age = age_at_test(date.fromisoformat(test_date), participant.birth_year) if test_date else None
    weight = values.get("weight_kg")
    equation = instrument.reference
    if age is None:
        reference = Reference(applicable=False, note=MISSING_INPUT)
    else:
        reference = reference_values(
            equation,
            sex=participant.sex,
            age=age,
            height_cm=participant.height_cm,
            weight_kg=weight,
            distance_m=distance,
        )
    change, change_note = change_from_baseline(distance, visit_code, baseline)
    result = {
        "distance_m": distance,
        "age_years": age,
        "age_rule": instrument.computation.age_rule,
        "sex": participant.sex,
        "height_cm": participant.height_cm,
        "weight_kg": weight,
        "reference_equation": equation.id,
        "reference_population": equation.label_en,
        "reference_applicable": reference.applicable,
        "reference_note": reference.note,
        "predicted_m": reference.predicted_m,
        "lln_m": reference.lln_m,
        "percent_predicted": reference.percent_predicted,
        "below_lln": reference.below_lln,
        "baseline_visit": baseline.visit_code,
        "baseline_record_id": baseline.record_id,
        "baseline_distance_m": baseline.distance_m,
        "change_from_baseline_m": change,
        "change_note": change_note,
    }
    return result


# --- the walk timer's result ------------------------------------------------------------------

_RUN_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
MAX_PAUSES = 50


class TimerResultInvalid(ValueError):
    """The timer's result is not well formed (a bug or a forged request, never a user's typo)."""


@dataclass(frozen=True)
class TimerResult:
    """What the walk timer measured: laps with their times, pauses, and when the walk ended."""

    run_id: str
    laps: int
    lap_times_s: tuple[float, ...]
    pauses: tuple[tuple[float, float | None], ...]
    elapsed_s: float
    ended_early: bool
    partial_lap: str

    @property
    def stopped_early(self) -> bool:
        return self.ended_early or bool(self.pauses)

    @property
    def stop_time_s(self) -> int | None:
        """When the walk ended early, else when the patient first paused (whole seconds)."""
        if self.ended_early:
            return int(self.elapsed_s)
        if self.pauses:
            return int(self.pauses[0][0])
        return None

    def record(self) -> dict[str, Any]:
        """The raw timing, sealed with the log as its source."""
        return {
            "run_id": self.run_id,
            "laps": self.laps,
            "lap_times_s": list(self.lap_times_s),
            "pauses": [list(pause) for pause in self.pauses],
            "elapsed_s": self.elapsed_s,
            "ended_early": self.ended_early,
        }


def _seconds(value: Any, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= upper:
        raise TimerResultInvalid(f"time {value!r} is outside 0..{upper}")
    return round(float(value), 1)


def read_timer(form: Mapping[str, str], duration_s: int) -> TimerResult:
    """Check and read the timer's form post (JSON lists inside form fields)."""
    run_id = form.get("run_id", "")
    if not _RUN_ID.fullmatch(run_id):
        raise TimerResultInvalid("run_id")
    try:
        lap_times = json.loads(form.get("lap_times", "[]"))
        pauses = json.loads(form.get("pauses", "[]"))
        elapsed = float(form.get("elapsed_s", ""))
        laps = int(form.get("laps", ""))
    except ValueError:
        raise TimerResultInvalid("unreadable numbers") from None
    ended_early = form.get("ended_early") == "1"
    elapsed = _seconds(elapsed, duration_s)
    if not ended_early and elapsed != duration_s:
        raise TimerResultInvalid("a walk that was not ended early lasts the full duration")
    if not isinstance(lap_times, list) or len(lap_times) != laps:
        raise TimerResultInvalid("laps do not match their times")
    times = tuple(_seconds(t, elapsed) for t in lap_times)
    if list(times) != sorted(times):
        raise TimerResultInvalid("lap times are not in order")
    if not isinstance(pauses, list) or len(pauses) > MAX_PAUSES:
        raise TimerResultInvalid("pauses")
    read_pauses: list[tuple[float, float | None]] = []
    previous_end = 0.0
    for number, pause in enumerate(pauses, 1):
        if not isinstance(pause, list) or len(pause) != 2:
            raise TimerResultInvalid("a pause is [start, end]")
        if pause[1] is None and number != len(pauses):
            raise TimerResultInvalid("only the last pause can last until the end")
        start = _seconds(pause[0], elapsed)
        end = None if pause[1] is None else _seconds(pause[1], elapsed)
        if start < previous_end or (end is not None and end < start):
            raise TimerResultInvalid("pauses overlap or run backwards")
        read_pauses.append((start, end))
        previous_end = end if end is not None else elapsed
    return TimerResult(
        run_id=run_id,
        laps=laps,
        lap_times_s=times,
        pauses=tuple(read_pauses),
        elapsed_s=elapsed,
        ended_early=ended_early,
        partial_lap=form.get("partial_lap_m", ""),
    )
