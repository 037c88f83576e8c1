"""Saving answers screen by screen, so nothing typed is lost, and reading the draft back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pro_app import clock
from pro_app.errors import AlreadySubmitted, InstrumentNotInVisit
from pro_app.extensions import db
from pro_app.models import DraftAnswer, EnteredBy, Response, StaffUser, Visit
from pro_app.questionnaire.definitions import Instrument
from pro_app.questionnaire.kinds.base import CheckContext, Draft, SavedAnswer
from pro_app.questionnaire.schedule import Schedule
from pro_app.services import audit


def instruments_of(visit: Visit, schedule: Schedule) -> tuple[str, ...]:
    return schedule.visit(visit.code).instruments


def require_instrument(visit: Visit, schedule: Schedule, instrument_id: str) -> None:
    if instrument_id not in instruments_of(visit, schedule):
        raise InstrumentNotInVisit()


def latest_version(visit_id: int, instrument_id: str) -> Response | None:
    """The newest sealed version of this visit's instrument, voided or not."""
    return db.session.scalar(
        select(Response)
        .where(Response.visit_id == visit_id, Response.instrument_id == instrument_id)
        .order_by(Response.version.desc())
        .limit(1)
    )


def sealed_response(visit_id: int, instrument_id: str) -> Response | None:
    """The current record of this visit's instrument: its newest version, unless that voids it
    (then the slot is empty and can be filled again)."""
    latest = latest_version(visit_id, instrument_id)
    return None if latest is None or latest.voided else latest


def sealed_instruments(visit_id: int) -> set[str]:
    """The instruments of a visit that have a current record (a voided one does not count)."""
    latest: dict[str, bool] = {}
    for instrument_id, voided in db.session.execute(
        select(Response.instrument_id, Response.voided)
        .where(Response.visit_id == visit_id)
        .order_by(Response.version)
    ):
        latest[instrument_id] = voided
    return {instrument_id for instrument_id, voided in latest.items() if not voided}


def lock_visit(visit: Visit) -> None:
    """Serialise every save and seal of one visit: the visit's row is locked until this
    transaction ends (SELECT ... FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already lets
    one writer in at a time). A save racing a submit on another device then either lands before
    the seal (and is in the record) or sees the seal and is refused (the device goes to the
    receipt): never a success for an answer the record does not hold."""
    db.session.execute(select(Visit.id).where(Visit.id == visit.id).with_for_update())


def refuse_if_sealed(visit: Visit, instrument: Instrument) -> int:
    """AlreadySubmitted when the instrument of this visit is sealed (late save, other device);
    otherwise the version number a new record of the slot takes: 1, or the one after a void.
    The visit is locked first (`lock_visit`), so what is read here stays true until commit; and
    the unique constraint on (visit, instrument, version) still lets only one of two seals win."""
    lock_visit(visit)
    latest = db.session.execute(
        select(Response.id, Response.version, Response.voided)
        .where(Response.visit_id == visit.id, Response.instrument_id == instrument.id)
        .order_by(Response.version.desc())
        .limit(1)
    ).first()
    if latest is None:
        return 1
    if not latest.voided:
        raise AlreadySubmitted(latest.id)
    return int(latest.version) + 1


def saved_answers(visit_id: int, instrument_id: str) -> dict[str, DraftAnswer]:
    rows = db.session.scalars(
        select(DraftAnswer).where(
            DraftAnswer.visit_id == visit_id, DraftAnswer.instrument_id == instrument_id
        )
    )
    return {row.item_id: row for row in rows}


def draft(visit_id: int, instrument_id: str) -> Draft:
    """The saved answers as plain values, with the username of staff who saved any of them."""
    rows = db.session.execute(
        select(DraftAnswer, StaffUser.username)
        .outerjoin(StaffUser, DraftAnswer.staff_id == StaffUser.id)
        .where(DraftAnswer.visit_id == visit_id, DraftAnswer.instrument_id == instrument_id)
    )
    return {
        row.item_id: SavedAnswer(row.value, row.language, row.saved_at, username)
        for row, username in rows
    }


def check_context(visit: Visit) -> CheckContext:
    return CheckContext(
        today=clock.today_in(visit.participant.site.timezone),
        window_start=visit.window_start,
        window_end=visit.window_end,
    )


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
    refuse_if_sealed(visit, instrument)
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
    else:
        # Never claim (or audit) a save that did not happen.
        raise RuntimeError(f"answer {item_id} could not be saved after a concurrent insert")
    assert row is not None
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
