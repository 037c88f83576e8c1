"""The patient screens of a choice questionnaire (the MLHFQ): one item per screen."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from pro_app.errors import InvalidAnswer
from pro_app.extensions import csrf
from pro_app.patient import bp, flows
from pro_app.patient.flows import Page
from pro_app.patient.views import language, open_instrument, shown_language
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.kinds.base import Progress
from pro_app.questionnaire.kinds.choice import ChoiceKind, ChoiceQuestionnaire, parse_answer
from pro_app.services import answering
from pro_app.web import unit_of_work, visit_session
from pro_app.web.messages.patient import PATIENT
from pro_app.web.visit_session import PatientContext


class ChoiceFlow:
    def screen_url(self, instrument: ChoiceQuestionnaire, screen_id: str) -> str:
        return url_for("patient.item", instrument_id=instrument.id, number=int(screen_id))

    def intro(
        self, ctx: PatientContext, instrument: ChoiceQuestionnaire, progress: Progress
    ) -> Page:
        return render_template(
            "patient/choice/intro.html",
            instrument=instrument,
            pack=catalog().textpack(instrument.id, language()),
        )

    def review(self, ctx: PatientContext, instrument: ChoiceQuestionnaire) -> Page:
        saved = answering.draft(ctx.visit.id, instrument.id)
        answers = {item_id: row.value for item_id, row in saved.items()}
        return render_template(
            "patient/choice/review.html",
            instrument=instrument,
            pack=catalog().textpack(instrument.id, language()),
            answers=answers,
            answered_ids={item_id for item_id, value in answers.items() if value is not None},
        )

    def confirm(
        self, ctx: PatientContext, instrument: ChoiceQuestionnaire, progress: Progress
    ) -> Page:
        return render_template(
            "patient/confirm.html",
            instrument=instrument,
            title=_("Submit your answers?"),
            unanswered=progress.total - progress.answered,
        )

    def progress_text(self, progress: Progress) -> str:
        return _("%(done)s of %(total)s answered", done=progress.answered, total=progress.total)


flows.register(ChoiceKind.name, ChoiceFlow())


def _after_item(
    instrument: ChoiceQuestionnaire, number: int, action: str, from_review: bool
) -> str:
    if action == "back":
        if number == 1:
            return url_for("patient.intro", instrument_id=instrument.id)
        return url_for("patient.item", instrument_id=instrument.id, number=number - 1)
    if from_review or number == len(instrument.items):
        return url_for("patient.review", instrument_id=instrument.id)
    return url_for("patient.item", instrument_id=instrument.id, number=number + 1)


def _item_id(instrument_id: str, number: int) -> str | None:
    """The id of the item a URL names, if it names one (else the view refuses it below)."""
    known = catalog().instruments.get(instrument_id)
    if known is None or known.kind != ChoiceKind.name:
        return None
    choice = cast(ChoiceQuestionnaire, known)
    return choice.item(number).id if 1 <= number <= len(choice.items) else None


@bp.route("/visit/<instrument_id>/q/<int:number>", methods=["GET", "POST"])
@csrf.exempt  # checked below: the session's CSRF token, or the resume token of a lost cookie
def item(instrument_id: str, number: int) -> Page:
    if request.method == "POST":
        visit_session.protect_answer_post()
    ctx, opened = open_instrument(instrument_id, _item_id(instrument_id, number))
    instrument: ChoiceQuestionnaire = flows.of_kind(opened, ChoiceKind.name)
    if not 1 <= number <= len(instrument.items):
        abort(404)
    item = instrument.item(number)
    assert ctx.slot is not None
    from_review = request.values.get("from") == "review"
    error = None
    if request.method == "POST":
        action = request.form.get("action", "next")
        raw = request.form.get("answer")
        if action == "save":
            return _save_in_background(ctx, instrument, item.id, raw)
        try:
            if action == "skip" or raw is not None:
                value = None if action == "skip" else parse_answer(instrument, item.id, raw)
                answering.save_answer(
                    ctx.visit,
                    instrument,
                    item.id,
                    value,
                    language=shown_language(),
                    actor=ctx.actor,
                    staff=ctx.staff,
                    slot=ctx.slot,
                )
            elif action == "next":
                raise InvalidAnswer(item.id)
        except InvalidAnswer as refusal:
            error = PATIENT.text(refusal.code)
            unit_of_work.settle(refused=True)  # nothing to keep: release the lock, then render
        else:
            return redirect(_after_item(instrument, number, action, from_review), 303)
    saved = ctx.slot.saved if ctx.slot is not None else None  # a refused answer saved nothing
    pack = catalog().textpack(instrument.id, language())
    return render_template(
        "patient/choice/item.html",
        instrument=instrument,
        item=item,
        number=number,
        pack=pack,
        saved=saved,
        from_review=from_review,
        error=error,
        resume_token=visit_session.resume_token(ctx),
        choice_rows=choice_rows(instrument.choices, pack.anchors),
    ), (400 if error else 200)


def choice_rows(choices: Iterable[int], anchors: dict[int, str]) -> list[list[int]]:
    """The answer rows of a screen: a number with words has a row of its own; bare numbers
    between them share one (0 | 1 | 2 3 4 | 5 on the MLHFQ)."""
    rows: list[list[int]] = []
    for value in choices:
        if anchors.get(value) or not rows or anchors.get(rows[-1][-1]):
            rows.append([value])
        else:
            rows[-1].append(value)
    return rows


def _save_in_background(
    ctx: PatientContext, instrument: ChoiceQuestionnaire, item_id: str, raw: str | None
) -> Page:
    """The tapped answer, saved by the page's script: the same parsing and audit as Next; the
    page shows "saved" only from this reply."""
    try:
        value = parse_answer(instrument, item_id, raw)
    except InvalidAnswer as refusal:
        return jsonify(ok=False, message=PATIENT.text(refusal.code)), 400
    answering.save_answer(
        ctx.visit,
        instrument,
        item_id,
        value,
        language=shown_language(),
        actor=ctx.actor,
        staff=ctx.staff,
    )
    return jsonify(ok=True, saved=value)
