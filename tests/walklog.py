"""Helpers that fill the 6MWT log through the services, as a patient or as staff."""

from __future__ import annotations

from typing import Any

from pro_app.models import Response, StaffUser, Visit
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.kinds.worksheet import confirm_token
from pro_app.questionnaire.worksheet import Worksheet
from pro_app.services import sealing, worksheet_entry

# A plausible complete log: 7 laps of 60 m + 12 m = 432 m, nothing unusual.
GOOD: dict[str, dict[str, Any]] = {
    "before": {
        "test_date": "2026-11-25",
        "start_time": "09:30",
        "test_number": "1",
        "practice_test": "no",
        "course_length_m": "30",
        "lap_length_m": "60",
        "supplemental_o2": "no",
        "assistive_device": "none",
        "medications": "",
        "weight_kg": "70",
        "resting_sbp": "120",
        "resting_dbp": "75",
        "baseline_hr": "72",
        "baseline_spo2": "97",
        "baseline_dyspnoea": "0.5",
        "baseline_fatigue": "1",
    },
    "walk": {"laps": "7", "partial_lap_m": "12", "stopped_early": "no"},
    "after": {
        "end_hr": "98",
        "end_spo2": "95",
        "end_dyspnoea": "3",
        "end_fatigue": "2.5",
        "symptoms": ["none"],
        "comments": "",
        "assessor": "Nurse Li",
    },
}


def sixmwt() -> Worksheet:
    instrument = catalog().instrument("sixmwt")
    assert isinstance(instrument, Worksheet)
    return instrument


def screens_with(**overrides: Any) -> dict[str, dict[str, Any]]:
    """GOOD with some fields replaced (by field id, wherever they are)."""
    screens = {screen: dict(values) for screen, values in GOOD.items()}
    instrument = sixmwt()
    for field_id, value in overrides.items():
        screens[instrument.field(field_id).screen][field_id] = value
    return screens


def fill_log(
    visit: Visit,
    *,
    staff: StaffUser | None = None,
    actor: str = "participant:test",
    language: str = "zh_Hans",
    confirm_all: bool = True,
    **overrides: Any,
) -> dict[str, worksheet_entry.ScreenOutcome]:
    """Save every screen; with `confirm_all`, say yes to every unusual value, as a person would."""
    instrument = sixmwt()
    outcomes = {}
    for screen_id, raw in screens_with(**overrides).items():
        outcome = worksheet_entry.save_screen(
            visit, instrument, screen_id, raw, language=language, actor=actor, staff=staff
        )
        if confirm_all and outcome.warnings:
            tokens = [confirm_token(w) for w in outcome.warnings]
            outcome = worksheet_entry.save_screen(
                visit,
                instrument,
                screen_id,
                raw,
                tokens,
                language=language,
                actor=actor,
                staff=staff,
            )
        outcomes[screen_id] = outcome
    return outcomes


def seal_log(visit: Visit, **kwargs: Any) -> Response:
    """Fill every screen and seal the log, as a patient who finished the walk part."""
    fill_log(visit, **kwargs)
    return sealing.submit(
        visit,
        sixmwt(),
        catalog(),
        language=kwargs.get("language", "zh_Hans"),
        actor=kwargs.get("actor", "participant:test"),
        staff=kwargs.get("staff"),
        entry_reason="transcribed from the paper worksheet" if kwargs.get("staff") else None,
    )
