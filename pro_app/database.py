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
READ COMMITTED, each of its statements sees the data as of that statement. The query-only flag is
set when a transaction begins and changed only when a connection goes from reading to writing or
back, so a run of reading requests costs no PRAGMA at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, Pool, event
from sqlalchemy.orm import Session, SessionTransaction

# How long a SQLite writer waits for the write lock before giving up (seconds).
SQLITE_BUSY_TIMEOUT = 15.0

_reading: ContextVar[bool] = ContextVar("pro_app_reading", default=False)
_QUERY_ONLY = "pro_app_query_only"
_GUARDED = "pro_app_guarded_connection"
_AUTOCOMMIT = "pro_app_autocommit"


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


def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
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


def _on_begin(connection: Any) -> None:
    if connection.dialect.name == "postgresql" and not _reading.get():
        _autocommit(connection.info, connection.connection.dbapi_connection, False)
    if connection.dialect.name == "sqlite":
        reading_now = _reading.get()
        _query_only(connection.info, connection.connection.dbapi_connection, reading_now)
        # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking;
        # a reader runs in autocommit and takes no lock at all (WAL).
        if not reading_now:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


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
        event.listen(Pool, "checkin", _on_checkin)
        event.listen(Session, "after_begin", _after_begin)
        event.listen(Session, "after_transaction_end", _after_end)
