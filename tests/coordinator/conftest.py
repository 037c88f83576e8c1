"""A signed-in coordinator of site SEH, for the desk's tests."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from pro_app.extensions import db
from pro_app.models import StaffUser
from tests.actions import StaffBrowser
from tests.factories import make_site, make_staff


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
