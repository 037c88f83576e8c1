"""What a check of a signed PDF can find wrong, as codes (words are the monitor catalogue's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing a check found wrong: a code for the monitor's message catalogue, and technical
    detail (an exception's text) that only goes into the audit trail and the CLI."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
