"""Sealed records: immutable, hashed over a canonical form, one per visit and instrument."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pro_app.canonical import sha256_of
from pro_app.errors import AlreadySubmitted, InstrumentNotInVisit, InvalidAnswer
from pro_app.extensions import db
from pro_app.models import AuditEvent, ImmutableRecordError, Response
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.kinds.choice import parse_answer
from pro_app.services import answering, sealing
from tests.factories import make_participant, visit_of


def _answered_visit(value: int = 2):  # type: ignore[no-untyped-def]
    participant = make_participant()
    visit = visit_of(participant)
    mlhfq = catalog().instrument("mlhfq")
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, value, language="zh_Hans", actor="test")
    return visit, mlhfq


def test_record_hash_is_the_hash_of_its_canonical_form() -> None:
    visit, mlhfq = _answered_visit()
    record = sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor="test")
    assert record.record_sha256 == sha256_of(record.canonical())
    assert record.receipt_number == "-".join(
        record.record_sha256[i : i + 4].upper() for i in (0, 4, 8)
    )


def test_the_record_returned_is_the_row_stored() -> None:
    # The stored record joins the session without being read back: every column it holds must be
    # what a fresh read of its row gives, and it must be the session's object for that row.
    visit, mlhfq = _answered_visit()
    record = sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor="test")
    assert record in db.session and record.id is not None
    assert db.session.get(Response, record.id) is record
    held = {column.key: getattr(record, column.key) for column in Response.__table__.columns}
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(Response, held["id"])
    assert stored is not None and stored is not record
    assert {
        column.key: getattr(stored, column.key) for column in Response.__table__.columns
    } == held
    assert stored.hash_holds


def test_an_instrument_the_schedule_does_not_plan_at_a_visit_is_never_sealed_there() -> None:
    day7 = visit_of(make_participant(), "d7")  # the 6MWT only
    mlhfq = catalog().instrument("mlhfq")
    with pytest.raises(InstrumentNotInVisit):
        sealing.submit(day7, mlhfq, catalog(), language="zh_Hans", actor="test")
    assert db.session.scalars(select(Response)).first() is None


def test_a_sealed_record_cannot_be_changed_or_deleted() -> None:
    visit, mlhfq = _answered_visit()
    record = sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor="test")
    db.session.commit()
    record.answers = {**record.answers, "mlhf01": 5}
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()
    record = db.session.scalars(select(Response)).one()
    db.session.delete(record)
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()


def test_second_submit_raises_already_submitted() -> None:
    visit, mlhfq = _answered_visit()
    first = sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor="test")
    with pytest.raises(AlreadySubmitted) as caught:
        sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor="test")
    assert caught.value.response_id == first.id


def test_a_version_stored_between_the_check_and_the_insert_loses_quietly() -> None:
    """Another device's record landed after this submit read the slot: the insert stores nothing
    (no error, no savepoint to roll back), and the loser is told which record won."""
    visit, mlhfq = _answered_visit()
    stale = answering.read_slot(visit.id, "mlhfq")  # empty: version 1 is free
    first = sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor="test")
    with pytest.raises(AlreadySubmitted) as caught:
        sealing.submit(visit, mlhfq, catalog(), language="en", actor="test", slot=stale)
    assert caught.value.response_id == first.id
    stored = db.session.scalars(select(Response).where(Response.visit_id == visit.id)).all()
    assert stored == [first]
    submitted = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "response.submitted", AuditEvent.visit_id == visit.id
        )
    ).all()
    assert len(submitted) == 1


def test_the_database_refuses_a_second_version_1() -> None:
    visit, mlhfq = _answered_visit()
    record = sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor="test")
    twin = Response(
        **{
            c.key: getattr(record, c.key)
            for c in Response.__table__.columns
            if c.key not in ("id", "record_sha256", "receipt_number")
        },
        record_sha256="0" * 64,
        receipt_number="0000-0000-0000",
    )
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(twin)


def test_a_tampered_draft_value_is_refused_at_submit() -> None:
    visit, mlhfq = _answered_visit()
    answering.save_answer(visit, mlhfq, "mlhf04", 9, language="zh_Hans", actor="test")
    with pytest.raises(InvalidAnswer):
        sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor="test")


@pytest.mark.parametrize("raw", ["6", "-1", "", None, "1.0", "True", "五"])
def test_parse_choice_refuses_what_is_not_0_to_5(raw: str | None) -> None:
    with pytest.raises(InvalidAnswer):
        parse_answer(catalog().instrument("mlhfq"), "mlhf01", raw)


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_staff_sealing_an_mlhfq_must_say_why(reason: str | None) -> None:
    from pro_app.errors import ReasonRequired
    from tests.factories import make_staff

    visit, mlhfq = _answered_visit()
    staff = make_staff("coord-r")
    with pytest.raises(ReasonRequired):
        sealing.submit(
            visit,
            mlhfq,
            catalog(),
            language="en",
            actor=staff.actor,
            staff=staff,
            entry_reason=reason,
        )
    assert db.session.scalars(select(Response)).all() == []
