"""The benches seed a database in this process and serve it from gunicorn processes that run on the
real clock, so their seed must use the real clock too. Under the suite's clock (frozen at 25 Nov
2026) the seeded visit windows ended on 2 Dec, and from 3 Dec in Shanghai every patient the
servers saw was refused as late."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    """Overrides the suite's frozen clock (tests/conftest.py): here "now" is now."""
    yield
