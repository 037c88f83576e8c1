"""SDTM: the datasets read back with pyreadstat (the library that wrote them) with the expected
variables, labels, lengths and values, for a trial with a blank item, an uncomputable score, a
correction, a voided record and a 6MWT stopped early; define.xml validates against Define-XML 2.1;
the chunked XPT writer produces pyreadstat's own bytes."""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from pathlib import Path
from typing import Any

import pyreadstat
import pytest
from lxml import etree

from pro_app.errors import HistoryNotInSdtm
from pro_app.services.exports import sdtm, xpt
from tests.exporting import make_trial, run_export, schema_errors

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
USUBJID = "NCT04992832-SEH-PRIME-001"


def _read(folder: Path, name: str) -> tuple[list[dict[str, Any]], Any]:
    frame, meta = pyreadstat.read_xport(str(folder / f"{name}.xpt"))
    return frame.to_dict("records"), meta


def _one(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, len(found))
    return found[0]


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    make_trial()
    return run_export("sdtm", tmp_path / "sdtm")


def test_the_folder_holds_each_dataset_twice_and_define_xml(exported: Path) -> None:
    names = sorted(p.name for p in exported.iterdir())
    assert names == [
        "define.xml",
        "ft.csv",
        "ft.xpt",
        "qs.csv",
        "qs.xpt",
        "suppft.csv",
        "suppft.xpt",
        "vs.csv",
        "vs.xpt",
    ]


def test_qs_reads_back_with_items_scores_blanks_and_borg(exported: Path) -> None:
    rows, meta = _read(exported, "qs")
    assert meta.table_name == "QS" and meta.file_label == "Questionnaires"
    assert meta.column_names == [v.name for v in sdtm.QS.variables]
    assert meta.column_names_to_labels["QSSTRESN"] == "Numeric Result/Finding in Standard Units"
    assert meta.column_names_to_labels["QSTESTCD"] == "Question Short Name"
    # PRIME-002's record was voided: nothing of it is current. PRIME-501 is at the other site.
    assert {r["USUBJID"] for r in rows} == {USUBJID, "NCT04992832-XYZ-PRIME-501"}
    mine = [r for r in rows if r["USUBJID"] == USUBJID]
    # 21 items + 3 scores of the MLHFQ, then 4 Borg ratings of the walk; one sequence.
    assert [r["QSSEQ"] for r in mine] == [float(n) for n in range(1, 29)]
    assert [r["QSTESTCD"] for r in mine[:21]] == [f"MLHF01{n:02d}" for n in range(1, 22)]
    corrected = _one(mine, QSTESTCD="MLHF0101")
    assert (corrected["QSORRES"], corrected["QSSTRESC"], corrected["QSSTRESN"]) == ("4", "4", 4.0)
    assert corrected["QSCAT"] == "MLHFQ" and corrected["QSEVAL"] == "STUDY SUBJECT"
    assert corrected["QSTEST"] == "Swelling in ankles or legs" and corrected["QSDRVFL"] == ""
    blank = _one(mine, QSTESTCD="MLHF0103")
    assert (blank["QSORRES"], blank["QSSTAT"], blank["QSREASND"]) == (
        "",
        "NOT DONE",
        "NOT ANSWERED",
    )
    assert math.isnan(blank["QSSTRESN"])
    total = _one(mine, QSTESTCD="MLHF0122")
    assert total["QSDRVFL"] == "Y" and total["QSSTAT"] == "NOT DONE" and total["QSORRES"] == ""
    assert total["QSREASND"] == "NOT COMPUTED: 1 ITEM(S) NOT ANSWERED"
    assert math.isnan(total["QSSTRESN"])
    physical = _one(mine, QSTESTCD="MLHF0123")
    assert physical["QSSTAT"] == "NOT DONE"
    emotional = _one(mine, QSTESTCD="MLHF0124")
    assert (emotional["QSDRVFL"], emotional["QSSTRESN"], emotional["QSSTAT"]) == ("Y", 15.0, "")
    # Timing: sealed at 10:00 Shanghai time on Day 0, which is study day 1 (SDTM has no day 0).
    assert total["QSDTC"] == "2026-11-25T10:00:00" and total["QSDY"] == 1.0
    assert (total["VISITNUM"], total["VISIT"], total["VISITDY"]) == (1.0, "BASELINE (DAY 0)", 1.0)
    borg = [r for r in mine if r["QSTESTCD"] == "BCR10101"]
    assert [(r["QSSCAT"], r["QSTPT"], r["QSTPTNUM"], r["QSORRES"]) for r in borg] == [
        ("DYSPNEA", "PRE-WALK", 1.0, "0.5"),
        ("FATIGUE", "PRE-WALK", 1.0, "1"),
        ("DYSPNEA", "POST-WALK", 2.0, "3"),
        ("FATIGUE", "POST-WALK", 2.0, "2.5"),
    ]
    assert {(r["QSCAT"], r["QSTPTREF"], r["QSRFTDTC"], r["QSDTC"]) for r in borg} == {
        ("BORG CR10", "SIX MINUTE WALK", "2026-11-25T09:30", "2026-11-25")
    }


