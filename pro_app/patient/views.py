"""Patient routes shared by every instrument kind: the link, the visit, intro, review, submit and
receipt. GET never changes state; each POST saves, then redirects. The kind's flow
(pro_app/patient/flows.py) supplies what differs."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from werkzeug.wrappers import Response as WerkzeugResponse

from pro_app.errors import AlreadySubmitted, AtClinic, LinkUnknown, RecordIncomplete
from pro_app.extensions import csrf
from pro_app.languages import LANGUAGES
from pro_app.models import Response
from pro_app.models.rows import LinkRow
from pro_app.patient import bp
from pro_app.patient.flows import Page, flow_for
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.definitions import Instrument
from pro_app.questionnaire.kinds.base import Draft, Progress
from pro_app.questionnaire.kinds.registry import kind_of
from pro_app.services import answering, links
from pro_app.web import errorpages, unit_of_work, visit_session
from pro_app.web.ratelimits import count_unknown_link, start_limit
from pro_app.web.visit_session import PatientContext


def language() -> str:
    return str(get_locale())


def shown_language() -> str:
    """The language of the page the patient answered on (another tab may have switched since)."""
    shown = request.form.get("shown_language")
    return shown if shown in LANGUAGES else language()


def receipt_redirect(instrument: Instrument) -> WerkzeugResponse:
    return redirect(url_for("patient.receipt", instrument_id=instrument.id), 303)


def open_instrument(
    instrument_id: str, item_id: str | None = None
) -> tuple[PatientContext, Instrument]:
    """This browser's visit and one of its instruments that is still open for answers (a sealed
    one raises AlreadySubmitted, which leads to its receipt). The visit, whether the instrument is
    sealed and the saved answer of `item_id` come from one query (`ctx.slot`)."""
    ctx = visit_session.current(instrument_id, item_id)
    answering.require_instrument(ctx.visit, catalog().schedule, instrument_id)
    instrument = catalog().instrument(instrument_id)
    if not ctx.by_staff and not instrument.patient_administered:
        raise AtClinic()
    assert ctx.slot is not None
    ctx.slot.next_version()  # AlreadySubmitted once sealed
    return ctx, instrument


def progress(ctx: PatientContext, instrument: Instrument, draft: Draft | None = None) -> Progress:
    kind = kind_of(instrument)
    if draft is None:
        draft = answering.draft(ctx.visit.id, instrument.id)
    if not draft:
        return kind.not_started(instrument)
    return kind.progress(instrument, draft, answering.check_context(ctx.visit))


def next_url(ctx: PatientContext, instrument: Instrument, current: Progress | None = None) -> str:
    """Where the patient continues this instrument: its intro, the first open screen, or review
    (`current`: its progress, if the caller has read it already)."""
    if current is None:
        current = progress(ctx, instrument)
    if not current.started:
        return url_for("patient.intro", instrument_id=instrument.id)
    if current.next_screen is None:
        return url_for("patient.review", instrument_id=instrument.id)
    return flow_for(instrument).screen_url(instrument, current.next_screen)


@bp.errorhandler(AlreadySubmitted)
def _already_submitted(error: AlreadySubmitted) -> Page:
    """A late save or a second submit (double tap, another device): show the receipt instead."""
    unit_of_work.discard()
    instrument_id = (request.view_args or {}).get("instrument_id")
    if request.headers.get("Accept") == "application/json":
        return jsonify(ok=False, submitted=True), 409
    if not isinstance(instrument_id, str):
        return redirect(url_for("patient.visit"), 303)
    return redirect(url_for("patient.receipt", instrument_id=instrument_id), 303)


@dataclass(frozen=True)
class InstrumentRow:
    """One instrument of the visit with what the patient has done of it."""

    instrument: Instrument
    sealed: Response | None
    progress: Progress
    # Done at the clinic with the study nurse (an assessor's worksheet seen from a patient's
    # link): shown, never started from here.
    at_clinic: bool = False

    @property
    def started(self) -> bool:
        return self.progress.started

    @property
    def progress_text(self) -> str:
        """The line "3 of 21 answered", in the page's language: only the visit page shows it."""
        return flow_for(self.instrument).progress_text(self.progress)

    @property
    def open_for_patient(self) -> bool:
        return self.sealed is None and not self.at_clinic


def visit_status(ctx: PatientContext, *, drafts_saved: bool = True) -> list[InstrumentRow]:
    """Each instrument of the visit with its record or progress: two queries for the visit, one
    while nothing is sealed (the visit counts its current records, `Visit.current_records`), none
    while nothing is saved either (`drafts_saved` False: known from the link's own read, in a
    request that saves no answer)."""
    drafts = answering.drafts_of_visit(ctx.visit.id) if drafts_saved else {}
    records = answering.current_records(ctx.visit.id) if ctx.visit.current_records else {}
    rows = []
    for instrument_id in answering.instruments_of(ctx.visit, catalog().schedule):
        instrument = catalog().instrument(instrument_id)
        current = progress(ctx, instrument, drafts.get(instrument_id, {}))
        rows.append(
            InstrumentRow(
                instrument=instrument,
                sealed=records.get(instrument_id),
                progress=current,
                at_clinic=not ctx.by_staff and not instrument.patient_administered,
            )
        )
    return rows


