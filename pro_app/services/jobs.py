"""The database-backed queue of "render this record's signed PDF" jobs: enqueue (when a record is
sealed), claim, finish, fail with backoff, requeue. The one owner of the `job` table.

These functions flush but never commit; the worker (pro_app/pdf/worker.py) owns its transactions.
On PostgreSQL a claim is `SELECT ... FOR UPDATE SKIP LOCKED`, so any number of workers can poll at
once and never take the same job; on SQLite every transaction begins IMMEDIATE (pro_app/database.py),
which serialises claims. A job whose worker died is taken again once its lease has run out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, insert, or_, select

from pro_app import clock
from pro_app.extensions import db
from pro_app.models import Job, JobStatus, PdfDocument, Response
from pro_app.services import audit

RENDER_PDF = "render_pdf"

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=6)
# A running job untouched this long belonged to a worker that died; another may take it.
LEASE = timedelta(minutes=10)
WORKER_ACTOR = "system:pdf-worker"


# One statement, built once: nothing reads the job back in this transaction (the worker claims it).
# Its values are bound by audit.Change's names, so it can run inside the sealing's audit event.
_ENQUEUE = insert(Job).values(
    kind=RENDER_PDF,
    response_id=bindparam("change_response_id"),
    status=JobStatus.PENDING,
    attempts=0,
    run_after=bindparam("change_now"),
    created_at=bindparam("change_now"),
)


def render_change(response: Response) -> audit.Change:
    """The insert of the job for this record's signed PDF, as a change an audit event can carry
    (sealing.record_sealed: one statement with the event on PostgreSQL)."""
    return audit.Change(_ENQUEUE, {"change_response_id": response.id, "change_now": clock.utcnow()})


def enqueue_render(response: Response) -> None:
    """Ask the PDF worker for this record's signed copy; the patient never waits for it. A plain
    insert on the transaction's connection: the session holds no job to flush or tell."""
    change = render_change(response)
    db.session.connection().execute(change.statement, change.params)


def backoff(attempts: int) -> timedelta:
    """30 s, 2 min, 8 min, 32 min, ~2 h, then 6 h between attempts."""
    return min(FIRST_RETRY * (4 ** max(attempts - 1, 0)), MAX_RETRY)


def claim_next(now: datetime | None = None) -> Job | None:
    """Take the next due job (marks it running, counts the attempt), or None when nothing is due."""
    now = now or clock.utcnow()
    query = (
        select(Job)
        .where(
            Job.kind == RENDER_PDF,
            or_(
                and_(Job.status == JobStatus.PENDING, Job.run_after <= now),
                and_(Job.status == JobStatus.RUNNING, Job.locked_at < now - LEASE),
            ),
        )
        .order_by(Job.run_after, Job.id)
        .limit(1)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job = db.session.scalar(query)
    if job is None:
        return None
    job.status = JobStatus.RUNNING
    job.locked_at = now
    job.attempts += 1
    db.session.flush()
    return job


def finish(job: Job, document: PdfDocument) -> None:
    """Store the signed PDF and close the job, in the caller's transaction."""
    now = clock.utcnow()
    db.session.add(document)
    job.status = JobStatus.DONE
    job.finished_at = now
    job.locked_at = None
    job.last_error = None
    db.session.flush()
    response = db.session.get(Response, document.response_id)
    assert response is not None
    participant = response.visit.participant
    audit.record(
        "pdf.stored",
        WORKER_ACTOR,
        site_id=participant.site_id,
        participant_id=participant.id,
        visit_id=response.visit_id,
        response_id=response.id,
        record_sha256=response.record_sha256,
        pdf_sha256=document.sha256,
        size_bytes=document.size_bytes,
        signer_fingerprint=document.signer_fingerprint,
        template_version=document.template_version,
        demo_signature=document.demo_signature,
    )


def close_as_done(job: Job) -> None:
    """The record already has its PDF (e.g. a second job for it): nothing to render."""
    job.status = JobStatus.DONE
    job.finished_at = clock.utcnow()
    job.locked_at = None
    db.session.flush()


def fail(job: Job, error: str) -> None:
    """Record the error; retry later with backoff, or give up after MAX_ATTEMPTS (visible as failed)."""
    now = clock.utcnow()
    job.last_error = error[:4000]
    job.locked_at = None
    if job.attempts >= MAX_ATTEMPTS:
        job.status = JobStatus.FAILED
        job.finished_at = now
        response = db.session.get(Response, job.response_id) if job.response_id else None
        participant = response.visit.participant if response else None
        audit.record(
            "pdf.failed",
            WORKER_ACTOR,
            site_id=participant.site_id if participant else None,
            participant_id=participant.id if participant else None,
            visit_id=response.visit_id if response else None,
            response_id=job.response_id,
            job_id=job.id,
            attempts=job.attempts,
            error=job.last_error[:500],
        )
    else:
        job.status = JobStatus.PENDING
        job.run_after = now + backoff(job.attempts)
    db.session.flush()


def requeue(job: Job, *, actor: str) -> Job:
    """Give a failed (or waiting) job a fresh set of attempts, due now."""
    job.status = JobStatus.PENDING
    job.attempts = 0
    job.run_after = clock.utcnow()
    job.finished_at = None
    job.locked_at = None
    db.session.flush()
    audit.record("pdf.requeued", actor, response_id=job.response_id, job_id=job.id)
    return job


def enqueue_missing(*, actor: str) -> int:
    """A job for every sealed record that has neither a PDF nor an open job (a safety net)."""
    open_jobs = select(Job.response_id).where(
        Job.kind == RENDER_PDF, Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING])
    )
    stored = select(PdfDocument.response_id)
    missing = db.session.scalars(
        select(Response)
        .where(Response.id.not_in(open_jobs), Response.id.not_in(stored))
        .order_by(Response.id)
    ).all()
    for response in missing:
        enqueue_render(response)
    if missing:
        audit.record("pdf.enqueued_missing", actor, count=len(missing))
    return len(missing)


def counts() -> dict[str, int]:
    """Jobs per status, e.g. {"pending": 2, "failed": 1, ...}."""
    rows = db.session.execute(
        select(Job.status, func.count()).where(Job.kind == RENDER_PDF).group_by(Job.status)
    )
    result = {status.value: 0 for status in JobStatus}
    for status, count in rows:
        result[status.value] = count
    return result
