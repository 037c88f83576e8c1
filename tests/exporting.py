"""Helpers that run an export in memory and read it back, for the export tests."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import xmlschema
from odmlib import schema_manager

from pro_app import clock, records
from pro_app.extensions import db
from pro_app.models import EnteredBy, Response, Role, Sex, Site, StaffUser
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.scoring import score
from pro_app.services import answering, exports, sealing
from pro_app.services.exports import flat, source
from pro_app.services.exports.targets import FolderTarget, StreamTarget
from tests.factories import make_participant, make_site, make_staff, visit_of
from tests.walklog import seal_log


def csv_rows(
    *, history: bool = False, site_ids: Collection[int] | None = None
) -> list[dict[str, str]]:
    """The flat records CSV, as the rows a CSV reader sees."""
    out = io.BytesIO()
    flat.write_rows(out, catalog(), source.records(site_ids, history=history))
    return list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))


def json_records(*, history: bool = False) -> list[dict[str, Any]]:
    out = io.BytesIO()
    flat.write_json(out, source.records(None, history=history))
    loaded: list[dict[str, Any]] = json.loads(out.getvalue())
    return loaded


# --- a small trial with every case the mappings must get right ---------------------------------


# Typed by a person into the 6MWT log: a spreadsheet would run it as a formula.
FORMULA = '=HYPERLINK("http://evil.example/","click")'


@dataclass
class Trial:
    site: Site
    other_site: Site
    coordinator: StaffUser
    blank_record: Response  # PRIME-001 MLHFQ v1: item 3 left blank
    correction: Response  # PRIME-001 MLHFQ v2: item 1 corrected, item 3 still blank
    walk: Response  # PRIME-001 6MWT at baseline, stopped early
    voided_original: Response  # PRIME-002 MLHFQ v1
    voided: Response  # PRIME-002 MLHFQ v2: voids the record
    other_site_record: Response  # PRIME-501 at the other site


def _mlhfq(
    visit_participant: Any, answers: list[int | None], language: str = "zh_Hans"
) -> Response:
    visit = visit_of(visit_participant)
    instrument = catalog().instrument("mlhfq")
    for item_id, value in zip(instrument.item_ids, answers, strict=True):
        answering.save_answer(visit, instrument, item_id, value, language=language, actor="test")
    return sealing.submit(visit, instrument, catalog(), language=language, actor="test")


def new_version(
    original: Response,
    staff: StaffUser,
    reason: str,
    answers: dict[str, int | None] | None = None,
    *,
    voided: bool = False,
) -> Response:
    """A later version as the correction pages will seal it (tests/pdf/conftest.make_correction)."""
    merged = {**original.answers, **(answers or {})}
    instrument = catalog().instrument(original.instrument_id)
    version = Response(
        visit_id=original.visit_id,
        instrument_id=original.instrument_id,
        version=original.version + 1,
        instrument_version=original.instrument_version,
        scoring_version=original.scoring_version,
        textpack_id=original.textpack_id,
        textpack_sha256=original.textpack_sha256,
        textpack_demo=original.textpack_demo,
        language=original.language,
        languages=original.languages,
        answers=merged,
        item_languages=original.item_languages,
        scores={k: v.as_dict() for k, v in score(instrument, merged).items()},
        entered_by=EnteredBy.STAFF,
        staff_id=staff.id,
        entry_reason="transcribed from the paper source document",
        started_at=clock.utcnow(),
        submitted_at=clock.utcnow(),
        supersedes_id=original.id,
        correction_reason=reason,
        correction_reason_code="transcription_error",
        voided=voided,
    )
    version.visit, version.staff = original.visit, staff
    version.record_sha256 = records.record_sha256(version.canonical())
    version.receipt_number = records.receipt_number(version.record_sha256)
    db.session.add(version)
    db.session.flush()
    return version


def make_trial() -> Trial:
    site = make_site("SEH")
    other_site = make_site("XYZ")
    coordinator = make_staff("coord.li", Role.COORDINATOR, [site])
    first = make_participant("PRIME-001", site=site, sex=Sex.MALE, birth_year=1966, height_cm=170)
    answers: list[int | None] = [1, 2, None, *([3] * 18)]
    blank_record = _mlhfq(first, answers)
    correction = new_version(blank_record, coordinator, "item 1 misread from paper", {"mlhf01": 4})
    walk = seal_log(
        visit_of(first),
        stopped_early="yes",
        stop_reason="chest tightness",
        stop_time_s="4:10",
        laps="5",
        partial_lap_m="20",
        comments=FORMULA,
    )
    second = make_participant("PRIME-002", site=site, day0=date(2026, 11, 25))
    voided_original = _mlhfq(second, [2] * 21, language="en")
    voided = new_version(
        voided_original, coordinator, "entered for the wrong participant", voided=True
    )
    elsewhere = make_participant("PRIME-501", site=other_site)
    other_site_record = _mlhfq(elsewhere, [1] * 21)
    return Trial(
        site=site,
        other_site=other_site,
        coordinator=coordinator,
        blank_record=blank_record,
        correction=correction,
        walk=walk,
        voided_original=voided_original,
        voided=voided,
        other_site_record=other_site_record,
    )


# --- running an export into a folder, and the official schemas ----------------------------------


BASE_URL = "http://localhost"
_schemas: dict[str, xmlschema.XMLSchema] = {}


def official_schema(standard: str) -> xmlschema.XMLSchema:
    """The ODM 1.3.2 or Define-XML 2.1 schema that ships in odmlib (compiled once)."""
    if standard not in _schemas:
        version = {"odm": "1.3.2", "define": "2.1"}[standard]
        _schemas[standard] = xmlschema.XMLSchema(schema_manager.get_schema_path(standard, version))
    return _schemas[standard]


def schema_errors(standard: str, path: Path) -> list[str]:
    return [str(error.reason) for error in official_schema(standard).iter_errors(str(path))]


def run_export(
    fmt: str,
    folder: Path,
    *,
    history: bool = False,
    site_ids: Collection[int] | None = None,
) -> Path:
    """Export into `folder` (ODM: a file in it); returns the folder or the ODM file."""
    request = exports.ExportRequest(fmt, site_ids, history, BASE_URL)
    if fmt == "odm":
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"odm-{'history' if history else 'current'}.xml"
        with path.open("wb") as out:
            exports.write(request, StreamTarget(out), catalog(), actor="test", destination="test")
        return path
    exports.write(request, FolderTarget(folder), catalog(), actor="test", destination="test")
    return folder
