"""The flat CSV export: one row per record version, a column per item, score and computed value
(coded values, not labels), and a data dictionary that describes every column.

Cells a person typed can reach a spreadsheet: a text cell that begins with =, +, -, @, a tab or a
carriage return is neutralised with a leading apostrophe (OWASP's CSV-injection rule), so
`=HYPERLINK(...)` in a 6MWT comment arrives as text, not as a live formula. Numbers the
application computed (a negative change from baseline) are numbers, not typed text, and stay as
they are.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from pro_app.languages import Bilingual
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.kinds.base import Column
from pro_app.services.exports.source import ExportRecord
from pro_app.services.exports.targets import Target

RECORDS_FILE = "records.csv"
DICTIONARY_FILE = "dictionary.csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The identity and provenance of a record, before the columns of its instrument.
RECORD_COLUMNS = (
    Column("record_id", Bilingual("记录编号", "Record id (database)"), "integer"),
    Column("study_id", Bilingual("受试者编号", "Study id"), "text"),
    Column("site", Bilingual("研究中心", "Site code"), "text"),
    Column("visit", Bilingual("访视", "Visit code"), "text"),
    Column("visit_day", Bilingual("访视计划日（第0天起）", "Planned day after Day 0"), "integer"),
    Column("instrument", Bilingual("问卷", "Instrument id"), "text"),
    Column("instrument_version", Bilingual("问卷版本", "Instrument version"), "text"),
    Column("record_version", Bilingual("记录版本", "Record version (1 = first)"), "integer"),
    Column(
        "supersedes_id", Bilingual("被更正的记录编号", "Record id this version corrects"), "integer"
    ),
    Column("voided", Bilingual("是否作废", "This version voids the record"), "boolean"),
    Column("scoring_version", Bilingual("评分算法版本", "Scoring or computation version"), "text"),
    Column("textpack_id", Bilingual("问卷文本包", "Text pack id"), "text"),
    Column("textpack_sha256", Bilingual("问卷文本包SHA-256", "Text pack SHA-256"), "text"),
    Column("demo_wording", Bilingual("演示文本", "Demo wording (not licensed text)"), "boolean"),
    Column("language", Bilingual("提交时语言", "Language at submission"), "text"),
    Column("languages", Bilingual("使用过的语言", "Languages used"), "list"),
    Column("entered_by", Bilingual("录入者类型", "Entered by (participant or staff)"), "text"),
    Column("staff", Bilingual("录入的研究人员", "Staff user who entered it"), "text"),
    Column("entry_reason", Bilingual("代录原因", "Reason for staff entry"), "text"),
    Column("correction_reason", Bilingual("更正原因", "Reason for the correction"), "text"),
    Column(
        "correction_reason_code",
        Bilingual("更正原因代码", "Correction reason code"),
        "text",
    ),
    Column("started_at", Bilingual("开始时间（UTC）", "Started at (UTC, ISO 8601)"), "datetime"),
    Column(
        "submitted_at", Bilingual("提交时间（UTC）", "Submitted at (UTC, ISO 8601)"), "datetime"
    ),
    Column("record_sha256", Bilingual("记录SHA-256", "Record SHA-256"), "text"),
    Column("receipt_number", Bilingual("回执编号", "Receipt number"), "text"),
)


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made inert (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return neutralise(";".join(str(v) for v in value))
    return neutralise(value)


def instrument_columns(catalog: Catalog) -> list[tuple[str, Column]]:
    """Every instrument's columns, in catalogue order: (instrument id, column)."""
    return [
        (instrument_id, column)
        for instrument_id, instrument in catalog.instruments.items()
        for column in catalog.kind(instrument_id).export_columns(instrument)
    ]


def record_row(record: ExportRecord) -> dict[str, Any]:
    return {
        "record_id": record.record_id,
        "study_id": record.study_id,
        "site": record.site_code,
        "visit": record.visit_code,
        "visit_day": record.visit_day,
        "instrument": record.instrument_id,
        "instrument_version": record.instrument_version,
        "record_version": record.version,
        "supersedes_id": record.supersedes_id,
        "voided": record.voided,
        "scoring_version": record.scoring_version,
        "textpack_id": record.textpack_id,
        "textpack_sha256": record.textpack_sha256,
        "demo_wording": record.textpack_demo,
        "language": record.language,
        "languages": record.languages,
        "entered_by": record.entered_by,
        "staff": record.staff,
        "entry_reason": record.entry_reason,
        "correction_reason": record.correction_reason,
        "correction_reason_code": record.correction_reason_code,
        "started_at": record.started_at.isoformat() if record.started_at else None,
        "submitted_at": record.submitted_at.isoformat(),
        "record_sha256": record.record_sha256,
        "receipt_number": record.receipt_number,
    }


@contextmanager
def _text(out: IO[bytes]) -> Iterator[io.TextIOWrapper]:
    # UTF-8 with a byte-order mark: spreadsheets then read the Chinese text right.
    wrapper = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    try:
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()


def write_rows(out: IO[bytes], catalog: Catalog, records: Iterable[ExportRecord]) -> int:
    """The records CSV into `out`; returns how many rows."""
    names = [c.name for c in RECORD_COLUMNS] + [c.name for _i, c in instrument_columns(catalog)]
    count = 0
    with _text(out) as text:
        writer = csv.DictWriter(text, fieldnames=names, lineterminator="\r\n")
        writer.writeheader()
        for record in records:
            row = record_row(record)
            if record.instrument_id in catalog.instruments:
                row.update(
                    catalog.kind(record.instrument_id).export_cells(
                        catalog.instrument(record.instrument_id), record.answers, record.scores
                    )
                )
            writer.writerow({name: _cell(value) for name, value in row.items()})
            count += 1
    return count


def write_dictionary(out: IO[bytes], catalog: Catalog) -> None:
    """One row per column of the records CSV: its meaning in both languages, type, unit, codes."""
    with _text(out) as text:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(
            ["column", "instrument", "label_en", "label_zh", "datatype", "unit", "codes"]
        )
        columns = [("", c) for c in RECORD_COLUMNS] + instrument_columns(catalog)
        for instrument_id, column in columns:
            codes = " | ".join(f"{value}={label}" for value, label in column.codes)
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        column.name,
                        instrument_id,
                        column.label.en,
                        column.label.zh,
                        column.datatype,
                        column.unit,
                        codes,
                    )
                ]
            )


def write(target: Target, catalog: Catalog, records: Iterable[ExportRecord]) -> int:
    """records.csv and dictionary.csv; returns the number of records."""
    with target.open(RECORDS_FILE) as out:
        count = write_rows(out, catalog, records)
    with target.open(DICTIONARY_FILE) as out:
        write_dictionary(out, catalog)
    return count


def write_json(out: IO[bytes], records: Iterable[ExportRecord]) -> int:
    """Every record as it was sealed (answers and scores unchanged), a JSON array, streamed."""
    count = 0
    out.write(b"[")
    for record in records:
        data = {
            **record_row(record),
            "answers": record.answers,
            "scores": record.scores,
        }
        out.write((b",\n" if count else b"\n") + json.dumps(data, ensure_ascii=False).encode())
        count += 1
    out.write(b"\n]\n")
    return count
