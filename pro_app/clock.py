"""The one source of "now": always UTC-aware; tests freeze it with `frozen()`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_frozen: datetime | None = None


def utcnow() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def today_in(timezone: str) -> date:
    """Today's date at a site: visit windows are calendar days in the site's zone."""
    return utcnow().astimezone(ZoneInfo(timezone)).date()


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Freeze utcnow() at `at` (must be timezone-aware)."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous, _frozen = _frozen, at.astimezone(UTC)
    try:
        yield
    finally:
        _frozen = previous


def advance(delta: timedelta) -> None:
    """Move a frozen clock forward (only meaningful inside `frozen`)."""
    global _frozen
    if _frozen is None:
        raise RuntimeError("advance() needs a frozen clock")
    _frozen += delta
