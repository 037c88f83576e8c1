"""Filling in a worksheet (e.g. the 6MWT log): saving its screens and a timer's result."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from pro_app.canonical import sha256_of
from pro_app.errors import TimerConflict
from pro_app.models import StaffUser
from pro_app.models.rows import VisitLike
from pro_app.questionnaire.computations.six_minute_walk import TimerResult
from pro_app.questionnaire.kinds import worksheet as worksheet_kind
from pro_app.questionnaire.kinds.base import Finding, RawValue
from pro_app.questionnaire.kinds.worksheet import (
    CONFIRMATIONS,
    TIMER,
    WorksheetState,
)
from pro_app.questionnaire.worksheet import Worksheet
from pro_app.services import answering


@dataclass(frozen=True)
class ScreenOutcome:
    """Refused values (kept as typed on the page, not saved) and unusual values awaiting a yes."""

    errors: dict[str, Finding]
    warnings: list[Finding]


def state(visit: VisitLike, worksheet: Worksheet) -> WorksheetState:
    return worksheet_kind.state(
        worksheet, answering.draft(visit.id, worksheet.id), answering.check_context(visit)
    )


def save_screen(
    visit: VisitLike,
    worksheet: Worksheet,
    screen_id: str,
    raw: Mapping[str, RawValue],
    confirm: Collection[str] = (),
    *,
    language: str,
    actor: str,
    staff: StaffUser | None = None,
    only_given: bool = False,
) -> ScreenOutcome:
    """Save one screen. Readable values inside the hard limits are saved; refused ones are returned
    with their fault and the saved value stays. A field that no longer applies (oxygen flow after
    "no oxygen") is cleared. `only_given` leaves fields that `raw` does not mention untouched."""
    answering.refuse_if_sealed(visit, worksheet)
    screen = worksheet.screen(screen_id)
    before = state(visit, worksheet)
    fields = [f for f in worksheet.fields_of(screen) if not only_given or f.id in raw]
    applied = worksheet_kind.apply(
        worksheet, before, raw, confirm, answering.check_context(visit), fields
    )
    for field_id, value in applied.parsed.items():
        if before.values.get(field_id) != value:
            answering.save_answer(
                visit, worksheet, field_id, value, language=language, actor=actor, staff=staff
            )
    if applied.confirmations != before.confirmations:
        answering.save_answer(
            visit,
            worksheet,
            CONFIRMATIONS,
            applied.confirmations,
            language=language,
            actor=actor,
            staff=staff,
        )
    return ScreenOutcome(errors=applied.errors, warnings=applied.warnings)


def timer_version(visit: VisitLike, worksheet: Worksheet) -> str:
    """A short fingerprint of the timer's screen as saved now (its values and which timing filled
    it). The timer keeps the one it started from, so a late upload cannot silently overwrite values
    that someone typed on another device in the meantime."""
    assert worksheet.timer is not None
    current = state(visit, worksheet)
    on_screen = {f: current.values[f] for f in worksheet.screen(worksheet.timer.screen).field_ids}
    run = current.timer.get("run_id") if current.timer else None
    return sha256_of({"walk": on_screen, "timer_run": run})[:16]


def save_timer(
    visit: VisitLike,
    worksheet: Worksheet,
    result: TimerResult,
    *,
    started_from: str,
    replace: bool = False,
    language: str,
    actor: str,
    staff: StaffUser | None = None,
) -> ScreenOutcome:
    """The timer fills its screen: laps, partial lap, stopped or paused and when; the raw timing is
    kept as the source. The reason for stopping is left to the assessor.

    `started_from` is the timer_version the timer saw when it started. If the screen has changed
    since (and not by an earlier upload of this same timing), TimerConflict is raised unless the
    assessor chose to `replace` it."""
    assert worksheet.timer is not None
    answering.refuse_if_sealed(visit, worksheet)  # holds the trail before the state is read
    current = state(visit, worksheet)
    same_run = current.timer is not None and current.timer.get("run_id") == result.run_id
    if not (replace or same_run) and timer_version(visit, worksheet) != started_from:
        raise TimerConflict()
    outcome = save_screen(
        visit,
        worksheet,
        worksheet.timer.screen,
        result.worksheet_values(),
        language=language,
        actor=actor,
        staff=staff,
        only_given=True,
    )
    if state(visit, worksheet).timer != result.record():
        answering.save_answer(
            visit, worksheet, TIMER, result.record(), language=language, actor=actor, staff=staff
        )
    return outcome
