"""SDTM tabulations of the sealed records: QS (the MLHFQ items and scores, Borg CR10 ratings), FT
(the 6-minute walk distance, SIXMW106), VS (heart rate, SpO2 and blood pressure before and after
the walk) and SUPPFT (how the walk went), as SAS transport v5 files and CSV, with define.xml.

Each instrument kind turns a record into findings rows (`sdtm_findings`); this module adds the
identifiers (STUDYID, USUBJID = STUDYID-SITE-study id), the sequence number, the visit and the
timing (--DTC in the site's local time, --DY counted from Day 0, the first infusion, SDTM's way:
Day 0 is study day 1, the day before is -1).

Two passes, each in constant memory: the first turns records into rows and spools them to
scratch files, one per dataset, noting each character variable's longest value; the second
writes each dataset's CSV and XPT from its spool, a chunk at a time (pro_app/.../xpt.py).
"""

from __future__ import annotations

import csv
import io
import marshal
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.kinds.base import SdtmFinding
from pro_app.questionnaire.kinds.standards import number_text
from pro_app.services.exports import define, xpt
from pro_app.services.exports.flat import FORMULA_STARTS, neutralise
from pro_app.services.exports.source import STUDYID, ExportRecord
from pro_app.services.exports.targets import Target

# SAS transport v5 holds at most 200 bytes in a character variable.
MAX_TEXT = 200
FORMULA_FIRST = set(FORMULA_STARTS)


@dataclass(frozen=True)
class Var:
    """A variable of a dataset: name, label (≤ 40), Define-XML data type, origin and source."""

    name: str
    label: str
    datatype: str = "text"  # text, integer, float, datetime
    origin: str = "Collected"
    source: str = "Sponsor"
    key: int | None = None
    method: str | None = None

    @property
    def numeric(self) -> bool:
        return self.datatype in ("integer", "float")


@dataclass(frozen=True)
class Domain:
    code: str
    label: str
    structure: str
    sdtm_class: str
    variables: tuple[Var, ...]

    @property
    def filename(self) -> str:
        return self.code.lower()


def _findings(
    prefix: str, label: str, structure: str, source: str, *, qs: bool = False, cat: bool = True
) -> Domain:
    p = prefix
    variables = [
        Var("STUDYID", "Study Identifier", origin="Protocol", key=1),
        Var("DOMAIN", "Domain Abbreviation", origin="Assigned"),
        Var("USUBJID", "Unique Subject Identifier", origin="Derived", key=2, method="MT.USUBJID"),
        Var(f"{p}SEQ", "Sequence Number", "integer", origin="Derived", method="MT.SEQ"),
        Var(f"{p}TESTCD", _test_label(p, short=True), origin="Assigned", key=5),
        Var(f"{p}TEST", _test_label(p, short=False), origin="Assigned"),
    ]
    if cat:
        variables.append(Var(f"{p}CAT", f"Category for {_topic(p)}", origin="Assigned", key=3))
    if qs:
        variables.append(Var(f"{p}SCAT", f"Subcategory for {_topic(p)}", origin="Assigned", key=4))
    variables += [
        Var(f"{p}ORRES", "Result or Finding in Original Units", source=source),
        Var(f"{p}ORRESU", "Original Units", source=source),
        Var(f"{p}STRESC", "Character Result/Finding in Std Format", origin="Derived"),
        Var(
            f"{p}STRESN",
            "Numeric Result/Finding in Standard Units",
            "float",
            origin="Derived",
            method="MT.STRESN" if qs else None,
        ),
        Var(f"{p}STRESU", "Standard Units", origin="Derived"),
        Var(f"{p}STAT", "Completion Status", origin="Derived"),
        Var(f"{p}REASND", "Reason Not Done", origin="Derived"),
    ]
    if qs:
        variables += [
            Var(f"{p}DRVFL", "Derived Flag", origin="Assigned"),
            Var(f"{p}EVAL", "Evaluator", origin="Assigned"),
        ]
    variables += [
        Var("VISITNUM", "Visit Number", "integer", origin="Protocol", key=6),
        Var("VISIT", "Visit Name", origin="Protocol"),
        Var("VISITDY", "Planned Study Day of Visit", "integer", origin="Protocol"),
        Var(f"{p}DTC", f"Date/Time of {_topic(p)}", "datetime", source=source),
        Var(f"{p}DY", f"Study Day of {_topic(p)}", "integer", origin="Derived", method="MT.DY"),
    ]
    if p in ("QS", "VS"):
        variables += [
            Var(f"{p}TPT", "Planned Time Point Name", origin="Protocol"),
            Var(f"{p}TPTNUM", "Planned Time Point Number", "integer", origin="Protocol", key=7),
            Var(f"{p}TPTREF", "Time Point Reference", origin="Protocol"),
            Var(f"{p}RFTDTC", "Date/Time of Reference Time Point", "datetime", source=source),
        ]
    return Domain(prefix, label, structure, "FINDINGS", tuple(variables))


