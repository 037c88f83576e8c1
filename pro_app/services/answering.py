"""Saving answers screen by screen, so nothing typed is lost, and reading progress back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pro_app import clock
from pro_app.errors import AlreadySubmitted, InstrumentNotInVisit, InvalidAnswer
from pro_app.extensions import db
from pro_app.models import DraftAnswer, EnteredBy, Response, StaffUser, Visit
from pro_app.questionnaire.definitions import ChoiceInstrument, Instrument
from pro_app.questionnaire.schedule import Schedule
from pro_app.services import audit


def instruments_of(visit: Visit, schedule: Schedule) -> tuple[str, ...]:
    return schedule.visit(visit.code).instruments


def require_instrument(visit: Visit, schedule: Schedule, instrument_id: str) -> None:
    if instrument_id not in instruments_of(visit, schedule):
        raise InstrumentNotInVisit()


def sealed_response(visit_id: int, instrument_id: str) -> Response | None:
    """The latest sealed version of this visit's instrument, if any."""
    return db.session.scalar(
        select(Response)
        .where(Response.visit_id == visit_id, Response.instrument_id == instrument_id)
        .order_by(Response.version.desc())
        .limit(1)
    )


def saved_answers(visit_id: int, instrument_id: str) -> dict[str, DraftAnswer]:
    rows = db.session.scalars(
        select(DraftAnswer).where(
            DraftAnswer.visit_id == visit_id, DraftAnswer.instrument_id == instrument_id
        )
    )
    return {row.item_id: row for row in rows}


def parse_choice(instrument: ChoiceInstrument, item_id: str, raw: str | None) -> int:
    """A submitted choice as an int in the instrument's range, or InvalidAnswer."""
    try:
        value = int(raw or "")
    except ValueError:
        raise InvalidAnswer(item_id) from None
    if value not in instrument.choices or item_id not in instrument.item_ids:
        raise InvalidAnswer(item_id)
    return value


def save_answer(
    visit: Visit,
    instrument: Instrument,
    item_id: str,
    value: Any,
    *,
    language: str,
    actor: str,
    staff: StaffUser | None = None,
) -> DraftAnswer:
    """Upsert one answer. Two devices saving the same item at once both succeed; the last wins."""
    if sealed_response(visit.id, instrument.id) is not None:
        raise AlreadySubmitted(_sealed_id(visit, instrument))
    for _attempt in range(2):
        row = db.session.scalar(
            select(DraftAnswer).where(
                DraftAnswer.visit_id == visit.id,
                DraftAnswer.instrument_id == instrument.id,
                DraftAnswer.item_id == item_id,
            )
        )
        previous = row.value if row else None
        try:
            with db.session.begin_nested():
                if row is None:
                    row = DraftAnswer(
                        visit_id=visit.id, instrument_id=instrument.id, item_id=item_id
                    )
                    db.session.add(row)
                row.value = value
                row.language = language
                row.saved_at = clock.utcnow()
                row.entered_by = EnteredBy.STAFF if staff else EnteredBy.PARTICIPANT
                row.staff_id = staff.id if staff else None
            break
        except IntegrityError:
            continue  # the other device inserted first: update its row instead
    participant = visit.participant
    audit.record(
        "answer.saved",
        actor,
        site_id=participant.site_id,
        participant_id=participant.id,
        visit_id=visit.id,
        instrument=instrument.id,
        item=item_id,
        value=value,
        previous=previous,
        language=language,
    )
    return row


def clear_answer(visit: Visit, instrument: Instrument, item_id: str, *, actor: str) -> None:
    """The patient chose to skip an item they had answered: the item becomes blank, never 0."""
    row = saved_answers(visit.id, instrument.id).get(item_id)
    if row is None or row.value is None:
        return
    save_answer(visit, instrument, item_id, None, language=row.language, actor=actor)


def first_unanswered(instrument: ChoiceInstrument, answers: dict[str, DraftAnswer]) -> int | None:
    for item in instrument.items:
        row = answers.get(item.id)
        if row is None:
            return item.number
    return None


def _sealed_id(visit: Visit, instrument: Instrument) -> int:
    response = sealed_response(visit.id, instrument.id)
    assert response is not None
    return response.id
