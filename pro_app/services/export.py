"""Exporting sealed records with their scores (JSON for machines, CSV for spreadsheets).

Each instrument kind says which columns a record of its instruments has (`export_columns`) and
fills them (`export_cells`); this module adds the record's identity and streams the rows.
"""

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
        .options(
            joinedload(Response.visit).joinedload(Visit.participant).joinedload(Participant.site)
        )
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


# The identity of a record, before the columns of its instrument.
RECORD_COLUMNS = (
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
)


def as_csv(catalog: Catalog) -> str:
    """One row per record; a column per item and per score or computed value of every instrument."""
    columns = [
        column.name
        for instrument_id in catalog.instruments
        for column in catalog.kind(instrument_id).export_columns(catalog.instrument(instrument_id))
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*RECORD_COLUMNS, *columns])
    writer.writeheader()
    for record in records():
        row = {key: record[key] for key in RECORD_COLUMNS}
        row["languages"] = " ".join(record["languages"])
        instrument_id = record["instrument"]
        if instrument_id in catalog.instruments:
            cells = catalog.kind(instrument_id).export_cells(
                catalog.instrument(instrument_id), record["answers"], record["scores"]
            )
            row.update({name: _cell(value) for name, value in cells.items()})
        writer.writerow(row)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value
