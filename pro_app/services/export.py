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
    """One row per record; a column per item and per score of every instrument."""
    item_columns = [
        f"{instrument.id}.{item_id}"
        for instrument in catalog.instruments.values()
        for item_id in instrument.item_ids
    ]
    score_columns = [
        f"{instrument.id}.score.{definition.id}{suffix}"
        for instrument in catalog.instruments.values()
        for definition in instrument.scoring.scores
        for suffix in ("", ".missing")
    ]
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
        for item_id, value in record["answers"].items():
            row[f"{record['instrument']}.{item_id}"] = "" if value is None else value
        for score_id, result in record["scores"].items():
            prefix = f"{record['instrument']}.score.{score_id}"
            row[prefix] = "" if result["value"] is None else result["value"]
            row[f"{prefix}.missing"] = result["missing"]
        writer.writerow(row)
    return out.getvalue()
