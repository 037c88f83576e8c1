"""What monitors read: the state of a record's signed PDF and the findings of the PDF check."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pro_app.web.messages import Catalogue

MONITOR = Catalogue(
    "monitor",
    {
        # --- the state of a record's signed PDF -------------------------------------------------
        "pdf.ready": _l("Signed PDF ready"),
        "pdf.pending": _l("Waiting to be made"),
        "pdf.running": _l("Being made"),
        "pdf.retrying": _l("Failed, will retry"),
        "pdf.failed": _l("Failed"),
        "pdf.missing": _l("Not queued"),
        # --- findings of the PDF check (pro_app/pdf/verify.py, services/pdf_copies.py) -----------
        "pdf.unreadable": _l("This is not a readable PDF file."),
        "signature.count": _l(
            "This is not a signed PRIME-PRO PDF: it has %(found)s signatures, not one."
        ),
        "signature.unreadable": _l("The signature cannot be checked: the file may be damaged."),
        "signature.digest_mismatch": _l("The file was changed after it was signed."),
        "signature.invalid": _l("The signature does not match the signed content."),
        "signature.partial_coverage": _l("The file has content added after signing."),
        "signature.timestamp_invalid": _l("The signature's timestamp is not valid."),
        "signature.no_record": _l("The signature does not name a PRIME-PRO record."),
        "record.not_attached": _l("The sealed record is not attached to the file."),
        "record.attachment_mismatch": _l(
            "The attached record does not match the signed record hash."
        ),
        "signer.unknown": _l("It was signed by a certificate this trial has never used."),
        "record.unknown_hash": _l(
            "No sealed record in the database has the hash this file certifies."
        ),
        "record.altered": _l("The record in the database no longer matches its sealed hash."),
        "pdf.not_on_file": _l("This file is not the signed copy on file for that record."),
        "error": _l("The check found a problem."),
    },
)


# The formats of the exports page: labels for format codes.
EXPORT_FORMATS = {
    "csv": _l("CSV with a data dictionary (zip)"),
    "odm": _l("CDISC ODM 1.3.2 (XML)"),
    "sdtm": _l("SDTM datasets (XPT and CSV) with Define-XML (zip)"),
    "fhir": _l("FHIR R4 NDJSON (zip)"),
}


def pdf_state(state: str) -> str:
    return MONITOR.text(f"pdf.{state}")
