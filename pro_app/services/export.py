"""Exporting sealed records with their scores (JSON for machines, CSV for spreadsheets)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pro_app.extensions import db
from pro_app.models import Participant, Response, StaffUser, Visit
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.definitions import ChoiceInstrument, Instrument
from pro_app.questionnaire.form_definitions import FormInstrument
from pro_app.questionnaire.walktest import COMPUTED_KEYS


def records() -> Iterator[dict[str, Any]]:
    """Every sealed record, oldest first, as plain data (no arm: the app never has one)."""
    query = (
        select(Response, StaffUser.username)
        .join(Visit, Response.visit_id == Visit.id)
        .join(Participant, Visit.participant_id == Participant.id)
        .outerjoin(StaffUser, Response.staff_id == StaffUser.id)
        .options(joinedload(Response.visit).joinedload(Visit.participant))
        .order_by(Response.submitted_at, Response.id)
    )
    for response, staff_username in db.session.execute(query):
        participant = response.visit.participant
        yield {
            "record_id": response.id,
            "study_id": participant.study_id,
            "site": participant.site.code,
            "visit": response.visit.code,
            "instrument": response.instrument_id,
            "instrument_version": response.instrument_version,
            "record_version": response.version,
            "supersedes_id": response.supersedes_id,
            "scoring_version": response.scoring_version,
            "textpack_id": response.textpack_id,
            "textpack_sha256": response.textpack_sha256,
            "demo_wording": response.textpack_demo,
            "language": response.language,
            "languages": response.languages,
            "entered_by": response.entered_by.value,
            "staff": staff_username,
            "entry_reason": response.entry_reason,
            "correction_reason": response.correction_reason,
            "started_at": response.started_at.isoformat() if response.started_at else None,
            "submitted_at": response.submitted_at.isoformat(),
            "answers": response.answers,
            "scores": response.scores,
            "record_sha256": response.record_sha256,
            "receipt_number": response.receipt_number,
        }


def as_json() -> str:
    return json.dumps(list(records()), ensure_ascii=False, indent=2)


def as_csv(catalog: Catalog) -> str:
    """One row per record; a column per item and per score or computed value of every instrument."""
    instruments = list(catalog.instruments.values())
    item_columns = [c for instrument in instruments for c in _answer_columns(instrument)]
    score_columns = [c for instrument in instruments for c in _derived_columns(instrument)]
    fixed = [
        "record_id",
        "study_id",
        "site",
        "visit",
        "instrument",
        "instrument_version",
        "record_version",
        "supersedes_id",
        "scoring_version",
        "textpack_id",
        "demo_wording",
        "language",
        "languages",
        "entered_by",
        "staff",
        "entry_reason",
        "correction_reason",
        "started_at",
        "submitted_at",
        "record_sha256",
        "receipt_number",
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fixed + item_columns + score_columns)
    writer.writeheader()
    for record in records():
        row = {key: record[key] for key in fixed}
        row["languages"] = " ".join(record["languages"])
        instrument = catalog.instruments.get(record["instrument"])
        if isinstance(instrument, FormInstrument):
            row.update(_form_cells(instrument, record))
        else:
            row.update(_choice_cells(record))
        writer.writerow(row)
    return out.getvalue()


# Columns of a form record beyond its fields and computed values (full detail is in the JSON).
FORM_RECORD_COLUMNS = ("borg_scale_version", "timer_used", "confirmed_warnings")


def _answer_columns(instrument: Instrument) -> list[str]:
    return [f"{instrument.id}.{item_id}" for item_id in instrument.item_ids]


def _derived_columns(instrument: Instrument) -> list[str]:
    if isinstance(instrument, ChoiceInstrument):
        return [
            f"{instrument.id}.score.{definition.id}{suffix}"
            for definition in instrument.scoring.scores
            for suffix in ("", ".missing")
        ]
    return [f"{instrument.id}.{key}" for key in (*COMPUTED_KEYS, *FORM_RECORD_COLUMNS)]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def _choice_cells(record: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for item_id, value in record["answers"].items():
        row[f"{record['instrument']}.{item_id}"] = "" if value is None else value
    for score_id, result in record["scores"].items():
        prefix = f"{record['instrument']}.score.{score_id}"
        row[prefix] = "" if result["value"] is None else result["value"]
        row[f"{prefix}.missing"] = result["missing"]
    return row


def _form_cells(instrument: FormInstrument, record: dict[str, Any]) -> dict[str, Any]:
    answers = record["answers"]
    row = {
        f"{instrument.id}.{field_id}": _cell(value)
        for field_id, value in answers["worksheet"].items()
    }
    scores = record["scores"]
    row.update({f"{instrument.id}.{key}": _cell(scores.get(key)) for key in COMPUTED_KEYS})
    row[f"{instrument.id}.borg_scale_version"] = answers["borg_scale"]["version"]
    row[f"{instrument.id}.timer_used"] = answers["timer"] is not None
    row[f"{instrument.id}.confirmed_warnings"] = " ".join(sorted(answers["confirmed_warnings"]))
    return row
