"""The queue: a submission never waits for its PDF; the worker makes it once; failures retry with
backoff, surface to monitors and never lose the record."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pro_app import clock
from pro_app.cli.pdf import log_to_stderr
from pro_app.errors import PdfNotReady
from pro_app.extensions import db
from pro_app.models import AuditEvent, Job, JobStatus, PdfDocument, Response
from pro_app.pdf.document import TEMPLATE_VERSION, RecordDocument
from pro_app.pdf.worker import RenderAndSign, SignedPdf, Worker
from pro_app.services import jobs, pdf_copies
from pro_app.services.jobs import enqueue_render
from tests.pdf.conftest import SealRecord


class Flaky:
    """The real pipeline, except that the first `failures` renders raise."""

    def __init__(self, real: RenderAndSign, failures: int) -> None:
        self.real = real
        self.failures = failures
        self.calls = 0

    def prepare(self, response: Response) -> RecordDocument:
        return self.real.prepare(response)

    def produce(self, doc: RecordDocument) -> SignedPdf:
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError("renderer crashed: out of memory")
        return self.real.produce(doc)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_submission_queues_a_job_and_the_worker_stores_the_signed_pdf_once(
    app_ctx: Flask,
    seal_record: SealRecord,
    pipeline: RenderAndSign,
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = seal_record(language="zh_Hans")
    job = db.session.scalars(select(Job).where(Job.response_id == record.id)).one()
    assert job.status == JobStatus.PENDING and job.kind == "render_pdf"
    assert db.session.scalar(select(func.count()).select_from(PdfDocument)) == 0

    with caplog.at_level(logging.INFO, logger="pro_app.pdf"):
        outcomes = Worker(pipeline).drain()
    assert outcomes == {"done": 1}
    # The operator sees each PDF stored in the worker's log (`make run` shows it on stderr).
    assert f"record {record.id}: signed PDF stored (" in caplog.text
    stored = db.session.scalars(select(PdfDocument)).one()
    assert stored.response_id == record.id
    assert stored.sha256 == hashlib.sha256(stored.content).hexdigest()
    assert stored.size_bytes == len(stored.content) and stored.content.startswith(b"%PDF-")
    assert stored.signer_fingerprint == pipeline.key.info.fingerprint
    assert stored.template_version == TEMPLATE_VERSION and stored.demo_signature
    db.session.refresh(job)
    assert job.status == JobStatus.DONE and job.finished_at == clock.utcnow() and job.attempts == 1
    assert "pdf.stored" in _actions()
    assert Worker(pipeline).drain() == {}


def test_a_second_job_for_the_same_record_does_not_render_again(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    record = seal_record()
    Worker(pipeline).drain()
    enqueue_render(record)
    flaky = Flaky(pipeline, failures=0)
    assert Worker(flaky).drain() == {"skipped": 1}
    assert flaky.calls == 0
    assert db.session.scalar(select(func.count()).select_from(PdfDocument)) == 1


def test_a_failing_render_is_retried_with_backoff_and_surfaces_then_recovers(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign, runner: FlaskCliRunner
) -> None:
    record = seal_record()
    site_ids = [record.visit.participant.site_id]
    flaky = Flaky(pipeline, failures=100)
    worker = Worker(flaky)

    assert worker.run_one() == "retry"
    job = db.session.scalars(select(Job).where(Job.response_id == record.id)).one()
    assert job.status == JobStatus.PENDING and job.attempts == 1
    assert job.last_error == "OSError: renderer crashed: out of memory"
    assert job.run_after == clock.utcnow() + timedelta(seconds=30)
    assert worker.run_one() is None  # not due yet: backoff
    (status,) = pdf_copies.list_records(site_ids)
    assert status.pdf_status == "retrying" and status.attempts == 1
    assert status.last_error and "out of memory" in status.last_error
    assert status.next_attempt_at == job.run_after

    delays = []
    while job.status != JobStatus.FAILED:
        clock.advance(job.run_after - clock.utcnow())
        before = clock.utcnow()
        assert worker.run_one() in ("retry", "failed")
        db.session.refresh(job)
        delays.append(job.run_after - before)
    assert job.attempts == jobs.MAX_ATTEMPTS
    assert delays[:3] == [timedelta(minutes=2), timedelta(minutes=8), timedelta(minutes=32)]
    assert "pdf.failed" in _actions()
    assert worker.run_one() is None  # a failed job waits for a person

    # Visible to monitors and operators; the sealed record itself is untouched.
    (status,) = pdf_copies.list_records(site_ids)
    assert status.pdf_status == "failed" and "out of memory" in (status.last_error or "")
    with pytest.raises(PdfNotReady) as not_ready:
        pdf_copies.get_pdf(record.id, site_ids=site_ids, actor="staff:monitor")
    assert not_ready.value.pdf_status == "failed"
    assert db.session.get(Response, record.id) is not None
    shown = runner.invoke(args=["pdf", "status"])
    assert (
        "failed 1" in shown.output and "gave up" in shown.output and "out of memory" in shown.output
    )

    # After the cause is fixed, a retry renders it.
    assert runner.invoke(args=["pdf", "retry", "--all-failed"]).output.strip() == "requeued 1"
    assert Worker(pipeline).drain() == {"done": 1}
    (status,) = pdf_copies.list_records(site_ids)
    assert status.pdf_status == "ready" and status.last_error is None


def test_a_job_whose_worker_died_is_taken_again_after_its_lease(
    app_ctx: Flask, seal_record: SealRecord
) -> None:
    record = seal_record()
    claimed = jobs.claim_next()
    assert claimed is not None and claimed.response_id == record.id
    db.session.commit()  # ...and the worker process dies here
    assert jobs.claim_next() is None
    clock.advance(jobs.LEASE + timedelta(seconds=1))
    again = jobs.claim_next()
    assert again is not None and again.id == claimed.id and again.attempts == 2


def test_records_without_pdf_or_job_are_queued_again(
    app_ctx: Flask, seal_record: SealRecord, runner: FlaskCliRunner
) -> None:
    record = seal_record()
    job = db.session.scalars(select(Job).where(Job.response_id == record.id)).one()
    db.session.delete(job)
    db.session.flush()
    assert jobs.enqueue_missing(actor="test") == 1
    assert jobs.enqueue_missing(actor="test") == 0
    assert jobs.counts()["pending"] == 1


def test_flask_pdf_drain_renders_everything_due(
    app_ctx: Flask, seal_record: SealRecord, runner: FlaskCliRunner
) -> None:
    seal_record(language="zh_Hans")
    seal_record(language="en")
    result = runner.invoke(args=["pdf", "drain"])
    assert result.exit_code == 0, result.output
    assert "done: 2" in result.output
    assert db.session.scalar(select(func.count()).select_from(PdfDocument)) == 2
    assert runner.invoke(args=["pdf", "drain"]).output.strip() == "nothing to do"


def test_the_worker_command_logs_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """`flask pdf worker` shows its INFO lines: without a handler Python printed warnings only,
    so `make run`'s log never said that a PDF was stored."""
    logger = logging.getLogger("pro_app.pdf")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    app_logger = logging.getLogger("pro_app")
    app_handler = logging.StreamHandler()  # as Flask's default handler on the app's logger
    app_logger.addHandler(app_handler)
    try:
        logger.handlers.clear()
        log_to_stderr()
        log_to_stderr()  # a second call adds no second handler
        assert len(logger.handlers) == 1
        logger.info("record 7: signed PDF stored")
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].endswith("[pdf] record 7: signed PDF stored"), lines
    finally:
        app_logger.removeHandler(app_handler)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
