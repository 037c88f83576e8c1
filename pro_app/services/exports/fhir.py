"""FHIR R4 as bulk NDJSON: Questionnaire.ndjson (one per instrument: its structure, LOINC codes
and the short topic labels we wrote, never the licensed wording) and QuestionnaireResponse.ndjson
(one per record version), one resource per line, in the FHIR Bulk Data layout.

The participant is named by study id only (an identifier, no Patient resource); staff by their
user name. Resources are plain JSON built from each kind's `fhir_items` / `fhir_answers`; the
tests validate every line against the fhir.resources R4B models.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.kinds.standards import LOINC
from pro_app.services.exports import source
from pro_app.services.exports.source import ExportRecord
from pro_app.services.exports.targets import Target

QUESTIONNAIRES_FILE = "Questionnaire.ndjson"
RESPONSES_FILE = "QuestionnaireResponse.ndjson"
LANGUAGE_TAGS = {"zh_Hans": "zh-Hans", "en": "en"}


def urls(base_url: str) -> dict[str, str]:
    """The canonical URLs and identifier systems, under the site's own address."""
    base = f"{base_url}/fhir"
    return {
        "questionnaire": f"{base}/Questionnaire",
        "codes": f"{base}/CodeSystem",
        "study_id": f"{base}/sid/study-id",
        "staff": f"{base}/sid/staff",
        "record": f"{base}/sid/record-sha256",
        "extension": f"{base}/StructureDefinition",
    }


def questionnaire(catalog: Catalog, instrument_id: str, base_url: str) -> dict[str, Any]:
    instrument = catalog.instrument(instrument_id)
    kind = catalog.kind(instrument_id)
    at = urls(base_url)
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": instrument_id,
        "url": f"{at['questionnaire']}/{instrument_id}",
        "version": instrument.version,
        "name": instrument_id.upper(),
        "title": instrument.title.en,
        "status": "active",
        "subjectType": ["Patient"],
        "item": kind.fhir_items(instrument, at["codes"]),
    }
    # The instrument's own LOINC code (a panel), as its kind states it.
    panels = [
        code for context, code in kind.odm_form(instrument).form_aliases if context == "LOINC"
    ]
    if panels:
        resource["code"] = [{"system": LOINC, "code": code} for code in panels]
    if instrument.copyright:
        resource["copyright"] = instrument.copyright
    return resource


def response(record: ExportRecord, catalog: Catalog, base_url: str) -> dict[str, Any]:
    at = urls(base_url)
    status = (
        "entered-in-error" if record.voided else "amended" if record.version > 1 else "completed"
    )
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": f"record-{record.record_id}",
        "meta": {"versionId": str(record.version)},
        "language": LANGUAGE_TAGS.get(record.language, "en"),
        "extension": [
            {"url": f"{at['extension']}/visit", "valueString": record.visit_code},
            {"url": f"{at['extension']}/record-version", "valueInteger": record.version},
            {"url": f"{at['extension']}/site", "valueString": record.site_code},
        ],
        "identifier": {"system": at["record"], "value": record.record_sha256},
        "questionnaire": (
            f"{at['questionnaire']}/{record.instrument_id}|{record.instrument_version}"
        ),
        "status": status,
        "subject": {
            "identifier": {"system": at["study_id"], "value": record.study_id},
            "display": f"{source.STUDYID} {record.study_id}",
        },
        "authored": record.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if record.staff:
        resource["author"] = {"identifier": {"system": at["staff"], "value": record.staff}}
    if record.supersedes_id is not None:
        resource["extension"].append(
            {
                "url": f"{at['extension']}/supersedes",
                "valueString": f"record-{record.supersedes_id}",
            }
        )
    if not record.voided and record.instrument_id in catalog.instruments:
        items = catalog.kind(record.instrument_id).fhir_answers(
            catalog.instrument(record.instrument_id), record.answers, record.scores, at["codes"]
        )
        if items:
            resource["item"] = items
    return resource


def _line(resource: dict[str, Any]) -> bytes:
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def write_questionnaires(out: IO[bytes], catalog: Catalog, base_url: str) -> None:
    for instrument_id in catalog.instruments:
        out.write(_line(questionnaire(catalog, instrument_id, base_url)))


def write_responses(
    out: IO[bytes], catalog: Catalog, records: Iterable[ExportRecord], base_url: str
) -> int:
    count = 0
    for record in records:
        out.write(_line(response(record, catalog, base_url)))
        count += 1
    return count


def write(
    target: Target, catalog: Catalog, records: Iterable[ExportRecord], *, base_url: str
) -> int:
    with target.open(QUESTIONNAIRES_FILE) as out:
        write_questionnaires(out, catalog, base_url)
    with target.open(RESPONSES_FILE) as out:
        return write_responses(out, catalog, records, base_url)