def _topic(prefix: str) -> str:
    return {"QS": "Finding", "FT": "Test", "VS": "Measurements"}[prefix]


def _test_label(prefix: str, *, short: bool) -> str:
    if prefix == "QS":
        return "Question Short Name" if short else "Question Name"
    if prefix == "VS":
        return "Vital Signs Test Short Name" if short else "Vital Signs Test Name"
    return "Short Name of Test" if short else "Name of Test"


QS = _findings(
    "QS",
    "Questionnaires",
    "One record per questionnaire per question per time point per visit per subject",
    "Subject",
    qs=True,
)
FT = _findings(
    "FT", "Functional Tests", "One record per functional test per visit per subject", "Investigator"
)
VS = _findings(
    "VS",
    "Vital Signs",
    "One record per vital sign measurement per time point per visit per subject",
    "Investigator",
    cat=False,
)
SUPPFT = Domain(
    "SUPPFT",
    "Supplemental Qualifiers for FT",
    "One record per IDVAR, IDVARVAL, and QNAM value per subject",
    "RELATIONSHIP",
    (
        Var("STUDYID", "Study Identifier", origin="Protocol", key=1),
        Var("RDOMAIN", "Related Domain Abbreviation", origin="Assigned", key=2),
        Var("USUBJID", "Unique Subject Identifier", origin="Derived", key=3, method="MT.USUBJID"),
        Var("IDVAR", "Identifying Variable", origin="Assigned", key=4),
        Var("IDVARVAL", "Identifying Variable Value", origin="Derived", key=5),
        Var("QNAM", "Qualifier Variable Name", origin="Assigned", key=6),
        Var("QLABEL", "Qualifier Variable Label", origin="Assigned"),
        Var("QVAL", "Data Value", source="Investigator"),
        Var("QORIG", "Origin", origin="Assigned"),
        Var("QEVAL", "Evaluator", origin="Assigned"),
    ),
)
DOMAINS = {domain.code: domain for domain in (QS, FT, VS, SUPPFT)}


def study_day(day: date, day0: date) -> int:
    """SDTM study day with Day 0 (the first infusion) as the reference: no day 0 in SDTM."""
    delta = (day - day0).days
    return delta + 1 if delta >= 0 else delta


@dataclass(frozen=True)
class VisitFacts:
    number: int | None
    name: str
    planned_day: int | None


def visits(catalog: Catalog) -> dict[str, VisitFacts]:
    return {
        visit.code: VisitFacts(number, visit.name.en.upper(), study_day_of(visit.day))
        for number, visit in enumerate(catalog.schedule.visits, 1)
    }


def study_day_of(day_after_day0: int) -> int:
    return day_after_day0 + 1 if day_after_day0 >= 0 else day_after_day0


def _row(finding: SdtmFinding, record: ExportRecord, visit: VisitFacts, seq: int) -> dict[str, Any]:
    p = finding.domain
    when = finding.when or record.local(record.submitted_at).strftime("%Y-%m-%dT%H:%M:%S")
    values: dict[str, Any] = {
        "STUDYID": STUDYID,
        "DOMAIN": p,
        "USUBJID": record.usubjid,
        f"{p}SEQ": seq,
        f"{p}TESTCD": finding.testcd,
        f"{p}TEST": finding.test,
        f"{p}CAT": finding.category,
        f"{p}SCAT": finding.subcategory,
        f"{p}ORRES": finding.orres,
        f"{p}ORRESU": finding.orresu,
        f"{p}STRESC": finding.stresc,
        f"{p}STRESN": finding.stresn,
        f"{p}STRESU": finding.stresu,
        f"{p}STAT": finding.stat,
        f"{p}REASND": finding.reasnd,
        f"{p}DRVFL": "Y" if finding.derived else "",
        f"{p}EVAL": finding.evaluator,
        "VISITNUM": visit.number,
        "VISIT": visit.name,
        "VISITDY": visit.planned_day,
        f"{p}DTC": when,
        f"{p}DY": study_day(date.fromisoformat(when[:10]), record.day0),
        f"{p}TPT": finding.tpt,
        f"{p}TPTNUM": finding.tptnum,
        f"{p}TPTREF": finding.tptref,
        f"{p}RFTDTC": finding.reference_when or "",
    }
    return {v.name: values[v.name] for v in DOMAINS[p].variables}


