"""Fixtures for the PDF tests: sealed records made through the real patient flow (the warm
render-and-sign pipeline is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from pro_app.extensions import db
from pro_app.models import Participant, Response, StaffUser
from pro_app.questionnaire.catalog import catalog
from pro_app.services import corrections
from tests.actions import Patient
from tests.factories import issue_token, make_participant

SealRecord = Callable[..., Response]


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
    """A correction as the coordinator makes it: the real service, a listed reason and free text."""
    return corrections.correct(
        original,
        {item_id: "" if value is None else str(value) for item_id, value in answers.items()},
        reason=reason,
        reason_code="transcription_error",
        staff=staff,
        catalog=catalog(),
    )
