"""Engine set-up: SQLite gets WAL, a busy timeout, enforced foreign keys and real SAVEPOINTs;
reading transactions that take no lock and writing transactions that take the write lock at once.

A transaction reads or writes as `reading()` says when it begins: the web layer marks each GET
and HEAD request as reading (pro_app/web/unit_of_work.py); everything else (POST requests, the
CLI, the PDF worker) writes. On SQLite a reading request runs its statements in autocommit (each a
WAL read that never waits for the writer) on a connection under `PRAGMA query_only`, so a write
slipped into a reading request fails loudly ("attempt to write a readonly database") instead of
silently taking the write lock; a writing transaction starts with `BEGIN IMMEDIATE`, so two writers
queue instead of deadlocking. On PostgreSQL (MVCC readers take no locks) a reading request also
runs in autocommit. Either way a reading request saves the BEGIN and COMMIT; like PostgreSQL under
READ COMMITTED, each of its statements sees the data as of that statement.

A file SQLite database has two pools: reading transactions take their connections from a reading
engine of their own (`READING_BIND`, chosen by `RoutingSession.get_bind`), writing ones from the main
engine. So a connection's query-only flag is set once, on its first transaction, and never
changed again: changing a flag pragma expires every statement the connection has prepared, and a
patient's GET after a POST on one shared connection re-prepared each of its statements (about
60 us apiece, 10% of an item step). Elsewhere (in-memory SQLite, the tests' one connection) the
flag is set when a transaction begins and changed only when the connection goes from reading to
writing or back.

SQLite writers queue at a gate of this module's before they ask SQLite for its write lock: a
thread lock among the threads of a process, a file lock (`<database>-writer.lock`) among
processes. A waiting writer is woken the moment the writer before it commits, where SQLite's own
busy handler would sleep in growing steps (1, 2, 5, 10 ... 100 ms) and let twenty writers' waits
add up to half a second. The gate is released right after the COMMIT or ROLLBACK, and by the pool
if a connection ever goes back with its transaction open. It waits no longer than SQLite would
(`SQLITE_BUSY_TIMEOUT`), then fails as SQLite does: "database is locked".
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import (
    JSON,
    ColumnElement,
    Engine,
    Integer,
    Pool,
    any_,
    bindparam,
    event,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session, SessionTransaction

# How long a SQLite writer waits for the write lock before giving up (seconds).
SQLITE_BUSY_TIMEOUT = 15.0

_reading: ContextVar[bool] = ContextVar("pro_app_reading", default=False)
_QUERY_ONLY = "pro_app_query_only"
_GUARDED = "pro_app_guarded_connection"
_AUTOCOMMIT = "pro_app_autocommit"
_GATE_HELD = "pro_app_writer_gate"
# The bind key of a file SQLite database's reading engine (pro_app/config.py), and the execution
# option that marks its connections: query-only whatever the transaction.
READING_BIND = "reading"
READING_ENGINE = "pro_app_reading_engine"


def set_reading(value: bool) -> None:
    """Transactions begun from now on in this context read (True) or write (False)."""
    _reading.set(value)


def is_reading() -> bool:
    return _reading.get()


@contextmanager
def reading(value: bool = True) -> Iterator[None]:
    """Transactions begun inside the block read only (or, with False, write)."""
    token = _reading.set(value)
    try:
        yield
    finally:
        _reading.reset(token)


def one_of(column: InstrumentedAttribute[int], name: str, dialect: str) -> ColumnElement[bool]:
    """An id `column` is one of the ids bound as `name` when the statement runs, sent as one
    parameter: on PostgreSQL an array (`= ANY(%(name)s)`), on SQLite a JSON list read by
    `json_each`. The statement's text is then the same for any number of ids, so SQLAlchemy does
    not rewrite it, nor psycopg convert it, on every call (an expanded `IN` list did both for the
    150 rows of the due board), and each engine parses it once."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    ids = func.json_each(bindparam(name, type_=JSON)).table_valued("value")
    return column.in_(select(ids.c.value))


class RoutingSession(FlaskSession):
    """Flask-SQLAlchemy's session, which sends reading transactions to the reading engine where
    there is one (a file SQLite database)."""

    def get_bind(
        self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any
    ) -> Any:
        if bind is None and _reading.get():
            reader = self._db.engines.get(READING_BIND)
            if reader is not None:
                return reader
        return super().get_bind(mapper, clause=clause, bind=bind, **kwargs)


def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # Every commit reaches the disk before the patient is told "saved" (SQLite's default, said).
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
    cursor.close()
    connection_record.info[_QUERY_ONLY] = False


def _query_only(info: dict[Any, Any], dbapi_connection: Any, value: bool) -> None:
    """Sets the flag on the DBAPI connection itself: a flag, not a statement about data."""
    if info.get(_QUERY_ONLY, False) is not value:
        dbapi_connection.execute(f"PRAGMA query_only={int(value)}")
        info[_QUERY_ONLY] = value


def _autocommit(info: dict[Any, Any], dbapi_connection: Any, value: bool) -> None:
    if info.get(_AUTOCOMMIT, False) is not value:
        dbapi_connection.autocommit = value
        info[_AUTOCOMMIT] = value