def rows(catalog: Catalog, records: Iterable[ExportRecord]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(dataset, row) for every record, in subject order, with sequence numbers per subject."""
    schedule = visits(catalog)
    subject = None
    seq: dict[str, int] = {}
    for record in records:
        if record.instrument_id not in catalog.instruments:
            continue
        if record.usubjid != subject:
            subject, seq = record.usubjid, {}
        visit = schedule.get(record.visit_code) or VisitFacts(None, record.visit_code.upper(), None)
        instrument = catalog.instrument(record.instrument_id)
        findings = catalog.kind(record.instrument_id).sdtm_findings(
            instrument, record.answers, record.scores
        )
        for finding in findings:
            seq[finding.domain] = seq.get(finding.domain, 0) + 1
            yield finding.domain, _row(finding, record, visit, seq[finding.domain])
            for qnam, qlabel, qval in finding.supp:
                yield (
                    f"SUPP{finding.domain}",
                    {
                        "STUDYID": STUDYID,
                        "RDOMAIN": finding.domain,
                        "USUBJID": record.usubjid,
                        "IDVAR": f"{finding.domain}SEQ",
                        "IDVARVAL": str(seq[finding.domain]),
                        "QNAM": qnam,
                        "QLABEL": qlabel,
                        "QVAL": qval,
                        "QORIG": "COLLECTED",
                        "QEVAL": "",
                    },
                )


class _Spool:
    """One dataset's rows on disk (marshalled tuples in variable order) and its character
    variables' longest values (UTF-8 bytes)."""

    def __init__(self, folder: Path, domain: Domain) -> None:
        self.domain = domain
        self.names = [v.name for v in domain.variables]
        self.path = folder / f"{domain.filename}.rows"
        self.file = self.path.open("wb")
        self.text = [i for i, v in enumerate(domain.variables) if not v.numeric]
        self.longest = [1] * len(self.names)
        self.count = 0

    def add(self, row: dict[str, Any]) -> None:
        values = [row[name] for name in self.names]
        for i in self.text:
            value = values[i]
            if value is None:
                values[i] = value = ""
            size = len(value.encode("utf-8")) if not value.isascii() else len(value)
            if size > self.longest[i]:
                if size > MAX_TEXT:
                    raise ValueError(f"{self.domain.code}.{self.names[i]} over {MAX_TEXT} bytes")
                self.longest[i] = size
        marshal.dump(tuple(values), self.file)
        self.count += 1

    @property
    def lengths(self) -> dict[str, int]:
        return {self.names[i]: self.longest[i] for i in self.text}

    def close(self) -> None:
        self.file.close()

    def tuples(self) -> Iterator[tuple[Any, ...]]:
        with self.path.open("rb") as stored:
            while True:
                try:
                    yield marshal.load(stored)  # noqa: S302 (our own scratch file)
                except EOFError:
                    return

    def read(self) -> Iterator[dict[str, Any]]:
        names = self.names
        for values in self.tuples():
            yield dict(zip(names, values, strict=True))


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if type(value) is float:
        return number_text(value)
    if type(value) is str and value[:1] in FORMULA_FIRST:
        return neutralise(value)
    return value


def _write_csv(out: IO[bytes], domain: Domain, spool: _Spool) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(spool.names)
        writer.writerows([_csv_cell(v) for v in values] for values in spool.tuples())
    finally:
        text.flush()
        text.detach()


@dataclass(frozen=True)
class Dataset:
    """A written dataset, for define.xml: its domain, rows and character lengths."""

    domain: Domain
    rows: int
    lengths: dict[str, int]


def write(target: Target, catalog: Catalog, records: Iterable[ExportRecord]) -> int:
    """The datasets (<domain>.xpt and <domain>.csv) and define.xml; returns the records read."""
    counted = 0

    def counting() -> Iterator[ExportRecord]:
        nonlocal counted
        for record in records:
            counted += 1
            yield record

    with tempfile.TemporaryDirectory(prefix="prime-sdtm-") as folder:
        spools = {code: _Spool(Path(folder), domain) for code, domain in DOMAINS.items()}
        for code, row in rows(catalog, counting()):
            if code not in spools:
                raise ValueError(f"an instrument made a {code} row; no such dataset is defined")
            spools[code].add(row)
        written = []
        for spool in spools.values():
            spool.close()
            if not spool.count:
                continue  # SDTM submits no empty datasets
            domain = spool.domain
            with target.open(f"{domain.filename}.csv") as out:
                _write_csv(out, domain, spool)
            with target.open(f"{domain.filename}.xpt") as out:
                xpt.write(
                    out,
                    name=domain.code,
                    label=domain.label,
                    variables=[xpt.Variable(v.name, v.label, v.numeric) for v in domain.variables],
                    lengths=spool.lengths,
                    rows=spool.read(),
                )
            written.append(Dataset(domain, spool.count, spool.lengths))
        with target.open(define.FILENAME) as out:
            define.write(out, catalog, written)
    return counted
