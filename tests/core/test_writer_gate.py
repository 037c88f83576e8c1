"""SQLite's writers queue at the gate of pro_app/database.py, not in SQLite's busy handler.

Each engine here runs with SQLite's own busy timeout at zero: a writer that reached SQLite while
another held the write lock would fail at once with "database is locked". So a second writer
that succeeds proves it waited at the gate, and went in only once the first had committed, rolled
back, or lost its connection; in another thread or in another process.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text

from pro_app import database


@pytest.fixture(autouse=True)
def in_app_context() -> None:
    """A database file of each test's own, outside the app."""


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    database.configure_engines()
    engine = create_engine(f"sqlite:///{tmp_path / 'gate.sqlite3'}")

    @event.listens_for(engine, "connect")
    def no_busy_handler(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE answers (value INTEGER)"))
    yield engine
    engine.dispose()


def _write(engine: Engine, value: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO answers VALUES (:v)"), {"v": value})


def _values(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT value FROM answers ORDER BY value"))]


class Holder:
    """A writer in another thread that holds its transaction open until told to end it."""

    def __init__(self, engine: Engine, value: int, end: str = "commit") -> None:
        self.inside = threading.Event()
        self.finish = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(engine, value, end))
        self.thread.start()
        assert self.inside.wait(10)

    def _run(self, engine: Engine, value: int, end: str) -> None:
        try:
            conn = engine.connect()
            transaction = conn.begin()
            conn.execute(text("INSERT INTO answers VALUES (:v)"), {"v": value})
            self.inside.set()
            self.finish.wait(10)
            if end == "commit":
                transaction.commit()
            elif end == "rollback":
                transaction.rollback()
            else:  # the connection breaks with its transaction open: the pool discards it
                conn.invalidate()
                return
            conn.close()
        except BaseException as error:  # reported to the test
            self.error = error
            self.inside.set()


def _second_writer(engine: Engine, value: int) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            _write(engine, value)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


@pytest.mark.parametrize("end", ["commit", "rollback", "invalidate"])
def test_a_writer_waits_at_the_gate_until_the_one_before_ends(engine: Engine, end: str) -> None:
    first = Holder(engine, 1, end)
    second, errors = _second_writer(engine, 2)
    second.join(0.3)
    assert second.is_alive(), "the second writer went in while the first held its transaction"
    first.finish.set()
    first.thread.join(10)
    second.join(10)
    assert first.error is None and errors == []
    assert _values(engine) == ([1, 2] if end == "commit" else [2])


def test_a_writer_gives_up_after_the_busy_timeout_and_the_gate_stays_usable(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT", 0.2)
    first = Holder(engine, 1)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        _write(engine, 2)
    first.finish.set()
    first.thread.join(10)
    _write(engine, 3)
    assert _values(engine) == [1, 3]


def _hold_in_child(url: str, inside: Any, finish: Any) -> None:
    database.configure_engines()
    child = create_engine(url)
    with child.begin() as conn:
        conn.execute(text("INSERT INTO answers VALUES (1)"))
        inside.set()
        finish.wait(10)
    child.dispose()


def test_writers_in_two_processes_queue_at_the_gate(engine: Engine) -> None:
    context = multiprocessing.get_context("fork")
    inside, finish = context.Event(), context.Event()
    child = context.Process(target=_hold_in_child, args=(str(engine.url), inside, finish))
    child.start()
    try:
        assert inside.wait(10)
        second, errors = _second_writer(engine, 2)
        second.join(0.3)
        assert second.is_alive(), "the writer went in while another process held the lock"
        finish.set()
        second.join(10)
        assert errors == []
    finally:
        finish.set()
        child.join(10)
    assert child.exitcode == 0
    assert _values(engine) == [1, 2]
