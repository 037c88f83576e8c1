"""Patient routes. GET never changes state; each POST saves, then redirects."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from pro_app.errors import AlreadySubmitted, InvalidAnswer
from pro_app.extensions import csrf, db
from pro_app.i18n import SUPPORTED
from pro_app.models import Response
from pro_app.patient import bp, form_views
from pro_app.patient import session as patient_session
from pro_app.patient.session import PatientContext
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.definitions import ChoiceInstrument, Instrument
from pro_app.questionnaire.form_definitions import FormInstrument
from pro_app.services import answering, links

Page = str | tuple[str, int] | WerkzeugResponse | tuple[WerkzeugResponse, int]


def _language() -> str:
    return str(get_locale())


def _shown_language() -> str:
    """The language of the page the patient answered on (another tab may have switched since)."""
    shown = request.form.get("shown_language")
    return shown if shown in SUPPORTED else _language()


def _instrument(ctx: PatientContext, instrument_id: str) -> Instrument:
    answering.require_instrument(ctx.visit, catalog().schedule, instrument_id)
    return catalog().instrument(instrument_id)


def _choice_instrument(ctx: PatientContext, instrument_id: str) -> ChoiceInstrument:
    instrument = _instrument(ctx, instrument_id)
    if not isinstance(instrument, ChoiceInstrument):
        abort(404)
    return instrument


@dataclass(frozen=True)
class InstrumentRow:
    """One instrument of the visit with what the patient has done of it."""

    instrument: Instrument
    sealed: Response | None
    answered: int
    total: int
    started: bool


def _visit_status(ctx: PatientContext) -> list[InstrumentRow]:
    rows = []
    for instrument_id in answering.instruments_of(ctx.visit, catalog().schedule):
        instrument = catalog().instrument(instrument_id)
        if isinstance(instrument, FormInstrument):
            answered, total, started = form_views.progress(ctx, instrument)
        else:
            saved = answering.saved_answers(ctx.visit.id, instrument_id)
            answered = sum(1 for row in saved.values() if row.value is not None)
            total, started = len(instrument.items), bool(saved)
        sealed = answering.sealed_response(ctx.visit.id, instrument_id)
        rows.append(InstrumentRow(instrument, sealed, answered, total, started))
    return rows


def _next_step(ctx: PatientContext) -> str:
    """Where the patient continues: the first unfinished instrument, at its first open item."""
    for row in _visit_status(ctx):
        if row.sealed is not None:
            continue
        instrument = row.instrument
        if isinstance(instrument, FormInstrument):
            return form_views.next_url(ctx, instrument)
        if not row.started:
            return url_for("patient.intro", instrument_id=instrument.id)
        saved = answering.saved_answers(ctx.visit.id, instrument.id)
        number = answering.first_unanswered(instrument, saved)
        if number is None:
            return url_for("patient.review", instrument_id=instrument.id)
        return url_for("patient.item", instrument_id=instrument.id, number=number)
    return url_for("patient.visit")


# --- the link -------------------------------------------------------------------------------


@bp.get("/s/<token>")
def landing(token: str) -> Page:
    """What a link preview or a first tap sees. Changes nothing."""
    link = links.resolve(token)
    g.preferred_language = link.visit.participant.preferred_language
    links.check_usable(link, patient_session.settings().link_grace_days)
    ctx = PatientContext(link=link, visit=link.visit, participant=link.visit.participant)
    status = _visit_status(ctx)
    return render_template(
        "patient/landing.html",
        token=token,
        start_token=patient_session.start_token(link),
        visit=ctx.visit,
        planned=catalog().schedule.visit(ctx.visit.code),
        status=status,
        all_done=all(row.sealed is not None for row in status),
        any_started=any(row.started for row in status),
    )


@bp.post("/s/<token>")
@csrf.exempt  # the link-bound start token below replaces the cookie-bound CSRF token
def start(token: str) -> Page:
    link = links.resolve(token)
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403)
    if not patient_session.start_token_valid(link, request.form.get("start_token")):
        abort(400)
    links.start(link, patient_session.settings().link_grace_days)
    db.session.commit()
    patient_session.bind(link)
    return redirect(_next_step(patient_session.current()), 303)


# --- the visit ------------------------------------------------------------------------------


@bp.get("/visit")
def visit() -> Page:
    ctx = patient_session.current()
    status = _visit_status(ctx)
    return render_template(
        "patient/visit.html",
        visit=ctx.visit,
        planned=catalog().schedule.visit(ctx.visit.code),
        status=status,
        all_done=all(row.sealed is not None for row in status),
    )


@bp.get("/visit/<instrument_id>")
def intro(instrument_id: str) -> Page:
    ctx = patient_session.current()
    instrument = _instrument(ctx, instrument_id)
    if answering.sealed_response(ctx.visit.id, instrument.id):
        return redirect(url_for("patient.receipt", instrument_id=instrument.id))
    if isinstance(instrument, FormInstrument):
        return form_views.intro(ctx, instrument)
    return render_template(
        "patient/intro.html",
        instrument=instrument,
        pack=catalog().textpack(instrument.id, _language()),
    )


@bp.route("/visit/<instrument_id>/q/<int:number>", methods=["GET", "POST"])
def item(instrument_id: str, number: int) -> Page:
    ctx = patient_session.current()
    instrument = _choice_instrument(ctx, instrument_id)
    if not 1 <= number <= len(instrument.items):
        abort(404)
    if answering.sealed_response(ctx.visit.id, instrument.id):
        return redirect(url_for("patient.receipt", instrument_id=instrument.id), 303)
    item = instrument.item(number)
    from_review = request.values.get("from") == "review"
    error = None
    if request.method == "POST":
        action = request.form.get("action", "next")
        raw = request.form.get("answer")
        try:
            if action == "skip":
                answering.save_answer(
                    ctx.visit,
                    instrument,
                    item.id,
                    None,
                    language=_shown_language(),
                    actor=ctx.actor,
                    staff=ctx.staff,
                )
            elif raw is not None:
                value = answering.parse_choice(instrument, item.id, raw)
                answering.save_answer(
                    ctx.visit,
                    instrument,
                    item.id,
                    value,
                    language=_shown_language(),
                    actor=ctx.actor,
                    staff=ctx.staff,
                )
            elif action == "next":
                raise InvalidAnswer(item.id)
        except InvalidAnswer:
            db.session.rollback()
            error = _("Please choose one answer. If this question does not apply to you, choose 0.")
        except AlreadySubmitted:
            db.session.rollback()
            return redirect(url_for("patient.receipt", instrument_id=instrument.id), 303)
        else:
            db.session.commit()
            return redirect(_after_item(instrument, number, action, from_review), 303)
    saved = answering.saved_answers(ctx.visit.id, instrument.id).get(item.id)
    return render_template(
        "patient/item.html",
        instrument=instrument,
        item=item,
        number=number,
        pack=catalog().textpack(instrument.id, _language()),
        saved=saved,
        from_review=from_review,
        error=error,
    ), (400 if error else 200)


def _after_item(instrument: ChoiceInstrument, number: int, action: str, from_review: bool) -> str:
    if action == "back":
        if number == 1:
            return url_for("patient.intro", instrument_id=instrument.id)
        return url_for("patient.item", instrument_id=instrument.id, number=number - 1)
    if from_review or number == len(instrument.items):
        return url_for("patient.review", instrument_id=instrument.id)
    return url_for("patient.item", instrument_id=instrument.id, number=number + 1)


@bp.get("/visit/<instrument_id>/review")
def review(instrument_id: str) -> Page:
    ctx = patient_session.current()
    instrument = _instrument(ctx, instrument_id)
    if answering.sealed_response(ctx.visit.id, instrument.id):
        return redirect(url_for("patient.receipt", instrument_id=instrument.id))
    if isinstance(instrument, FormInstrument):
        return form_views.review(ctx, instrument)
    saved = answering.saved_answers(ctx.visit.id, instrument.id)
    answers = {item_id: row.value for item_id, row in saved.items()}
    return render_template(
        "patient/review.html",
        instrument=instrument,
        pack=catalog().textpack(instrument.id, _language()),
        answers=answers,
        unanswered=sum(1 for item in instrument.items if answers.get(item.id) is None),
    )


@bp.route("/visit/<instrument_id>/submit", methods=["GET", "POST"])
def submit(instrument_id: str) -> Page:
    ctx = patient_session.current()
    instrument = _instrument(ctx, instrument_id)
    if answering.sealed_response(ctx.visit.id, instrument.id):
        return redirect(url_for("patient.receipt", instrument_id=instrument.id), 303)
    if isinstance(instrument, FormInstrument):
        return form_views.submit(ctx, instrument)
    if request.method == "POST":
        try:
            ctx.seal(instrument, _language())
        except AlreadySubmitted:
            db.session.rollback()
        else:
            db.session.commit()
        return redirect(url_for("patient.receipt", instrument_id=instrument.id), 303)
    saved = answering.saved_answers(ctx.visit.id, instrument.id)
    unanswered = sum(
        1 for item in instrument.items if saved.get(item.id) is None or saved[item.id].value is None
    )
    return render_template("patient/confirm.html", instrument=instrument, unanswered=unanswered)


@bp.get("/visit/<instrument_id>/receipt")
def receipt(instrument_id: str) -> Page:
    ctx = patient_session.current()
    answering.require_instrument(ctx.visit, catalog().schedule, instrument_id)
    response: Response | None = answering.sealed_response(ctx.visit.id, instrument_id)
    if response is None:
        return redirect(_next_step(ctx))
    remaining = [row for row in _visit_status(ctx) if row.sealed is None]
    return render_template(
        "patient/receipt.html",
        instrument=catalog().instrument(instrument_id),
        response=response,
        timezone=ctx.participant.site.timezone,
        next_url=_next_step(ctx) if remaining else None,
    )
