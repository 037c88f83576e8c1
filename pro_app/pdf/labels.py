"""The fixed words of the PDF, through gettext, in the record's language and in English."""

from __future__ import annotations

from flask_babel import force_locale, pgettext
from flask_babel import gettext as _

from pro_app.pdf.document import Line


def _words() -> dict[str, str]:
    """Called under force_locale: every label of the PDF template in the current language."""
    return {
        "protocol": _("Protocol"),
        "site": _("Site"),
        "study_id": _("Participant study id"),
        "visit": _("Visit"),
        "window": _("Visit window"),
        "to": _("to"),
        "instrument": _("Questionnaire"),
        "textpack": _("Text pack"),
        "language": _("Record language"),
        "entered_by": _("Entered by"),
        "by_participant": _("The participant"),
        "by_staff": _("Staff user"),
        "reason": _("Reason"),
        "started": _("First answer saved"),
        "submitted": pgettext("label before a time", "Submitted"),
        "receipt": _("Receipt number"),
        "record_version": _("Record version"),
        "original": _("Original record"),
        "correction": _("Correction"),
        # One message with the number in it: 取代第2版 / replaces version 2.
        "corrects": _("Replaces version %(n)s"),
        "was": _("was"),
        "correction_reason": _("Reason for the correction"),
        "void": _("VOID"),
        "void_statement": _(
            "This version voids the record: it was entered for the wrong visit or participant. "
            "The answers below are kept as they were sealed and no longer count."
        ),
        "void_reason": _("Reason for voiding"),
        "record_hash": _("Record SHA-256"),
        "textpack_hash": _("Text pack SHA-256"),
        "item": _("Item"),
        "score_items": _("Items"),
        "answer": _("Answer"),
        "not_answered": _("Not answered"),
        "answered_in": _("answered in"),
        "score": _("Score"),
        "value": _("Value"),
        "range": _("Range"),
        "signature": _("Electronic signature"),
        "signature_meaning": _(
            "PRIME-PRO made this copy from the sealed record with the SHA-256 above and signed it "
            "with the site's certificate (PAdES). The signature shows that the file is an "
            "unaltered copy of that record as stored in the trial database. It is not a signature "
            "of the participant or of an investigator and does not confirm the medical content."
        ),
        "signature_check": _(
            "To check it, run `flask pdf verify` on the file or open it in a PDF reader that "
            "validates signatures. The record itself is attached as record.json."
        ),
        "signer": _("Signed by"),
        "fingerprint": _("Certificate SHA-256"),
        "demo": _("DEMO"),
        "demo_wording": _(
            "Demo wording, not the licensed questionnaire: this copy is not valid as trial source "
            "data."
        ),
        "demo_signature": _(
            "Demo signature: a self-signed PRIME-PRO certificate, not the site's certificate."
        ),
        "licensed": _("Questionnaire wording used under licence"),
        "page": _("Page %(page)s of %(pages)s"),
    }


def labels(language: str) -> dict[str, Line]:
    """Each label in the record's language, with its English alongside for a non-English record."""
    with force_locale(language):
        native = _words()
    if language.startswith("en"):
        return {key: Line(text) for key, text in native.items()}
    with force_locale("en"):
        english = _words()
    return {key: Line(text, english[key]) for key, text in native.items()}
