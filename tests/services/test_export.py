"""Exports carry every sealed record: the MLHFQ as before, the 6MWT log with its computed values."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from pro_app.extensions import db
from pro_app.models import Response, Sex
from pro_app.questionnaire.catalog import catalog
from pro_app.services import answering, sealing
from pro_app.services.exports.flat import RECORD_COLUMNS
from tests.exporting import csv_rows, json_records
from tests.factories import make_participant, visit_of
from tests.walklog import fill_log, sixmwt

PATIENT = "participant:PRIME-001"


def _both_records() -> None:
    visit = visit_of(make_participant(sex=Sex.MALE, birth_year=1966, height_cm=170))
    mlhfq = catalog().instrument("mlhfq")
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, 1, language="zh_Hans", actor=PATIENT)
    sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor=PATIENT)
    fill_log(visit, symptoms=["angina", "dizziness"], baseline_dyspnoea="1.5")
    sealing.submit(visit, sixmwt(), catalog(), language="zh_Hans", actor=PATIENT)


def test_json_export_has_the_walk_log_with_its_computed_values(app_ctx: Flask) -> None:
    _both_records()
    records = json_records()
    assert [r["instrument"] for r in records] == ["mlhfq", "sixmwt"]
    walk = records[1]
    assert walk["answers"]["worksheet"]["symptoms"] == ["angina", "dizziness"]
    assert walk["answers"]["worksheet"]["baseline_dyspnoea"] == 1.5
    assert walk["scores"]["distance_m"] == 432.0 and walk["scores"]["predicted_m"] == 553.5
    assert walk["scores"]["percent_predicted"] == 78.0
    assert walk["scoring_version"] == "sixmwt-1.0-es1998" and walk["entered_by"] == "participant"
    assert len(walk["record_sha256"]) == 64
    assert records[0]["answers"]["mlhf01"] == 1 and records[0]["scores"]["total"]["value"] == 21


def test_csv_export_has_a_column_per_field_and_computed_value(app_ctx: Flask) -> None:
    _both_records()
    rows = csv_rows()
    header = list(rows[0])
    mlhfq_items = [f"mlhfq.mlhf{n:02d}" for n in range(1, 22)]
    # Each instrument's columns come together, in the order of its file: items, then scores.
    first = len(RECORD_COLUMNS)
    assert header[first : first + 21] == mlhfq_items
    walk_fields = [f"sixmwt.{f}" for f in sixmwt().item_ids]
    start = header.index(walk_fields[0])
    assert header[start : start + len(walk_fields)] == walk_fields
    assert header.index("mlhfq.score.emotional.missing") < start < header.index("sixmwt.distance_m")
    mlhfq_row, walk_row = rows
    assert mlhfq_row["mlhfq.score.total"] == "21" and mlhfq_row["sixmwt.distance_m"] == ""
    assert walk_row["sixmwt.laps"] == "7" and walk_row["sixmwt.weight_kg"] == "70.0"
    assert walk_row["sixmwt.symptoms"] == "angina;dizziness"
    assert walk_row["sixmwt.o2_flow_l_min"] == ""
    assert walk_row["sixmwt.distance_m"] == "432.0" and walk_row["sixmwt.lln_m"] == "400.5"
    assert walk_row["sixmwt.reference_equation"] == "enright_sherrill_1998"
    assert walk_row["sixmwt.change_note"] == "this_is_the_baseline_visit"
    assert walk_row["sixmwt.borg_cr10_version"].startswith("Borg CR10")
    assert walk_row["sixmwt.timer_used"] == "false"
    assert walk_row["mlhfq.mlhf01"] == ""


def test_the_export_carries_the_sealed_values_unchanged(app_ctx: Flask) -> None:
    _both_records()
    sealed = db.session.scalars(select(Response).where(Response.instrument_id == "sixmwt")).one()
    walk = json_records()[1]
    assert walk["answers"] == sealed.answers and walk["scores"] == sealed.scores
    assert walk["record_sha256"] == sealed.record_sha256
    assert walk["receipt_number"] == sealed.receipt_number
