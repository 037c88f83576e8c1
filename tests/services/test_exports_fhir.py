"""FHIR R4: every resource of the NDJSON files validates with the fhir.resources R4B models, the
Questionnaires carry structure, LOINC codes and our short labels (never the licensed wording), and
each record version becomes a QuestionnaireResponse naming the participant by study id only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from pro_app.questionnaire.catalog import catalog
from tests.exporting import make_trial, run_export


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _answers(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for item in items:
        if "answer" in item:
            found[item["linkId"]] = item["answer"]
        found.update(_answers(item.get("item", [])))
    return found


def test_every_resource_validates_as_fhir_r4b(tmp_path: Path) -> None:
    make_trial()
    folder = run_export("fhir", tmp_path / "fhir", history=True)
    questionnaires = _lines(folder / "Questionnaire.ndjson")
    responses = _lines(folder / "QuestionnaireResponse.ndjson")
    assert [q["id"] for q in questionnaires] == list(catalog().instruments)
    for resource in questionnaires:
        Questionnaire.model_validate(resource)
    for resource in responses:
        QuestionnaireResponse.model_validate(resource)
    # Five record versions in the history: two of PRIME-001's MLHFQ, its walk, PRIME-002's two.
    assert len(responses) == 6
    statuses = sorted(r["status"] for r in responses)
    assert statuses == [
        "amended",
        "completed",
        "completed",
        "completed",
        "completed",
        "entered-in-error",
    ]


def test_questionnaires_carry_codes_and_our_labels_never_the_licensed_wording(
    tmp_path: Path,
) -> None:
    make_trial()
    folder = run_export("fhir", tmp_path / "fhir")
    mlhfq, sixmwt = _lines(folder / "Questionnaire.ndjson")
    assert mlhfq["code"] == [{"system": "http://loinc.org", "code": "71939-3"}]
    items = {i["linkId"]: i for i in mlhfq["item"]}
    assert items["mlhf01"]["text"] == "Swelling in ankles or legs"
    assert [o["valueInteger"] for o in items["mlhf01"]["answerOption"]] == [0, 1, 2, 3, 4, 5]
    assert items["score.total"]["code"] == [{"system": "http://loinc.org", "code": "71938-5"}]
    assert items["score.total"]["readOnly"] is True
    translation = items["mlhf01"]["_text"]["extension"][0]["extension"]
    assert {"url": "content", "valueString": "脚踝或腿部肿胀"} in translation
    # The wording of the installed text pack (here the demo one) never leaves in an export.
    pack = catalog().textpack("mlhfq", "en")
    text = (folder / "Questionnaire.ndjson").read_text()
    for wording in list(pack.items.values())[:5]:
        assert wording not in text
    walk_groups = [g["linkId"] for g in sixmwt["item"]]
    assert walk_groups == ["before", "walk", "after", "computed"]


def test_responses_carry_the_sealed_values_and_the_study_id_only(tmp_path: Path) -> None:
    trial = make_trial()
    folder = run_export("fhir", tmp_path / "fhir")
    responses = {r["id"]: r for r in _lines(folder / "QuestionnaireResponse.ndjson")}
    corrected = responses[f"record-{trial.correction.id}"]
    assert corrected["status"] == "amended"
    assert corrected["subject"]["identifier"]["value"] == "PRIME-001"
    assert corrected["identifier"]["value"] == trial.correction.record_sha256
    assert corrected["author"]["identifier"]["value"] == "coord.li"
    assert corrected["questionnaire"] == "http://localhost/fhir/Questionnaire/mlhfq|1.0"
    answers = _answers(corrected["item"])
    assert answers["mlhf01"] == [{"valueInteger": 4}]
    assert "mlhf03" not in answers and "score.total" not in answers
    assert answers["score.emotional"] == [{"valueDecimal": 15}]
    walk = responses[f"record-{trial.walk.id}"]
    walked = _answers(walk["item"])
    assert walked["stopped_early"][0]["valueCoding"]["code"] == "yes"
    assert walked["start_time"] == [{"valueTime": "09:30:00"}]
    assert walked["computed.distance_m"] == [{"valueDecimal": 320.0}]
    assert walk["authored"] == "2026-11-25T02:00:00Z" and "author" not in walk
    assert f"record-{trial.voided.id}" not in responses
