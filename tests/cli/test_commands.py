"""The coordinator and operator commands: enrol, issue, revoke, export, demo."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from pro_app import clock
from pro_app.extensions import db
from pro_app.models import AuditEvent, Participant, Site, VisitLink
from pro_app.questionnaire.catalog import catalog
from pro_app.services import answering, sealing
from tests.actions import Patient
from tests.conftest import NOW
from tests.factories import TODAY, issue_token, make_participant, make_site, visit_of
from tests.walklog import seal_log

LINK = re.compile(r"http://localhost/s/([A-Za-z0-9_\-]{32,})")


def test_enrol_lays_out_the_schedule(runner: FlaskCliRunner) -> None:
    make_site()
    result = runner.invoke(
        args=[
            "participants",
            "enrol",
            "prime-007",
            "--site",
            "SEH",
            "--sex",
            "male",
            "--birth-year",
            "1960",
            "--height",
            "172",
            "--language",
            "en",
            "--day0",
            "2026-11-25",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "enrolled PRIME-007" in result.output
    assert "d43       2027-01-07  window 2026-12-31 .. 2027-01-14" in result.output


def test_enrol_refuses_bad_input_and_changes_nothing(runner: FlaskCliRunner) -> None:
    make_site()
    bad = [
        ["XYZ-1", "--birth-year", "1960"],
        ["PRIME-008", "--birth-year", "1930"],  # 96 years old at Day 0
        ["PRIME-008", "--birth-year", "2015"],
    ]
    for study_id, *rest in bad:
        result = runner.invoke(
            args=[
                "participants",
                "enrol",
                study_id,
                "--site",
                "SEH",
                "--sex",
                "female",
                "--height",
                "160",
                "--day0",
                "2026-11-25",
                *rest,
            ]
        )
        assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 0


def test_issue_prints_a_working_link_once(runner: FlaskCliRunner, client: FlaskClient) -> None:
    make_participant("PRIME-009")
    db.session.commit()
    result = runner.invoke(args=["links", "issue", "PRIME-009", "baseline"])
    assert result.exit_code == 0, result.output
    match = LINK.search(result.output)
    assert match
    assert client.get(f"/s/{match.group(1)}").status_code == 200
    second = runner.invoke(args=["links", "issue", "PRIME-009", "baseline", "--reason", "lost"])
    assert client.get(f"/s/{match.group(1)}").status_code == 410
    new = LINK.search(second.output)
    assert new and client.get(f"/s/{new.group(1)}").status_code == 200


def test_the_cli_keeps_the_rules_of_the_desk(runner: FlaskCliRunner) -> None:
    """No revoke without a reason, no reissue without one, no link for a closed or complete
    visit: the same refusals, from the same service verbs, as on the coordinator's desk."""
    participant = make_participant("PRIME-012", day0=TODAY - timedelta(days=30))
    issue_token(participant, "d43")
    blank = runner.invoke(args=["links", "revoke", "PRIME-012", "d43", "--reason", " "])
    assert blank.exit_code == 1 and "Please give a reason (at least 3 characters)" in blank.output
    reissue = runner.invoke(args=["links", "issue", "PRIME-012", "d43"])
    assert reissue.exit_code == 1 and "(reason.required)" in reissue.output
    closed = runner.invoke(args=["links", "issue", "PRIME-012", "baseline"])
    assert closed.exit_code == 1 and "closed on 26 Oct 2026" in closed.output
    nothing = runner.invoke(args=["links", "revoke", "PRIME-012", "d7", "--reason", "lost"])
    assert nothing.exit_code == 1 and "has no active link" in nothing.output
    done = make_participant("PRIME-013")
    seal_log(visit_of(done))
    mlhfq = catalog().instrument("mlhfq")
    visit = visit_of(done)
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, 1, language="en", actor="test")
    sealing.submit(visit, mlhfq, catalog(), language="en", actor="test")
    db.session.commit()
    complete = runner.invoke(args=["links", "issue", "PRIME-013", "baseline"])
    assert complete.exit_code == 1 and "already submitted" in complete.output
    assert (
        db.session.scalar(
            select(func.count()).select_from(VisitLink).where(VisitLink.revoked_at.is_not(None))
        )
        == 0
    )


def test_issue_for_an_unknown_visit_says_which_exist(runner: FlaskCliRunner) -> None:
    make_participant("PRIME-010")
    result = runner.invoke(args=["links", "issue", "PRIME-010", "d8"])
    assert result.exit_code == 1 and "baseline, d7, d43" in result.output


def test_revoke(runner: FlaskCliRunner, client: FlaskClient) -> None:
    token = issue_token(make_participant("PRIME-011"))
    result = runner.invoke(
        args=["links", "revoke", "PRIME-011", "baseline", "--reason", "phone lost"]
    )
    assert result.exit_code == 0
    assert client.get(f"/s/{token}").status_code == 410
    assert db.session.scalars(select(VisitLink)).one().revoke_reason == "phone lost"


