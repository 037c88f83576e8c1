"""`database.one_of`: a list of ids bound when the statement runs, as one parameter (an array on
PostgreSQL, a JSON list on SQLite), so the statement's text does not grow with the list: an
expanded `IN (...)` of the due board's 150 ids was rewritten by SQLAlchemy and psycopg on every
view, and parsed afresh by the server."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event, select

from pro_app.database import one_of
from pro_app.extensions import db
from pro_app.models import Visit
from tests.factories import make_participant


def _run(ids: list[int]) -> tuple[set[int], list[str]]:
    """The visits the statement finds, and the statement's text as sent."""
    sent: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    dialect = db.session.get_bind().dialect.name
    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", watch)
    try:
        found = db.session.scalars(
            select(Visit.id).where(one_of(Visit.id, "visit_ids", dialect)), {"visit_ids": ids}
        )
        return set(found), sent
    finally:
        event.remove(engine, "before_cursor_execute", watch)


def test_one_of_finds_exactly_the_listed_rows(app_ctx: Flask) -> None:
    visits = [visit.id for visit in make_participant("PRIME-601").visits]
    assert _run(visits[:2])[0] == set(visits[:2])
    assert _run([visits[-1], -5])[0] == {visits[-1]}
    assert _run([])[0] == set()


def test_the_statement_does_not_grow_with_the_list(app_ctx: Flask) -> None:
    visits = [visit.id for visit in make_participant("PRIME-602").visits]
    _found, short = _run(visits[:1])
    _found, long = _run(visits + list(range(10**6, 10**6 + 150)))
    assert short == long
    dialect = db.session.get_bind().dialect.name
    assert ("ANY" if dialect == "postgresql" else "json_each") in long[0]
