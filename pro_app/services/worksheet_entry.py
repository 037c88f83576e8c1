"""Filling in a worksheet (e.g. the 6MWT log): saving its screens and a timer's result."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pro_app.canonical import sha256_of
from pro_app.errors import TimerConflict
from pro_app.models import StaffUser, Visit
from pro_app.questionnaire import formcheck
from pro_app.questionnaire.computations.six_minute_walk import TimerResult
from pro_app.questionnaire.formcheck import HARD, Finding, InputError, RawValue
from pro_app.questionnaire.kinds import worksheet as worksheet_kind
from pro_app.questionnaire.kinds.worksheet import (
    CONFIRMATIONS,
    TIMER,
    WorksheetState,
    confirm_token,
)
from pro_app.questionnaire.worksheet import Worksheet
from pro_app.services import answering


@dataclass(frozen=True)
class ScreenOutcome:
    """Refused values (kept as typed on the page, not saved) and unusual values awaiting a yes."""

    errors: dict[str, Finding]
    warnings: list[Finding]


def state(visit: Visit, worksheet: Worksheet) -> WorksheetState:
    return worksheet_kind.state(
        worksheet, answering.draft(visit.id, worksheet.id), answering.check_context(visit)
    )


def save_screen(
    visit: Visit,
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
    errors: dict[str, Finding] = {}
    parsed: dict[str, Any] = {}
    for form_field in worksheet.fields_of(screen):
        if only_given and form_field.id not in raw:
            continue
        scale = worksheet.scale(form_field.scale) if form_field.scale else None
        try:
            parsed[form_field.id] = formcheck.parse(form_field, raw.get(form_field.id), scale)
        except InputError as fault:
            errors[form_field.id] = Finding(form_field.id, HARD, fault.code, fault.params)
    merged = {**before.values, **parsed}
    for form_field in worksheet.fields_of(screen):
        if not formcheck.applies(form_field, merged) and not formcheck.is_blank(
            merged[form_field.id]
        ):
            merged[form_field.id] = parsed[form_field.id] = None
    context = answering.check_context(visit)
    for finding in formcheck.findings(worksheet, merged, context):
        if finding.level == HARD and finding.field in parsed and finding.field not in errors:
            errors[finding.field] = finding
    for field_id, value in parsed.items():
        if field_id in errors or before.values.get(field_id) == value:
            continue
        answering.save_answer(
            visit, worksheet, field_id, value, language=language, actor=actor, staff=staff
        )
    saved = state(visit, worksheet)
    confirmations = dict(saved.confirmations)
    for finding in saved.findings:
        if finding.field in screen.field_ids and confirm_token(finding) in confirm:
            confirmations[finding.key] = list(finding.basis)
    if confirmations != saved.confirmations:
        answering.save_answer(
            visit,
            worksheet,
            CONFIRMATIONS,
            confirmations,
            language=language,
            actor=actor,
            staff=staff,
        )
    warnings = [
        w
        for w in formcheck.unconfirmed(saved.findings, confirmations)
        if w.field in screen.field_ids and w.field not in errors
    ]
    return ScreenOutcome(errors=errors, warnings=warnings)


def timer_version(visit: Visit, worksheet: Worksheet) -> str:
    """A short fingerprint of the timer's screen as saved now (its values and which timing filled
    it). The timer keeps the one it started from, so a late upload cannot silently overwrite values
    that someone typed on another device in the meantime."""
    assert worksheet.timer is not None
    current = state(visit, worksheet)
    on_screen = {f: current.values[f] for f in worksheet.screen(worksheet.timer.screen).field_ids}
    run = current.timer.get("run_id") if current.timer else None
    return sha256_of({"walk": on_screen, "timer_run": run})[:16]


def save_timer(
    visit: Visit,
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
