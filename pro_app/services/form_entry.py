"""The 6MWT log (a form instrument): saving its parts and timer results, and what gets sealed."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pro_app.errors import AlreadySubmitted, RecordIncomplete, TimerConflict
from pro_app.extensions import db
from pro_app.models import DraftAnswer, StaffUser, Visit
from pro_app.questionnaire import formcheck, walktest
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.form_definitions import FormInstrument, Screen
from pro_app.questionnaire.formcheck import HARD, CheckContext, Finding, InputError, RawValue
from pro_app.services import answering, links
from pro_app.services.canonical import sha256_of

# Draft rows besides the fields: confirmed unusual values, and the walk timer's raw result.
CONFIRMATIONS = "confirmations"
TIMER = "timer"


@dataclass(frozen=True)
class ScreenOutcome:
    """Refused values (kept as typed on the page, not saved) and unusual values awaiting a yes."""

    errors: dict[str, Finding]
    warnings: list[Finding]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.warnings


@dataclass(frozen=True)
class FormState:
    """The saved answers of a form and everything still standing between them and a seal."""

    values: dict[str, Any]
    confirmations: dict[str, Any]
    timer: dict[str, Any] | None
    findings: list[Finding]
    missing: list[str]
    started: bool

    @property
    def refused(self) -> list[Finding]:
        return [f for f in self.findings if f.level == HARD]

    @property
    def unconfirmed(self) -> list[Finding]:
        return formcheck.unconfirmed(self.findings, self.confirmations)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.refused and not self.unconfirmed

    def problems_on(self, screen: Screen) -> bool:
        on_screen = set(screen.field_ids)
        return any(f in on_screen for f in self.missing) or any(
            f.field in on_screen for f in self.refused + self.unconfirmed
        )


def confirm_token(finding: Finding) -> str:
    """What the "yes, this is correct" box posts: the finding and the exact values it is about."""
    return f"{finding.key}|{json.dumps(list(finding.basis))}"


def check_context(visit: Visit) -> CheckContext:
    return CheckContext(
        today=links.site_today(visit), window_start=visit.window_start, window_end=visit.window_end
    )


def state(visit: Visit, instrument: FormInstrument) -> FormState:
    drafts = answering.saved_answers(visit.id, instrument.id)
    values = {
        f.id: formcheck.stored(f, drafts[f.id].value) if f.id in drafts else None
        for f in instrument.fields
    }
    confirmations = drafts[CONFIRMATIONS].value if CONFIRMATIONS in drafts else {}
    timer = drafts[TIMER].value if TIMER in drafts else None
    return FormState(
        values=values,
        confirmations=dict(confirmations or {}),
        timer=timer,
        findings=formcheck.findings(instrument, values, check_context(visit)),
        missing=formcheck.missing_required(instrument, values),
        started=bool(drafts),
    )


def first_screen_to_finish(instrument: FormInstrument, current: FormState) -> Screen | None:
    for screen in instrument.screens:
        if current.problems_on(screen):
            return screen
    return None


def save_screen(
    visit: Visit,
    instrument: FormInstrument,
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
    if answering.sealed_response(visit.id, instrument.id) is not None:
        raise AlreadySubmitted(_sealed_id(visit, instrument))
    screen = instrument.screen(screen_id)
    before = state(visit, instrument)
    drafts = answering.saved_answers(visit.id, instrument.id)
    errors: dict[str, Finding] = {}
    parsed: dict[str, Any] = {}
    for form_field in instrument.fields_of(screen):
        if only_given and form_field.id not in raw:
            continue
        try:
            parsed[form_field.id] = formcheck.parse(
                form_field, raw.get(form_field.id), instrument.borg
            )
        except InputError as fault:
            errors[form_field.id] = Finding(form_field.id, HARD, fault.code, fault.params)
    merged = {**before.values, **parsed}
    for form_field in instrument.fields_of(screen):
        if not formcheck.applies(form_field, merged) and not formcheck.is_blank(
            merged[form_field.id]
        ):
            merged[form_field.id] = parsed[form_field.id] = None
    context = check_context(visit)
    for finding in formcheck.findings(instrument, merged, context):
        if finding.level == HARD and finding.field in parsed and finding.field not in errors:
            errors[finding.field] = finding
    for field_id, value in parsed.items():
        row = drafts.get(field_id)
        if field_id in errors or (row is not None and row.value == value):
            continue
        answering.save_answer(
            visit, instrument, field_id, value, language=language, actor=actor, staff=staff
        )
    saved = state(visit, instrument)
    confirmations = dict(saved.confirmations)
    for finding in saved.findings:
        if finding.field in screen.field_ids and confirm_token(finding) in confirm:
            confirmations[finding.key] = list(finding.basis)
    if confirmations != saved.confirmations:
        answering.save_answer(
            visit,
            instrument,
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


def walk_version(visit: Visit, instrument: FormInstrument) -> str:
    """A short fingerprint of the walk part as saved now (its values and which timing filled it).
    The timer keeps the one it started from, so a late upload cannot silently overwrite values
    that someone typed on another device in the meantime."""
    current = state(visit, instrument)
    walk = {f: current.values[f] for f in instrument.screen("walk").field_ids}
    run = current.timer.get("run_id") if current.timer else None
    return sha256_of({"walk": walk, "timer_run": run})[:16]


def save_timer(
    visit: Visit,
    instrument: FormInstrument,
    result: walktest.TimerResult,
    *,
    started_from: str,
    replace: bool = False,
    language: str,
    actor: str,
    staff: StaffUser | None = None,
) -> ScreenOutcome:
    """The timer fills the walk screen: laps, partial lap, stopped or paused and when; the raw
    timing is kept as the source. The reason for stopping is left to the assessor.

    `started_from` is the walk_version the timer saw when it started. If the walk part has changed
    since (and not by an earlier upload of this same timing), TimerConflict is raised unless the
    assessor chose to `replace` it."""
    current = state(visit, instrument)
    same_run = current.timer is not None and current.timer.get("run_id") == result.run_id
    if not (replace or same_run) and walk_version(visit, instrument) != started_from:
        raise TimerConflict()
    stop = result.stop_time_s
    raw: dict[str, RawValue] = {
        "laps": str(result.laps),
        "partial_lap_m": result.partial_lap,
        "stopped_early": "yes" if result.stopped_early else "no",
    }
    if stop is not None:
        raw["stop_time_s"] = f"{stop // 60}:{stop % 60:02d}"
    outcome = save_screen(
        visit, instrument, "walk", raw, language=language, actor=actor, staff=staff, only_given=True
    )
    if state(visit, instrument).timer != result.record():
        answering.save_answer(
            visit, instrument, TIMER, result.record(), language=language, actor=actor, staff=staff
        )
    return outcome


# --- sealing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealedContent:
    """The kind-specific part of a sealed record; sealing adds identity, hash and audit."""

    answers: dict[str, Any]
    scores: dict[str, Any]
    scoring_version: str
    textpack_id: str
    textpack_sha256: str


def sealed_content(
    visit: Visit,
    instrument: FormInstrument,
    catalog: Catalog,
    drafts: dict[str, DraftAnswer],
    *,
    language: str,
    staff: StaffUser | None,
    entry_reason: str | None,
) -> SealedContent:
    """Check the whole form and compute its values; refuse an incomplete or unconfirmed form."""
    current = state(visit, instrument)
    if not current.complete:
        raise RecordIncomplete(
            missing=current.missing,
            refused=[f.key for f in current.refused],
            unconfirmed=[f.key for f in current.unconfirmed],
        )
    participant = visit.participant
    scores = walktest.compute(
        instrument,
        current.values,
        walktest.Participant(
            sex=participant.sex.value,
            birth_year=participant.birth_year,
            height_cm=participant.height_cm,
        ),
        visit.code,
        _baseline(visit, instrument, catalog),
    )
    pack = catalog.scale_pack(instrument.borg.scale, language)
    answers = {
        "worksheet": current.values,
        "confirmed_warnings": formcheck.confirmed(current.findings, current.confirmations),
        "timer": current.timer,
        "borg_scale": _borg_record(instrument, catalog, drafts, language),
        "entered_by": _entered_by(instrument, drafts),
        "site_timezone": participant.site.timezone,
    }
    return SealedContent(
        answers=answers,
        scores=scores,
        scoring_version=instrument.computation.version,
        textpack_id=pack.pack_id if pack else "none",
        textpack_sha256=pack.sha256 if pack else "",
    )


def _baseline(visit: Visit, instrument: FormInstrument, catalog: Catalog) -> walktest.Baseline:
    """The first visit of the schedule (Day 0) is the baseline; its latest sealed 6MWT counts."""
    code = catalog.schedule.visits[0].code
    baseline_visit = next((v for v in visit.participant.visits if v.code == code), None)
    record = (
        answering.sealed_response(baseline_visit.id, instrument.id)
        if baseline_visit is not None and baseline_visit.id != visit.id
        else None
    )
    if record is None:
        return walktest.Baseline(visit_code=code, record_id=None, distance_m=None)
    return walktest.Baseline(
        visit_code=code, record_id=record.id, distance_m=record.scores.get("distance_m")
    )


def _borg_record(
    instrument: FormInstrument, catalog: Catalog, drafts: dict[str, DraftAnswer], language: str
) -> dict[str, Any]:
    """Which Borg scale version and wording were shown, per language of the Borg answers."""
    borg = instrument.borg
    languages = sorted(
        {drafts[f.id].language for f in instrument.fields if f.type == "borg" and f.id in drafts}
        | {language}
    )
    wording = {}
    for used in languages:
        pack = catalog.scale_pack(borg.scale, used)
        wording[used] = (
            {"pack_id": pack.pack_id, "sha256": pack.sha256, "scale_version": pack.scale_version}
            if pack
            else None
        )
    shown = catalog.scale_pack(borg.scale, language)
    return {
        "scale": borg.scale,
        "name": borg.name,
        "version": shown.scale_version if shown else borg.version_without_pack,
        "wording": wording,
    }


def _entered_by(instrument: FormInstrument, drafts: dict[str, DraftAnswer]) -> dict[str, str]:
    """Who saved each field last: the participant, or a named staff user."""
    usernames: dict[int, str] = {}
    result = {}
    for item_id in (*instrument.item_ids, TIMER):
        row = drafts.get(item_id)
        if row is None:
            continue
        if row.staff_id is None:
            result[item_id] = "participant"
            continue
        if row.staff_id not in usernames:
            staff = db.session.get(StaffUser, row.staff_id)
            usernames[row.staff_id] = staff.username if staff else str(row.staff_id)
        result[item_id] = f"staff:{usernames[row.staff_id]}"
    return result


def _sealed_id(visit: Visit, instrument: FormInstrument) -> int:
    response = answering.sealed_response(visit.id, instrument.id)
    assert response is not None
    return response.id
