"""CDISC ODM 1.3.2: the file validates against the official schema (shipped in odmlib), its
references resolve, and it carries the sealed values, the audit records and the record hashes."""

from __future__ import annotations

from pathlib import Path

import odmlib.loader
import odmlib.odm_loader
from lxml import etree
from odmlib.oid_generator import create_oid_checker

from tests.exporting import make_trial, run_export, schema_errors

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"


def _oids_resolve(path: Path) -> None:
    loader = odmlib.loader.ODMLoader(odmlib.odm_loader.XMLODMLoader(model_package="odm_1_3_2"))
    loader.open_odm_document(str(path))
    loader.root().verify_oids(create_oid_checker("odm_1_3_2"))


def test_the_current_records_make_a_valid_snapshot(tmp_path: Path) -> None:
    trial = make_trial()
    path = run_export("odm", tmp_path)
    assert schema_errors("odm", path) == []
    _oids_resolve(path)
    tree = etree.parse(str(path))
    root = tree.getroot()
    assert root.get("FileType") == "Snapshot" and root.get("ODMVersion") == "1.3.2"
    subjects = {s.get("SubjectKey") for s in root.iter(f"{ODM}SubjectData")}
    # The voided record leaves PRIME-002 with nothing current.
    assert subjects == {"PRIME-001", "PRIME-501"}
    # Metadata: the visit plan, the 0-5 code list, LOINC aliases of the scores and the panel.
    events = [e.get("OID") for e in root.iter(f"{ODM}StudyEventDef")]
    assert events == ["SE.BASELINE", "SE.D7", "SE.D43", "SE.D91", "SE.D180", "SE.D360"]
    total = root.find(f".//{ODM}ItemDef[@OID='IT.MLHFQ_SCORE_TOTAL']")
    assert total is not None
    assert {(a.get("Context"), a.get("Name")) for a in total.iter(f"{ODM}Alias")} == {
        ("LOINC", "71938-5"),
        ("CDISC QSTESTCD", "MLHF0122"),
    }
    choices = root.find(f".//{ODM}CodeList[@OID='CL.MLHFQ_MLHF01']")
    assert [i.get("CodedValue") for i in choices.iter(f"{ODM}CodeListItem")] == list("012345")
    form = root.find(f".//{ODM}FormDef[@OID='F.MLHFQ']")
    assert ("LOINC", "71939-3") in {
        (a.get("Context"), a.get("Name")) for a in form.iter(f"{ODM}Alias")
    }
    # Identical code lists are defined once (yes/no serves both of these questions).
    refs = {
        name: root.find(f".//{ODM}ItemDef[@Name='sixmwt.{name}']/{ODM}CodeListRef").get(
            "CodeListOID"
        )
        for name in ("stopped_early", "practice_test")
    }
    assert refs["stopped_early"] == refs["practice_test"]
    walk_codes = root.find(f".//{ODM}CodeList[@OID='{refs['stopped_early']}']")
    assert [i.get("CodedValue") for i in walk_codes.iter(f"{ODM}CodeListItem")] == ["no", "yes"]

    # Clinical data: the corrected version, a blank as IsNull, who and why, and the hash.
    mlhfq = root.find(
        f".//{ODM}SubjectData[@SubjectKey='PRIME-001']//{ODM}FormData[@FormOID='F.MLHFQ']"
    )
    values = {i.get("ItemOID"): i.get("Value") for i in mlhfq.iter(f"{ODM}ItemData")}
    assert values["IT.MLHFQ_MLHF01"] == "4" and values["IT.MLHFQ_MLHF03"] is None
    assert mlhfq.find(f".//{ODM}ItemData[@ItemOID='IT.MLHFQ_MLHF03']").get("IsNull") == "Yes"
    assert values["IT.MLHFQ_SCORE_TOTAL"] is None and values["IT.MLHFQ_SCORE_TOTAL_MISSING"] == "1"
    audit = mlhfq.find(f"{ODM}AuditRecord")
    assert audit.find(f"{ODM}UserRef").get("UserOID") == "USR.COORD_LI"
    assert audit.find(f"{ODM}DateTimeStamp").text == "2026-11-25T02:00:00Z"
    assert "item 1 misread from paper" in audit.find(f"{ODM}ReasonForChange").text
    comment = mlhfq.find(f"{ODM}Annotation/{ODM}Comment").text
    assert f"record_sha256={trial.correction.record_sha256}" in comment
    walk = root.find(f".//{ODM}FormData[@FormOID='F.SIXMWT']")
    walked = {i.get("ItemOID"): i.get("Value") for i in walk.iter(f"{ODM}ItemData")}
    assert walked["IT.SIXMWT_DISTANCE_M"] == "320.0" and walked["IT.SIXMWT_STOPPED_EARLY"] == "yes"
    assert walked["IT.SIXMWT_START_TIME"] == "09:30:00"
    assert walk.find(f"{ODM}AuditRecord/{ODM}UserRef").get("UserOID") == "USR.PARTICIPANT"


def test_the_history_is_a_valid_transactional_file_with_every_version(tmp_path: Path) -> None:
    trial = make_trial()
    path = run_export("odm", tmp_path, history=True)
    assert schema_errors("odm", path) == []
    _oids_resolve(path)
    root = etree.parse(str(path)).getroot()
    assert root.get("FileType") == "Transactional"
    second = root.find(f".//{ODM}SubjectData[@SubjectKey='PRIME-002']")
    transactions = [f.get("TransactionType") for f in second.iter(f"{ODM}FormData")]
    assert transactions == ["Insert", "Remove"]
    first = root.find(f".//{ODM}SubjectData[@SubjectKey='PRIME-001']")
    kinds = [(f.get("FormOID"), f.get("TransactionType")) for f in first.iter(f"{ODM}FormData")]
    assert kinds == [("F.MLHFQ", "Insert"), ("F.MLHFQ", "Update"), ("F.SIXMWT", "Insert")]
    hashes = [a.text for a in first.iter(f"{ODM}Comment")]
    assert trial.blank_record.record_sha256 in hashes[0]
    assert trial.correction.record_sha256 in hashes[1]


def test_the_schema_check_catches_a_broken_file(tmp_path: Path) -> None:
    """The validation above is real: the same file with an audit record out of order fails."""
    make_trial()
    path = run_export("odm", tmp_path)
    tree = etree.parse(str(path))
    audit = tree.getroot().find(f".//{ODM}AuditRecord")
    audit.append(audit.find(f"{ODM}UserRef"))  # UserRef must come first
    broken = tmp_path / "broken.xml"
    tree.write(str(broken))
    assert schema_errors("odm", broken) != []


def test_an_export_names_no_one(tmp_path: Path) -> None:
    """Study ids and staff user names only: no arm, no name (the app has neither)."""
    make_trial()
    text = run_export("odm", tmp_path).read_text()
    for word in ("arm", "ARM", "placebo", "stem cell"):
        assert f'"{word}' not in text and f">{word}<" not in text
