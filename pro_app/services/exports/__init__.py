"""Exports a data manager can load: flat CSV with a data dictionary, CDISC ODM 1.3.2, SDTM
(SAS transport v5 and CSV) with Define-XML 2.1, and FHIR R4 NDJSON. One module per format; each
instrument kind contributes its own mappings (pro_app/questionnaire/kinds/), so an instrument of
an existing kind exports with no code. Every export streams the records from the database and
writes each file as it goes; each one is an audit event. See docs/exports.md.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from pro_app import clock
from pro_app.errors import HistoryNotInSdtm
from pro_app.questionnaire.catalog import Catalog
from pro_app.services import audit
from pro_app.services.exports import fhir, flat, odm, sdtm, source
from pro_app.services.exports.targets import Target

FORMATS = ("csv", "odm", "sdtm", "fhir")
# What a single download of each format is: the ODM file is XML, the others a zip of files.
SUFFIXES = {"csv": "zip", "odm": "xml", "sdtm": "zip", "fhir": "zip"}
ODM_FILE = "odm.xml"


@dataclass(frozen=True)
class ExportSummary:
    format: str
    history: bool
    records: int


@dataclass(frozen=True)
class ExportRequest:
    """What to export: a format, whose records (None = every site), and whether all versions."""

    format: str
    site_ids: Collection[int] | None
    history: bool
    base_url: str


def filename(fmt: str, scope: str, history: bool) -> str:
    stamp = f"{clock.utcnow():%Y%m%dT%H%MZ}"
    kind = "history" if history else "current"
    return f"prime-pro_{fmt}_{scope}_{kind}_{stamp}.{SUFFIXES[fmt]}"


def write(
    request: ExportRequest, target: Target, catalog: Catalog, *, actor: str, destination: str
) -> ExportSummary:
    """Write one export into `target` and audit it (who, which format, which sites, how many).
    The target is closed even when the export fails."""
    try:
        check(request)
    except BaseException:
        target.close()
        raise
    records = source.records(request.site_ids, history=request.history)
    writers: dict[str, Callable[[], int]] = {
        "csv": lambda: flat.write(target, catalog, records),
        "odm": lambda: _odm(request, target, catalog),
        "sdtm": lambda: sdtm.write(target, catalog, records),
        "fhir": lambda: fhir.write(target, catalog, records, base_url=request.base_url),
    }
    try:
        count = writers[request.format]()
    finally:
        target.close()
    sites = source.sites(request.site_ids)
    audit.record(
        "records.exported",
        actor,
        site_id=sites[0].id if request.site_ids is not None and len(sites) == 1 else None,
        format=request.format,
        history=request.history,
        records=count,
        sites=[site.code for site in sites],
        destination=destination,
    )
    return ExportSummary(format=request.format, history=request.history, records=count)


def check(request: ExportRequest) -> None:
    """Refuse what cannot be exported, before anything is written."""
    if request.format not in FORMATS:
        raise ValueError(f"unknown export format {request.format!r}")
    if request.format == "sdtm" and request.history:
        raise HistoryNotInSdtm()


def _odm(request: ExportRequest, target: Target, catalog: Catalog) -> int:
    with target.open(ODM_FILE) as out:
        return odm.write(
            out,
            catalog,
            source.records(request.site_ids, history=request.history),
            site_ids=request.site_ids,
            history=request.history,
        )
