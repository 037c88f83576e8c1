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
from sqlalchemy import event, update
from sqlalchemy.exc import OperationalError

from pro_app import create_app, database
from pro_app.extensions import db
from pro_app.models import VisitLink
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
    """(statement, PostgreSQL transaction status after it) for every statement sent, through any
    of the app's engines (on SQLite reading requests have an engine of their own)."""
    seen: list[tuple[str, str]] = []

    def after(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        raw = conn.connection.dbapi_connection
        status = raw.info.transaction_status.name if hasattr(raw, "info") else ""
        seen.append((" ".join(statement.split()), status))

    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        event.listen(engine, "after_cursor_execute", after)

    def stop() -> None:
        for engine in engines:
            event.remove(engine, "after_cursor_execute", after)

    return seen, stop


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
    assert on_get and on_post
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


@pytest.mark.sqlite_only  # the reading pool is SQLite's (PostgreSQL's readers need no flag)
def test_reading_and_writing_requests_have_pools_of_their_own(served: tuple[Flask, str]) -> None:
    """A connection's query-only flag is set once: switching it would expire every statement the
    connection has prepared (pro_app/database.py). So GETs read on the reading engine's
    connections, which refuse writes, and POSTs write on the main engine's."""
    app, token = served
    client = app.test_client()
    patient = Patient(client, token)
    assert patient.start().status_code == 303
    used: dict[str, set[int]] = {"GET": set(), "POST": set()}
    method = ["GET"]

    def note(conn: Any, *_args: Any) -> None:
        used[method[0]].add(id(conn.connection.dbapi_connection))

    with app.app_context():
        engines = [db.engine, db.engines[database.READING_BIND]]
    for engine in engines:
        event.listen(engine, "after_cursor_execute", note)
    try:
        for number in (1, 2, 3):
            method[0] = "GET"
            page = client.get(f"/visit/mlhfq/q/{number}")
            method[0] = "POST"
            answered = client.post(
                f"/visit/mlhfq/q/{number}", data={"csrf_token": csrf_of(page), "answer": "2"}
            )
            assert answered.status_code == 303
    finally:
        for engine in engines:
            event.remove(engine, "after_cursor_execute", note)
    assert used["GET"] and used["POST"] and not used["GET"] & used["POST"]
    with app.app_context():
        reader, writer = db.engines[database.READING_BIND], db.engine
        with reader.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA query_only").scalar() == 1
        with writer.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA query_only").scalar() == 0
        # A write slipped into a reading request still fails loudly.
        with database.reading():
            with pytest.raises(OperationalError, match="readonly"):
                db.session.execute(update(VisitLink).values(revoke_reason="x"))
            db.session.rollback()


def test_a_submit_is_one_transaction_without_a_savepoint(
    served: tuple[Flask, str], backend: str
) -> None:
    """The record's insert does nothing on a version another device took (sealing.store), so the
    submit needs no savepoint: seven statements a real server sends (and SQLite's BEGIN)."""
    app, token = served
    client = app.test_client()
    patient = Patient(client, token)
    assert patient.start().status_code == 303
    patient.answer_all([2] * 21)
    page = client.get("/visit/mlhfq/submit")
    seen, stop = _watch(app)
    try:
        sealed = client.post("/visit/mlhfq/submit", data={"csrf_token": csrf_of(page)})
    finally:
        stop()
    assert sealed.status_code == 303 and sealed.headers["Location"].endswith("/receipt")
    statements = [statement for statement, _ in seen]
    listing = "\n".join(statements)
    assert not any("SAVEPOINT" in statement for statement in statements), listing
    assert len(statements) <= 7 + (backend == "sqlite"), listing
