"""What monitors read: PDF states and the verifier's findings, in their language."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

PDF_STATES = {
    "ready": _l("Signed PDF ready"),
    "pending": _l("Waiting to be made"),
    "running": _l("Being made"),
    "retrying": _l("Failed, will retry"),
    "failed": _l("Failed"),
    "missing": _l("Not queued"),
}

# The verifier's findings are written in English by pro_app/pdf/verify.py and
# pro_app/services/pdf_copies.py; these are the ones a monitor reads in Chinese too.
FINDINGS = {
    "the signed content was changed after signing (digest mismatch)": _l(
        "The file was changed after it was signed."
    ),
    "the signature value is not valid for the signed content": _l(
        "The signature does not match the signed content."
    ),
    "the file has content that the signature does not cover": _l(
        "The file has content added after signing."
    ),
    "the signature's timestamp is not valid": _l("The signature's timestamp is not valid."),
    "the signature does not name a PRIME-PRO record": _l(
        "The signature does not name a PRIME-PRO record."
    ),
    "the record (record.json) is not attached": _l(
        "The sealed record is not attached to the file."
    ),
    "the attached record.json does not match the signed record hash": _l(
        "The attached record does not match the signed record hash."
    ),
    "the signing certificate is not one this trial database has used": _l(
        "It was signed by a certificate this trial has never used."
    ),
    "no sealed record in the database has the hash this PDF certifies": _l(
        "No sealed record in the database has the hash this file certifies."
    ),
    "the database record no longer matches its sealed hash": _l(
        "The record in the database no longer matches its sealed hash."
    ),
    "this file is not the signed copy stored for that record": _l(
        "This file is not the signed copy on file for that record."
    ),
}


# The export formats on the monitor's download page, in the reader's language.
EXPORT_FORMATS = {
    "csv": _l("CSV with a data dictionary (zip)"),
    "odm": _l("CDISC ODM 1.3.2 (XML)"),
    "sdtm": _l("SDTM datasets (XPT and CSV) with Define-XML (zip)"),
    "fhir": _l("FHIR R4 NDJSON (zip)"),
}


def finding(problem: str) -> str:
    """A finding in the reader's language; an unforeseen one (with technical detail) as written."""
    known = FINDINGS.get(problem)
    if known is not None:
        return str(known)
    if problem.startswith(("not a readable PDF", "expected exactly one")):
        return _("This is not a signed PRIME-PRO PDF (%(detail)s).", detail=problem)
    return problem
