"""Patient routes of a form instrument (the 6MWT log): parts, review, submit, and the walk timer."""

from __future__ import annotations

import hashlib
import hmac
import json

from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from pro_app import formatting
from pro_app.errors import AlreadySubmitted, RecordIncomplete, TimerConflict
from pro_app.extensions import db
from pro_app.i18n import SUPPORTED
from pro_app.patient import bp, formtext
from pro_app.patient import session as patient_session
from pro_app.patient.session import PatientContext
from pro_app.questionnaire import walktest
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.form_definitions import FormInstrument, Screen
from pro_app.questionnaire.formcheck import Finding, RawValue, applies, is_blank
from pro_app.services import answering, form_entry

Page = str | tuple[str, int] | WerkzeugResponse | tuple[WerkzeugResponse, int]


def _language() -> str:
    return str(get_locale())


def _form(ctx: PatientContext, instrument_id: str) -> FormInstrument:
    answering.require_instrument(ctx.visit, catalog().schedule, instrument_id)
    instrument = catalog().instrument(instrument_id)
    if not isinstance(instrument, FormInstrument):
        abort(404)
    return instrument


def _screen(instrument: FormInstrument, screen_id: str) -> Screen:
    try:
        return instrument.screen(screen_id)
    except KeyError:
        abort(404)


def _receipt(instrument: FormInstrument) -> WerkzeugResponse:
    return redirect(url_for("patient.receipt", instrument_id=instrument.id), 303)


def next_url(ctx: PatientContext, instrument: FormInstrument) -> str:
    """Where the patient continues: the intro, the first part still to finish, or the review."""
    current = form_entry.state(ctx.visit, instrument)
    if not current.started:
        return url_for("patient.intro", instrument_id=instrument.id)
    screen = form_entry.first_screen_to_finish(instrument, current)
    if screen is None:
        return url_for("patient.review", instrument_id=instrument.id)
    return url_for("patient.form_screen", instrument_id=instrument.id, screen_id=screen.id)


def progress(ctx: PatientContext, instrument: FormInstrument) -> tuple[int, int, bool]:
    """(fields filled in, fields that apply, started) for the visit page."""
    current = form_entry.state(ctx.visit, instrument)
    applying = [f for f in instrument.fields if applies(f, current.values)]
    filled = sum(1 for f in applying if not is_blank(current.values[f.id]))
    return filled, len(applying), current.started


def intro(ctx: PatientContext, instrument: FormInstrument) -> Page:
    return render_template(
        "patient/form_intro.html",
        instrument=instrument,
        started=form_entry.state(ctx.visit, instrument).started,
        continue_url=next_url(ctx, instrument),
    )


# --- one part of the form -----------------------------------------------------------------------


