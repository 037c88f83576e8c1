"""Submission: validate, score and seal a record in one transaction, exactly once per visit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from pro_app import clock
from pro_app.errors import AlreadySubmitted, InvalidAnswer
from pro_app.extensions import db
from pro_app.models import DraftAnswer, EnteredBy, Job, JobStatus, Response, StaffUser, Visit
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.definitions import ChoiceInstrument, Instrument
from pro_app.questionnaire.form_definitions import FormInstrument
from pro_app.questionnaire.scoring import score
from pro_app.services import audit, form_entry
from pro_app.services.answering import saved_answers, sealed_response
from pro_app.services.canonical import sha256_of
from pro_app.services.form_entry import SealedContent
from pro_app.services.reasons import require_reason

RENDER_PDF = "render_pdf"


def submit(
    visit: Visit,
    instrument: Instrument,
    catalog: Catalog,
    *,
    language: str,
    actor: str,
    staff: StaffUser | None = None,
    entry_reason: str | None = None,
) -> Response:
    """Seal the saved answers; a second submit (double tap, other device) is AlreadySubmitted."""
    existing = sealed_response(visit.id, instrument.id)
    if existing is not None:
        raise AlreadySubmitted(existing.id)
    if staff is not None:
        # GCP attribution: whoever enters on a participant's behalf says why, for every instrument.
        entry_reason = require_reason(entry_reason, "entry_reason")
    drafts = saved_answers(visit.id, instrument.id)
    if isinstance(instrument, FormInstrument):
        content = form_entry.sealed_content(
            visit,
            instrument,
            catalog,
            drafts,
            language=language,
            staff=staff,
            entry_reason=entry_reason,
        )
    else:
        content = _choice_content(instrument, catalog, drafts, language)
    item_languages = {item_id: row.language for item_id, row in drafts.items()}
    started = min((row.saved_at for row in drafts.values()), default=None)
    response = Response(
        visit_id=visit.id,
        instrument_id=instrument.id,
        version=1,
        instrument_version=instrument.version,
        scoring_version=content.scoring_version,
        textpack_id=content.textpack_id,
        textpack_sha256=content.textpack_sha256,
        # Only MLHFQ ships demo wording; a missing Borg pack shows numbers, never demo words.
        textpack_demo=_demo(instrument, catalog, language),
        language=language,
        languages=sorted(set(item_languages.values()) | {language}),
        answers=content.answers,
        item_languages=item_languages,
        scores=content.scores,
        entered_by=EnteredBy.STAFF if staff else EnteredBy.PARTICIPANT,
        staff_id=staff.id if staff else None,
        entry_reason=entry_reason,
        started_at=started,
        submitted_at=clock.utcnow(),
    )
    response.record_sha256 = sha256_of(
        canonical_record(response, visit, staff.username if staff else None)
    )
    response.receipt_number = receipt_number(response.record_sha256)
    try:
        with db.session.begin_nested():
            db.session.add(response)
    except IntegrityError:
        # Another device sealed this visit's instrument between our check and our insert.
        winner = sealed_response(visit.id, instrument.id)
        if winner is None:
            raise
        raise AlreadySubmitted(winner.id) from None
    db.session.execute(
        delete(DraftAnswer).where(
            DraftAnswer.visit_id == visit.id, DraftAnswer.instrument_id == instrument.id
        )
    )
    enqueue_render(response)
    participant = visit.participant
    audit.record(
        "response.submitted",
        actor,
        site_id=participant.site_id,
        participant_id=participant.id,
        visit_id=visit.id,
        response_id=response.id,
        instrument=instrument.id,
        record_sha256=response.record_sha256,
        entered_by=response.entered_by.value,
        entry_reason=entry_reason,
    )
    return response


def _choice_content(
    instrument: ChoiceInstrument, catalog: Catalog, drafts: dict[str, DraftAnswer], language: str
) -> SealedContent:
    answers = {
        item_id: drafts[item_id].value if item_id in drafts else None
        for item_id in instrument.item_ids
    }
    _validate(instrument, answers)
    pack = catalog.textpack(instrument.id, language)
    return SealedContent(
        answers=answers,
        scores={key: result.as_dict() for key, result in score(instrument, answers).items()},
        scoring_version=instrument.scoring.version,
        textpack_id=pack.pack_id,
        textpack_sha256=pack.sha256,
    )


def _demo(instrument: Instrument, catalog: Catalog, language: str) -> bool:
    if isinstance(instrument, ChoiceInstrument):
        return catalog.textpack(instrument.id, language).demo
    return False


def _validate(instrument: ChoiceInstrument, answers: dict[str, Any]) -> None:
    for item_id, value in answers.items():
        if value is not None and (isinstance(value, bool) or value not in instrument.choices):
            raise InvalidAnswer(item_id)


def enqueue_render(response: Response) -> Job:
    """Ask the PDF worker for this record's signed copy; the patient never waits for it."""
    now = clock.utcnow()
    job = Job(
        kind=RENDER_PDF,
        response_id=response.id,
        status=JobStatus.PENDING,
        run_after=now,
        created_at=now,
    )
    db.session.add(job)
    db.session.flush()
    return job


def canonical_record(
    response: Response, visit: Visit, staff_username: str | None
) -> dict[str, Any]:
    """Everything the record asserts, in the form its SHA-256 is taken over."""
    participant = visit.participant
    return {
        "trial": "NCT04992832",
        "site": participant.site.code,
        "study_id": participant.study_id,
        "visit": visit.code,
        "instrument": response.instrument_id,
        "instrument_version": response.instrument_version,
        "record_version": response.version,
        "scoring_version": response.scoring_version,
        "textpack": {
            "id": response.textpack_id,
            "sha256": response.textpack_sha256,
            "demo": response.textpack_demo,
        },
        "language": response.language,
        "languages": response.languages,
        "answers": response.answers,
        "item_languages": response.item_languages,
        "scores": response.scores,
        "entered_by": response.entered_by.value,
        "staff": staff_username,
        "entry_reason": response.entry_reason,
        "started_at": _iso(response.started_at),
        "submitted_at": _iso(response.submitted_at),
        "supersedes_id": response.supersedes_id,
        "correction_reason": response.correction_reason,
    }


def receipt_number(record_sha256: str) -> str:
    """A short number a patient can read out on the phone, e.g. 3F9A-C21B-77D0."""
    head = record_sha256[:12].upper()
    return "-".join(head[i : i + 4] for i in range(0, 12, 4))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
