"""The due board's candidate query starts from the visit window index on SQLite.

At 10,000 participants, starting from every participant of the site (its index) and looking each
visit up cost four times more than starting from the visits whose window is near
(bench/results/staff-10000.md). SQLite, keeping no statistics by default, is steered there; the
plan is asserted on an empty schema, where SQLite plans the same. PostgreSQL plans by its
statistics, so its plan is the bench's to watch.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from pro_app.models.base import Base
from pro_app.services import progress


@pytest.fixture(autouse=True)
def in_app_context() -> None:
    """A schema of this module's own, outside the app."""


@pytest.fixture
def sqlite_schema() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_the_board_starts_from_the_visit_window_index(sqlite_schema: Engine) -> None:
    query = progress.candidates({1}, {"baseline": 2, "d7": 1}, grace_days=3, dialect="sqlite")
    compiled = query.compile(sqlite_schema, compile_kwargs={"literal_binds": True})
    with sqlite_schema.connect() as conn:
        plan = [str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    assert plan[0].startswith("SEARCH visit USING INDEX ix_visit_window_end"), plan


def test_without_the_steer_sqlite_would_start_from_the_site(sqlite_schema: Engine) -> None:
    """The test above can fail: the same query for PostgreSQL, planned by SQLite, starts from
    the participants of the site."""
    query = progress.candidates({1}, {"baseline": 2}, grace_days=3, dialect="postgresql")
    compiled = query.compile(sqlite_schema, compile_kwargs={"literal_binds": True})
    with sqlite_schema.connect() as conn:
        plan = [str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    assert not plan[0].startswith("SEARCH visit USING INDEX ix_visit_window_end"), plan
