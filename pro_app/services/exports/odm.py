"""CDISC ODM 1.3.2: the study's metadata (protocol, visits as study events, instruments as forms,
item groups, items with data types, code lists, LOINC and CDISC aliases), the users and sites
(AdminData), and the clinical data: subject = study id, study event = visit, form = instrument,
item data = the sealed values, an audit record per version (who, when in UTC, why) and the record
hash as an annotation.

Current versions make a Snapshot file; with the history every version is a transaction (Insert,
Update for a correction, Remove for a voiding version) in a Transactional file. Written with
lxml's incremental writer, one subject at a time, so memory does not grow with the trial.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from itertools import groupby
from typing import IO, Any

from lxml import etree

from pro_app import clock
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.kinds.base import Column
from pro_app.services.exports import source
from pro_app.services.exports.source import ExportRecord

NS = "http://www.cdisc.org/ns/odm/v1.3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
STUDY_OID = f"ST.{source.STUDYID}"
PARTICIPANT_USER = "USR.PARTICIPANT"
# ODM 1.3.2 DataType of each export column datatype.
DATATYPES = {
    "integer": "integer",
    "decimal": "float",
    "text": "text",
    "date": "date",
    "time": "time",
    "datetime": "datetime",
    "boolean": "boolean",
    "list": "text",
}


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def oid(*parts: str) -> str:
    return ".".join(re.sub(r"[^A-Za-z0-9_-]", "_", part).upper() for part in parts)


def mdv_oid(catalog: Catalog) -> str:
    return f"MDV.{oid(catalog.schedule.version)}"


def _text(parent: etree._Element, tag: str, en: str, zh: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _q(tag))
    english = etree.SubElement(element, _q("TranslatedText"), {XML_LANG: "en"})
    english.text = en
    if zh:
        chinese = etree.SubElement(element, _q("TranslatedText"), {XML_LANG: "zh-Hans"})
        chinese.text = zh
    return element


def _unit_oid(unit: str) -> str:
    return "MU." + oid(unit.replace("%", "percent").replace("/", "_per_"))


class _Forms:
    """Every instrument's columns, groups and code lists, keyed for the ODM metadata."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.columns: dict[str, dict[str, Column]] = {}
        self.codelists: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
        self.units: set[str] = set()
        for instrument_id, instrument in catalog.instruments.items():
            kind = catalog.kind(instrument_id)
            columns = {c.name: c for c in kind.export_columns(instrument)}
            self.columns[instrument_id] = columns
            for column in columns.values():
                if column.unit:
                    self.units.add(column.unit)
                if column.codes and column.datatype != "list":
                    key = (DATATYPES[column.datatype], column.codes)
                    self.codelists.setdefault(key, f"CL.{oid(column.name)}")

    def item_oid(self, instrument_id: str, column: str) -> str:
        return "IT." + oid(column)

    def group_oid(self, instrument_id: str, group: str) -> str:
        return f"IG.{oid(instrument_id)}.{oid(group)}"


