"""6MWT computations: distance, Enright-Sherrill reference values, change from baseline, timer."""

from __future__ import annotations

import json
from datetime import date

import pytest

from pro_app.questionnaire.catalog import INSTRUMENTS_DIR
from pro_app.questionnaire.computations.six_minute_walk import (
    AGE_OUTSIDE_RANGE,
    COMPUTED_KEYS,
    MISSING_INPUT,
    NO_BASELINE_RECORD,
    THIS_IS_BASELINE,
    SixMinuteWalk,
    TimerResultInvalid,
    age_at_test,
    change_from_baseline,
    read_timer,
    reference_values,
    total_distance,
)
from pro_app.questionnaire.definitions import load_instrument
from pro_app.questionnaire.kinds.base import Baseline, ParticipantFacts
from pro_app.questionnaire.worksheet import Worksheet

SIXMWT = load_instrument(INSTRUMENTS_DIR / "sixmwt" / "instrument.toml")
assert isinstance(SIXMWT, Worksheet)
WALK = SIXMWT.computation
assert isinstance(WALK, SixMinuteWalk)
EQUATION = WALK.reference


@pytest.mark.parametrize(
    ("laps", "lap", "partial", "expected"),
    [
        (7, 60, 12, 432.0),
        (7, 60.0, 12.5, 432.5),
        (0, 60, 25.3, 25.3),
        (10, 60, 0, 600.0),
        (3, 50.5, 0.1, 151.6),  # exact decimals: float arithmetic would give 151.60000000000002
    ],
)
def test_total_distance_is_laps_times_lap_length_plus_partial_lap(
    laps: int, lap: float, partial: float, expected: float
) -> None:
    assert total_distance(laps, lap, partial) == expected


@pytest.mark.parametrize("missing", ["laps", "lap", "partial"])
def test_no_distance_without_every_input(missing: str) -> None:
    values = {"laps": 7, "lap": 60.0, "partial": 12.0}
    values[missing] = None  # type: ignore[assignment]
    assert total_distance(values["laps"], values["lap"], values["partial"]) is None


def test_worked_example_man() -> None:
    ref = reference_values(
        EQUATION, sex="male", age=60, height_cm=170, weight_kg=70, distance_m=553.5
    )
    assert (ref.applicable, ref.predicted_m, ref.lln_m) == (True, 553.5, 400.5)
    assert ref.percent_predicted == 100.0 and ref.below_lln is False


def test_worked_example_woman() -> None:
    ref = reference_values(
        EQUATION, sex="female", age=60, height_cm=160, weight_kg=60, distance_m=260.2
    )
    assert (ref.applicable, ref.predicted_m, ref.lln_m) == (True, 520.4, 381.4)
    assert ref.percent_predicted == 50.0 and ref.below_lln is True


def test_sexes_use_their_own_equation() -> None:
    man = reference_values(EQUATION, sex="male", age=60, height_cm=160, weight_kg=60, distance_m=1)
    woman = reference_values(
        EQUATION, sex="female", age=60, height_cm=160, weight_kg=60, distance_m=1
    )
    # man: 7.57*160 - 5.02*60 - 1.76*60 - 309 = 1211.2 - 301.2 - 105.6 - 309 = 495.4
    assert man.predicted_m == 495.4 and woman.predicted_m == 520.4


def test_percent_predicted_and_the_lower_limit_of_normal() -> None:
    ref = reference_values(
        EQUATION, sex="male", age=60, height_cm=170, weight_kg=70, distance_m=432
    )
    assert ref.percent_predicted == 78.0  # 432 / 553.5 = 78.05 %
    at_lln = reference_values(
        EQUATION, sex="male", age=60, height_cm=170, weight_kg=70, distance_m=400.5
    )
    assert at_lln.below_lln is False
    just_below = reference_values(
        EQUATION, sex="male", age=60, height_cm=170, weight_kg=70, distance_m=400.4
    )
    assert just_below.below_lln is True


@pytest.mark.parametrize(("age", "applicable"), [(39, False), (40, True), (80, True), (81, False)])
def test_reference_values_only_for_ages_40_to_80(age: int, applicable: bool) -> None:
    ref = reference_values(
        EQUATION, sex="female", age=age, height_cm=160, weight_kg=60, distance_m=400
    )
    assert ref.applicable is applicable
    if not applicable:
        assert ref.note == AGE_OUTSIDE_RANGE and ref.predicted_m is None
        assert ref.percent_predicted is None and ref.lln_m is None


def test_no_reference_without_weight() -> None:
    ref = reference_values(
        EQUATION, sex="female", age=60, height_cm=160, weight_kg=None, distance_m=400
    )
    assert (ref.applicable, ref.note, ref.predicted_m) == (False, MISSING_INPUT, None)


def test_age_is_the_year_of_the_test_minus_the_birth_year() -> None:
    assert age_at_test(date(2026, 1, 2), 1966) == 60
    assert age_at_test(date(2026, 12, 31), 1966) == 60