def all_done(rows: list[InstrumentRow]) -> bool:
    """Nothing is left for this browser to fill in (the clinic's part is not its to do)."""
    return not any(row.open_for_patient for row in rows)


def next_step(ctx: PatientContext, rows: list[InstrumentRow] | None = None) -> str:
    """Where the patient continues: the first unfinished instrument, at its first open screen."""
    for row in rows if rows is not None else visit_status(ctx):
        if row.open_for_patient:
            return next_url(ctx, row.instrument, row.progress)
    return url_for("patient.visit")


# --- the site's address ---------------------------------------------------------------------


@bp.get("/")
def home() -> Page:
    """The site's address alone (a link cut short, or the address `make run` prints): where a
    patient finds the questionnaire, the study nurse's number, and the staff's sign-in."""
    return errorpages.render_message("home", {}, 200, staff_sign_in=url_for("auth.login"))


# --- the link -------------------------------------------------------------------------------


def read_link(token: str) -> LinkRow:
    """The link a token names. A token that names none is counted against the client address
    (rate limit: a guesser's tries); a real link is never counted."""
    try:
        return links.read(token)
    except LinkUnknown:
        count_unknown_link()
        raise


@bp.get("/s/<token>")
def landing(token: str) -> Page:
    """What a link preview or a first tap sees. Changes nothing (the link read as a plain row)."""
    link = read_link(token)
    ctx = visit_session.link_context(link)
    links.check_usable(link, visit_session.settings().link_grace_days)
    status = visit_status(ctx, drafts_saved=link.drafts_saved)
    return render_template(
        "patient/landing.html",
        token=token,
        start_token=visit_session.start_token(link),
        visit=ctx.visit,
        planned=catalog().schedule.visit(ctx.visit.code),
        status=status,
        all_done=all_done(status),
        any_started=any(row.started for row in status),
    )


@bp.post("/s/<token>")
@csrf.exempt  # the link-bound start token below replaces the cookie-bound CSRF token
@start_limit
def start(token: str) -> Page:
    link = read_link(token)
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403)
    if not visit_session.start_token_valid(link, request.form.get("start_token")):
        abort(400)
    links.start(link, visit_session.settings().link_grace_days)
    visit_session.bind(link, request.form.get("lang"))
    ctx = visit_session.started(link)
    return redirect(next_step(ctx, visit_status(ctx, drafts_saved=link.drafts_saved)), 303)


# --- the visit ------------------------------------------------------------------------------


@bp.get("/visit")
def visit() -> Page:
    ctx = visit_session.current()
    status = visit_status(ctx)
    return render_template(
        "patient/visit.html",
        visit=ctx.visit,
        planned=catalog().schedule.visit(ctx.visit.code),
        status=status,
        all_done=all_done(status),
    )


@bp.get("/visit/<instrument_id>")
def intro(instrument_id: str) -> Page:
    ctx, instrument = open_instrument(instrument_id)
    return flow_for(instrument).intro(ctx, instrument, progress(ctx, instrument))


@bp.get("/visit/<instrument_id>/review")
def review(instrument_id: str) -> Page:
    ctx, instrument = open_instrument(instrument_id)
    return flow_for(instrument).review(ctx, instrument)


@bp.route("/visit/<instrument_id>/submit", methods=["GET", "POST"])
def submit(instrument_id: str) -> Page:
    ctx, instrument = open_instrument(instrument_id)
    if request.method == "POST":
        try:
            ctx.seal(instrument, language())
        except RecordIncomplete:
            return redirect(url_for("patient.review", instrument_id=instrument.id), 303)
        return receipt_redirect(instrument)
    return flow_for(instrument).confirm(ctx, instrument, progress(ctx, instrument))


@bp.get("/visit/<instrument_id>/receipt")
def receipt(instrument_id: str) -> Page:
    ctx = visit_session.current()
    answering.require_instrument(ctx.visit, catalog().schedule, instrument_id)
    status = visit_status(ctx)
    response = next(row.sealed for row in status if row.instrument.id == instrument_id)
    if response is None:
        return redirect(next_step(ctx, status))
    remaining = [row for row in status if row.open_for_patient]
    return render_template(
        "patient/receipt.html",
        instrument=catalog().instrument(instrument_id),
        response=response,
        timezone=ctx.participant.site.timezone,
        next_url=next_step(ctx, status) if remaining else None,
    )
