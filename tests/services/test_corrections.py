"""Corrections and voids: each a new sealed version with its reason, its own hash and PDF job,
its old and new values audited; the old version stays as it was."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text, update

from pro_app.errors import CorrectionRefused, InputRejected, RecordSuperseded
from pro_app.extensions import db
from pro_app.models import AuditEvent, Job, Response, StaffUser, Visit
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.kinds.worksheet import confirm_token
from pro_app.services import answering, corrections, progress, sealing
from tests.factories import make_participant, make_staff, visit_of
from tests.walklog import seal_log

PATIENT = "participant:PRIME-001"


def _mlhfq_record(values: list[int | None] | None = None) -> Response:
    visit = visit_of(make_participant())
    mlhfq = catalog().instrument("mlhfq")
    for item_id, value in zip(mlhfq.item_ids, values or [2] * 21, strict=True):
        answering.save_answer(visit, mlhfq, item_id, value, language="zh_Hans", actor=PATIENT)
    return sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor=PATIENT)


def _coordinator(username: str = "coord.li") -> StaffUser:
    existing = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    return existing or make_staff(username)


def _correct(record: Response, raw: dict[str, str], **kwargs: object) -> Response:
    options = {
        "reason": "the paper form says 5",
        "reason_code": "transcription_error",
        "staff": _coordinator(),
        "catalog": catalog(),
        **kwargs,
    }
    return corrections.correct(record, raw, **options)  # type: ignore[arg-type]


def test_an_mlhfq_answer_is_corrected_with_a_listed_reason(app_ctx: Flask) -> None:
    original = _mlhfq_record()
    corrected = _correct(original, {"mlhf02": "5", "mlhf03": "2"})
    assert (corrected.version, corrected.supersedes_id) == (2, original.id)
    assert corrected.answers["mlhf02"] == 5 and original.answers["mlhf02"] == 2
    assert corrected.scores["total"]["value"] == 45 and corrected.scores["physical"]["value"] == 19
    assert corrected.correction_reason_code == "transcription_error"
    assert corrected.correction_reason == "the paper form says 5"
    assert corrected.staff is not None and corrected.staff.username == "coord.li"
    assert corrected.hash_holds and original.hash_holds
    assert corrected.record_sha256 != original.record_sha256
    assert answering.sealed_response(original.visit_id, "mlhfq") == corrected
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "response.corrected")
    ).one()
    assert event.details["changes"] == [{"field": "mlhf02", "old": 2, "new": 5}]
    assert event.details["reason_code"] == "transcription_error"
    assert db.session.scalar(select(Job.id).where(Job.response_id == corrected.id))
    assert [v.version for v in corrections.history(corrected)] == [1, 2]
    assert corrections.differences(original, corrected, catalog())[0] == ("mlhf02", 2, 5)


@pytest.mark.parametrize(
    ("raw", "options", "code"),
    [
        ({"mlhf02": "5"}, {"reason_code": ""}, "reason_code.required"),
        ({"mlhf02": "5"}, {"reason_code": "felt_like_it"}, "reason_code.unknown"),
        ({"mlhf02": "5"}, {"reason": " "}, "correction_reason.required"),
        ({"mlhf02": "2"}, {}, "changes.none"),
    ],
)
def test_a_correction_needs_a_reason_and_a_change(
    app_ctx: Flask, raw: dict[str, str], options: dict[str, str], code: str
) -> None:
    original = _mlhfq_record()
    with pytest.raises(InputRejected) as refused:
        _correct(original, raw, **options)
    assert refused.value.code == code
    assert db.session.scalars(select(Response)).all() == [original]


def test_a_value_off_the_scale_is_refused_and_only_the_current_version_changes(
    app_ctx: Flask,
) -> None:
    original = _mlhfq_record()
    with pytest.raises(CorrectionRefused) as refused:
        _correct(original, {"mlhf02": "6"})
    assert set(refused.value.errors) == {"mlhf02"}
    _correct(original, {"mlhf02": "4"})
    with pytest.raises(RecordSuperseded):
        _correct(original, {"mlhf02": "3"})


def test_a_blank_answer_is_corrected_to_a_value_and_back(app_ctx: Flask) -> None:
    original = _mlhfq_record([None] + [1] * 20)
    assert original.scores["total"]["value"] is None
    filled = _correct(original, {"mlhf01": "3"})
    assert filled.scores["total"] == {"value": 23, "missing": 0, "imputed": False}
    emptied = _correct(filled, {"mlhf01": ""})
    assert emptied.answers["mlhf01"] is None and emptied.scores["total"]["value"] is None


def test_a_staff_entered_6mwt_value_is_corrected_with_free_text(app_ctx: Flask) -> None:
    original = seal_log(visit_of(make_participant()))
    assert original.scores["distance_m"] == 432.0
    corrected = _correct(original, {"laps": "8"}, reason="recounted the laps", reason_code="")
    assert corrected.answers["worksheet"]["laps"] == 8
    assert corrected.scores["distance_m"] == 492.0
    assert corrected.answers["entered_by"]["laps"] == "staff:coord.li"
    assert corrected.answers["entered_by"]["weight_kg"] == "participant"
    assert corrected.correction_reason_code is None


def test_an_unusual_corrected_value_needs_a_yes_and_a_refused_one_changes_nothing(
    app_ctx: Flask,
) -> None:
    original = seal_log(visit_of(make_participant()))
    with pytest.raises(CorrectionRefused) as refused:
        _correct(original, {"weight_kg": "300"}, reason="scale", reason_code="")
    assert refused.value.errors["weight_kg"].code == "out_of_range"
    with pytest.raises(CorrectionRefused) as asked:
        _correct(original, {"weight_kg": "160"}, reason="scale", reason_code="")
    (warning,) = asked.value.warnings
    corrected = corrections.correct(
        original,
        {"weight_kg": "160"},
        [confirm_token(warning)],
        reason="scale read again",
        reason_code=None,
        staff=_coordinator("coord.wu"),
        catalog=catalog(),
    )
    assert corrected.answers["worksheet"]["weight_kg"] == 160.0
    assert corrected.answers["confirmed_warnings"]["weight_kg:unusual_value"] == [160.0]


def test_a_void_empties_the_slot_and_it_can_be_filled_again(app_ctx: Flask) -> None:
    original = _mlhfq_record()
    staff = _coordinator()
    with pytest.raises(InputRejected, match="reason_code"):
        corrections.void(
            original, reason="wrong visit", reason_code="", staff=staff, catalog=catalog()
        )
    voided = corrections.void(
        original,
        reason="belongs to PRIME-002",
        reason_code="wrong_participant",
        staff=staff,
        catalog=catalog(),
    )
    assert voided.voided and voided.version == 2 and voided.answers == original.answers
    assert voided.hash_holds and voided.canonical()["voided"] is True
    visit = original.visit
    assert answering.sealed_response(visit.id, "mlhfq") is None
    row = progress.progress_of([visit], catalog().schedule, 0)[visit.id]
    assert row.instruments[0].state is not progress.State.SUBMITTED
    mlhfq = catalog().instrument("mlhfq")
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, 1, language="en", actor=PATIENT)
    refilled = sealing.submit(visit, mlhfq, catalog(), language="en", actor=PATIENT)
    assert refilled.version == 3 and refilled.supersedes_id is None
    assert answering.sealed_response(visit.id, "mlhfq") == refilled
    with pytest.raises(RecordSuperseded):
        corrections.void(
            voided, reason="again", reason_code="duplicate", staff=staff, catalog=catalog()
        )


def _current_records(visit_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Visit, visit_id).current_records  # type: ignore[union-attr]


def test_a_visit_counts_its_current_records_through_submit_correct_void_and_refill(
    app_ctx: Flask,
) -> None:
    """The due board reads `visit.current_records`; each sealed version rewrites it from the
    records, so it always equals the instruments with a current record."""
    original = _mlhfq_record()
    visit_id = original.visit_id
    assert _current_records(visit_id) == 1 == len(answering.sealed_instruments(visit_id))
    corrected = _correct(original, {"mlhf02": "5"})
    assert _current_records(visit_id) == 1
    staff = _coordinator()
    corrections.void(
        corrected,
        reason="belongs to PRIME-002",
        reason_code="wrong_participant",
        staff=staff,
        catalog=catalog(),
    )
    assert _current_records(visit_id) == 0 == len(answering.sealed_instruments(visit_id))
    visit = db.session.get(Visit, visit_id)
    assert visit is not None
    seal_log(visit)
    assert _current_records(visit_id) == 1  # the walk; the questionnaire's slot is still empty
    mlhfq = catalog().instrument("mlhfq")
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, 1, language="en", actor=PATIENT)
    sealing.submit(visit, mlhfq, catalog(), language="en", actor=PATIENT)
    assert _current_records(visit_id) == 2 == len(answering.sealed_instruments(visit_id))


def test_the_migration_works_out_the_count_as_sealing_does(app_ctx: Flask) -> None:
    """Migration 0009 fills the column for records stored before it; its SQL, run on both
    engines, gives what sealing keeps, as does sealing's recount of every visit."""
    from importlib import import_module

    recount_sql = import_module("pro_app.migrations.versions.0009_visit_current_records").RECOUNT
    voided_one = _mlhfq_record()
    corrections.void(
        voided_one,
        reason="duplicate",
        reason_code="duplicate",
        staff=_coordinator(),
        catalog=catalog(),
    )
    kept = seal_log(visit_of(make_participant("PRIME-002")))
    expected = {visit.id: visit.current_records for visit in db.session.scalars(select(Visit))}
    assert expected[kept.visit_id] == 1 and expected[voided_one.visit_id] == 0
    db.session.execute(update(Visit).values(current_records=7))
    db.session.execute(text(recount_sql))
    db.session.expire_all()
    assert {v.id: v.current_records for v in db.session.scalars(select(Visit))} == expected
    # And the recount of every visit a bulk load calls (bench/seed.py).
    db.session.execute(update(Visit).values(current_records=7))
    sealing.recount()
    db.session.expire_all()
    assert {v.id: v.current_records for v in db.session.scalars(select(Visit))} == expected
