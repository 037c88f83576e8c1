"""The screens of a worksheet (the 6MWT log): its parts, review, and the timer of its computation."""

from __future__ import annotations

import hashlib
import hmac
import json

from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from pro_app import formatting
from pro_app.errors import TimerConflict
from pro_app.languages import LANGUAGES, speech_lang
from pro_app.patient import bp, flows
from pro_app.patient.flows import Page
from pro_app.patient.views import language, open_instrument
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.computations.six_minute_walk import TimerResultInvalid, read_timer
from pro_app.questionnaire.kinds.base import Finding, Progress, RawValue
from pro_app.questionnaire.kinds.worksheet import WorksheetKind, confirm_token
from pro_app.questionnaire.worksheet import Screen, Worksheet
from pro_app.services import answering, worksheet_entry
from pro_app.web import unit_of_work
from pro_app.web.messages.patient import finding_text
from pro_app.web.visit_session import PatientContext


class WorksheetFlow:
    def screen_url(self, instrument: Worksheet, screen_id: str) -> str:
        return url_for("patient.form_screen", instrument_id=instrument.id, screen_id=screen_id)

    def intro(self, ctx: PatientContext, instrument: Worksheet, progress: Progress) -> Page:
        continue_url = (
            url_for("patient.review", instrument_id=instrument.id)
            if progress.next_screen is None
            else self.screen_url(instrument, progress.next_screen)
        )
        return render_template(
            "patient/worksheet/intro.html",
            instrument=instrument,
            started=progress.started,
            continue_url=continue_url,
        )

    def review(self, ctx: PatientContext, instrument: Worksheet) -> Page:
        locale = language()
        current = worksheet_entry.state(ctx.visit, instrument)
        problems = {f.field: f for f in current.unconfirmed + current.refused}
        return render_template(
            "patient/worksheet/review.html",
            instrument=instrument,
            values=current.values,
            missing=set(current.missing),
            problems=problems,
            messages={fid: finding_text(instrument, f, locale) for fid, f in problems.items()},
            complete=current.complete,
        )

    def confirm(self, ctx: PatientContext, instrument: Worksheet, progress: Progress) -> Page:
        if not progress.complete:
            return redirect(url_for("patient.review", instrument_id=instrument.id), 303)
        return render_template(
            "patient/confirm.html", instrument=instrument, title=_("Submit the walk test log?")
        )

    def progress_text(self, progress: Progress) -> str:
        return _("%(done)s of %(total)s filled in", done=progress.answered, total=progress.total)


flows.register(WorksheetKind.name, WorksheetFlow())


def _worksheet(instrument_id: str) -> tuple[PatientContext, Worksheet]:
    ctx, instrument = open_instrument(instrument_id)
    worksheet: Worksheet = flows.of_kind(instrument, WorksheetKind.name)
    return ctx, worksheet


def _screen(instrument: Worksheet, screen_id: str) -> Screen:
    try:
        return instrument.screen(screen_id)
    except KeyError:
        abort(404)


# --- one part of the worksheet ------------------------------------------------------------------


def _raw_values(
    instrument: Worksheet, screen: Screen, form: MultiDict[str, str]
) -> dict[str, RawValue]:
    raw: dict[str, RawValue] = {}
    for form_field in instrument.fields_of(screen):
        if form_field.type == "multi":
            raw[form_field.id] = form.getlist(form_field.id)
        elif form_field.type == "duration":
            raw[form_field.id] = (
                form.get(f"{form_field.id}_min", ""),
                form.get(f"{form_field.id}_sec", ""),
            )
        else:
            raw[form_field.id] = form.get(form_field.id)
    return raw


def _after_screen(instrument: Worksheet, screen: Screen, action: str, from_review: bool) -> str:
    if action == "back":
        if screen.number == 1:
            return url_for("patient.intro", instrument_id=instrument.id)
        previous = instrument.screens[screen.number - 2]
        return url_for("patient.form_screen", instrument_id=instrument.id, screen_id=previous.id)
    if from_review or screen.number == len(instrument.screens):
        return url_for("patient.review", instrument_id=instrument.id)
    following = instrument.screens[screen.number]
    return url_for("patient.form_screen", instrument_id=instrument.id, screen_id=following.id)