def _metadata(catalog: Catalog, forms: _Forms) -> etree._Element:
    study = etree.Element(_q("Study"), OID=STUDY_OID, nsmap={None: NS})
    globals_ = etree.SubElement(study, _q("GlobalVariables"))
    for tag, value in (
        ("StudyName", source.STUDY_NAME),
        ("StudyDescription", source.STUDY_DESCRIPTION),
        ("ProtocolName", source.PROTOCOL_NAME),
    ):
        etree.SubElement(globals_, _q(tag)).text = value
    if forms.units:
        basic = etree.SubElement(study, _q("BasicDefinitions"))
        for unit in sorted(forms.units):
            element = etree.SubElement(basic, _q("MeasurementUnit"), OID=_unit_oid(unit), Name=unit)
            _text(element, "Symbol", unit)
    mdv = etree.SubElement(
        study,
        _q("MetaDataVersion"),
        OID=mdv_oid(catalog),
        Name=f"PRIME-PRO instruments, schedule {catalog.schedule.version}",
    )
    protocol = etree.SubElement(mdv, _q("Protocol"))
    for number, visit in enumerate(catalog.schedule.visits, 1):
        etree.SubElement(
            protocol,
            _q("StudyEventRef"),
            StudyEventOID=f"SE.{oid(visit.code)}",
            OrderNumber=str(number),
            Mandatory="Yes",
        )
    for visit in catalog.schedule.visits:
        event = etree.SubElement(
            mdv,
            _q("StudyEventDef"),
            OID=f"SE.{oid(visit.code)}",
            Name=visit.name.en,
            Repeating="No",
            Type="Scheduled",
        )
        _text(event, "Description", f"Day {visit.day} after Day 0 (first infusion)", visit.name.zh)
        for number, instrument_id in enumerate(visit.instruments, 1):
            etree.SubElement(
                event,
                _q("FormRef"),
                FormOID=f"F.{oid(instrument_id)}",
                OrderNumber=str(number),
                Mandatory="No",
            )
    groups: list[tuple[str, str, list[str]]] = []
    for instrument_id, instrument in catalog.instruments.items():
        form = catalog.kind(instrument_id).odm_form(instrument)
        element = etree.SubElement(
            mdv,
            _q("FormDef"),
            OID=f"F.{oid(instrument_id)}",
            Name=f"{instrument.title.en} v{instrument.version}",
            Repeating="No",
        )
        _text(element, "Description", instrument.title.en, instrument.title.zh)
        for number, group in enumerate(form.groups, 1):
            etree.SubElement(
                element,
                _q("ItemGroupRef"),
                ItemGroupOID=forms.group_oid(instrument_id, group.id),
                OrderNumber=str(number),
                Mandatory="No",
            )
            groups.append(
                (instrument_id, forms.group_oid(instrument_id, group.id), list(group.columns))
            )
        for context, name in form.form_aliases:
            etree.SubElement(element, _q("Alias"), Context=context, Name=name)
    by_group_label = {
        forms.group_oid(instrument_id, group.id): group.label
        for instrument_id, instrument in catalog.instruments.items()
        for group in catalog.kind(instrument_id).odm_form(instrument).groups
    }
    for instrument_id, group_oid, columns in groups:
        label = by_group_label[group_oid]
        element = etree.SubElement(
            mdv,
            _q("ItemGroupDef"),
            OID=group_oid,
            Name=f"{instrument_id}: {label.en}",
            Repeating="No",
        )
        for number, column in enumerate(columns, 1):
            etree.SubElement(
                element,
                _q("ItemRef"),
                ItemOID=forms.item_oid(instrument_id, column),
                OrderNumber=str(number),
                Mandatory="No",
            )
    for instrument_id, instrument in catalog.instruments.items():
        aliases = catalog.kind(instrument_id).odm_form(instrument).aliases
        for defined in forms.columns[instrument_id].values():
            element = etree.SubElement(
                mdv,
                _q("ItemDef"),
                OID=forms.item_oid(instrument_id, defined.name),
                Name=defined.name,
                DataType=DATATYPES[defined.datatype],
            )
            _text(element, "Question", defined.label.en, defined.label.zh)
            if defined.unit:
                etree.SubElement(
                    element, _q("MeasurementUnitRef"), MeasurementUnitOID=_unit_oid(defined.unit)
                )
            if defined.codes and defined.datatype != "list":
                codelist = forms.codelists[(DATATYPES[defined.datatype], defined.codes)]
                etree.SubElement(element, _q("CodeListRef"), CodeListOID=codelist)
            for context, name in aliases.get(defined.name, ()):
                etree.SubElement(element, _q("Alias"), Context=context, Name=name)
    for (datatype, codes), codelist_oid in forms.codelists.items():
        element = etree.SubElement(
            mdv, _q("CodeList"), OID=codelist_oid, Name=codelist_oid[3:], DataType=datatype
        )
        for value, decode in codes:
            item = etree.SubElement(element, _q("CodeListItem"), CodedValue=value)
            _text(item, "Decode", decode)
    return study


def _admin(catalog: Catalog, site_ids: Collection[int] | None, history: bool) -> etree._Element:
    admin = etree.Element(_q("AdminData"), StudyOID=STUDY_OID, nsmap={None: NS})
    participant = etree.SubElement(admin, _q("User"), OID=PARTICIPANT_USER, UserType="Other")
    etree.SubElement(participant, _q("LoginName")).text = "participant"
    for username in source.staff_usernames(site_ids, history=history):
        user = etree.SubElement(admin, _q("User"), OID=f"USR.{oid(username)}", UserType="Other")
        etree.SubElement(user, _q("LoginName")).text = username
    for site in source.sites(site_ids):
        location = etree.SubElement(
            admin,
            _q("Location"),
            OID=f"LOC.{oid(site.code)}",
            Name=site.name_en,
            LocationType="Site",
        )
        etree.SubElement(
            location,
            _q("MetaDataVersionRef"),
            StudyOID=STUDY_OID,
            MetaDataVersionOID=mdv_oid(catalog),
            EffectiveDate=clock.utcnow().date().isoformat(),
        )
    return admin


