"""Sealing: validate, score and store a record in one transaction, exactly once per visit; and
the one way a sealed version is stored, whether first submitted, corrected or voided."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased, make_transient_to_detached

from pro_app import clock, records
from pro_app.errors import AlreadySubmitted
from pro_app.extensions import db
from pro_app.models import DraftAnswer, EnteredBy, Response, StaffUser, Visit
from pro_app.models.rows import VisitLike
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.definitions import Instrument
from pro_app.questionnaire.kinds.base import Baseline, ParticipantFacts, SealContext, SealedContent
from pro_app.questionnaire.kinds.registry import kind_of
from pro_app.services import answering, audit, jobs
from pro_app.services.reasons import require_reason


def submit(
    visit: VisitLike,
    instrument: Instrument,
    catalog: Catalog,
    *,
    language: str,
    actor: str,
    staff: StaffUser | None = None,
    entry_reason: str | None = None,
    slot: answering.Slot | None = None,
) -> Response:
    """Seal the saved answers; a second submit (double tap, other device) is AlreadySubmitted.
    After a voided version the slot is empty again: the new record takes the next version. An
    instrument the schedule does not plan at this visit is never sealed there. `slot`: the
    instrument as this transaction already read it (see `answering.refuse_if_sealed`)."""
    answering.require_instrument(visit, catalog.schedule, instrument.id)
    version = answering.refuse_if_sealed(visit, instrument, slot)
    if staff is not None:
        # GCP attribution: whoever enters on a participant's behalf says why, for every instrument.
        entry_reason = require_reason(entry_reason, "entry_reason")
    draft = answering.draft(visit.id, instrument.id)
    content = kind_of(instrument).seal(
        instrument, draft, seal_context(visit, instrument, catalog, language)
    )
    item_languages = {item_id: saved.language for item_id, saved in draft.items()}
    response = store(
        visit,
        instrument,
        content,
        version=version,
        language=language,
        languages=sorted(set(item_languages.values()) | {language}),
        item_languages=item_languages,
        staff=staff,
        entry_reason=entry_reason,
        started_at=min((saved.saved_at for saved in draft.values()), default=None),
    )
    # The drafts go with the event that records the seal (one statement on PostgreSQL).
    discard = {"change_visit_id": visit.id, "change_instrument_id": instrument.id}
    record_sealed(
        visit,
        response,
        "response.submitted",
        actor,
        change=audit.Change(_DISCARD_DRAFTS, discard),
        response_id=response.id,
        instrument=instrument.id,
        record_sha256=response.record_sha256,
        entered_by=response.entered_by.value,
        entry_reason=entry_reason,
    )
    return response


# The sealed instrument's drafts, deleted on the table (a Core statement: nothing in the session
# needs to hear of it, and so it can run inside the audit event's statement).
_DRAFTS = cast(Table, DraftAnswer.__table__)
_DISCARD_DRAFTS = delete(_DRAFTS).where(
    _DRAFTS.c.visit_id == bindparam("change_visit_id"),
    _DRAFTS.c.instrument_id == bindparam("change_instrument_id"),
)


def store(
    visit: VisitLike,
    instrument: Instrument,
    content: SealedContent,
    *,
    version: int,
    language: str,
    languages: list[str],
    item_languages: dict[str, str],
    staff: StaffUser | None,
    entry_reason: str | None,
    started_at: datetime | None,
    supersedes: Response | None = None,
    correction_reason: str | None = None,
    correction_reason_code: str | None = None,
    voided: bool = False,
) -> Response:
    """Store one sealed version: its canonical form's SHA-256 and a receipt number. A unique
    constraint on (visit, instrument, version) lets only one of two racing devices win: the insert
    does nothing on that conflict (no savepoint, no error to recover from) and the loser is told
    AlreadySubmitted. The caller then records it with `record_sealed`, which also recounts the
    visit and asks for its PDF."""
    participant = visit.participant
    fields: dict[str, Any] = {
        "visit_id": visit.id,
        "instrument_id": instrument.id,
        "version": version,
        "instrument_version": instrument.version,
        "scoring_version": content.scoring_version,
        "textpack_id": content.textpack_id,
        "textpack_sha256": content.textpack_sha256,
        "textpack_demo": content.textpack_demo,
        "language": language,
        "languages": languages,
        "answers": content.answers,
        "item_languages": item_languages,
        "scores": content.scores,
        "entered_by": EnteredBy.STAFF if staff else EnteredBy.PARTICIPANT,
        "staff_id": staff.id if staff else None,
        "entry_reason": entry_reason,
        "started_at": started_at,
        "submitted_at": clock.utcnow(),
        "supersedes_id": supersedes.id if supersedes else None,
        "correction_reason": correction_reason,
        "correction_reason_code": correction_reason_code,
        "voided": voided,
    }
    response = Response(**fields)  # transient until its row is stored
    fields["record_sha256"] = response.record_sha256 = records.record_sha256(
        records.canonical_record(
            response,
            site_code=participant.site.code,
            study_id=participant.study_id,
            visit_code=visit.code,
            staff_username=staff.username if staff else None,
        )
    )
    fields["receipt_number"] = response.receipt_number = records.receipt_number(
        fields["record_sha256"]
    )
    session = db.session
    session.flush()  # what the session holds goes first, as its own statements would
    connection = session.connection()
    stored_id = connection.scalar(_INSERT_RECORD[connection.dialect.name], fields)
    if stored_id is None:
        # Another device stored this version between our check and our insert: the newest
        # version is its (a conflict means there is one).
        winner = answering.latest_version(visit.id, instrument.id)
        assert winner is not None
        raise AlreadySubmitted(winner.id)
    # The stored row is what the object already holds: it joins the session as that row
    # (persistent, nothing left to insert) without reading back what was just written.
    response.id = stored_id
    make_transient_to_detached(response)
    session.add(response)
    return response


def record_sealed(
    visit: VisitLike,
    response: Response,
    action: str,
    actor: str,
    /,
    *,
    change: audit.Change | None = None,
    **details: Any,
) -> None:
    """The audit event of a stored version, with what storing it changes besides the record: the
    visit's count of current records (`Visit.current_records`, worked out afresh) and the job for
    its signed PDF, after the caller's own `change`. On PostgreSQL they are one statement with
    the event. The trail is held (and on PostgreSQL its head locked) before the visit's row is
    written, the order every writer keeps."""
    participant = visit.participant
    changes = [
        audit.Change(_RECOUNT_VISIT, {"change_visit_id": visit.id}),
        jobs.render_change(response),
    ]
    audit.record_with(
        [change, *changes] if change is not None else changes,
        action,
        actor,
        site_id=participant.site_id,
        participant_id=participant.id,
        visit_id=visit.id,
        **details,
    )
    if isinstance(visit, Visit):  # a session object: read the new count when next asked
        db.session.expire(visit, ["current_records"])


# The record's insert, built once per dialect: nothing on a (visit, instrument, version) that is
# taken, the new row's id otherwise. A Core insert of the table: the ORM's own insert returning
# the entity cost 1.3 ms of a 5.4 ms submit (its bulk-persistence path, and decoding the four
# JSON columns it had just encoded).
_RESPONSES = cast(Table, Response.__table__)
_INSERT_RECORD = {
    name: dialect.insert(_RESPONSES)
    .on_conflict_do_nothing(index_elements=["visit_id", "instrument_id", "version"])
    .returning(_RESPONSES.c.id)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}


def current_records() -> ColumnElement[int]:
    """Per visit (correlated to `visit`), how many instruments have a current record: the newest
    sealed version, not voided."""
    newer = aliased(Response)
    return (
        select(func.count())
        .where(
            Response.visit_id == Visit.id,
            Response.voided.is_(False),
            ~select(newer.id)
            .where(
                newer.visit_id == Response.visit_id,
                newer.instrument_id == Response.instrument_id,
                newer.version > Response.version,
            )
            .exists(),
        )
        .correlate(Visit)
        .scalar_subquery()
    )


# Built once (building the correlated count cost more than running it).
_RECOUNT_ALL = update(Visit).values(current_records=current_records())
# One visit's, as a change of its record's audit event (`record_sealed`).
_RECOUNT_VISIT = _RECOUNT_ALL.where(Visit.id == bindparam("change_visit_id"))


def recount() -> None:
    """Rewrite every visit's `current_records` from its records, after a bulk load (a stored
    version recounts its own visit: `record_sealed`). Worked out afresh, never incremented, so it
    cannot drift from the records. The trail is held first: on PostgreSQL the count then sees
    every earlier writer's records, and two writers never hold a visit's row and the trail's head
    in opposite orders."""
    audit.hold_trail()
    db.session.flush()  # the count reads the records: whatever the session holds is written first
    db.session.connection().execute(_RECOUNT_ALL)


def seal_context(
    visit: VisitLike, instrument: Instrument, catalog: Catalog, language: str
) -> SealContext:
    participant = visit.participant
    return SealContext(
        language=language,
        check=answering.check_context(visit),
        participant=ParticipantFacts(
            sex=participant.sex.value,
            birth_year=participant.birth_year,
            height_cm=participant.height_cm,
        ),
        site_timezone=participant.site.timezone,
        visit_code=visit.code,
        baseline=baseline(visit, instrument, catalog),
        wording=catalog,
    )


def baseline(visit: VisitLike, instrument: Instrument, catalog: Catalog) -> Baseline:
    """The first visit of the schedule (Day 0) is the baseline; its current record counts."""
    code = catalog.schedule.visits[0].code
    if visit.code == code:
        return Baseline(visit_code=code)
    record = db.session.scalar(
        select(Response)
        .join(Visit, Response.visit_id == Visit.id)
        .where(
            Visit.participant_id == visit.participant_id,
            Visit.code == code,
            Response.instrument_id == instrument.id,
        )
        .order_by(Response.version.desc())
        .limit(1)
    )
    if record is None or record.voided:
        return Baseline(visit_code=code)
    scores: dict[str, Any] = record.scores
    return Baseline(visit_code=code, record_id=record.id, scores=scores)