@bp.route("/visit/<instrument_id>/part/<screen_id>", methods=["GET", "POST"])
def form_screen(instrument_id: str, screen_id: str) -> Page:
    ctx, instrument = _worksheet(instrument_id)
    screen = _screen(instrument, screen_id)
    from_review = request.values.get("from") == "review"
    errors: dict[str, Finding] = {}
    typed: dict[str, RawValue] = {}
    if request.method == "POST":
        action = request.form.get("action", "next")
        raw = _raw_values(instrument, screen, request.form)
        outcome = worksheet_entry.save_screen(
            ctx.visit,
            instrument,
            screen.id,
            raw,
            request.form.getlist("confirm"),
            language=language(),
            actor=ctx.actor,
            staff=ctx.staff,
        )
        if not outcome.errors and (action == "back" or not outcome.warnings):
            return redirect(_after_screen(instrument, screen, action, from_review), 303)
        # Whatever could be saved is kept, even when something on the page is refused.
        unit_of_work.keep_changes()
        unit_of_work.settle(refused=True)  # commit what was kept before rendering the page
        errors = outcome.errors
        typed = {field_id: raw[field_id] for field_id in errors}
    return _render_screen(ctx, instrument, screen, errors, typed, from_review)


def _render_screen(
    ctx: PatientContext,
    instrument: Worksheet,
    screen: Screen,
    errors: dict[str, Finding],
    typed: dict[str, RawValue],
    from_review: bool,
) -> Page:
    locale = language()
    current = worksheet_entry.state(ctx.visit, instrument)
    on_screen = set(screen.field_ids)
    warnings = {
        f.field: f for f in current.unconfirmed if f.field in on_screen and f.field not in errors
    }
    # Saved values that break a hard limit because of another part (e.g. a shorter lap length).
    for finding in current.refused:
        if finding.field in on_screen:
            errors.setdefault(finding.field, finding)
    messages = {
        fid: finding_text(instrument, f, locale) for fid, f in {**errors, **warnings}.items()
    }
    timer = instrument.timer
    page = render_template(
        "patient/worksheet/screen.html",
        instrument=instrument,
        screen=screen,
        values=current.values,
        typed=typed,
        errors=errors,
        warnings=warnings,
        messages=messages,
        confirm_token=confirm_token,
        scale_packs={
            scale.id: catalog().scale_pack(scale.id, locale) for scale in instrument.scales
        },
        first_scale=next((f.id for f in instrument.fields_of(screen) if f.type == "scale"), None),
        timer_screen=timer is not None and timer.screen == screen.id,
        timer=current.timer,
        from_review=from_review,
        today=answering.check_context(ctx.visit).today.isoformat(),
        zone_name=formatting.zone_name(ctx.participant.site.timezone, locale),
    )
    return page, (400 if errors else 200)


# --- the walk timer -----------------------------------------------------------------------------


def timer_scope(ctx: PatientContext) -> str:
    """An opaque name for this visit's timing kept on the assessor's phone (no ids in storage)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"walk-timer:{ctx.visit.id}".encode(), hashlib.sha256).hexdigest()[:24]


def _phrases(instrument: Worksheet) -> str:
    assert instrument.timer is not None
    timer = instrument.timer
    return json.dumps(
        {
            language: {
                "phrases": [{"at": p.at_s, "text": p.text(language)} for p in timer.phrases],
                "pause": timer.pause(language),
                "speech": speech_lang(language),
            }
            for language in LANGUAGES
        },
        ensure_ascii=False,
    )


@bp.route("/visit/<instrument_id>/timer", methods=["GET", "POST"])
def walk_timer(instrument_id: str) -> Page:
    ctx, instrument = _worksheet(instrument_id)
    if instrument.timer is None:
        abort(404)
    wants_json = request.headers.get("Accept") == "application/json"
    timer_url = url_for(
        "patient.form_screen", instrument_id=instrument.id, screen_id=instrument.timer.screen
    )
    if request.method == "POST":
        try:
            result = read_timer(request.form, instrument.timer.duration_s)
        except TimerResultInvalid:
            return (jsonify(ok=False, invalid=True), 400) if wants_json else abort(400)
        try:
            outcome = worksheet_entry.save_timer(
                ctx.visit,
                instrument,
                result,
                started_from=request.form.get("walk_version", ""),
                replace=request.form.get("replace") == "1",
                language=language(),
                actor=ctx.actor,
                staff=ctx.staff,
            )
        except TimerConflict:
            unit_of_work.discard()
            if wants_json:
                return jsonify(ok=False, conflict=True), 409
            return redirect(timer_url, 303)
        if not wants_json:
            return redirect(timer_url, 303)
        if outcome.errors:
            unit_of_work.keep_changes()
            locale = language()
            return jsonify(
                ok=False,
                errors={k: finding_text(instrument, f, locale) for k, f in outcome.errors.items()},
            ), 400
        return jsonify(ok=True, next=timer_url)
    current = worksheet_entry.state(ctx.visit, instrument)
    return render_template(
        "patient/worksheet/timer.html",
        instrument=instrument,
        scope=timer_scope(ctx),
        phrases=_phrases(instrument),
        patient_language=ctx.participant.preferred_language,
        lap_length=current.values.get("lap_length_m"),
        walk_version=worksheet_entry.timer_version(ctx.visit, instrument),
        walk_url=timer_url,
        page_title=_("Walk timer"),
    )