def test_ft_vs_and_suppft_carry_the_walk_stopped_early(exported: Path) -> None:
    ft, meta = _read(exported, "ft")
    assert meta.column_names == [v.name for v in sdtm.FT.variables]
    walk = _one(ft, FTTESTCD="SIXMW106")
    assert walk["FTTEST"] == "SIXMW1-Distance at 6 Minutes" and walk["FTCAT"] == "SIX MINUTE WALK"
    assert (walk["FTORRES"], walk["FTORRESU"], walk["FTSTRESN"], walk["FTSTRESU"]) == (
        "320",
        "m",
        320.0,
        "m",
    )
    assert walk["FTDTC"] == "2026-11-25T09:30" and walk["FTDY"] == 1.0 and walk["FTSEQ"] == 1.0
    supp, _meta = _read(exported, "suppft")
    qualifiers = {r["QNAM"]: r["QVAL"] for r in supp}
    assert qualifiers["STOPEARL"] == "Y" and qualifiers["STOPTIM"] == "250"
    assert {(r["RDOMAIN"], r["IDVAR"], r["IDVARVAL"]) for r in supp} == {("FT", "FTSEQ", "1")}
    # Free text (the reason for stopping) stays out of SDTM: it is in the CSV and ODM exports.
    assert "chest tightness" not in (exported / "suppft.csv").read_text()
    vs, _meta = _read(exported, "vs")
    assert [(r["VSTESTCD"], r["VSTPT"], r["VSSTRESN"], r["VSSTRESU"]) for r in vs] == [
        ("SYSBP", "PRE-WALK", 120.0, "mmHg"),
        ("DIABP", "PRE-WALK", 75.0, "mmHg"),
        ("HR", "PRE-WALK", 72.0, "beats/min"),
        ("OXYSAT", "PRE-WALK", 97.0, "%"),
        ("HR", "POST-WALK", 98.0, "beats/min"),
        ("OXYSAT", "POST-WALK", 95.0, "%"),
    ]
    assert {(r["VSTPTREF"], r["VSRFTDTC"]) for r in vs} == {("SIX MINUTE WALK", "2026-11-25T09:30")}


def test_lengths_in_the_files_are_the_lengths_define_xml_declares(exported: Path) -> None:
    define = etree.parse(str(exported / "define.xml")).getroot()
    declared = {item.get("OID"): item.get("Length") for item in define.iter(f"{ODM}ItemDef")}
    for domain in ("QS", "FT", "VS", "SUPPFT"):
        _rows, meta = _read(exported, domain.lower())
        types = {v.name: v.datatype for v in sdtm.DOMAINS[domain].variables}
        for name, width in meta.variable_storage_width.items():
            if types[name] == "datetime":  # ISO 8601 text: Define-XML gives it no length
                assert declared[f"IT.{domain}.{name}"] is None
                continue
            assert declared[f"IT.{domain}.{name}"] == str(width), (domain, name)
    # The longest test code is 8, the longest USUBJID is what was written.
    assert declared["IT.QS.QSTESTCD"] == "8"
    assert declared["IT.QS.USUBJID"] == str(len(USUBJID))


