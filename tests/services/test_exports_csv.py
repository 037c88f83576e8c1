"""The flat CSV: one row per record version with coded values, a dictionary describing every
column, and nothing a spreadsheet would run as a formula (OWASP's CSV-injection rule)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from pro_app.services.exports.flat import neutralise
from tests.exporting import FORMULA, csv_rows, make_trial, run_export


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+86 21 0000", "'+86 21 0000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("chest tightness", "chest tightness"),
        ("胸闷 =1", "胸闷 =1"),
    ],
)
def test_a_cell_that_would_be_a_formula_is_neutralised(typed: str, written: str) -> None:
    assert neutralise(typed) == written


def test_numbers_the_application_computed_stay_numbers() -> None:
    assert neutralise(-12.5) == -12.5 and neutralise(-3) == -3


def test_a_formula_typed_into_the_walk_log_reaches_the_csv_as_text() -> None:
    make_trial()
    walk = next(r for r in csv_rows() if r["instrument"] == "sixmwt")
    assert walk["sixmwt.comments"] == "'" + FORMULA
    assert walk["sixmwt.stop_reason"] == "chest tightness"
    assert walk["sixmwt.distance_m"] == "320.0" and walk["sixmwt.stopped_early"] == "yes"


def test_current_rows_and_the_full_history() -> None:
    trial = make_trial()
    current = csv_rows()
    assert [(r["study_id"], r["instrument"], r["record_version"]) for r in current] == [
        ("PRIME-001", "mlhfq", "2"),
        ("PRIME-001", "sixmwt", "1"),
        ("PRIME-501", "mlhfq", "1"),
    ]
    corrected = current[0]
    assert corrected["mlhfq.mlhf01"] == "4" and corrected["mlhfq.mlhf03"] == ""
    assert corrected["mlhfq.score.total"] == "" and corrected["mlhfq.score.total.missing"] == "1"
    assert corrected["correction_reason"] == "item 1 misread from paper"
    assert corrected["supersedes_id"] == str(trial.blank_record.id)
    assert corrected["language"] == "zh_Hans" and corrected["instrument_version"] == "1.0"
    assert corrected["scoring_version"] == "mlhfq-sum-1.0"
    assert corrected["textpack_id"] == "mlhfq-zh_Hans-demo-1"
    history = csv_rows(history=True)
    assert len(history) == 6
    voided = next(r for r in history if r["record_id"] == str(trial.voided.id))
    assert voided["voided"] == "true" and voided["record_version"] == "2"


def test_a_site_filter_keeps_other_sites_out() -> None:
    trial = make_trial()
    rows = csv_rows(site_ids=[trial.other_site.id])
    assert {r["study_id"] for r in rows} == {"PRIME-501"}


def test_the_dictionary_describes_every_column(tmp_path: Path) -> None:
    make_trial()
    folder = run_export("csv", tmp_path / "csv")
    records = (folder / "records.csv").read_text(encoding="utf-8-sig")
    header = next(csv.reader(io.StringIO(records)))
    dictionary = list(
        csv.DictReader(io.StringIO((folder / "dictionary.csv").read_text(encoding="utf-8-sig")))
    )
    assert [d["column"] for d in dictionary] == header
    by_name = {d["column"]: d for d in dictionary}
    assert by_name["mlhfq.mlhf01"]["codes"] == "0=0 | 1=1 | 2=2 | 3=3 | 4=4 | 5=5"
    assert by_name["mlhfq.mlhf01"]["label_zh"] == "脚踝或腿部肿胀"
    assert by_name["sixmwt.distance_m"]["unit"] == "m"
    assert by_name["sixmwt.stopped_early"]["codes"] == "no=No | yes=Yes"
    assert by_name["record_sha256"]["label_en"] == "Record SHA-256"
    assert all(d["label_en"] and d["label_zh"] and d["datatype"] for d in dictionary)
