"""What a monitor's pages will call: record list with PDF state, download, binder export."""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from pro_app.errors import PdfNotReady, RecordNotFound, SiteNotFound
from pro_app.extensions import db
from pro_app.models import AuditEvent, PdfDocument
from pro_app.pdf.worker import RenderAndSign, Worker
from pro_app.services import pdf_copies
from tests.factories import make_participant, make_site, make_staff
from tests.pdf.conftest import SealRecord, make_correction


class MustNotRender:
    def prepare(self, response: object) -> object:
        raise AssertionError("a download must never re-render")

    produce = prepare


def _last_event(action: str) -> AuditEvent:
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    return event


def test_download_streams_the_stored_bytes_and_is_audited(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    record = seal_record(study_id="PRIME-021")
    site_ids = [record.visit.participant.site_id]
    Worker(pipeline).drain()
    stored = db.session.scalars(select(PdfDocument)).one()
    Worker(MustNotRender()).drain()  # nothing is queued: the worker has nothing to redo
    pdf = pdf_copies.get_pdf(record.id, site_ids=site_ids, actor="staff:monitor.chen")
    streamed = b"".join(pdf.chunks(size=4096))
    assert streamed == stored.content and pdf.sha256 == hashlib.sha256(streamed).hexdigest()
    assert pdf.filename == f"PRIME-021_baseline_mlhfq_v1_{record.record_sha256[:8]}.pdf"
    event = _last_event("pdf.downloaded")
    assert event.actor == "staff:monitor.chen" and event.details["pdf_sha256"] == stored.sha256


def test_records_of_other_sites_are_not_found_and_unrendered_ones_not_ready(
    app_ctx: Flask, seal_record: SealRecord
) -> None:
    record = seal_record()
    other_site = make_site("XYZ")
    with pytest.raises(RecordNotFound):
        pdf_copies.get_pdf(record.id, site_ids=[other_site.id], actor="staff:monitor")
    with pytest.raises(PdfNotReady) as pending:
        pdf_copies.get_pdf(record.id, site_ids=[record.visit.participant.site_id], actor="m")
    assert pending.value.pdf_status == "pending"
    assert pdf_copies.list_records([other_site.id]) == []


def test_binder_zip_has_every_pdf_and_a_manifest(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    first = seal_record(language="zh_Hans", study_id="PRIME-031")
    second = seal_record(language="en", study_id="PRIME-032")
    correction = make_correction(first, make_staff(), "第2题录入错误", {"mlhf02": 5})
    Worker(pipeline).drain()
    waiting = seal_record(study_id="PRIME-033")  # sealed after the drain: no PDF yet
    site = first.visit.participant.site
    stored = {doc.response_id: doc for doc in db.session.scalars(select(PdfDocument))}

    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
        summary = pdf_copies.write_binder(
            spool, site_code="SEH", site_ids=[site.id], actor="staff:m"
        )
        spool.seek(0)
        archive = zipfile.ZipFile(spool)
        names = archive.namelist()
        manifest = list(
            csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig")))
        )
        contents = {name: archive.read(name) for name in names if name.endswith(".pdf")}

    assert summary.records == 4 and summary.pdfs == 3 and summary.missing == 1
    assert summary.filename == "binder_SEH.zip"
    checkpoints = [name for name in names if name.startswith("audit-checkpoint/")]
    assert len(checkpoints) == 1  # the trail's anchor, signed, travels with the binder
    assert sorted(set(names) - set(checkpoints)) == sorted(
        [
            f"PRIME-031/PRIME-031_baseline_mlhfq_v1_{first.record_sha256[:8]}.pdf",
            f"PRIME-031/PRIME-031_baseline_mlhfq_v2_{correction.record_sha256[:8]}.pdf",
            f"PRIME-032/PRIME-032_baseline_mlhfq_v1_{second.record_sha256[:8]}.pdf",
            "manifest.csv",
        ]
    )
    assert list(manifest[0]) == [
        "file",
        "study_id",
        "visit",
        "instrument",
        "record_version",
        "submitted_at",
        "record_sha256",
        "pdf_sha256",
        "pdf_status",
    ]
    by_hash = {row["record_sha256"]: row for row in manifest}
    for record in (first, second, correction):
        row = by_hash[record.record_sha256]
        assert row["pdf_status"] == "ready" and row["visit"] == "baseline"
        assert row["instrument"] == "mlhfq" and row["submitted_at"].startswith("2026-11-25T02:00")
        assert row["pdf_sha256"] == stored[record.id].sha256
        assert hashlib.sha256(contents[row["file"]]).hexdigest() == row["pdf_sha256"]
    assert by_hash[correction.record_sha256]["record_version"] == "2"
    missing = by_hash[waiting.record_sha256]
    assert (
        missing["file"] == "" and missing["pdf_sha256"] == "" and missing["pdf_status"] == "pending"
    )
    event = _last_event("binder.exported")
    assert event.details["records"] == 4 and event.details["pdfs"] == 3


def test_participant_binder_and_site_scope(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    seal_record(study_id="PRIME-041")
    seal_record(study_id="PRIME-042")
    Worker(pipeline).drain()
    site_id = make_site().id
    target = io.BytesIO()
    summary = pdf_copies.write_binder(
        target, site_code="SEH", site_ids=[site_id], actor="m", participant_study_id="prime-042"
    )
    assert summary.pdfs == 1 and summary.filename == "binder_SEH_PRIME-042.zip"
    assert all(
        n.startswith(("PRIME-042/", "audit-checkpoint/")) or n == "manifest.csv"
        for n in zipfile.ZipFile(target).namelist()
    )
    with pytest.raises(SiteNotFound):
        pdf_copies.write_binder(io.BytesIO(), site_code="SEH", site_ids=[], actor="m")
    other = make_site("XYZ")
    make_participant("PRIME-099", site=other)
    with pytest.raises(RecordNotFound):
        pdf_copies.write_binder(
            io.BytesIO(),
            site_code="SEH",
            site_ids=[site_id],
            actor="m",
            participant_study_id="PRIME-099",
        )


def test_flask_pdf_binder_writes_the_zip(
    app_ctx: Flask,
    seal_record: SealRecord,
    pipeline: RenderAndSign,
    runner: FlaskCliRunner,
    tmp_path: Path,
) -> None:
    seal_record(study_id="PRIME-051")
    Worker(pipeline).drain()
    output = tmp_path / "binder.zip"
    result = runner.invoke(args=["pdf", "binder", "--site", "SEH", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "1 PDFs for 1 records" in result.output
    names = zipfile.ZipFile(output).namelist()
    assert "manifest.csv" in names and any(n.startswith("PRIME-051/") for n in names)
    bad = runner.invoke(args=["pdf", "binder", "--site", "NOPE", "-o", str(tmp_path / "x.zip")])
    assert bad.exit_code == 1 and not (tmp_path / "x.zip").exists()


def test_requeue_service_renders_a_record_again_after_failure(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    record = seal_record()
    site_ids = [record.visit.participant.site_id]
    pdf_copies.requeue(record.id, site_ids=site_ids, actor="staff:monitor")
    assert Worker(pipeline).drain() == {"done": 1}
    assert pdf_copies.list_records(site_ids)[0].pdf_status == "ready"
    with pytest.raises(RecordNotFound):
        pdf_copies.requeue(record.id, site_ids=[], actor="staff:monitor")


def test_the_records_page_counts_only_the_user_s_sites(
    app_ctx: Flask, seal_record: SealRecord
) -> None:
    """A monitor of every site counts the whole table (no join); a monitor of some sites, or a
    search, counts through the join: each sees only its own records in its total."""
    seal_record(study_id="PRIME-051")
    seal_record(study_id="PRIME-052")
    other = make_site("XYZ")
    seal_record(participant=make_participant("PRIME-061", site=other))
    seh = make_site().id
    assert pdf_copies.records_page([seh, other.id]).total == 3
    assert pdf_copies.records_page([seh]).total == 2
    assert pdf_copies.records_page([other.id]).total == 1
    assert pdf_copies.records_page([seh, other.id], study_id="052").total == 1
    mine = pdf_copies.records_page([seh], per_page=1, page=2)
    assert (mine.pages, [row.study_id for row in mine.items]) == (2, ["PRIME-052"])
