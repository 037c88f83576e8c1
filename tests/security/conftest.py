"""A signed-in coordinator of site SEH, and a way to count what a request changed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
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
