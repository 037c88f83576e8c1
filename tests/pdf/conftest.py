"""Fixtures for the PDF tests: a warm render-and-sign pipeline per app, and sealed records made
through the real patient flow."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pro_app import clock, records
from pro_app.extensions import db
from pro_app.models import EnteredBy, Participant, Response, StaffUser
from pro_app.pdf.worker import RenderAndSign
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.scoring import score
from pro_app.services.jobs import enqueue_render
from tests.actions import Patient
from tests.factories import issue_token, make_participant

SealRecord = Callable[..., Response]


@pytest.fixture(scope="session")
def pipeline(app: Flask) -> RenderAndSign:
    with app.app_context():
        return RenderAndSign(app.config["PRO_SETTINGS"])


@pytest.fixture
def seal_record(client: FlaskClient) -> SealRecord:
    """seal_record(answers, language=..., study_id=...) -> the sealed Response, via the web flow."""
    counter = iter(range(1, 1000))

    def seal(
        answers: list[int | None] | None = None,
        *,
        language: str = "zh_Hans",
        study_id: str | None = None,
        participant: Participant | None = None,
    ) -> Response:
        if participant is None:
            participant = make_participant(
                study_id or f"PRIME-{100 + next(counter):03d}", language=language
            )
        patient = Patient(client.application.test_client(), issue_token(participant))
        assert patient.start().status_code == 303
        patient.answer_all(answers if answers is not None else [2] * 21)
        assert patient.submit().status_code == 303
        return db.session.scalars(
            select(Response)
            .join(Response.visit)
            .where(Response.visit.has(participant_id=participant.id))
            .order_by(Response.id.desc())
        ).first()

    return seal


def make_correction(
    original: Response, staff: StaffUser, reason: str, answers: dict[str, int | None]
) -> Response:
    """A correction as the coordinator pages will seal it: version + 1, by a named staff user."""
    merged = {**original.answers, **answers}
    instrument = catalog().instrument(original.instrument_id)
    correction = Response(
        visit_id=original.visit_id,
        instrument_id=original.instrument_id,
        version=original.version + 1,
        instrument_version=original.instrument_version,
        scoring_version=original.scoring_version,
        textpack_id=original.textpack_id,
        textpack_sha256=original.textpack_sha256,
        textpack_demo=original.textpack_demo,
        language=original.language,
        languages=original.languages,
        answers=merged,
        item_languages=original.item_languages,
        scores={k: v.as_dict() for k, v in score(instrument, merged).items()},
        entered_by=EnteredBy.STAFF,
        staff_id=staff.id,
        entry_reason="transcribed from the paper source document",
        started_at=clock.utcnow(),
        submitted_at=clock.utcnow(),
        supersedes_id=original.id,
        correction_reason=reason,
    )
    correction.visit, correction.staff = original.visit, staff
    correction.record_sha256 = records.record_sha256(correction.canonical())
    correction.receipt_number = records.receipt_number(correction.record_sha256)
    db.session.add(correction)
    db.session.flush()
    enqueue_render(correction)
    return correction