def test_change_from_baseline() -> None:
    baseline = Baseline(visit_code="baseline", record_id=4, scores={"distance_m": 380.5})
    assert change_from_baseline(432.0, "d43", baseline) == (51.5, None)
    assert change_from_baseline(350.0, "d91", baseline) == (-30.5, None)
    assert change_from_baseline(432.0, "baseline", baseline) == (None, THIS_IS_BASELINE)
    none_sealed = Baseline(visit_code="baseline")
    assert change_from_baseline(432.0, "d7", none_sealed) == (None, NO_BASELINE_RECORD)
    assert change_from_baseline(None, "d7", baseline) == (None, MISSING_INPUT)


def test_compute_gives_every_value_under_its_export_name() -> None:
    values = {
        "laps": 7,
        "lap_length_m": 60.0,
        "partial_lap_m": 12.0,
        "test_date": "2026-11-25",
        "weight_kg": 70.0,
    }
    result = WALK.compute(
        values,
        ParticipantFacts(sex="male", birth_year=1966, height_cm=170),
        "d43",
        Baseline("baseline", 9, {"distance_m": 400.0}),
    )
    assert tuple(result) == COMPUTED_KEYS
    assert result["distance_m"] == 432.0 and result["age_years"] == 60
    assert (result["predicted_m"], result["lln_m"], result["percent_predicted"]) == (
        553.5,
        400.5,
        78.0,
    )
    assert result["below_lln"] is False and result["reference_applicable"] is True
    assert result["reference_equation"] == "enright_sherrill_1998"
    assert "not a Chinese reference" in result["reference_population"]
    assert result["age_rule"] == "age = year of the test date - birth year"
    assert (result["baseline_record_id"], result["change_from_baseline_m"]) == (9, 32.0)


def test_compute_for_a_participant_outside_the_reference_ages() -> None:
    values = {
        "laps": 5,
        "lap_length_m": 60.0,
        "partial_lap_m": 0.0,
        "test_date": "2026-11-25",
        "weight_kg": 60.0,
    }
    result = WALK.compute(
        values,
        ParticipantFacts(sex="female", birth_year=1990, height_cm=160),
        "baseline",
        Baseline("baseline"),
    )
    assert result["age_years"] == 36 and result["reference_applicable"] is False
    assert result["reference_note"] == AGE_OUTSIDE_RANGE and result["predicted_m"] is None
    assert result["change_note"] == THIS_IS_BASELINE and result["distance_m"] == 300.0


# --- the timer's result ---------------------------------------------------------------------------


def _form(**changes: str) -> dict[str, str]:
    form = {
        "run_id": "0f8c2d1e-1234-4abc-9def-001122334455",
        "laps": "3",
        "lap_times": json.dumps([100.2, 200.4, 300.9]),
        "pauses": json.dumps([[150, 170.5]]),
        "elapsed_s": "360",
        "ended_early": "0",
        "partial_lap_m": "20",
    }
    form.update(changes)
    return form


def test_a_timer_result_is_read() -> None:
    result = read_timer(_form(), 360)
    assert (result.laps, result.lap_times_s, result.pauses) == (
        3,
        (100.2, 200.4, 300.9),
        ((150.0, 170.5),),
    )
    assert result.stopped_early and result.stop_time_s == 150 and result.partial_lap == "20"
    assert result.record()["pauses"] == [[150.0, 170.5]]


def test_a_walk_without_pauses_was_not_stopped() -> None:
    result = read_timer(_form(pauses="[]"), 360)
    assert not result.stopped_early and result.stop_time_s is None


def test_a_walk_ended_early_stopped_when_it_ended() -> None:
    result = read_timer(
        _form(
            elapsed_s="250.7", ended_early="1", lap_times="[80, 160, 240]", pauses="[[240, null]]"
        ),
        360,
    )
    assert result.stop_time_s == 250 and result.pauses == ((240.0, None),)


@pytest.mark.parametrize(
    "changes",
    [
        {"run_id": "short"},
        {"run_id": "has spaces in it"},
        {"laps": "4"},
        {"laps": "three"},
        {"lap_times": json.dumps([200, 100, 300])},
        {"lap_times": json.dumps([100, 200, 400])},
        {"elapsed_s": "300"},  # not ended early, so it must have run the full 6 minutes
        {"elapsed_s": "361", "ended_early": "1"},
        {"elapsed_s": "NaN", "ended_early": "1"},
        {"pauses": json.dumps([[150, 140]])},
        {"pauses": json.dumps([[150, 170], [160, 180]])},
        {"pauses": json.dumps([[150, None], [160, 180]])},
        {"pauses": json.dumps([[150]])},
        {"pauses": json.dumps([[-1, 5]])},
        {"pauses": json.dumps([[i, i + 0.5] for i in range(51)])},
        {"lap_times": "not json"},
        {"lap_times": json.dumps([True, 200, 300])},
    ],
)
def test_a_malformed_timer_result_is_refused(changes: dict[str, str]) -> None:
    with pytest.raises(TimerResultInvalid):
        read_timer(_form(**changes), 360)
