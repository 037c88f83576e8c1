"""Checking a signed PDF by itself: is the signature valid, the file unmodified since signing, and
which record does it certify. The database side (is that a sealed record of ours, signed by one of
our certificates) is in pro_app/services/pdf_copies.py, which monitors' pages and the CLI call.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from pro_app.pdf.problems import Problem
from pro_app.pdf.sign import (
    REASON_PREFIX,
    fingerprint,
    is_demo,
    outside_event_loop,
    subject_line,
)

RECORD_ATTACHMENT = "record.json"


@dataclass
class SignatureReport:
    """What the file itself proves. `problems` is empty when the signature holds."""

    problems: list[Problem] = field(default_factory=list)
    signer_subject: str | None = None
    signer_fingerprint: str | None = None
    demo_signature: bool = False
    signed_at: datetime | None = None
    timestamped: bool = False
    record_sha256: str | None = None
    attached_record: bytes | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_signature(data: bytes) -> SignatureReport:
    """Validate the one PAdES signature of a PRIME-PRO PDF, offline (no network, no trust store:
    whose certificate it is, is decided by the caller against the database)."""
    report = SignatureReport()
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_regular_signatures
    except Exception as exc:  # a damaged file can fail in many places inside the parser
        report.problems.append(Problem("pdf.unreadable", detail=f"{type(exc).__name__}: {exc}"))
        return report
    if len(signatures) != 1:
        report.problems.append(Problem("signature.count", {"found": len(signatures)}))
        if not signatures:
            return report
    embedded = signatures[0]
    certificate = embedded.signer_cert
    report.signer_subject = subject_line(certificate)
    report.signer_fingerprint = fingerprint(certificate)
    report.demo_signature = is_demo(certificate)
    context = ValidationContext(trust_roots=[certificate], allow_fetching=False)
    try:
        status = outside_event_loop(
            lambda: validate_pdf_signature(
                embedded,
                signer_validation_context=context,
                key_usage_settings=KeyUsageConstraints(
                    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
                ),
            )
        )
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        report.problems.append(Problem("signature.unreadable", detail=detail))
        return report
    if not status.intact:
        report.problems.append(Problem("signature.digest_mismatch"))
    if not status.valid:
        report.problems.append(Problem("signature.invalid"))
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        report.problems.append(Problem("signature.partial_coverage"))
    if status.timestamp_validity is not None:
        report.timestamped = True
        if not (status.timestamp_validity.valid and status.timestamp_validity.intact):
            report.problems.append(Problem("signature.timestamp_invalid"))
    report.signed_at = (
        status.timestamp_validity.timestamp
        if status.timestamp_validity
        else status.signer_reported_dt
    )
    reason = str(embedded.sig_object.get("/Reason", ""))
    if reason.startswith(REASON_PREFIX):
        report.record_sha256 = reason.removeprefix(REASON_PREFIX).strip().lower()
    else:
        report.problems.append(Problem("signature.no_record"))
    report.attached_record = _attachment(reader, RECORD_ATTACHMENT)
    if report.attached_record is None:
        report.problems.append(Problem("record.not_attached"))
    elif report.record_sha256 and (
        hashlib.sha256(report.attached_record).hexdigest() != report.record_sha256
    ):
        report.problems.append(Problem("record.attachment_mismatch"))
    return report


def _attachment(reader: PdfFileReader, name: str) -> bytes | None:
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except (KeyError, TypeError):
        return None
    for index in range(0, len(names) - 1, 2):
        if str(names[index]) != name:
            continue
        spec = names[index + 1].get_object()
        stream = spec["/EF"]["/F"].get_object()
        if isinstance(stream, generic.StreamObject):
            return bytes(stream.data)
    return None
