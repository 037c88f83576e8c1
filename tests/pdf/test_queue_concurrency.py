"""Real concurrency: worker threads with their own connections against a committed database.

PostgreSQL: two or more workers never render the same job (FOR UPDATE SKIP LOCKED), and a locked
job is skipped, not waited for. SQLite (what `make run` uses): the worker thread that the app
starts with PRO_RUN_PDF_WORKER=1 turns a submission into a stored PDF by itself.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import func, select, text

from pro_app import create_app
from pro_app.extensions import db
from pro_app.models import Job, JobStatus, PdfDocument, Response
from pro_app.pdf.worker import SignedPdf, Worker, stop_background_worker
from pro_app.questionnaire.catalog import catalog
from pro_app.services import answering, jobs, sealing
from tests.conftest import empty_database, make_settings
from tests.factories import make_participant, visit_of

RECORDS = 24


def _seal_records(app: Flask, count: int) -> list[int]:
    """Sealed records made by the services, committed for real (other connections must see them)."""
    ids = []
    with app.app_context():
        instrument = catalog().instrument("mlhfq")
        for number in range(count):
            participant = make_participant(f"PRIME-{number + 1:03d}")
            visit = visit_of(participant)
            for item_id in instrument.item_ids:
                answering.save_answer(
                    visit, instrument, item_id, 2, language="zh_Hans", actor="test"
                )
            response = sealing.submit(
                visit, instrument, catalog(), language="zh_Hans", actor="test"
            )
            ids.append(response.id)
        db.session.commit()
    return ids


def _app(database_url: str, instance: Path, **extra: str) -> Flask:
    application = create_app(
        {"TESTING": True}, settings=make_settings(database_url, instance, **extra)
    )
    with application.app_context():
        flask_migrate.upgrade()
    return application


@pytest.fixture
def postgres_app(tmp_path: Path) -> Iterator[Flask]:
    with empty_database("postgresql", tmp_path) as url:
        application = _app(url, tmp_path)
        yield application
        with application.app_context():
            db.engine.dispose()


class Recording:
    """Stands in for render + sign: records who rendered what, and takes long enough to overlap."""

    def __init__(self) -> None:
        self.rendered: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def prepare(self, response: Response) -> Any:
        return SimpleNamespace(record_id=response.id, template_version="test")

    def produce(self, doc: Any) -> SignedPdf:
        with self.lock:
            self.rendered.append((threading.current_thread().name, doc.record_id))
        time.sleep(0.02)
        content = f"%PDF-test record {doc.record_id}".encode()
        return SignedPdf(content, hashlib.sha256(content).hexdigest(), "f" * 64, "test", True)


@pytest.mark.committed
def test_concurrent_workers_never_render_the_same_job(postgres_app: Flask) -> None:
    ids = _seal_records(postgres_app, RECORDS)
    pipeline = Recording()
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with postgres_app.app_context():
                worker = Worker(pipeline)
                start.wait()
                worker.drain()
        except BaseException as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=work, name=f"worker-{n}") for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    rendered_ids = sorted(record_id for _name, record_id in pipeline.rendered)
    assert rendered_ids == sorted(ids), "a job was rendered twice or not at all"
    assert len({name for name, _id in pipeline.rendered}) > 1, (
        "the workers did not run side by side"
    )
    with postgres_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PdfDocument)) == RECORDS
        statuses = db.session.scalars(select(Job.status)).all()
        assert statuses == [JobStatus.DONE] * RECORDS


@pytest.mark.committed
def test_a_job_locked_by_another_worker_is_skipped_not_waited_for(postgres_app: Flask) -> None:
    _seal_records(postgres_app, 2)
    with postgres_app.app_context():
        first, second = db.session.scalars(select(Job.id).order_by(Job.run_after, Job.id)).all()
        with db.engine.connect() as other:
            other.begin()
            other.execute(text("SELECT id FROM job WHERE id = :id FOR UPDATE"), {"id": first})
            # If claim_next waited for the lock (no SKIP LOCKED) this would fail after 2 s.
            db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            claimed = jobs.claim_next()
            assert claimed is not None and claimed.id == second
            db.session.rollback()
            other.rollback()


def test_the_app_started_with_pdf_worker_makes_the_pdf_by_itself(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    _app(url, tmp_path)  # migrate first, as `make run` does
    application = create_app(
        {"TESTING": True}, settings=make_settings(url, tmp_path, PRO_RUN_PDF_WORKER="1")
    )
    try:
        (record_id,) = _seal_records(application, 1)
        deadline = time.monotonic() + 60
        stored = None
        while stored is None and time.monotonic() < deadline:
            time.sleep(0.2)
            with application.app_context():
                stored = db.session.scalar(
                    select(PdfDocument.sha256).where(PdfDocument.response_id == record_id)
                )
        assert stored is not None, "the background worker did not store the PDF within 60 s"
        assert (tmp_path / "demo-signer.p12").exists()
    finally:
        stop_background_worker(application)
        with application.app_context():
            db.engine.dispose()