def _value(datatype: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if datatype == "time" and isinstance(value, str) and len(value) == 5:
        return f"{value}:00"
    if isinstance(value, float) and value.is_integer() and datatype == "integer":
        return str(int(value))
    return str(value)


def _utc(record: ExportRecord) -> str:
    return record.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _form(record: ExportRecord, catalog: Catalog, forms: _Forms, history: bool) -> etree._Element:
    attributes = {"FormOID": f"F.{oid(record.instrument_id)}"}
    if history:
        attributes["TransactionType"] = (
            "Remove" if record.voided else "Update" if record.version > 1 else "Insert"
        )
    form = etree.Element(_q("FormData"), attributes, nsmap={None: NS})
    audit = etree.SubElement(form, _q("AuditRecord"))
    etree.SubElement(
        audit,
        _q("UserRef"),
        UserOID=f"USR.{oid(record.staff)}" if record.staff else PARTICIPANT_USER,
    )
    etree.SubElement(audit, _q("LocationRef"), LocationOID=f"LOC.{oid(record.site_code)}")
    etree.SubElement(audit, _q("DateTimeStamp")).text = _utc(record)
    reason = record.correction_reason or record.entry_reason
    if record.correction_reason_code:
        reason = f"[{record.correction_reason_code}] {reason or ''}".strip()
    if reason:
        etree.SubElement(audit, _q("ReasonForChange")).text = reason
    etree.SubElement(audit, _q("SourceID")).text = f"PRIME-PRO record {record.record_id}"
    annotation = etree.SubElement(form, _q("Annotation"), SeqNum="1")
    etree.SubElement(annotation, _q("Comment"), SponsorOrSite="Sponsor").text = (
        f"record_sha256={record.record_sha256}; record_version={record.version}; "
        f"receipt={record.receipt_number}; instrument_version={record.instrument_version}; "
        f"scoring_version={record.scoring_version}; textpack={record.textpack_id}; "
        f"language={record.language}"
    )
    if record.voided or record.instrument_id not in catalog.instruments:
        return form
    instrument = catalog.instrument(record.instrument_id)
    kind = catalog.kind(record.instrument_id)
    cells = kind.export_cells(instrument, record.answers, record.scores)
    columns = forms.columns[record.instrument_id]
    for group in kind.odm_form(instrument).groups:
        element = etree.SubElement(
            form,
            _q("ItemGroupData"),
            ItemGroupOID=forms.group_oid(record.instrument_id, group.id),
        )
        for name in group.columns:
            value = cells.get(name)
            item_oid = forms.item_oid(record.instrument_id, name)
            if value is None or value == "" or value == []:
                etree.SubElement(element, _q("ItemData"), ItemOID=item_oid, IsNull="Yes")
            else:
                etree.SubElement(
                    element,
                    _q("ItemData"),
                    ItemOID=item_oid,
                    Value=_value(DATATYPES[columns[name].datatype], value),
                )
    return form


def _subjects(
    records: Iterable[ExportRecord], catalog: Catalog, forms: _Forms, history: bool
) -> Iterator[etree._Element]:
    context = {"TransactionType": "Context"} if history else {}
    for (site_code, study_id), subject_records in groupby(
        records, key=lambda r: (r.site_code, r.study_id)
    ):
        subject = etree.Element(
            _q("SubjectData"), {"SubjectKey": study_id, **context}, nsmap={None: NS}
        )
        etree.SubElement(subject, _q("SiteRef"), LocationOID=f"LOC.{oid(site_code)}")
        for visit_code, visit_records in groupby(subject_records, key=lambda r: r.visit_code):
            event = etree.SubElement(
                subject, _q("StudyEventData"), {"StudyEventOID": f"SE.{oid(visit_code)}", **context}
            )
            for record in visit_records:
                event.append(_form(record, catalog, forms, history))
        yield subject


def write(
    out: IO[bytes],
    catalog: Catalog,
    records: Iterable[ExportRecord],
    *,
    site_ids: Collection[int] | None,
    history: bool,
) -> int:
    """The ODM file into `out`; returns the number of records."""
    forms = _Forms(catalog)
    counted = _Counter(records)
    now = clock.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        attributes = {
            "FileType": "Transactional" if history else "Snapshot",
            "FileOID": f"PRIME-PRO.{source.STUDYID}.{clock.utcnow():%Y%m%dT%H%M%S}",
            "CreationDateTime": now,
            "ODMVersion": "1.3.2",
            "Originator": "PRIME-PRO",
            "SourceSystem": "PRIME-PRO",
        }
        if not history:
            attributes["AsOfDateTime"] = now
        with xf.element(_q("ODM"), attributes, nsmap={None: NS}):
            xf.write(_metadata(catalog, forms))
            xf.write(_admin(catalog, site_ids, history))
            with xf.element(
                _q("ClinicalData"), StudyOID=STUDY_OID, MetaDataVersionOID=mdv_oid(catalog)
            ):
                for subject in _subjects(counted, catalog, forms, history):
                    xf.write(subject)
                    xf.flush()
    return counted.count


class _Counter:
    """Passes records through and counts them."""

    def __init__(self, records: Iterable[ExportRecord]) -> None:
        self.records = records
        self.count = 0

    def __iter__(self) -> Iterator[ExportRecord]:
        for record in self.records:
            self.count += 1
            yield record
