"""Define-XML 2.1 for the SDTM datasets: standards, datasets (with their structure, keys, class
and file), variables (type, length = the longest value written, origin), code lists of the test
codes each instrument contributes, and the methods behind derived values. Small, so it is built
in memory once the datasets are written (their lengths are known only then).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from lxml import etree

from pro_app import clock
from pro_app.questionnaire.catalog import Catalog
from pro_app.services.exports import source

if TYPE_CHECKING:
    from pro_app.services.exports.sdtm import Dataset

FILENAME = "define.xml"
ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}
SDTMIG_VERSION = "3.4"
# The CDISC controlled terminology the VS and FT test codes were taken from.
CT_VERSION = "2024-09-27"


def _q(tag: str) -> str:
    return f"{{{ODM_NS}}}{tag}"


def _d(tag: str) -> str:
    return f"{{{DEF_NS}}}{tag}"


def _description(parent: etree._Element, text: str, tag: str = "Description") -> None:
    element = etree.SubElement(parent, _q(tag))
    etree.SubElement(element, _q("TranslatedText"), {XML_LANG: "en"}).text = text


def _methods(catalog: Catalog) -> dict[str, tuple[str, str]]:
    scores = [
        f"{test.testcd}: {test.method}"
        for instrument_id, instrument in catalog.instruments.items()
        for test in catalog.kind(instrument_id).sdtm_tests(instrument)
        if test.method
    ]
    return {
        "MT.USUBJID": (
            "Unique subject identifier",
            "STUDYID, the site code and the participant's study id joined by hyphens.",
        ),
        "MT.SEQ": (
            "Sequence number",
            "Numbered 1, 2, ... within each subject, in order of visit, instrument and item.",
        ),
        "MT.DY": (
            "Study day",
            "Date of --DTC minus Day 0 (the first infusion) plus 1 on or after Day 0; date minus "
            "Day 0 before it (SDTM has no study day 0).",
        ),
        "MT.STRESN": (
            "Numeric result",
            "Collected answers: the number answered. Derived rows (QSDRVFL = Y): "
            + " ".join(scores),
        ),
    }


def write(out: IO[bytes], catalog: Catalog, datasets: Sequence[Dataset]) -> None:
    now = clock.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    root = etree.Element(
        _q("ODM"),
        {
            "FileType": "Snapshot",
            "FileOID": f"PRIME-PRO.{source.STUDYID}.DEFINE.{clock.utcnow():%Y%m%dT%H%M%S}",
            "CreationDateTime": now,
            "ODMVersion": "1.3.2",
            "Originator": "PRIME-PRO",
            "SourceSystem": "PRIME-PRO",
            _d("Context"): "Other",
        },
        nsmap=NSMAP,
    )
    study = etree.SubElement(root, _q("Study"), OID=f"ST.{source.STUDYID}")
    globals_ = etree.SubElement(study, _q("GlobalVariables"))
    etree.SubElement(globals_, _q("StudyName")).text = source.STUDY_NAME
    etree.SubElement(globals_, _q("StudyDescription")).text = source.STUDY_DESCRIPTION
    etree.SubElement(globals_, _q("ProtocolName")).text = source.PROTOCOL_NAME
    mdv = etree.SubElement(
        study,
        _q("MetaDataVersion"),
        {
            "OID": "MDV.PRIME-PRO.SDTM",
            "Name": f"PRIME-PRO SDTM tabulations, schedule {catalog.schedule.version}",
            "Description": "SDTM datasets of the PRIME-PRO sealed records (current versions)",
            _d("DefineVersion"): "2.1.0",
        },
    )
    standards = etree.SubElement(mdv, _d("Standards"))
    etree.SubElement(
        standards,
        _d("Standard"),
        OID="STD.SDTMIG",
        Name="SDTMIG",
        Type="IG",
        Version=SDTMIG_VERSION,
        Status="Final",
    )
    etree.SubElement(
        standards,
        _d("Standard"),
        OID="STD.CT",
        Name="CDISC/NCI",
        Type="CT",
        PublishingSet="SDTM",
        Version=CT_VERSION,
        Status="Final",
    )
    tests = _tests(catalog)
    for dataset in datasets:
        domain = dataset.domain
        group = etree.SubElement(
            mdv,
            _q("ItemGroupDef"),
            {
                "OID": f"IG.{domain.code}",
                "Name": domain.code,
                "SASDatasetName": domain.code,
                "Domain": domain.code[4:] if domain.code.startswith("SUPP") else domain.code,
                "Repeating": "Yes",
                "IsReferenceData": "No",
                "Purpose": "Tabulation",
                _d("Structure"): domain.structure,
                _d("StandardOID"): "STD.SDTMIG",
                _d("ArchiveLocationID"): f"LF.{domain.code}",
            },
        )
        _description(group, domain.label)
        keys = sorted((v.key, v.name) for v in domain.variables if v.key is not None)
        key_sequence = {name: str(n) for n, (_key, name) in enumerate(keys, 1)}
        for number, variable in enumerate(domain.variables, 1):
            attributes = {
                "ItemOID": f"IT.{domain.code}.{variable.name}",
                "OrderNumber": str(number),
                "Mandatory": "Yes" if variable.key is not None else "No",
            }
            if variable.name in key_sequence:
                attributes["KeySequence"] = key_sequence[variable.name]
            if variable.method:
                attributes["MethodOID"] = variable.method
            etree.SubElement(group, _q("ItemRef"), attributes)
        etree.SubElement(group, _d("Class"), Name=domain.sdtm_class)
        leaf = etree.SubElement(
            group,
            _d("leaf"),
            {"ID": f"LF.{domain.code}", f"{{{XLINK_NS}}}href": f"{domain.filename}.xpt"},
        )
        etree.SubElement(leaf, _d("title")).text = f"{domain.filename}.xpt"
    for dataset in datasets:
        domain = dataset.domain
        for variable in domain.variables:
            attributes = {
                "OID": f"IT.{domain.code}.{variable.name}",
                "Name": variable.name,
                "SASFieldName": variable.name,
                "DataType": variable.datatype,
            }
            if variable.datatype == "text":
                attributes["Length"] = str(dataset.lengths.get(variable.name, 1))
            elif variable.numeric:
                attributes["Length"] = "8"
            item = etree.SubElement(mdv, _q("ItemDef"), attributes)
            _description(item, variable.label)
            is_testcd = variable.name == f"{domain.code}TESTCD"
            if is_testcd and domain.code in tests:
                etree.SubElement(item, _q("CodeListRef"), CodeListOID=f"CL.{domain.code}TESTCD")
            origin = {"Type": variable.origin}
            if variable.origin == "Collected":
                origin["Source"] = variable.source
            etree.SubElement(item, _d("Origin"), origin)
    written = {dataset.domain.code for dataset in datasets}
    for domain_code, codes in tests.items():
        if domain_code not in written:
            continue
        codelist = etree.SubElement(
            mdv,
            _q("CodeList"),
            OID=f"CL.{domain_code}TESTCD",
            Name=f"{domain_code} test codes",
            DataType="text",
        )
        for testcd, test in sorted(codes.items()):
            item = etree.SubElement(codelist, _q("CodeListItem"), CodedValue=testcd)
            _description(item, test, "Decode")
    used = {v.method for d in datasets for v in d.domain.variables if v.method}
    for oid, (name, description) in _methods(catalog).items():
        if oid not in used:
            continue
        method = etree.SubElement(mdv, _q("MethodDef"), OID=oid, Name=name, Type="Computation")
        _description(method, description)
    out.write(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _tests(catalog: Catalog) -> dict[str, dict[str, str]]:
    """Test code -> test name, per domain, from every instrument kind."""
    tests: dict[str, dict[str, str]] = {}
    for instrument_id, instrument in catalog.instruments.items():
        for test in catalog.kind(instrument_id).sdtm_tests(instrument):
            tests.setdefault(test.domain, {})[test.testcd] = test.test
    return tests
