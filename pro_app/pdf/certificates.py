"""The site's signing certificate (PKCS#12) without pyHanko: made for development when none is
configured, loaded, and used to sign small documents such as the audit checkpoints.

Without a configured certificate a development install generates a self-signed demo certificate
(ECDSA P-256) under instance/; production refuses to make one.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from pro_app.config import Settings

DEMO_ORGANISATION = "PRIME-PRO"
DEMO_UNIT = "DEMO signer - not for trial use"


class SigningError(RuntimeError):
    """The signing certificate is missing or unusable, or signing failed."""


def generate_demo_certificate(path: Path, password: str = "") -> Path:
    """A self-signed ECDSA P-256 signing certificate, valid ten years, written with mode 0600."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "PRIME-PRO demo signer"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEMO_UNIT),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEMO_ORGANISATION),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    data = pkcs12.serialize_key_and_certificates(
        b"PRIME-PRO demo signer", key, certificate, None, encryption
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
    return path


def ensure_certificate(settings: Settings) -> Path:
    """The configured PKCS#12 file; outside production a missing one becomes a demo certificate."""
    path = Path(settings.pdf_cert_file)
    if path.exists():
        return path
    if settings.is_production:
        raise SigningError(
            f"PRO_PDF_CERT_FILE={path} does not exist: install the site's PKCS#12 signing "
            "certificate (see docs/pdf-signing.md)"
        )
    return generate_demo_certificate(path, settings.pdf_cert_password)


@dataclass(frozen=True)
class DetachedSignature:
    signature: bytes
    certificate_pem: bytes
    fingerprint: str


def _private_key_and_certificate(settings: Settings) -> tuple[object, x509.Certificate]:
    path = ensure_certificate(settings)
    password = settings.pdf_cert_password.encode() or None
    try:
        key, certificate, _chain = pkcs12.load_key_and_certificates(path.read_bytes(), password)
    except ValueError as exc:
        raise SigningError(f"cannot read the signing certificate {path}: {exc}") from exc
    if key is None or certificate is None:
        raise SigningError(f"the signing certificate {path} has no key or certificate")
    return key, certificate


def sign_bytes(settings: Settings, payload: bytes) -> DetachedSignature:
    """A detached signature of `payload` by the site's certificate (ECDSA or RSA, SHA-256)."""
    key, certificate = _private_key_and_certificate(settings)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(payload, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise SigningError("the signing key is neither ECDSA nor RSA")
    der = certificate.public_bytes(serialization.Encoding.DER)
    return DetachedSignature(
        signature=signature,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
        fingerprint=hashlib.sha256(der).hexdigest(),
    )


def signature_holds(payload: bytes, signature: bytes, certificate_pem: bytes) -> bool:
    """Whether `signature` over `payload` verifies with the certificate's public key."""
    try:
        public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def site_certificate_fingerprint(settings: Settings) -> str:
    _key, certificate = _private_key_and_certificate(settings)
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()
