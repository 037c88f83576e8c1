"""PAdES signatures with pyHanko, by the site's certificate and key from a PKCS#12 file.

Without a configured certificate a development install generates a self-signed demo certificate
(ECDSA P-256: pyHanko signs with it about three times faster than with RSA) under instance/, and
every PDF it signs says that it carries a demo signature. Production refuses to make one.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps

from pro_app.config import Settings
from pro_app.pdf.certificates import (
    DEMO_ORGANISATION,
    DEMO_UNIT,
    SigningError,
    ensure_certificate,
)
from pro_app.pdf.document import Signer

SIGNATURE_FIELD = "PRIME-PRO-record"
REASON_PREFIX = "PRIME-PRO sealed record sha256:"
# Bytes kept for the signature container beyond the certificates (see SigningKey.bytes_reserved).
SIGNED_ATTRIBUTES_ALLOWANCE = 1024
TIMESTAMP_ALLOWANCE = 12288


T = TypeVar("T")


def outside_event_loop(function: Callable[[], T]) -> T:
    """pyHanko's synchronous API calls asyncio.run(), which refuses to start inside a thread that
    already runs an event loop (one driving Playwright, or an async server). Then the call runs on
    a short-lived helper thread, which has none."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as pool:
        return pool.submit(function).result()


@dataclass(frozen=True)
class SigningKey:
    """A loaded certificate + key, kept for the life of a worker."""

    signer: signers.SimpleSigner
    info: Signer
    timestamper: timestamps.TimeStamper | None

    @property
    def bytes_reserved(self) -> int:
        """Room for the signature container, known from the certificates: without it pyHanko
        signs once more as a dry run to measure it (about a third of the signing time). The CMS
        carries the signer's certificate and its chain, the signed attributes and the signature;
        a timestamp token adds the authority's certificates (a generous fixed allowance). pyHanko
        counts the room in hex digits: two per byte."""
        certificates = [self.signer.signing_cert, *self.signer.cert_registry]
        size = sum(len(certificate.dump()) for certificate in certificates if certificate)
        size += SIGNED_ATTRIBUTES_ALLOWANCE + (TIMESTAMP_ALLOWANCE if self.timestamper else 0)
        return 2 * size


def fingerprint(certificate: asn1_x509.Certificate) -> str:
    return hashlib.sha256(certificate.dump()).hexdigest()


def subject_line(certificate: asn1_x509.Certificate) -> str:
    """'Common name (organisation, unit)', shorter than asn1crypto's human_friendly."""
    subject = certificate.subject.native
    rest = [subject.get(k) for k in ("organization_name", "organizational_unit_name")]
    details = ", ".join(str(value) for value in rest if value)
    name = str(subject.get("common_name") or certificate.subject.human_friendly)
    return f"{name} ({details})" if details else name


def is_demo(certificate: asn1_x509.Certificate) -> bool:
    subject = certificate.subject.native
    return (
        certificate.self_signed != "no"
        and subject.get("organization_name") == DEMO_ORGANISATION
        and subject.get("organizational_unit_name") == DEMO_UNIT
    )


def load_signing_key(settings: Settings) -> SigningKey:
    path = ensure_certificate(settings)
    password = settings.pdf_cert_password.encode() or None
    try:
        signer = signers.SimpleSigner.load_pkcs12(str(path), passphrase=password)
    except Exception as exc:  # pyHanko raises several kinds for a bad file or password
        raise SigningError(f"cannot read the signing certificate {path}: {exc}") from exc
    if signer is None or signer.signing_cert is None:
        raise SigningError(
            f"cannot read the signing certificate {path}: wrong PRO_PDF_CERT_PASSWORD?"
        )
    certificate = signer.signing_cert
    if settings.is_production and is_demo(certificate):
        raise SigningError("PRO_ENV=production refuses the demo signing certificate")
    timestamper = (
        timestamps.HTTPTimeStamper(settings.pdf_timestamp_url, timeout=20)
        if settings.pdf_timestamp_url
        else None
    )
    info = Signer(
        subject=subject_line(certificate),
        fingerprint=fingerprint(certificate),
        demo=is_demo(certificate),
    )
    return SigningKey(signer=signer, info=info, timestamper=timestamper)


def sign_pdf(data: bytes, key: SigningKey, *, record_sha256: str, location: str) -> bytes:
    """Add one invisible PAdES signature (B-B, or B-T with a timestamp server) to the PDF.

    The record hash goes in the signature's Reason, which the signature covers."""
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        reason=f"{REASON_PREFIX}{record_sha256}",
        location=location,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    # PDF/A wants every annotation printable and none hidden, the invisible signature's too.
    field_spec = fields.SigFieldSpec(
        SIGNATURE_FIELD,
        invis_sig_settings=fields.InvisSigSettings(
            set_print_flag=True, set_hidden_flag=False, box_out_of_bounds=False
        ),
    )
    signer = signers.PdfSigner(
        metadata, signer=key.signer, timestamper=key.timestamper, new_field_spec=field_spec
    )
    output = io.BytesIO()
    outside_event_loop(
        lambda: signer.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(data)),
            bytes_reserved=key.bytes_reserved,
            output=output,
        )
    )
    return output.getvalue()
