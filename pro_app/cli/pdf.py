"""`flask pdf ...`: run the worker, drain the queue, verify a file, export a binder, inspect jobs.

WeasyPrint and pyHanko take about a second to import, so commands import them when they run: every
`flask` invocation and every web process loads this module.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from pro_app.cli.common import CLI_ACTOR, refusal
from pro_app.errors import DomainError
from pro_app.extensions import db
from pro_app.models import Job, JobStatus, Site
from pro_app.pdf import fonts
from pro_app.services import jobs, pdf_copies
from pro_app.web.messages.monitor import MONITOR

pdf_cli = AppGroup("pdf", help="Signed PDF copies of sealed records.")


@pdf_cli.command("setup")
def setup() -> None:
    """Build the PDF font subset and, outside production, the demo signing certificate."""
    from pro_app.pdf.sign import ensure_certificate, load_signing_key

    font = fonts.ensure()
    settings = current_app.config["PRO_SETTINGS"]
    certificate = ensure_certificate(settings)
    key = load_signing_key(settings)
    kind = "DEMO certificate (self-signed)" if key.info.demo else "site certificate"
    click.echo(f"font {font.name}; signer {key.info.subject} [{kind}] from {certificate}")


def log_to_stderr() -> None:
    """The worker's own lines (ready, each PDF stored, a failure, the audit checkpoint) on stderr,
    beside gunicorn's under `make run`: without a handler Python shows warnings only."""
    logger = logging.getLogger("pro_app.pdf")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("[%(asctime)s] [pdf] %(message)s", "%Y-%m-%d %H:%M:%S %z")
        )
        logger.addHandler(handler)
        # Not also through the app's logger ("pro_app", Flask's handler): one line per event.
        logger.propagate = False
    logger.setLevel(logging.INFO)


@pdf_cli.command("worker")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between polls when idle.")
def worker(poll: float) -> None:
    """Render, sign and store PDFs until stopped (SIGTERM or Ctrl-C finish the current job)."""
    from pro_app.pdf.worker import run_forever

    log_to_stderr()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    click.echo("PDF worker running; Ctrl-C to stop")
    run_forever(current_app._get_current_object(), stop, poll)  # type: ignore[attr-defined]


@pdf_cli.command("drain")
def drain() -> None:
    """Process every due job once, then exit (1 if any job failed this run)."""
    from pro_app.pdf.worker import RenderAndSign, Worker

    outcomes = Worker(RenderAndSign(current_app.config["PRO_SETTINGS"])).drain()
    click.echo(
        ", ".join(f"{name}: {count}" for name, count in sorted(outcomes.items())) or "nothing to do"
    )
    if outcomes["failed"] or outcomes["retry"]:
        for job in db.session.scalars(
            select(Job).where(Job.last_error.is_not(None), Job.status != JobStatus.DONE)
        ):
            click.echo(
                f"  job {job.id} (record {job.response_id}, {job.status.value}, "
                f"attempt {job.attempts}): {job.last_error}",
                err=True,
            )
        sys.exit(1)


@pdf_cli.command("status")
def status() -> None:
    """Jobs per status, and every job that is retrying or failed, with its last error."""
    counts = jobs.counts()
    click.echo("  ".join(f"{name} {count}" for name, count in counts.items()))
    for job in db.session.scalars(
        select(Job)
        .where(Job.status.in_([JobStatus.PENDING, JobStatus.FAILED]), Job.last_error.is_not(None))
        .order_by(Job.id)
    ):
        when = (
            "gave up"
            if job.status == JobStatus.FAILED
            else f"next try {job.run_after:%Y-%m-%d %H:%M} UTC"
        )
        click.echo(
            f"job {job.id} record {job.response_id}: attempt {job.attempts}, {when}: "
            f"{job.last_error}"
        )


@pdf_cli.command("retry")
@click.argument("job_ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Requeue every failed job.")
def retry(job_ids: tuple[int, ...], all_failed: bool) -> None:
    """Requeue failed jobs (after fixing the cause) with a fresh set of attempts."""
    query = (
        select(Job).where(Job.status == JobStatus.FAILED)
        if all_failed
        else (select(Job).where(Job.id.in_(job_ids)))
    )
    requeued = [jobs.requeue(job, actor=CLI_ACTOR) for job in db.session.scalars(query)]
    requeued_count = len(requeued) + jobs.enqueue_missing(actor=CLI_ACTOR)
    db.session.commit()
    click.echo(f"requeued {requeued_count}")


@pdf_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify(file: Path) -> None:
    """Check a PDF's signature, that it is unmodified, and that it certifies a sealed record here."""
    result = pdf_copies.verify(file.read_bytes(), actor=CLI_ACTOR)
    db.session.commit()
    report = result.signature
    if report.signer_subject:
        demo = " [DEMO certificate]" if report.demo_signature else ""
        click.echo(f"signer:     {report.signer_subject}{demo}")
        click.echo(f"cert sha256 {report.signer_fingerprint}")
    if report.signed_at:
        stamp = "timestamp" if report.timestamped else "signer's clock"
        click.echo(f"signed at:  {report.signed_at.isoformat()} ({stamp})")
    if report.record_sha256:
        click.echo(f"record:     {report.record_sha256}")
    if result.response_id:
        click.echo(
            f"            {result.study_id} {result.visit} {result.instrument} "
            f"v{result.record_version} (record id {result.response_id})"
        )
    if result.ok:
        click.echo(
            f"VERIFIED: {file.name} is the signed copy of this sealed record, unmodified "
            "since signing."
        )
        return
    click.echo(f"NOT VERIFIED: {file.name}", err=True)
    with force_locale("en"):
        for problem in result.problems:
            detail = f" ({problem.detail})" if problem.detail else ""
            click.echo(f"  - {MONITOR.text(problem.code, problem.params)}{detail}", err=True)
    sys.exit(1)


@pdf_cli.command("binder")
@click.option("--site", "site_code", required=True, help="Site code, e.g. SEH.")
@click.option("--participant", "study_id", default=None, help="Only this participant.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def binder(site_code: str, study_id: str | None, output: Path) -> None:
    """Write the site binder (zip of signed PDFs + manifest.csv)."""
    site_ids = list(db.session.scalars(select(Site.id)))
    partial = output.with_name(output.name + ".part")
    try:
        with partial.open("wb") as handle:
            summary = pdf_copies.write_binder(
                handle,
                site_code=site_code,
                site_ids=site_ids,
                actor=CLI_ACTOR,
                participant_study_id=study_id,
            )
    except DomainError as exc:
        partial.unlink(missing_ok=True)
        click.echo(f"Error: {refusal(exc)}", err=True)
        sys.exit(1)
    partial.replace(output)
    db.session.commit()
    click.echo(f"{output}: {summary.pdfs} PDFs for {summary.records} records")
    if summary.missing:
        click.echo(
            f"warning: {summary.missing} records have no PDF yet (see manifest.csv, "
            "`flask pdf status`)",
            err=True,
        )
