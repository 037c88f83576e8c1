"""The due board's statement finds its candidates by the board's covering index on SQLite, and
still does once ANALYZE has given SQLite statistics; it reads whole only the rows it shows.

At 10,000 participants, starting from every participant of the site and looking up each one's
visits cost five to twenty times more than starting from the visits whose window is near
(bench/results/staff-10000.md). SQLite is steered there; the plan is asserted on an empty schema,
where SQLite plans as it does without statistics, and on one with the statistics ANALYZE wrote for
the bench's 10,000-participant trial (without the steer, SQLite then scans every participant).
PostgreSQL plans by its statistics, so its plan is the bench's to watch.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from pro_app.models import Site
from pro_app.models.base import Base
from pro_app.services import progress

# What ANALYZE wrote into sqlite_stat1 for the staff bench's trial (10,000 participants, 60,000
# visits, one site).
TRIAL_STATISTICS = [
    ("site", "sqlite_autoindex_site_1", "1 1"),
    ("participant", "ix_participant_site_id_study_id", "10000 10000 1"),
    ("participant", "sqlite_autoindex_participant_1", "10000 1"),
    ("visit", "ix_visit_board", "60000 86 51 35 35 1"),
    ("visit", "ix_visit_participant_id", "60000 6"),
    ("visit", "sqlite_autoindex_visit_1", "60000 6 1"),
]


@pytest.fixture(autouse=True)
def in_app_context() -> None:
    """A schema of this module's own, outside the app."""


@pytest.fixture
def sqlite_schema() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def analyzed_schema(sqlite_schema: Engine) -> Engine:
    with sqlite_schema.begin() as conn:
        conn.execute(text("ANALYZE"))  # creates sqlite_stat1
        conn.execute(text("DELETE FROM sqlite_stat1"))
        for table, index, stat in TRIAL_STATISTICS:
            conn.execute(
                text("INSERT INTO sqlite_stat1 VALUES (:table, :index, :stat)"),
                {"table": table, "index": index, "stat": stat},
            )
        conn.execute(text("ANALYZE sqlite_schema"))  # loads them
    return sqlite_schema


def _plan(engine: Engine, dialect: str) -> list[str]:
    site = Site(id=1, code="SEH", timezone="Asia/Shanghai")
    query = progress.board_query([site], {"baseline": 2, "d7": 1}, grace_days=3, dialect=dialect)
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        return [str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]


BOARD_INDEX = "SEARCH visit USING COVERING INDEX ix_visit_board"


def _finds_candidates_by_the_board_index(plan: list[str]) -> None:
    assert any(step.startswith(BOARD_INDEX) for step in plan), plan
    assert not any(step.startswith(("SCAN visit", "SCAN participant")) for step in plan), plan


def test_the_board_reads_its_covering_index(sqlite_schema: Engine) -> None:
    plan = _plan(sqlite_schema, "sqlite")
    _finds_candidates_by_the_board_index(plan)
    assert any("participant USING INTEGER PRIMARY KEY" in step for step in plan), plan
    # The shown rows are read whole by their ids, after the ranking.
    assert plan.count("SEARCH visit USING INTEGER PRIMARY KEY (rowid=?)") == 1, plan


def test_with_statistics_too(analyzed_schema: Engine) -> None:
    _finds_candidates_by_the_board_index(_plan(analyzed_schema, "sqlite"))


def test_without_the_steer_sqlite_would_scan_every_participant(analyzed_schema: Engine) -> None:
    """The tests above can fail: the statement as PostgreSQL gets it, planned by SQLite with the
    same statistics, starts from the participants."""
    plan = _plan(analyzed_schema, "postgresql")
    assert not any(step.startswith(BOARD_INDEX) for step in plan), plan
    assert any(step.startswith("SCAN participant") for step in plan), plan