def _sealed(client: FlaskClient, study_id: str, values: list[int | None]) -> None:
    patient = Patient(client, issue_token(make_participant(study_id)))
    patient.start()
    patient.answer_all(values)
    patient.submit()


def test_export_json_and_csv_carry_records_and_scores(
    runner: FlaskCliRunner, client: FlaskClient
) -> None:
    _sealed(client, "PRIME-012", [1] * 21)
    _sealed(client.application.test_client(), "PRIME-013", [None] + [5] * 20)
    as_json = runner.invoke(args=["export", "responses", "--format", "json"])
    records = json.loads(as_json.output)
    assert [r["study_id"] for r in records] == ["PRIME-012", "PRIME-013"]
    assert records[0]["scores"]["total"]["value"] == 21
    assert records[1]["scores"]["total"] == {"value": None, "missing": 1, "imputed": False}
    assert records[1]["scores"]["physical"]["value"] == 40
    assert "arm" not in json.dumps(records).lower().replace("pharm", "")
    as_csv = runner.invoke(args=["export", "responses", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert rows[0]["mlhfq.score.total"] == "21" and rows[1]["mlhfq.score.total"] == ""
    assert rows[1]["mlhfq.score.total.missing"] == "1" and rows[1]["mlhfq.mlhf01"] == ""
    assert rows[1]["record_sha256"] == records[1]["record_sha256"]


def test_demo_is_idempotent_and_prints_a_working_link(
    runner: FlaskCliRunner, client: FlaskClient
) -> None:
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 1
    assert db.session.scalar(select(func.count()).select_from(Site)) == 1
    old, new = LINK.search(first.output), LINK.search(second.output)
    assert old and new
    assert client.get(f"/s/{old.group(1)}").status_code == 410
    assert client.get(f"/s/{new.group(1)}").status_code == 200
    # The re-run says that it replaced the earlier link, and the hint is a command that works.
    assert "replaces the link printed by the previous run" not in first.output
    assert "replaces the link printed by the previous run" in second.output
    assert ".venv/bin/flask --app wsgi staff reset-password demo-coordinator" in second.output


@pytest.mark.parametrize("days_later", [0, 1, 6, 8, 30, 400])
def test_the_demo_link_is_open_today_and_for_a_week_from_any_run(
    runner: FlaskCliRunner, client: FlaskClient, days_later: int
) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0
    with clock.frozen(NOW + timedelta(days=days_later)):
        later = runner.invoke(args=["demo"])
        assert later.exit_code == 0, later.output
        link = LINK.search(later.output)
        assert link
        for ahead in (0, 7):
            with clock.frozen(NOW + timedelta(days=days_later + ahead)):
                page = client.get(f"/s/{link.group(1)}")
                assert page.status_code == 200, (days_later, ahead)


def test_instruments_check_names_demo_wording(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["instruments", "check"])
    assert "mlhfq 1.0 (21 items)" in result.output and "DEMO wording" in result.output


def test_export_commands_write_each_format_and_audit(
    runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path
) -> None:
    _sealed(client, "PRIME-012", [1] * 21)
    for fmt, target in (
        ("csv", "csv.zip"),
        ("odm", "odm.xml"),
        ("sdtm", "sdtm"),
        ("fhir", "fhir.zip"),
    ):
        result = runner.invoke(args=["export", fmt, "-o", str(tmp_path / target)])
        assert result.exit_code == 0, result.output
        assert f"{fmt}: 1 current records" in result.output
    with zipfile.ZipFile(tmp_path / "csv.zip") as archive:
        assert sorted(archive.namelist()) == ["dictionary.csv", "records.csv"]
    assert (tmp_path / "odm.xml").read_bytes().startswith(b"<?xml")
    assert (tmp_path / "sdtm" / "qs.xpt").is_file() and (tmp_path / "sdtm" / "define.xml").is_file()
    with zipfile.ZipFile(tmp_path / "fhir.zip") as archive:
        assert "QuestionnaireResponse.ndjson" in archive.namelist()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "records.exported")
    ).all()
    assert [e.details["format"] for e in events] == ["csv", "odm", "sdtm", "fhir"]
    assert {e.actor for e in events} == {"system:cli"}
    history = runner.invoke(args=["export", "csv", "--history", "-o", str(tmp_path / "h")])
    assert history.exit_code == 0 and "csv: 1 record versions" in history.output
    refused = runner.invoke(args=["export", "sdtm", "--history", "-o", str(tmp_path / "s2")])
    assert refused.exit_code == 1 and "current data only" in refused.output
    assert not (tmp_path / "s2").exists()
