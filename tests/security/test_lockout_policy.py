"""What the lockout locks: a username from one address (so a stranger cannot lock a colleague
out from elsewhere), the same for unknown usernames (so none can be told from a real one), and a
growing wait for a username tried from many addresses."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from pro_app import clock
from pro_app.extensions import db
from pro_app.models import AuditEvent, StaffUser
from pro_app.services import signin
from tests.actions import csrf_of
from tests.factories import STAFF_PASSWORD, make_staff

EN = {"Accept-Language": "en"}


def attempt(client: FlaskClient, username: str, password: str, address: str) -> tuple[int, str]:
    page = client.get("/staff/login", headers=EN, environ_base={"REMOTE_ADDR": address})
    response = client.post(
        "/staff/login",
        headers=EN,
        environ_base={"REMOTE_ADDR": address},
        data={"csrf_token": csrf_of(page), "username": username, "password": password},
    )
    text = response.get_data(as_text=True)
    message = "locked" if "signing in is paused" in text else "wrong" if "Wrong" in text else ""
    return response.status_code, message or text[:200]


def test_a_lock_from_one_address_does_not_lock_out_another(client: FlaskClient) -> None:
    make_staff("coord-a")
    db.session.commit()
    for _ in range(signin.MAX_FAILED_ATTEMPTS):
        attempt(client, "coord-a", "wrong-password-1", "203.0.113.9")
    assert attempt(client, "coord-a", STAFF_PASSWORD, "203.0.113.9") == (400, "locked")
    # The colleague at the clinic signs in from their own address all the same.
    assert attempt(client, "coord-a", STAFF_PASSWORD, "10.1.2.3")[0] == 303


def test_unknown_and_known_usernames_cannot_be_told_apart(client: FlaskClient) -> None:
    make_staff("coord-a")
    db.session.commit()
    answers = {}
    for username in ("coord-a", "no-such-user"):
        answers[username] = [
            attempt(client, username, "wrong-password-1", "203.0.113.9")
            for _ in range(signin.MAX_FAILED_ATTEMPTS + 2)
        ]
    assert answers["coord-a"] == answers["no-such-user"]
    assert answers["coord-a"][0] == (400, "wrong") and answers["coord-a"][-1] == (400, "locked")


def test_a_username_tried_from_many_addresses_must_wait_longer_each_time(
    client: FlaskClient,
) -> None:
    make_staff("coord-a")
    db.session.commit()
    for n in range(signin.ACCOUNT_FREE_ATTEMPTS):
        assert attempt(client, "coord-a", "wrong-password-1", f"198.51.100.{n}")[1] == "wrong"
    # The next attempt is taken and sets a wait; the one after, at once, is refused unchecked.
    assert attempt(client, "coord-a", "wrong-password-1", "198.51.100.200")[1] == "wrong"
    assert attempt(client, "coord-a", STAFF_PASSWORD, "198.51.100.201") == (400, "locked")
    clock.advance(timedelta(seconds=2))
    assert attempt(client, "coord-a", STAFF_PASSWORD, "198.51.100.202")[0] == 303
    causes = [
        e.details.get("cause")
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action != "staff.signed_in")
        )
    ]
    assert causes.count("delayed") == 1


def test_an_administrator_unlock_clears_every_address(client: FlaskClient) -> None:
    from pro_app.services import accounts

    admin = make_staff("admin-a")
    make_staff("coord-a")
    db.session.commit()
    for _ in range(signin.MAX_FAILED_ATTEMPTS):
        attempt(client, "coord-a", "wrong-password-1", "203.0.113.9")
    staff = db.session.scalar(select(StaffUser).where(StaffUser.username == "coord-a"))
    assert staff is not None and staff.locked_until is not None
    accounts.unlock(staff, actor=admin.actor)
    db.session.commit()
    assert attempt(client, "coord-a", STAFF_PASSWORD, "203.0.113.9")[0] == 303
