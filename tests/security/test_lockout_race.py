"""The lockout holds under a burst: 40 sign-in attempts at the same instant (a barrier of 40
threads, each its own browser) on SQLite and PostgreSQL, with committed transactions."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from pro_app import create_app
from pro_app.extensions import db
from pro_app.models import AuditEvent, SigninGuard, StaffSession
from pro_app.services import signin
from tests.actions import csrf_of
from tests.conftest import empty_database, make_settings
from tests.factories import STAFF_PASSWORD, make_staff

pytestmark = pytest.mark.committed
BURST = 40


@pytest.fixture(autouse=True)
def in_app_context() -> None:
    """These tests commit on a database of their own."""


@pytest.fixture(scope="module")
def burst_app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = Path(tmp_path_factory.mktemp(f"burst-{backend}"))
    with empty_database(backend, folder) as url:
        # Rate limits off: this is about the lockout behind them.
        app = create_app(
            {"TESTING": True, "RATELIMIT_ENABLED": False}, settings=make_settings(url, folder)
        )
        with app.app_context():
            flask_migrate.upgrade()
            make_staff("coord-a")
            db.session.commit()
        yield app
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def fresh(burst_app: Flask) -> Flask:
    with burst_app.app_context():
        db.session.execute(delete(StaffSession))
        db.session.execute(delete(SigninGuard))
        db.session.commit()
    return burst_app


def burst(app: Flask, passwords: list[str]) -> list[int]:
    """Every password posted at the same instant from its own browser; their status codes."""
    barrier = threading.Barrier(len(passwords))
    statuses: list[int] = []
    lock = threading.Lock()

    def browser(password: str) -> None:
        client = app.test_client()
        csrf = csrf_of(client.get("/staff/login"))
        barrier.wait()
        response = client.post(
            "/staff/login",
            data={"csrf_token": csrf, "username": "coord-a", "password": password},
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=browser, args=(p,)) for p in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _since(app: Flask, first_id: int) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.id > first_id).order_by(AuditEvent.id)
            )
        )


def _last_id(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.max(AuditEvent.id))) or 0)


def test_forty_wrong_passwords_at_once_check_at_most_five(fresh: Flask) -> None:
    start = _last_id(fresh)
    statuses = burst(fresh, [f"wrong-password-{n}" for n in range(BURST)])
    assert sorted(set(statuses)) == [400]
    events = _since(fresh, start)
    checked = [e for e in events if e.details.get("cause") == "bad_password"]
    assert 1 <= len(checked) <= signin.MAX_FAILED_ATTEMPTS
    assert any(e.action == "staff.locked" for e in events)
    # The right password afterwards is refused: the lock holds.
    assert burst(fresh, [STAFF_PASSWORD]) == [400]
    with fresh.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 0


@pytest.mark.parametrize("trial", range(4))
def test_a_right_password_inside_the_burst_never_gets_past_the_lock(
    fresh: Flask, trial: int
) -> None:
    passwords = [f"wrong-password-{n}" for n in range(BURST - 1)]
    passwords.insert(random.Random(trial).randrange(BURST), STAFF_PASSWORD)
    start = _last_id(fresh)
    statuses = burst(fresh, passwords)
    events = _since(fresh, start)
    checked = [e for e in events if e.details.get("cause") == "bad_password"]
    signed_in = [e for e in events if e.action == "staff.signed_in"]
    assert statuses.count(303) == len(signed_in) <= 1
    if signed_in:
        # The right one was among the first five admitted; its sign-in starts the count again,
        # so at most four before it and five after it were checked.
        assert len(checked) <= 2 * signin.MAX_FAILED_ATTEMPTS - 1
    else:
        assert len(checked) <= signin.MAX_FAILED_ATTEMPTS
    locks = [e for e in events if e.action == "staff.locked"]
    if signed_in and locks:
        # A sign-in that happened was decided before the lock, never after it.
        assert signed_in[0].id < locks[0].id