class WriterGate:
    """The queue of one SQLite database's writers: a thread lock, then a file lock beside the
    database. Both wake a waiter as soon as the holder lets go."""

    # A writer that waits for another process polls the file lock this often at most.
    POLL = 0.0005

    def __init__(self, database: str) -> None:
        self.path = f"{database}-writer.lock"
        self.threads = threading.Lock()
        self._fd: int | None = None

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if not self.threads.acquire(timeout=timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            while True:
                try:
                    fcntl.flock(self._file(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise sqlite3.OperationalError("database is locked") from None
                    time.sleep(self.POLL)
        except BaseException:
            self.threads.release()
            raise

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    def forget_parent(self) -> None:
        """In a forked child: a lock of its own (a file lock shared with the parent through the
        same open file would not keep the two apart)."""
        self.threads = threading.Lock()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_GATES: dict[str, WriterGate] = {}
_GATES_LOCK = threading.Lock()


def _gate_of(connection: Any) -> WriterGate | None:
    """The gate of a file database (an in-memory one has a single connection: no queue)."""
    database = connection.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    gate = _GATES.get(database)
    if gate is None:
        with _GATES_LOCK:
            gate = _GATES.setdefault(database, WriterGate(os.path.abspath(database)))
    return gate


def _forget_parent_gates() -> None:
    global _GATES_LOCK
    _GATES_LOCK = threading.Lock()  # another of the parent's threads may have held it
    for gate in _GATES.values():
        gate.forget_parent()


os.register_at_fork(after_in_child=_forget_parent_gates)


def _open_gate(info: dict[Any, Any]) -> None:
    gate: WriterGate | None = info.pop(_GATE_HELD, None)
    if gate is not None:
        gate.release()


def _on_begin(connection: Any) -> None:
    if connection.dialect.name == "postgresql" and not _reading.get():
        _autocommit(connection.info, connection.connection.dbapi_connection, False)
    if connection.dialect.name == "sqlite":
        reading_now = _reading.get() or bool(connection.get_execution_options().get(READING_ENGINE))
        _query_only(connection.info, connection.connection.dbapi_connection, reading_now)
        # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking;
        # a reader runs in autocommit and takes no lock at all (WAL).
        if not reading_now:
            gate = _gate_of(connection)
            if gate is not None:
                gate.acquire(SQLITE_BUSY_TIMEOUT)
                connection.info[_GATE_HELD] = gate
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _open_gate(connection.info)
                raise


def _on_commit(connection: Any) -> None:
    """Commit now, then let the next writer in (SQLAlchemy's own COMMIT after this finds
    nothing left to do)."""
    if _GATE_HELD in connection.info:
        try:
            connection.connection.dbapi_connection.commit()
        finally:
            _open_gate(connection.info)


def _on_rollback(connection: Any) -> None:
    if _GATE_HELD in connection.info:
        try:
            connection.connection.dbapi_connection.rollback()
        finally:
            _open_gate(connection.info)


def _on_pool_reset(dbapi_connection: Any, connection_record: Any, reset_state: Any) -> None:
    """A connection goes back to the pool with its transaction open."""
    _end_open_transaction(dbapi_connection, connection_record)


def _on_invalidate(dbapi_connection: Any, connection_record: Any, exception: Any) -> None:
    """A connection is discarded (broken), perhaps with its transaction open."""
    _end_open_transaction(dbapi_connection, connection_record)


def _end_open_transaction(dbapi_connection: Any, connection_record: Any) -> None:
    if connection_record is None or _GATE_HELD not in connection_record.info:
        return
    try:
        with suppress(sqlite3.Error):  # a broken connection: closing it ends the transaction
            dbapi_connection.rollback()
    finally:
        _open_gate(connection_record.info)


def _after_begin(session: Session, transaction: SessionTransaction, connection: Any) -> None:
    """A reading session transaction on SQLite (a savepoint in tests too) is query-only until
    it ends. On PostgreSQL a reading request's statements run in autocommit: under READ COMMITTED
    each statement sees its own snapshot anyway, and BEGIN and COMMIT would be two more round
    trips for nothing (only when the connection is idle: not inside the tests' outer
    transaction)."""
    if not _reading.get():
        return
    dbapi_connection = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and dbapi_connection.in_transaction:
        # A savepoint inside a writing transaction (the tests' outer one): guard it until it ends.
        _query_only(connection.info, dbapi_connection, True)
        session.info[_GUARDED] = connection
    elif connection.dialect.name == "postgresql" and _idle(dbapi_connection):
        _autocommit(connection.info, dbapi_connection, True)


def _idle(dbapi_connection: Any) -> bool:
    from psycopg.pq import TransactionStatus

    return bool(dbapi_connection.info.transaction_status == TransactionStatus.IDLE)


def _after_end(session: Session, transaction: SessionTransaction) -> None:
    """A reading transaction ended. Its connection went back to the pool (`_on_checkin` lifts
    the flag there) unless the session was bound to a connection of its own (the tests')."""
    if transaction.parent is not None:
        return
    connection = session.info.pop(_GUARDED, None)
    if connection is not None and not connection.closed:
        _query_only(connection.info, connection.connection.dbapi_connection, False)


def _on_checkin(dbapi_connection: Any, connection_record: Any) -> None:
    """A PostgreSQL connection goes back to the pool transactional, whatever happened to its
    session. (A SQLite connection keeps its query-only flag: the next transaction's `_on_begin`
    sets it for what that transaction does.)"""
    if (
        dbapi_connection is not None
        and not isinstance(dbapi_connection, sqlite3.Connection)
        and connection_record.info.get(_AUTOCOMMIT)
        and not dbapi_connection.closed
    ):
        _autocommit(connection_record.info, dbapi_connection, False)


def configure_engines() -> None:
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "begin", _on_begin)
        event.listen(Engine, "commit", _on_commit)
        event.listen(Engine, "rollback", _on_rollback)
        event.listen(Pool, "reset", _on_pool_reset)
        event.listen(Pool, "invalidate", _on_invalidate)
        event.listen(Pool, "checkin", _on_checkin)
        event.listen(Session, "after_begin", _after_begin)
        event.listen(Session, "after_transaction_end", _after_end)