def test_define_xml_validates_against_define_xml_2_1(exported: Path) -> None:
    path = exported / "define.xml"
    assert schema_errors("define", path) == []
    define = etree.parse(str(path)).getroot()
    codes = {
        i.get("CodedValue")
        for i in define.find(f".//{ODM}CodeList[@OID='CL.QSTESTCD']").iter(f"{ODM}CodeListItem")
    }
    assert {"MLHF0101", "MLHF0121", "MLHF0122", "MLHF0124", "BCR10101"} <= codes
    method = define.find(f".//{ODM}MethodDef[@OID='MT.STRESN']")
    assert "MLHF0123: Sum of items 2, 3, 4, 5, 6, 7, 12, 13" in etree.tostring(method).decode()
    # Mutated, it fails: the check is real.
    define.find(f".//{ODM}ItemGroupDef").attrib.pop("{http://www.cdisc.org/ns/def/v2.1}Structure")
    broken = path.with_name("broken.xml")
    broken.write_bytes(etree.tostring(define))
    assert schema_errors("define", broken) != []


def test_the_csv_datasets_match_the_xpt(exported: Path) -> None:
    rows = list(csv.DictReader(io.StringIO((exported / "qs.csv").read_text())))
    xpt_rows, _meta = _read(exported, "qs")
    assert len(rows) == len(xpt_rows)
    assert [r["QSTESTCD"] for r in rows] == [r["QSTESTCD"] for r in xpt_rows]
    assert rows[0]["QSSTRESN"] == "4" and rows[2]["QSSTAT"] == "NOT DONE"


def test_sdtm_refuses_history_and_writes_a_zip(tmp_path: Path) -> None:
    make_trial()
    with pytest.raises(HistoryNotInSdtm):
        run_export("sdtm", tmp_path / "h", history=True)
    from pro_app.questionnaire.catalog import catalog
    from pro_app.services import exports
    from pro_app.services.exports.targets import target_for

    target = target_for(tmp_path / "sdtm.zip")
    request = exports.ExportRequest("sdtm", None, False, "http://localhost")
    exports.write(request, target, catalog(), actor="test", destination="test")
    with zipfile.ZipFile(tmp_path / "sdtm.zip") as archive:
        assert "qs.xpt" in archive.namelist() and "define.xml" in archive.namelist()
        data = archive.read("qs.xpt")
    (tmp_path / "qs.xpt").write_bytes(data)
    frame, _meta = pyreadstat.read_xport(str(tmp_path / "qs.xpt"))
    assert len(frame) == 28 + 24


_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")


def test_the_chunked_xpt_is_byte_for_byte_what_pyreadstat_writes_at_once(tmp_path: Path) -> None:
    variables = [
        xpt.Variable("USUBJID", "Unique Subject Identifier", False),
        xpt.Variable("QSSEQ", "Sequence Number", True),
        xpt.Variable("QSORRES", "Result or Finding in Original Units", False),
        xpt.Variable("QSSTRESN", "Numeric Result/Finding in Standard Units", True),
    ]
    # 250 rows: three full chunks of 80 and a last one of 10 (ending in padding).
    rows = [
        {
            "USUBJID": f"S-{n % 7}",
            "QSSEQ": n,
            "QSORRES": "" if n % 5 == 0 else str(n % 6) * (1 + n % 3),
            "QSSTRESN": None if n % 5 == 0 else float(n % 6),
        }
        for n in range(1, 251)
    ]
    lengths = {"USUBJID": 3, "QSORRES": 3}
    chunked = io.BytesIO()
    count = xpt.write(
        chunked,
        name="QS",
        label="Questionnaires",
        variables=variables,
        lengths=lengths,
        rows=rows,
        chunk_rows=80,
    )
    assert count == 250
    # pyreadstat writing all the rows at once, to compare with.
    whole = xpt._pyreadstat_bytes(
        xpt._frame(rows, variables, lengths),
        tmp_path / "whole.xpt",
        "QS",
        "Questionnaires",
        variables,
    )
    assert _STAMP.sub(b"", chunked.getvalue()) == _STAMP.sub(b"", whole)
    (tmp_path / "chunked.xpt").write_bytes(chunked.getvalue())
    frame, meta = pyreadstat.read_xport(str(tmp_path / "chunked.xpt"))
    assert len(frame) == 250 and meta.variable_storage_width["QSORRES"] == 3
    assert list(frame["QSSEQ"]) == [float(n) for n in range(1, 251)]


def test_study_day_counts_from_day_0_without_a_day_0() -> None:
    from datetime import date

    day0 = date(2026, 11, 25)
    assert sdtm.study_day(day0, day0) == 1
    assert sdtm.study_day(date(2026, 12, 2), day0) == 8
    assert sdtm.study_day(date(2026, 11, 24), day0) == -1
