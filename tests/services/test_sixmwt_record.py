"""The sealed 6MWT record at the service level: attribution, computed values, seal, audit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from pro_app import records
from pro_app.canonical import sha256_of
from pro_app.errors import AlreadySubmitted, ReasonRequired, RecordIncomplete
from pro_app.extensions import db
from pro_app.models import (
    AuditEvent,
    DraftAnswer,
    EnteredBy,
    ImmutableRecordError,
    Job,
    Response,
    Sex,
    StaffUser,
    Visit,
)
from pro_app.questionnaire.catalog import catalog, load_catalog
from pro_app.questionnaire.computations.six_minute_walk import read_timer
from pro_app.services import answering, sealing, worksheet_entry
from tests.factories import TODAY, make_participant, make_staff, visit_of
from tests.questionnaire.test_sixmwt_definition import install_borg_packs
from tests.walklog import GOOD, fill_log, sixmwt

PATIENT = "participant:PRIME-001"


@pytest.fixture
def staff(app_ctx: Flask) -> StaffUser:
    return make_staff("nurse.li")


def _seal(visit: Visit, **kwargs: Any) -> Response:
    kwargs.setdefault("language", "zh_Hans")
    kwargs.setdefault("actor", PATIENT)
    return sealing.submit(visit, sixmwt(), kwargs.pop("catalog", catalog()), **kwargs)


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_patient_entry_is_sealed_with_its_computed_values(app_ctx: Flask) -> None:
    participant = make_participant(sex=Sex.MALE, birth_year=1966, height_cm=170)
    visit = visit_of(participant)
    fill_log(visit, weight_kg="70", test_date=TODAY.isoformat())
    record = _seal(visit)
    assert record.entered_by is EnteredBy.PARTICIPANT and record.staff_id is None
    assert record.instrument_id == "sixmwt" and record.instrument_version == "1.0"
    assert record.scoring_version == "sixmwt-1.0-es1998"
    scores = record.scores
    assert scores["distance_m"] == 432.0 and scores["age_years"] == 60
    assert (scores["predicted_m"], scores["lln_m"], scores["percent_predicted"]) == (
        553.5,
        400.5,
        78.0,
    )
    assert scores["below_lln"] is False and scores["reference_applicable"] is True
    assert scores["change_from_baseline_m"] is None
    assert scores["change_note"] == "this_is_the_baseline_visit"
    worksheet = record.answers["worksheet"]
    assert worksheet["laps"] == 7 and worksheet["weight_kg"] == 70.0
    assert worksheet["o2_flow_l_min"] is None and worksheet["symptoms"] == ["none"]
    assert record.answers["entered_by"]["laps"] == "participant"
    assert record.answers["site_timezone"] == "Asia/Shanghai"
    assert record.answers["timer"] is None
    assert record.textpack_id == "none" and record.textpack_demo is False
    borg = record.answers["scales"]["borg_cr10"]
    assert borg["version"].startswith("Borg CR10, numbers 0-10") and borg["wording"] == {
        "zh_Hans": None
    }
    assert db.session.scalars(select(DraftAnswer)).all() == []
    assert db.session.scalars(select(Job)).one().response_id == record.id
    submitted = _events("response.submitted")
    assert len(submitted) == 1 and submitted[0].actor == PATIENT
    assert submitted[0].details["instrument"] == "sixmwt"
    assert submitted[0].details["record_sha256"] == record.record_sha256


def test_the_seal_is_the_hash_of_the_canonical_record(app_ctx: Flask) -> None:
    visit = visit_of(make_participant())
    fill_log(visit)
    record = _seal(visit)
    canonical = record.canonical()
    assert sha256_of(canonical) == record.record_sha256
    assert canonical["answers"]["worksheet"]["laps"] == 7
    assert canonical["scores"]["distance_m"] == 432.0
    assert record.receipt_number == records.receipt_number(record.record_sha256)


def test_a_sealed_record_cannot_be_changed(app_ctx: Flask) -> None:
    visit = visit_of(make_participant())
    fill_log(visit)
    record = _seal(visit)
    db.session.flush()
    record.scores = {**record.scores, "distance_m": 999.0}
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()


def test_one_record_per_visit(app_ctx: Flask) -> None:
    visit = visit_of(make_participant())
    fill_log(visit)
    first = _seal(visit)
    with pytest.raises(AlreadySubmitted) as caught:
        _seal(visit)
    assert caught.value.response_id == first.id
    with pytest.raises(AlreadySubmitted):
        fill_log(visit)


def test_staff_entry_is_attributed_to_the_named_staff_user(
    app_ctx: Flask, staff: StaffUser
) -> None:
    visit = visit_of(make_participant())
    outcomes = fill_log(visit, staff=staff, actor="staff:nurse.li")
    assert all(not o.errors and not o.warnings for o in outcomes.values())
    drafts = db.session.scalars(select(DraftAnswer)).all()
    assert {d.entered_by for d in drafts} == {EnteredBy.STAFF}
    assert {d.staff_id for d in drafts} == {staff.id}
    record = _seal(
        visit, staff=staff, actor="staff:nurse.li", entry_reason="assessor entry at visit"
    )
    assert record.entered_by is EnteredBy.STAFF and record.staff_id == staff.id
    assert record.entry_reason == "assessor entry at visit"
    assert set(record.answers["entered_by"].values()) == {"staff:nurse.li"}
    assert record.canonical()["staff"] == "nurse.li"
    assert sha256_of(record.canonical()) == record.record_sha256
    saved = _events("answer.saved")
    assert saved and {e.actor for e in saved} == {"staff:nurse.li"}
    event = _events("response.submitted")[0]
    assert event.actor == "staff:nurse.li" and event.details["entered_by"] == "staff"
    assert event.details["entry_reason"] == "assessor entry at visit"


def test_a_mixed_entry_records_who_saved_each_field(app_ctx: Flask, staff: StaffUser) -> None:
    visit = visit_of(make_participant())
    fill_log(visit)  # the patient, with the assessor beside them
    worksheet_entry.save_screen(
        visit,
        sixmwt(),
        "walk",
        {"laps": "8", "partial_lap_m": "12", "stopped_early": "no"},
        language="zh_Hans",
        actor="staff:nurse.li",
        staff=staff,
    )
    record = _seal(
        visit, staff=staff, actor="staff:nurse.li", entry_reason="laps corrected by assessor"
    )
    entered_by = record.answers["entered_by"]
    assert entered_by["laps"] == "staff:nurse.li" and entered_by["weight_kg"] == "participant"
    assert entered_by["partial_lap_m"] == "participant"  # unchanged, so not saved again
    assert record.scores["distance_m"] == 492.0


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_staff_must_give_a_reason_to_submit(
    app_ctx: Flask, staff: StaffUser, reason: str | None
) -> None:
    visit = visit_of(make_participant())
    fill_log(visit, staff=staff, actor="staff:nurse.li")
    with pytest.raises(ReasonRequired):
        _seal(visit, staff=staff, actor="staff:nurse.li", entry_reason=reason)
    assert db.session.scalars(select(Response)).all() == []


def test_an_incomplete_log_is_refused_with_what_is_missing(app_ctx: Flask) -> None:
    visit = visit_of(make_participant())
    fill_log(visit, assessor="", supplemental_o2="yes")
    with pytest.raises(RecordIncomplete) as caught:
        _seal(visit)
    assert set(caught.value.missing) == {"assessor", "o2_flow_l_min", "o2_device"}
    assert caught.value.refused == [] and caught.value.unconfirmed == []


def test_an_unconfirmed_unusual_value_blocks_the_seal(app_ctx: Flask) -> None:
    visit = visit_of(make_participant())
    outcomes = fill_log(visit, confirm_all=False, baseline_spo2="85")
    assert [w.key for w in outcomes["before"].warnings] == ["baseline_spo2:unusual_value"]
    with pytest.raises(RecordIncomplete) as caught:
        _seal(visit)
    assert caught.value.unconfirmed == ["baseline_spo2:unusual_value"]
    fill_log(visit, baseline_spo2="85")
    record = _seal(visit)
    assert record.answers["confirmed_warnings"] == {"baseline_spo2:unusual_value": [85]}


def test_a_hard_fault_from_another_part_blocks_the_seal(app_ctx: Flask) -> None:
    visit = visit_of(make_participant())
    fill_log(visit, partial_lap_m="50")
    outcome = worksheet_entry.save_screen(
        visit,
        sixmwt(),
        "before",
        {**GOOD["before"], "course_length_m": "20", "lap_length_m": "40"},
        ["course_length_m:unusual_value|[20.0]", "lap_length_m:lap_not_twice_course|[20.0, 40.0]"],
        language="zh_Hans",
        actor=PATIENT,
    )
    assert outcome.errors == {} and outcome.warnings == []
    with pytest.raises(RecordIncomplete) as caught:
        _seal(visit)
    assert caught.value.refused == ["partial_lap_m:partial_not_below_lap"]


def test_change_from_the_baseline_visits_sealed_distance(app_ctx: Flask) -> None:
    participant = make_participant(day0=TODAY - timedelta(days=7))
    baseline, d7 = visit_of(participant, "baseline"), visit_of(participant, "d7")
    fill_log(d7, laps="8", partial_lap_m="0")
    early = _seal(d7)
    assert early.scores["change_note"] == "no_sealed_baseline_record"
    fill_log(baseline, test_date=(TODAY - timedelta(days=7)).isoformat())
    base = _seal(baseline)
    assert base.scores["change_from_baseline_m"] is None
    d43 = visit_of(participant, "d43")
    fill_log(d43, laps="6", partial_lap_m="30.5")
    later = _seal(d43)
    assert later.scores["distance_m"] == 390.5
    assert later.scores["baseline_record_id"] == base.id
    assert later.scores["baseline_distance_m"] == 432.0
    assert later.scores["change_from_baseline_m"] == -41.5 and later.scores["change_note"] is None


def test_reference_values_are_not_applicable_outside_ages_40_to_80(app_ctx: Flask) -> None:
    participant = make_participant(birth_year=1990)  # 36 at the test
    visit = visit_of(participant)
    fill_log(visit)
    record = _seal(visit)
    assert record.scores["age_years"] == 36 and record.scores["reference_applicable"] is False
    assert record.scores["reference_note"] == "age_outside_reference_range"
    assert record.scores["predicted_m"] is None and record.scores["percent_predicted"] is None


def test_the_timer_result_is_sealed_as_the_source(app_ctx: Flask) -> None:
    visit = visit_of(make_participant())
    fill_log(visit)
    result = read_timer(
        {
            "run_id": "run-12345678",
            "laps": "2",
            "lap_times": "[150, 300]",
            "pauses": "[[100, 130]]",
            "elapsed_s": "360",
            "ended_early": "0",
            "partial_lap_m": "40",
        },
        360,
    )
    outcome = worksheet_entry.save_timer(
        visit,
        sixmwt(),
        result,
        started_from=worksheet_entry.timer_version(visit, sixmwt()),
        language="zh_Hans",
        actor=PATIENT,
    )
    assert [w.key for w in outcome.warnings] == []
    worksheet_entry.save_screen(
        visit,
        sixmwt(),
        "walk",
        {
            "laps": "2",
            "partial_lap_m": "40",
            "stopped_early": "yes",
            "stop_reason": "short of breath",
            "stop_time_s": ("1", "40"),
        },
        language="zh_Hans",
        actor=PATIENT,
    )
    record = _seal(visit)
    assert record.answers["timer"]["lap_times_s"] == [150.0, 300.0]
    assert record.answers["timer"]["pauses"] == [[100.0, 130.0]]
    assert record.answers["worksheet"]["stop_time_s"] == 100
    assert record.scores["distance_m"] == 160.0


def test_an_installed_borg_pack_is_named_in_the_record(app_ctx: Flask, tmp_path: Path) -> None:
    install_borg_packs(tmp_path)
    with_packs = load_catalog(tmp_path)
    visit = visit_of(make_participant())
    fill_log(visit)
    record = _seal(visit, catalog=with_packs)
    assert record.textpack_id == "borg_cr10-zh_Hans-site-test" and len(record.textpack_sha256) == 64
    borg = record.answers["scales"]["borg_cr10"]
    assert borg["version"] == "CR10 site card 2024"
    assert borg["wording"]["zh_Hans"]["pack_id"] == "borg_cr10-zh_Hans-site-test"


def test_the_mlhfq_record_keeps_its_shape(app_ctx: Flask) -> None:
    """Sealing now dispatches on the kind; the questionnaire's record must not change."""
    visit = visit_of(make_participant())
    mlhfq = catalog().instrument("mlhfq")
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, 2, language="zh_Hans", actor=PATIENT)
    record = sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor=PATIENT)
    assert record.answers == {item_id: 2 for item_id in mlhfq.item_ids}
    assert record.scores["total"] == {"value": 42, "missing": 0, "imputed": False}
    assert record.textpack_id == "mlhfq-zh_Hans-demo-1" and record.textpack_demo is True
    assert record.scoring_version == "mlhfq-sum-1.0"
    assert set(record.canonical()) == {
        "trial",
        "site",
        "study_id",
        "visit",
        "instrument",
        "instrument_version",
        "record_version",
        "scoring_version",
        "textpack",
        "language",
        "languages",
        "answers",
        "item_languages",
        "scores",
        "entered_by",
        "staff",
        "entry_reason",
        "started_at",
        "submitted_at",
        "supersedes_id",
        "correction_reason",
    }
