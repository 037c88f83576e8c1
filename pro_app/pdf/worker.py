"""The PDF worker: takes render jobs off the queue, renders, signs and stores each PDF once.

Long-lived on purpose: importing WeasyPrint and the first layout cost about a second, so a worker
loads fonts, stylesheet and signing key once, warms up, then serves jobs. Run it as
`flask pdf worker` (`make run` starts one beside gunicorn; production any number of them),
`flask pdf drain` (empty the queue once), or as a thread inside each web process when
PRO_RUN_PDF_WORKER=1 (the tests do; never the default, so PDFs stay off the web path).
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pro_app import clock
from pro_app.config import Settings
from pro_app.extensions import db
from pro_app.models import Job, PdfDocument, Response
from pro_app.pdf.content import record_document
from pro_app.pdf.document import RecordDocument
from pro_app.pdf.render import Renderer
from pro_app.pdf.sign import SigningKey, load_signing_key, sign_pdf
from pro_app.questionnaire.catalog import catalog
from pro_app.services import audit, jobs

log = logging.getLogger("pro_app.pdf")

IDLE_POLL_SECONDS = 2.0
SETUP_RETRY_SECONDS = 60.0


@dataclass(frozen=True)
class SignedPdf:
    content: bytes
    sha256: str
    signer_fingerprint: str
    template_version: str
    demo_signature: bool


class Pipeline(Protocol):
    def prepare(self, response: Response) -> RecordDocument: ...

    def produce(self, doc: RecordDocument) -> SignedPdf: ...


class RenderAndSign:
    """The real pipeline: plain data from the record, WeasyPrint, pyHanko."""

    def __init__(self, settings: Settings) -> None:
        self.renderer = Renderer()
        self.key: SigningKey = load_signing_key(settings)
        self.catalog = catalog()

    def warm_up(self) -> None:
        self.renderer.warm_up()

    def prepare(self, response: Response) -> RecordDocument:
        return record_document(response, self.catalog, self.key.info)

    def produce(self, doc: RecordDocument) -> SignedPdf:
        unsigned = self.renderer.render(doc)
        location = f"{doc.site_name.en or doc.site_name.text} ({doc.site_code})"
        signed = sign_pdf(unsigned, self.key, record_sha256=doc.record_sha256, location=location)
        return SignedPdf(
            content=signed,
            sha256=hashlib.sha256(signed).hexdigest(),
            signer_fingerprint=self.key.info.fingerprint,
            template_version=doc.template_version,
            demo_signature=self.key.info.demo,
        )


class Worker:
    """Processes jobs one at a time, each in short transactions; nothing is held during a render."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def run_one(self) -> str | None:
        """Process the next due job: "done", "skipped", "retry" or "failed"; None when idle."""
        session = db.session
        try:
            job = jobs.claim_next()
            if job is None:
                session.rollback()
                return None
            job_id, response_id = job.id, job.response_id
            stored = response_id is not None and session.scalar(
                select(PdfDocument.id).where(PdfDocument.response_id == response_id)
            )
            if stored:
                jobs.close_as_done(job)
                session.commit()
                log.info("record %s: its PDF is already stored (job %s)", response_id, job_id)
                return "skipped"
            session.commit()
        except Exception:
            session.rollback()
            raise
        try:
            response = session.get(Response, response_id) if response_id is not None else None
            if response is None:
                raise LookupError(f"job {job_id}: record {response_id} not found")
            started = time.perf_counter()
            doc = self.pipeline.prepare(response)
            session.commit()  # end the read before the slow part (SQLite holds its lock till then)
            signed = self.pipeline.produce(doc)
            took_ms = (time.perf_counter() - started) * 1000
            job = session.get(Job, job_id)
            assert job is not None
            jobs.finish(
                job,
                PdfDocument(
                    response_id=doc.record_id,
                    content=signed.content,
                    sha256=signed.sha256,
                    size_bytes=len(signed.content),
                    signer_fingerprint=signed.signer_fingerprint,
                    template_version=signed.template_version,
                    demo_signature=signed.demo_signature,
                    created_at=clock.utcnow(),
                ),
            )
            session.commit()
            log.info(
                "record %s: signed PDF stored (%d KB, %.0f ms; job %s)",
                doc.record_id,
                round(len(signed.content) / 1024),
                took_ms,
                job_id,
            )
            return "done"
        except IntegrityError:
            # Another worker stored this record's PDF after our lease ran out: keep theirs.
            session.rollback()
            job = session.get(Job, job_id)
            assert job is not None
            jobs.close_as_done(job)
            session.commit()
            return "skipped"
        except Exception as exc:
            session.rollback()
            log.warning("PDF job %s for record %s failed: %s", job_id, response_id, exc)
            job = session.get(Job, job_id)
            assert job is not None
            jobs.fail(job, f"{type(exc).__name__}: {exc}")
            session.commit()
            return "failed" if job.status.value == "failed" else "retry"

    def drain(self) -> Counter[str]:
        """Process jobs until none is due; count the outcomes."""
        outcomes: Counter[str] = Counter()
        while (outcome := self.run_one()) is not None:
            outcomes[outcome] += 1
        return outcomes


def run_forever(app: Flask, stop: threading.Event, poll: float = IDLE_POLL_SECONDS) -> None:
    """The worker loop: set up (retrying if the certificate is missing), warm up, then poll."""
    worker: Worker | None = None
    while worker is None and not stop.is_set():
        try:
            with app.app_context():
                pipeline = RenderAndSign(current_app.config["PRO_SETTINGS"])
                pipeline.warm_up()
                worker = Worker(pipeline)
        except Exception:
            log.exception("PDF worker cannot start; retrying in %s s", SETUP_RETRY_SECONDS)
            stop.wait(SETUP_RETRY_SECONDS)
    log.info("PDF worker ready")
    while worker is not None and not stop.is_set():
        outcome = None
        try:
            with app.app_context():
                outcome = worker.run_one()
        except Exception:
            log.exception("PDF worker: unexpected error")
        if outcome is None:
            _daily_checkpoint(app)
            stop.wait(poll)


def _daily_checkpoint(app: Flask) -> None:
    """While idle, the worker anchors the audit trail outside the database once a day."""
    try:
        with app.app_context():
            written = audit.checkpoint_if_due()
            db.session.rollback()
        if written is not None:
            log.info("audit checkpoint %s: %s", written.path.name, written.summary)
    except Exception:
        log.exception("PDF worker: the audit checkpoint failed")


_started: dict[int, tuple[threading.Thread, threading.Event]] = {}
_start_lock = threading.Lock()


def start_background_worker(app: Flask) -> threading.Thread:
    """One daemon worker thread per process (each gunicorn worker runs its own; the queue's row
    locks keep them from taking the same job)."""
    with _start_lock:
        if id(app) in _started:
            return _started[id(app)][0]
        stop = threading.Event()
        thread = threading.Thread(
            target=run_forever, args=(app, stop), name="pdf-worker", daemon=True
        )
        thread.start()
        _started[id(app)] = (thread, stop)
        atexit.register(stop.set)
        return thread


def stop_background_worker(app: Flask, timeout: float = 30.0) -> None:
    """Ask this app's worker thread to stop after its current job, and wait for it."""
    with _start_lock:
        entry = _started.pop(id(app), None)
    if entry is not None:
        thread, stop = entry
        stop.set()
        thread.join(timeout)
