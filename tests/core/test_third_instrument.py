"""A third instrument needs only its data: a made-up questionnaire in tests/fixtures (definition,
scoring, demo text packs), added to the schedule, goes link → screens → seal → export (CSV, ODM,
SDTM, FHIR) → PDF with no code written for it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pyreadstat
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from flask import Flask
from lxml import etree
from sqlalchemy import select

from pro_app import create_app
from pro_app.extensions import db
from pro_app.models import PdfDocument, Response
from pro_app.pdf.worker import RenderAndSign, Worker
from pro_app.questionnaire.catalog import INSTRUMENTS_DIR, catalog
from pro_app.services import pdf_copies
from tests.actions import Patient, csrf_of
from tests.conftest import RequestPerContextClient, empty_database, make_settings
from tests.exporting import csv_rows, run_export, schema_errors
from tests.factories import issue_token, make_participant
from tests.pdf.pdftools import pdftotext, squeeze

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "instruments" / "sleepq"


@pytest.fixture
def instruments_dir(tmp_path: Path) -> Path:
    """The trial's instruments, plus the fixture questionnaire at baseline after the MLHFQ."""
    target = tmp_path / "instruments"
    shutil.copytree(INSTRUMENTS_DIR, target)
    shutil.copytree(FIXTURE, target / "sleepq")
    schedule = target / "schedule" / "schedule.toml"
    text = schedule.read_text()
    first = 'instruments = ["mlhfq", "sixmwt"]'
    assert first in text
    schedule.write_text(text.replace(first, 'instruments = ["mlhfq", "sleepq", "sixmwt"]', 1))
    return target


@pytest.fixture
def third_app(backend: str, instruments_dir: Path, tmp_path: Path) -> Iterator[Flask]:
    with empty_database(backend, tmp_path) as url:
        settings = make_settings(
            url, tmp_path / "instance", PRO_INSTRUMENTS_DIR=str(instruments_dir)
        )
        application = create_app({"TESTING": True}, settings=settings)
        application.test_client_class = RequestPerContextClient
        with application.app_context():
            flask_migrate.upgrade()
        yield application
        with application.app_context():
            db.engine.dispose()


def _exports_in_every_format(folder: Path, record: Response) -> None:
    """ODM, SDTM and FHIR carry the newcomer from its data alone, in its own codes."""
    odm = run_export("odm", folder / "odm")
    assert schema_errors("odm", odm) == []
    root = etree.parse(str(odm)).getroot()
    form = root.find(".//{*}FormData[@FormOID='F.SLEEPQ']")
    assert form is not None
    values = {i.get("ItemOID"): i.get("Value") for i in form.iter("{*}ItemData")}
    assert values["IT.SLEEPQ_SLP02"] == "3" and values["IT.SLEEPQ_SCORE_TOTAL"] == "12.5"
    sdtm = run_export("sdtm", folder / "sdtm")
    assert schema_errors("define", sdtm / "define.xml") == []
    frame, _meta = pyreadstat.read_xport(str(sdtm / "qs.xpt"))
    rows = {r["QSTESTCD"]: r for r in frame.to_dict("records") if r["QSCAT"] == "SLEEPQ"}
    assert sorted(rows) == [f"SLPQ0{n}" for n in range(1, 8)]
    assert rows["SLPQ03"]["QSSTAT"] == "NOT DONE" and rows["SLPQ02"]["QSSTRESN"] == 3.0
    assert rows["SLPQ06"]["QSDRVFL"] == "Y" and rows["SLPQ06"]["QSSTRESN"] == 12.5
    assert rows["SLPQ01"]["QSTEST"] == "Breathless lying flat"
    fhir = run_export("fhir", folder / "fhir")
    questionnaires = [
        json.loads(line) for line in (fhir / "Questionnaire.ndjson").read_text().splitlines()
    ]
    sleepq = next(q for q in questionnaires if q["id"] == "sleepq")
    Questionnaire.model_validate(sleepq)
    responses = [
        json.loads(line)
        for line in (fhir / "QuestionnaireResponse.ndjson").read_text().splitlines()
    ]
    mine = next(r for r in responses if r["id"] == f"record-{record.id}")
    QuestionnaireResponse.model_validate(mine)
    assert {"linkId": "slp02", "answer": [{"valueInteger": 3}]} in mine["item"]


def test_a_third_questionnaire_goes_from_link_to_signed_pdf(
    third_app: Flask, tmp_path: Path
) -> None:
    with third_app.app_context():
        participant = make_participant("PRIME-301", language="en")
        db.session.commit()
        token = issue_token(participant)
        assert catalog().instrument("sleepq").kind == "choice"

    patient = Patient(third_app.test_client(), token)
    landing = patient.open_link().get_data(as_text=True)
    assert "Night-time breathing questions" in landing
    assert patient.start().status_code == 303

    # Its own screens: one item per page, with its own text pack and 0-4 choices.
    page = patient.client.get("/visit/sleepq/q/2").get_data(as_text=True)
    assert "Did you wake up short of breath?" in page and "In the past 7 nights:" in page
    assert 'value="4"' in page and 'value="5"' not in page
    assert patient.answer(3, 5, instrument="sleepq").status_code == 400  # outside 0-4
    for number, value in ((1, 2), (2, 3), (3, None), (4, 1), (5, 4)):
        action = "skip" if value is None else "next"
        assert patient.answer(number, value, action, "sleepq").status_code == 303
    review = patient.client.get("/visit/sleepq/review").get_data(as_text=True)
    assert "Were you tired in the morning?" in review
    assert patient.submit("sleepq").status_code == 303
    receipt = patient.client.get("/visit/sleepq/receipt")
    assert receipt.status_code == 200

    with third_app.app_context():
        record = db.session.scalars(
            select(Response).where(Response.instrument_id == "sleepq")
        ).one()
        # Its own scoring rule: one blank is filled with the mean of the answered items.
        assert record.answers == {"slp01": 2, "slp02": 3, "slp03": None, "slp04": 1, "slp05": 4}
        assert record.scores["total"] == {"value": 12.5, "missing": 1, "imputed": True}
        assert record.scores["night"] == {"value": 6.0, "missing": 1, "imputed": True}
        assert (
            record.textpack_id == "sleepq-en-demo-0" and record.scoring_version == "sleepq-sum-0.1"
        )
        assert record.hash_holds

        rows = csv_rows()
        row = next(r for r in rows if r["instrument"] == "sleepq")
        assert (row["sleepq.slp02"], row["sleepq.slp03"]) == ("3", "")
        assert row["sleepq.score.total"] == "12.5" and row["sleepq.score.total.missing"] == "1"
        _exports_in_every_format(tmp_path, record)

        assert Worker(RenderAndSign(third_app.config["PRO_SETTINGS"])).drain() == {"done": 1}
        content = db.session.scalar(
            select(PdfDocument.content).where(PdfDocument.response_id == record.id)
        )
        assert content is not None
        text = squeeze(pdftotext(content))
        assert "Night-time" in text and "Didyouwakeupshortofbreath?" in text
        assert "Nightwaking" in text and "12.50" in text
        verdict = pdf_copies.verify(content, actor="test")
        assert verdict.ok, verdict.problems
        db.session.commit()

    # The MLHFQ and the 6MWT of the same visit are untouched by the newcomer.
    visit_page = patient.client.get("/visit").get_data(as_text=True)
    assert "Heart failure quality-of-life questionnaire" in visit_page
    assert csrf_of(patient.client.get("/visit/mlhfq/q/1"))
