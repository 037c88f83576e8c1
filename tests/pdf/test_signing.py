"""The signature: valid with pyHanko, and `flask pdf verify` failing on any change or mismatch."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import Flask
from flask.testing import FlaskCliRunner
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select, text

from pro_app.config import Settings
from pro_app.extensions import db
from pro_app.models import AuditEvent, PdfDocument
from pro_app.pdf.certificates import SigningError, generate_demo_certificate
from pro_app.pdf.sign import (
    is_demo,
    load_signing_key,
    outside_event_loop,
    sign_pdf,
)
from pro_app.pdf.verify import check_signature
from pro_app.pdf.worker import RenderAndSign, Worker
from pro_app.services import pdf_copies
from tests.factories import as_database_owner
from tests.pdf.conftest import SealRecord


def _stored_pdf(record_id: int) -> bytes:
    content = db.session.scalar(
        select(PdfDocument.content).where(PdfDocument.response_id == record_id)
    )
    assert content is not None
    return content


@pytest.fixture
def signed(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign, tmp_path: Path
) -> Path:
    """A record sealed through the web flow, its PDF made by the worker, saved to a file."""
    record = seal_record(language="zh_Hans")
    assert Worker(pipeline).drain()["done"] == 1
    path = tmp_path / "record.pdf"
    path.write_bytes(_stored_pdf(record.id))
    return path


def test_the_signature_validates_with_pyhanko(signed: Path, pipeline: RenderAndSign) -> None:
    reader = PdfFileReader(io.BytesIO(signed.read_bytes()))
    (signature,) = reader.embedded_regular_signatures
    context = ValidationContext(trust_roots=[pipeline.key.signer.signing_cert])
    # The browser tests' session-wide Playwright keeps an event loop running in this thread.
    status = outside_event_loop(lambda: validate_pdf_signature(signature, context))
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.bottom_line
    assert "ETSI.CAdES.detached" in str(signature.sig_object["/SubFilter"])


def test_flask_pdf_verify_accepts_the_stored_copy(signed: Path, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["pdf", "verify", str(signed)])
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output and "PRIME-" in result.output
    assert "DEMO certificate" in result.output


def test_a_one_byte_change_fails_verification(signed: Path, runner: FlaskCliRunner) -> None:
    data = bytearray(signed.read_bytes())
    # Change one byte inside the signed range: a digit of the record hash in the page text stream
    # is compressed, so flip a byte in the middle of the file instead, well inside the signed bytes.
    position = len(data) // 3
    data[position] ^= 0x01
    signed.write_bytes(bytes(data))
    result = runner.invoke(args=["pdf", "verify", str(signed)])
    assert result.exit_code != 0
    assert "NOT VERIFIED" in result.output


def test_a_changed_byte_in_the_metadata_fails_verification(
    signed: Path, runner: FlaskCliRunner
) -> None:
    data = signed.read_bytes()
    # The signature dictionary is plain text: its Location "Site SEH (SEH)" becomes "Site SEX ...",
    # same length, so the file still parses and only the digest can tell.
    assert data.count(b"/Location (Site SEH") == 1
    signed.write_bytes(data.replace(b"/Location (Site SEH", b"/Location (Site SEX"))
    result = runner.invoke(args=["pdf", "verify", str(signed)])
    assert result.exit_code != 0
    assert "changed after it was signed" in result.output


def test_bytes_appended_after_signing_fail_verification(
    signed: Path, runner: FlaskCliRunner
) -> None:
    signed.write_bytes(signed.read_bytes() + b"\n% appended\n")
    result = runner.invoke(args=["pdf", "verify", str(signed)])
    assert result.exit_code != 0


def test_a_pdf_for_a_record_hash_not_in_the_database_fails(
    app_ctx: Flask,
    seal_record: SealRecord,
    pipeline: RenderAndSign,
    runner: FlaskCliRunner,
    tmp_path: Path,
) -> None:
    record = seal_record()
    Worker(pipeline).drain()
    doc = pipeline.prepare(record)
    forged_json = doc.record_json.replace(b'"mlhf01":2', b'"mlhf01":5')
    forged = dataclasses.replace(
        doc, record_json=forged_json, record_sha256=hashlib.sha256(forged_json).hexdigest()
    )
    path = tmp_path / "forged.pdf"
    path.write_bytes(pipeline.produce(forged).content)
    assert check_signature(path.read_bytes()).ok  # a valid signature by our own key...
    result = runner.invoke(args=["pdf", "verify", str(path)])
    assert result.exit_code != 0  # ...over a record hash the database does not hold
    assert "No sealed record in the database has the hash" in result.output


def test_a_database_record_changed_after_sealing_fails(
    signed: Path, runner: FlaskCliRunner
) -> None:
    record_sha256 = check_signature(signed.read_bytes()).record_sha256
    with as_database_owner():
        db.session.execute(
            text("UPDATE response SET scores = :scores WHERE record_sha256 = :sha"),
            {
                "scores": '{"total": {"value": 0, "missing": 0, "imputed": false}}',
                "sha": record_sha256,
            },
        )
    db.session.expire_all()
    result = runner.invoke(args=["pdf", "verify", str(signed)])
    assert result.exit_code != 0
    assert "record in the database no longer matches its sealed hash" in result.output


def test_a_pdf_signed_by_an_unknown_certificate_fails(
    app_ctx: Flask,
    seal_record: SealRecord,
    pipeline: RenderAndSign,
    tmp_path: Path,
) -> None:
    record = seal_record()
    Worker(pipeline).drain()
    stranger_settings = Settings.from_env({"PRO_INSTANCE_DIR": str(tmp_path)})
    stranger = load_signing_key(stranger_settings)
    unsigned = pipeline.renderer.render(pipeline.prepare(record))
    forged = sign_pdf(unsigned, stranger, record_sha256=record.record_sha256, location="elsewhere")
    result = pdf_copies.verify(forged, actor="test")
    assert not result.ok
    assert {problem.code for problem in result.problems} >= {"signer.unknown", "pdf.not_on_file"}


def test_verify_is_audited(signed: Path) -> None:
    result = pdf_copies.verify(signed.read_bytes(), actor="staff:monitor.chen")
    assert result.ok and result.on_file and result.known_signer
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "pdf.verified").order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None and event.actor == "staff:monitor.chen" and event.details["ok"] is True


def test_a_timestamp_server_makes_it_pades_b_t(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    tsa_key = rsa.generate_private_key(
        public_exponent=65537, key_size=2048
    )  # pyHanko's test TSA is RSA-only
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = datetime.now(UTC)
    tsa_cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(tsa_key, hashes.SHA256())
    )
    timestamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa_cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )
    key = dataclasses.replace(pipeline.key, timestamper=timestamper)
    record = seal_record()
    unsigned = pipeline.renderer.render(pipeline.prepare(record))
    report = check_signature(
        sign_pdf(unsigned, key, record_sha256=record.record_sha256, location="x")
    )
    assert report.ok and report.timestamped and report.signed_at is not None


def test_settings_name_a_timestamp_server(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "PRO_INSTANCE_DIR": str(tmp_path),
            "PRO_PDF_TIMESTAMP_URL": "http://127.0.0.1:9/tsa",
        }
    )
    key = load_signing_key(settings)
    assert key.timestamper is not None and key.timestamper.url == "http://127.0.0.1:9/tsa"


def test_demo_certificate_is_generated_once_and_marked_demo(tmp_path: Path) -> None:
    settings = Settings.from_env({"PRO_INSTANCE_DIR": str(tmp_path)})
    first = load_signing_key(settings)
    assert (tmp_path / "demo-signer.p12").stat().st_mode & 0o777 == 0o600
    second = load_signing_key(settings)
    assert first.info.demo and first.info.fingerprint == second.info.fingerprint
    assert is_demo(first.signer.signing_cert)


def test_a_site_certificate_with_a_password_is_not_demo(tmp_path: Path) -> None:
    path = generate_demo_certificate(tmp_path / "site.p12", password="s3cret")
    settings = Settings.from_env(
        {
            "PRO_INSTANCE_DIR": str(tmp_path),
            "PRO_PDF_CERT_FILE": str(path),
            "PRO_PDF_CERT_PASSWORD": "s3cret",
        }
    )
    assert load_signing_key(settings).info.fingerprint
    wrong = dataclasses.replace(settings, pdf_cert_password="wrong")
    with pytest.raises(SigningError, match="cannot read"):
        load_signing_key(wrong)


def test_production_refuses_to_make_or_use_a_demo_certificate(tmp_path: Path) -> None:
    production = Settings.from_env(
        {
            "PRO_INSTANCE_DIR": str(tmp_path),
            "PRO_ENV": "production",
            "PRO_SECRET_KEY": "x",
        }
    )
    with pytest.raises(SigningError, match="does not exist"):
        load_signing_key(production)
    generate_demo_certificate(Path(production.pdf_cert_file))
    with pytest.raises(SigningError, match="refuses the demo"):
        load_signing_key(production)


def test_the_signature_space_is_reserved_from_the_certificates(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    """The space for the signature comes from the certificate sizes (no dry-run signature): even,
    as pyHanko needs, big enough for the container, and not much bigger."""
    key = pipeline.key
    reserved = key.bytes_reserved
    assert reserved % 2 == 0
    record = seal_record()
    signed = sign_pdf(
        pipeline.renderer.render(pipeline.prepare(record)),
        key,
        record_sha256=record.record_sha256,
        location="x",
    )
    contents = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0].sig_object["/Contents"]
    assert contents[:2] == b"\x30\x82"  # a DER SEQUENCE with a two-byte length
    used = 4 + int.from_bytes(contents[2:4], "big")
    # pyHanko counts the room in hex digits, two per byte of the container.
    assert len(contents) * 2 == reserved and used <= len(contents) < used + 2048
