"""Every limit of the 6MWT log: reading typed values; hard limits refuse, soft ones ask."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from pro_app.questionnaire.catalog import INSTRUMENTS_DIR
from pro_app.questionnaire.definitions import load_instrument
from pro_app.questionnaire.formcheck import (
    HARD,
    SOFT,
    CheckContext,
    InputError,
    applies,
    confirmed,
    field_findings,
    findings,
    missing_required,
    parse,
    unconfirmed,
)
from pro_app.questionnaire.worksheet import Worksheet

SIXMWT = load_instrument(INSTRUMENTS_DIR / "sixmwt" / "instrument.toml")
assert isinstance(SIXMWT, Worksheet)

# field: (hard min, hard max, soft min, soft max). The file must say exactly this.
LIMITS: dict[str, tuple[float, float, float | None, float | None]] = {
    "test_number": (1, 10, None, 3),
    "course_length_m": (10, 100, 30, 50),
    "lap_length_m": (20, 200, None, None),
    "o2_flow_l_min": (0.5, 15, None, 6),
    "weight_kg": (25, 250, 35, 150),
    "resting_sbp": (50, 280, 85, 180),
    "resting_dbp": (20, 160, 40, 100),
    "baseline_hr": (20, 250, 40, 120),
    "baseline_spo2": (50, 100, 88, None),
    "laps": (0, 50, None, None),
    "partial_lap_m": (0, 200, None, None),
    "stop_time_s": (0, 359, None, None),
    "end_hr": (20, 250, 40, 160),
    "end_spo2": (50, 100, 88, None),
}
TODAY = date(2026, 11, 25)
CONTEXT = CheckContext(today=TODAY, window_start=TODAY - timedelta(days=2), window_end=TODAY)


def test_the_file_has_exactly_these_limits() -> None:
    in_file = {
        f.id: (f.min, f.max, f.soft_min, f.soft_max)
        for f in SIXMWT.fields
        if f.type in ("integer", "decimal", "duration")
    }
    assert in_file == LIMITS
    computation = SIXMWT.computation
    assert (computation.distance_max_m, computation.distance_soft_min_m) == (1000, 50)
    assert computation.distance_soft_max_m == 700


def _step(field_id: str) -> float:
    return 0.1 if SIXMWT.field(field_id).type == "decimal" else 1


def _levels(field_id: str, value: float) -> list[tuple[str, str]]:
    value = round(value, 1) if SIXMWT.field(field_id).type == "decimal" else int(value)
    return [(f.level, f.code) for f in field_findings(SIXMWT.field(field_id), value)]


def _hard_cases() -> list[tuple[str, float, list[tuple[str, str]]]]:
    cases = []
    for field_id, (lo, hi, _soft_lo, _soft_hi) in LIMITS.items():
        step = _step(field_id)
        cases += [
            (field_id, lo - step, [(HARD, "out_of_range")]),
            (field_id, hi + step, [(HARD, "out_of_range")]),
        ]
    return cases


def _inside_cases() -> list[tuple[str, float]]:
    cases = []
    for field_id, (lo, hi, soft_lo, soft_hi) in LIMITS.items():
        cases += [(field_id, soft_lo if soft_lo is not None else lo)]
        cases += [(field_id, soft_hi if soft_hi is not None else hi)]
    return cases


def _soft_cases() -> list[tuple[str, float]]:
    cases = []
    for field_id, (lo, hi, soft_lo, soft_hi) in LIMITS.items():
        step = _step(field_id)
        if soft_lo is not None:
            cases += [(field_id, soft_lo - step), (field_id, lo)]
        if soft_hi is not None:
            cases += [(field_id, soft_hi + step), (field_id, hi)]
    return cases


@pytest.mark.parametrize(("field_id", "value", "expected"), _hard_cases())
def test_beyond_a_hard_limit_is_refused(field_id: str, value: float, expected: list) -> None:
    assert _levels(field_id, value) == expected


@pytest.mark.parametrize(("field_id", "value"), _inside_cases())
def test_on_the_usual_limit_is_accepted_without_a_question(field_id: str, value: float) -> None:
    assert _levels(field_id, value) == []


@pytest.mark.parametrize(("field_id", "value"), _soft_cases())
def test_between_the_usual_and_the_hard_limit_asks(field_id: str, value: float) -> None:
    assert _levels(field_id, value) == [(SOFT, "unusual_value")]


# --- reading what was typed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field_id", "raw", "expected"),
    [
        ("weight_kg", "68.5", 68.5),
        ("weight_kg", " 68,5 ", 68.5),
        ("weight_kg", "６８．５", 68.5),
        ("weight_kg", "70", 70.0),
        ("weight_kg", "", None),
        ("weight_kg", None, None),
        ("laps", "7", 7),
        ("laps", "０", 0),
        ("baseline_dyspnoea", "0.5", 0.5),
        ("baseline_dyspnoea", "10", 10.0),
        ("test_date", "2026-11-25", "2026-11-25"),
        ("start_time", "9:05", "09:05"),
        ("start_time", "09：05", "09:05"),
        ("practice_test", "yes", "yes"),
        ("symptoms", ["dizziness", "angina"], ["angina", "dizziness"]),
        ("symptoms", [], None),
        ("stop_time_s", ("4", "30"), 270),
        ("stop_time_s", ("", "45"), 45),
        ("stop_time_s", ("", ""), None),
        ("stop_time_s", "2:10", 130),
        ("assessor", "  Nurse Li  ", "Nurse Li"),
    ],
)
def test_typed_values_are_read(field_id: str, raw: Any, expected: Any) -> None:
    assert parse(SIXMWT.field(field_id), raw, SIXMWT.scale("borg_cr10")) == expected


@pytest.mark.parametrize(
    ("field_id", "raw", "code"),
    [
        ("weight_kg", "seventy", "not_a_number"),
        ("weight_kg", "68.55", "too_many_decimals"),
        ("weight_kg", "1e2", "not_a_number"),
        ("laps", "7.5", "not_whole"),
        ("laps", "seven", "not_a_number"),
        ("baseline_dyspnoea", "3.3", "not_on_scale"),
        ("baseline_dyspnoea", "10.5", "not_on_scale"),
        ("baseline_dyspnoea", "-0.5", "not_on_scale"),
        ("baseline_dyspnoea", "a lot", "not_on_scale"),
        ("test_date", "25/11/2026", "bad_date"),
        ("test_date", "2026-02-30", "bad_date"),
        ("start_time", "24:00", "bad_time"),
        ("start_time", "9.30", "bad_time"),
        ("practice_test", "maybe", "unknown_option"),
        ("symptoms", ["none", "dizziness"], "exclusive_with_others"),
        ("symptoms", ["fainting"], "unknown_option"),
        ("stop_time_s", ("4", "60"), "bad_duration"),
        ("stop_time_s", ("x", "10"), "bad_duration"),
        ("stop_time_s", "four minutes", "bad_duration"),
        ("assessor", "x" * 101, "too_long"),
        ("comments", "x" * 1001, "too_long"),
    ],
)
def test_unreadable_values_are_refused_with_their_fault(field_id: str, raw: Any, code: str) -> None:
    with pytest.raises(InputError) as caught:
        parse(SIXMWT.field(field_id), raw, SIXMWT.scale("borg_cr10"))
    assert caught.value.code == code


# --- limits across fields -----------------------------------------------------------------------


def _cross(**values: Any) -> list[tuple[str, str, str]]:
    return [(f.field, f.level, f.code) for f in findings(SIXMWT, values, CONTEXT)]


def test_the_test_date_cannot_be_in_the_future() -> None:
    assert _cross(test_date=(TODAY + timedelta(days=1)).isoformat()) == [
        ("test_date", HARD, "date_in_future")
    ]
    assert _cross(test_date=TODAY.isoformat()) == []


def test_a_test_date_outside_the_visit_window_asks() -> None:
    assert _cross(test_date=CONTEXT.window_start.isoformat()) == []
    before = (CONTEXT.window_start - timedelta(days=1)).isoformat()
    assert _cross(test_date=before) == [("test_date", SOFT, "date_outside_window")]


def test_diastolic_must_be_below_systolic() -> None:
    assert _cross(resting_sbp=90, resting_dbp=89) == []
    assert _cross(resting_sbp=90, resting_dbp=90) == [
        ("resting_dbp", HARD, "diastolic_not_below_systolic")
    ]


def test_a_lap_that_is_not_twice_the_course_asks() -> None:
    assert _cross(course_length_m=30.0, lap_length_m=60.0) == []
    assert _cross(course_length_m=30.0, lap_length_m=30.0) == [
        ("lap_length_m", SOFT, "lap_not_twice_course")
    ]
    assert _cross(course_length_m=32.5, lap_length_m=65.0) == []


def test_the_partial_lap_must_be_shorter_than_a_lap() -> None:
    assert _cross(lap_length_m=60.0, laps=5, partial_lap_m=59.9) == []
    assert _cross(lap_length_m=60.0, laps=5, partial_lap_m=60.0) == [
        ("partial_lap_m", HARD, "partial_not_below_lap")
    ]


@pytest.mark.parametrize(
    ("laps", "partial", "expected"),
    [
        (16, 40.0, [("laps", SOFT, "distance_unusual")]),  # 1000 m: possible, but unusual
        (16, 40.1, [("laps", HARD, "distance_over_max")]),  # 1000.1 m
        (17, None, [("laps", HARD, "distance_over_max")]),  # 1020 m before the partial lap
        (11, 40.0, []),  # 700 m
        (11, 40.1, [("laps", SOFT, "distance_unusual")]),  # 700.1 m
        (0, 50.0, []),  # 50 m
        (0, 49.9, [("laps", SOFT, "distance_unusual")]),  # 49.9 m
        (0, None, []),  # not asked until the partial lap is known
    ],
)
def test_the_total_distance(laps: int, partial: float | None, expected: list) -> None:
    assert _cross(lap_length_m=60.0, laps=laps, partial_lap_m=partial) == expected


def test_a_value_beyond_its_own_hard_limit_is_not_also_checked_across_fields() -> None:
    assert _cross(resting_sbp=120, resting_dbp=170) == [("resting_dbp", HARD, "out_of_range")]


# --- fields that apply only sometimes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "also_required"),
    [
        ({"supplemental_o2": "no"}, set()),
        ({"supplemental_o2": "yes"}, {"o2_flow_l_min", "o2_device"}),
        ({"stopped_early": "yes"}, {"stop_reason", "stop_time_s"}),
        ({"symptoms": ["angina", "other"]}, {"symptoms_other"}),
        ({"symptoms": ["none"]}, set()),
    ],
)
def test_conditional_fields_are_required_only_when_they_apply(
    values: dict[str, Any], also_required: set[str]
) -> None:
    always = {
        "test_date",
        "start_time",
        "test_number",
        "practice_test",
        "course_length_m",
        "lap_length_m",
        "supplemental_o2",
        "assistive_device",
        "weight_kg",
        "laps",
        "partial_lap_m",
        "stopped_early",
        "assessor",
    }
    missing = set(missing_required(SIXMWT, values))
    assert missing == (always - set(values)) | also_required


def test_applies_reads_choice_and_multi_answers() -> None:
    flow = SIXMWT.field("o2_flow_l_min")
    assert applies(flow, {"supplemental_o2": "yes"}) and not applies(flow, {})
    other = SIXMWT.field("symptoms_other")
    assert applies(other, {"symptoms": ["other"]}) and not applies(other, {"symptoms": ["none"]})
    assert applies(SIXMWT.field("weight_kg"), {})


def test_a_confirmation_holds_for_exactly_the_values_it_was_given_for() -> None:
    found = findings(SIXMWT, {"weight_kg": 160.0, "baseline_hr": 130}, CONTEXT)
    assert {f.key for f in unconfirmed(found, {})} == {
        "weight_kg:unusual_value",
        "baseline_hr:unusual_value",
    }
    confirmations = {"weight_kg:unusual_value": [160.0], "baseline_hr:unusual_value": [131]}
    assert [f.key for f in unconfirmed(found, confirmations)] == ["baseline_hr:unusual_value"]
    assert confirmed(found, confirmations) == {"weight_kg:unusual_value": [160.0]}


_TIMED = {"run_id": "run-0001-abcd", "laps": 7, "elapsed_s": 360, "ended_early": False}


@pytest.mark.parametrize(
    ("answer", "timer", "expected"),
    [
        # The timer recorded a pause (first at 2:10) but "stopped or paused?" says no: asks.
        ("no", {**_TIMED, "pauses": [[130.4, 160.0], [200, 210]]}, [130]),
        # Ended early at 3:20.5 and no pause: asks, at the end.
        ("no", {**_TIMED, "pauses": [], "elapsed_s": 200.5, "ended_early": True}, [200]),
        # The answer agrees with the timer, or the timer saw no stop, or there was no timer.
        ("yes", {**_TIMED, "pauses": [[130.4, 160.0]]}, []),
        ("no", {**_TIMED, "pauses": []}, []),
        ("no", None, []),
        (None, {**_TIMED, "pauses": [[130.4, 160.0]]}, []),
    ],
)
def test_a_stop_the_timer_recorded_but_answered_no_asks(
    answer: str | None, timer: dict[str, Any] | None, expected: list[int]
) -> None:
    found = [
        f
        for f in findings(SIXMWT, {"stopped_early": answer}, CONTEXT, timer)
        if f.code == "timer_recorded_stop"
    ]
    assert [f.params["at_s"] for f in found] == expected
    assert all(f.level == SOFT and f.field == "stopped_early" for f in found)
    # A yes holds for this answer and this timing only: another timing asks again.
    if found:
        (finding,) = found
        assert finding.basis == ("no", "run-0001-abcd")
        assert unconfirmed(found, {finding.key: list(finding.basis)}) == []
        again = findings(SIXMWT, {"stopped_early": answer}, CONTEXT, {**timer, "run_id": "r-2"})
        assert unconfirmed(again, {finding.key: list(finding.basis)}) != []
