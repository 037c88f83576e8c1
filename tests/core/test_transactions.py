"""The transactions a real server runs (a database of its own, committed, no test savepoints):
a GET runs its statements in autocommit on both engines (no BEGIN and COMMIT; on SQLite under
`PRAGMA query_only`, so a stray write fails), and a POST runs in one transaction, on SQLite one that
takes the write lock at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import event

from pro_app import create_app
from pro_app.extensions import db
from tests.actions import Patient, csrf_of
from tests.conftest import empty_database, make_settings
from tests.core.test_query_counts import ITEM_STEP_BUDGET
from tests.factories import issue_token, make_participant


@pytest.fixture(autouse=True)
def in_app_context() -> None:
    """These tests commit on a database of their own, not in the shared rolled-back transaction."""


@pytest.fixture
def served(backend: str, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    with empty_database(backend, tmp_path) as url:
        app = create_app({"TESTING": True}, settings=make_settings(url, tmp_path))
        with app.app_context():
            flask_migrate.upgrade()
            token = issue_token(make_participant("PRIME-950"))
        yield app, token
        with app.app_context():
            db.engine.dispose()


def _watch(app: Flask) -> tuple[list[tuple[str, str]], Any]:
    """(statement, PostgreSQL transaction status after it) for every statement sent."""
    seen: list[tuple[str, str]] = []

    def after(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        raw = conn.connection.dbapi_connection
        status = raw.info.transaction_status.name if hasattr(raw, "info") else ""
        seen.append((" ".join(statement.split()), status))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", after)
    return seen, lambda: event.remove(engine, "after_cursor_execute", after)


def test_a_get_reads_without_a_lock_and_a_post_writes_at_once(
    served: tuple[Flask, str], backend: str
) -> None:
    app, token = served
    client = app.test_client()
    patient = Patient(client, token)
    assert patient.start().status_code == 303
    seen, stop = _watch(app)
    try:
        page = client.get("/visit/mlhfq/q/2")
        on_get = list(seen)
        seen.clear()
        answered = client.post(
            "/visit/mlhfq/q/2", data={"csrf_token": csrf_of(page), "answer": "3"}
        )
        on_post = list(seen)
    finally:
        stop()
    assert page.status_code == 200 and answered.status_code == 303
    if backend == "sqlite":
        assert not any(statement.startswith("BEGIN") for statement, _ in on_get)
        assert on_post[0][0] == "BEGIN IMMEDIATE"
        # The budget of the step, with the BEGIN a real server sends (COMMIT is no statement).
        assert len(on_get) + len(on_post) <= ITEM_STEP_BUDGET + 1
    else:
        assert [status for _, status in on_get] == ["IDLE"]  # autocommit: no BEGIN, no COMMIT
        assert {status for _, status in on_post} == {"INTRANS"}
        assert len(on_get) + len(on_post) <= ITEM_STEP_BUDGET
    # The answer was committed, and a connection back in the pool writes again.
    again = client.get("/visit/mlhfq/q/2").get_data(as_text=True)
    assert 'value="3" checked' in again
    assert patient.answer(3, 1).status_code == 303
