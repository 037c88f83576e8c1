"""A signed-in coordinator of site SEH, and a way to count what a request changed."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import func, select

from pro_app.extensions import db
from pro_app.models import AuditEvent, StaffSession, StaffUser
from tests.actions import StaffBrowser
from tests.factories import make_site, make_staff
from tests.pdf.conftest import seal_record

__all__ = ["seal_record"]  # a fixture these tests share with the PDF tests


@pytest.fixture
def coordinator(client: FlaskClient) -> StaffUser:
    staff = make_staff("coord-a", sites=[make_site("SEH")])
    db.session.commit()
    return staff


@pytest.fixture
def desk(client: FlaskClient, coordinator: StaffUser) -> StaffBrowser:
    browser = StaffBrowser(client)
    assert browser.sign_in("coord-a").status_code == 303
    return browser


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
