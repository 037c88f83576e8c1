"""A signed-in coordinator of site SEH, and a way to count what a request changed."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import func, select

from pro_app.extensions import db
from pro_app.models import AuditEvent, StaffSession
from tests.coordinator.conftest import coordinator, desk
from tests.pdf.conftest import seal_record

# Fixtures these tests share with the desk's and the PDF tests.
__all__ = ["coordinator", "desk", "seal_record"]


def state() -> tuple[int, int]:
    """What a refused request must not change: the audit trail and the staff sessions."""
    events = db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    sessions = db.session.scalar(select(func.count()).select_from(StaffSession)) or 0
    return events, sessions


@pytest.fixture
def unchanged() -> Callable[[], tuple[int, int]]:
    return state


# Fuzzing profiles: a small one in `make test`, a few thousand examples in `make test-soak`
# (PRO_FUZZ_PROFILE=soak). No example database: nothing is written into the work tree.
settings.register_profile(
    "default",
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "soak",
    max_examples=600,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("PRO_FUZZ_PROFILE", "default"))
