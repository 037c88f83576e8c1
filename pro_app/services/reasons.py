"""Reasons staff must give for a change: required, trimmed, and short enough to store."""

from __future__ import annotations

from pro_app.errors import ReasonRequired

MIN_LENGTH = 3
MAX_LENGTH = 500


def require_reason(reason: str | None, field: str = "reason") -> str:
    """The trimmed reason, or ReasonRequired naming the field (a blank or an 'x' is no reason)."""
    text = " ".join((reason or "").split())
    if len(text) < MIN_LENGTH:
        raise ReasonRequired(field, "required", min=MIN_LENGTH)
    if len(text) > MAX_LENGTH:
        raise ReasonRequired(field, "too_long", max=MAX_LENGTH)
    return text