def _raw_values(
    instrument: FormInstrument, screen: Screen, form: MultiDict[str, str]
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


def _after_screen(
    instrument: FormInstrument, screen: Screen, action: str, from_review: bool
) -> str:
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
    ctx = patient_session.current()
    instrument = _form(ctx, instrument_id)
    screen = _screen(instrument, screen_id)
    if answering.sealed_response(ctx.visit.id, instrument.id):
        return _receipt(instrument)
    from_review = request.values.get("from") == "review"
    errors: dict[str, Finding] = {}
    typed: dict[str, RawValue] = {}
    if request.method == "POST":
        action = request.form.get("action", "next")
        raw = _raw_values(instrument, screen, request.form)
        try:
            outcome = form_entry.save_screen(
                ctx.visit,
                instrument,
                screen.id,
                raw,
                request.form.getlist("confirm"),
                language=_language(),
                actor=ctx.actor,
                staff=ctx.staff,
            )
        except AlreadySubmitted:
            db.session.rollback()
            return _receipt(instrument)
        # Whatever could be saved is kept, even when something on the page is refused.
        db.session.commit()
        if not outcome.errors and (action == "back" or not outcome.warnings):
            return redirect(_after_screen(instrument, screen, action, from_review), 303)
        errors = outcome.errors
        typed = {field_id: raw[field_id] for field_id in errors}
    return _render_screen(ctx, instrument, screen, errors, typed, from_review)


def _render_screen(
    ctx: PatientContext,
    instrument: FormInstrument,
    screen: Screen,
    errors: dict[str, Finding],
    typed: dict[str, RawValue],
    from_review: bool,
) -> Page:
    locale = _language()
    current = form_entry.state(ctx.visit, instrument)
    on_screen = set(screen.field_ids)
    warnings = {
        f.field: f for f in current.unconfirmed if f.field in on_screen and f.field not in errors
    }
    # Saved values that break a hard limit because of another part (e.g. a shorter lap length).
    for finding in current.refused:
        if finding.field in on_screen:
            errors.setdefault(finding.field, finding)
    messages = {
        fid: formtext.message(instrument, f, locale) for fid, f in {**errors, **warnings}.items()
    }
    distance = walktest.total_distance(
        current.values.get("laps"),
        current.values.get("lap_length_m"),
        current.values.get("partial_lap_m"),
    )
    page = render_template(
        "patient/form_screen.html",
        instrument=instrument,
        screen=screen,
        values=current.values,
        typed=typed,
        errors=errors,
        warnings=warnings,
        messages=messages,
        confirm_token=form_entry.confirm_token,
        formtext=formtext,
        borg_pack=catalog().scale_pack(instrument.borg.scale, locale),
        first_borg=next((f.id for f in instrument.fields_of(screen) if f.type == "borg"), None),
        timer=current.timer,
        distance=distance,
        from_review=from_review,
        today=form_entry.check_context(ctx.visit).today.isoformat(),
        zone_name=formatting.zone_name(ctx.participant.site.timezone, locale),
    )
    return page, (400 if errors else 200)


# --- review and submit --------------------------------------------------------------------------


def review(ctx: PatientContext, instrument: FormInstrument) -> Page:
    locale = _language()
    current = form_entry.state(ctx.visit, instrument)
    problems = {f.field: f for f in current.unconfirmed + current.refused}
    return render_template(
        "patient/form_review.html",
        instrument=instrument,
        values=current.values,
        missing=set(current.missing),
        problems=problems,
        messages={fid: formtext.message(instrument, f, locale) for fid, f in problems.items()},
        complete=current.complete,
        formtext=formtext,
        distance=walktest.total_distance(
            current.values.get("laps"),
            current.values.get("lap_length_m"),
            current.values.get("partial_lap_m"),
        ),
    )


def submit(ctx: PatientContext, instrument: FormInstrument) -> Page:
    if request.method == "POST":
        try:
            ctx.seal(instrument, _language())
        except AlreadySubmitted:
            db.session.rollback()
        except RecordIncomplete:
            db.session.rollback()
            return redirect(url_for("patient.review", instrument_id=instrument.id), 303)
        else:
            db.session.commit()
        return _receipt(instrument)
    current = form_entry.state(ctx.visit, instrument)
    if not current.complete:
        return redirect(url_for("patient.review", instrument_id=instrument.id), 303)
    return render_template("patient/form_confirm.html", instrument=instrument)


# --- the walk timer -----------------------------------------------------------------------------


def timer_scope(ctx: PatientContext) -> str:
    """An opaque name for this visit's timing kept on the assessor's phone (no ids in storage)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"walk-timer:{ctx.visit.id}".encode(), hashlib.sha256).hexdigest()[:24]


def _phrases(instrument: FormInstrument) -> str:
    return json.dumps(
        {
            language: {
                "phrases": [
                    {"at": p.at_s, "text": p.text(language)} for p in instrument.walk.phrases
                ],
                "pause": instrument.walk.pause(language),
                "speech": "zh-CN" if language.startswith("zh") else "en-GB",
            }
            for language in SUPPORTED
        },
        ensure_ascii=False,
    )


@bp.route("/visit/<instrument_id>/timer", methods=["GET", "POST"])
def walk_timer(instrument_id: str) -> Page:
    ctx = patient_session.current()
    instrument = _form(ctx, instrument_id)
    wants_json = request.headers.get("Accept") == "application/json"
    walk_url = url_for("patient.form_screen", instrument_id=instrument.id, screen_id="walk")
    if answering.sealed_response(ctx.visit.id, instrument.id):
        if request.method == "POST" and wants_json:
            return jsonify(ok=False, submitted=True), 409
        return _receipt(instrument)
    if request.method == "POST":
        try:
            result = walktest.read_timer(request.form, instrument.walk.duration_s)
        except walktest.TimerResultInvalid:
            return (jsonify(ok=False, invalid=True), 400) if wants_json else abort(400)
        try:
            outcome = form_entry.save_timer(
                ctx.visit,
                instrument,
                result,
                started_from=request.form.get("walk_version", ""),
                replace=request.form.get("replace") == "1",
                language=_language(),
                actor=ctx.actor,
                staff=ctx.staff,
            )
        except AlreadySubmitted:
            db.session.rollback()
            return (jsonify(ok=False, submitted=True), 409) if wants_json else _receipt(instrument)
        except TimerConflict:
            db.session.rollback()
            if wants_json:
                return jsonify(ok=False, conflict=True), 409
            return redirect(walk_url, 303)
        db.session.commit()
        if not wants_json:
            return redirect(walk_url, 303)
        if outcome.errors:
            locale = _language()
            return jsonify(
                ok=False,
                errors={
                    k: formtext.message(instrument, f, locale) for k, f in outcome.errors.items()
                },
            ), 400
        return jsonify(ok=True, next=walk_url)
    current = form_entry.state(ctx.visit, instrument)
    return render_template(
        "patient/walk_timer.html",
        instrument=instrument,
        scope=timer_scope(ctx),
        phrases=_phrases(instrument),
        patient_language=ctx.participant.preferred_language,
        lap_length=current.values.get("lap_length_m"),
        walk_version=form_entry.walk_version(ctx.visit, instrument),
        walk_url=walk_url,
        formtext=formtext,
        page_title=_("Walk timer"),
    )
