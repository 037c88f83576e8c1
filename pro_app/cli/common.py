"""What every command shares: who it acts as in the audit trail, and how a refusal is told."""

from __future__ import annotations

import sys

import click
from flask_babel import force_locale

from pro_app.errors import DomainError
from pro_app.web.messages.staff import STAFF

CLI_ACTOR = "system:cli"


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def refusal(error: DomainError) -> str:
    """A refusal as an operator reads it: the staff message in English, and its code."""
    with force_locale("en"):
        return f"{STAFF.text(error.code, error.params)} ({error.code})"


def refused(error: DomainError) -> None:
    fail(refusal(error))
