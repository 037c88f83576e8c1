"""`flask backup -o FILE` and `flask restore FILE` (services/backup.py; docs/security.md)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from pro_app import config
from pro_app.cli.common import CLI_ACTOR, fail
from pro_app.services import backup as backups


@click.command("backup")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The backup file to write (a tar file).",
)
@with_appcontext
def backup(output: Path) -> None:
    """Write a consistent backup while the app runs: the database (records, hashes, PDFs, audit
    trail), the signed audit checkpoints and a manifest of SHA-256s."""
    if output.exists():
        fail(f"{output} exists: choose a new file name")
    try:
        summary = backups.make_backup(
            output, checkpoint_dir=config.current().audit_checkpoint_dir, actor=CLI_ACTOR
        )
    except backups.BackupError as error:
        fail(str(error))
    click.echo(
        f"backup {summary.path} ({summary.engine}): {summary.responses} records, "
        f"{summary.pdfs} PDFs, {summary.events} audit events, {summary.checkpoints} checkpoints; "
        f"sha256 {summary.sha256}"
    )


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore(source: Path) -> None:
    """Restore a backup into an empty database (PRO_DATABASE_URL) and put back its checkpoints.
    Then run `flask audit verify`."""
    try:
        restored = backups.restore_backup(
            source, checkpoint_dir=config.current().audit_checkpoint_dir, actor=CLI_ACTOR
        )
    except backups.BackupError as error:
        fail(str(error))
    click.echo(
        f"restored {source}: {restored['responses']} records, {restored['pdfs']} PDFs, "
        f"{restored['events']} audit events"
    )
