"""The load bench's lock sampler counts a PostgreSQL backend that waits on a row lock, and only
while it waits (bench/load.py::LockSampler)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from bench import load


@pytest.fixture
def database() -> Iterator[tuple[str, str]]:
    """A scratch PostgreSQL database with one row: (its name, its URL)."""
    name = f"pro_locks_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(load.PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{load.PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    try:
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE head (id integer PRIMARY KEY)")
            conn.execute("INSERT INTO head VALUES (1)")
        yield name, url
    finally:
        with psycopg.connect(load.PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_until_blocked(name: str) -> None:
    with psycopg.connect(load.PG_ADMIN, autocommit=True) as admin:
        for _ in range(200):
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND wait_event_type = 'Lock'",
                (name,),
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the second writer never waited")


def test_a_writer_waiting_on_a_locked_row_is_in_every_sample(database: tuple[str, str]) -> None:
    name, url = database
    with psycopg.connect(url) as holder, psycopg.connect(url) as waiter:
        holder.execute("SELECT id FROM head WHERE id = 1 FOR UPDATE")
        blocked = threading.Thread(
            target=lambda: waiter.execute("SELECT id FROM head WHERE id = 1 FOR UPDATE")
        )
        blocked.start()
        _wait_until_blocked(name)
        with load.LockSampler(name, period=0.005) as sampler:
            while sampler.samples < 5:
                time.sleep(0.01)
        holder.commit()
        blocked.join(timeout=10)
        waiter.commit()
    figures = sampler.figures()
    assert figures["lock_samples"] >= 5
    assert figures["lock_waiting"] == figures["lock_some"] == figures["lock_samples"]


def test_no_waiter_no_count(database: tuple[str, str]) -> None:
    name, url = database
    with psycopg.connect(url) as holder:
        holder.execute("SELECT id FROM head WHERE id = 1 FOR UPDATE")  # held, nobody waits
        with load.LockSampler(name, period=0.005) as sampler:
            while sampler.samples < 5:
                time.sleep(0.01)
    figures = sampler.figures()
    assert figures["lock_samples"] >= 5
    assert figures["lock_waiting"] == figures["lock_some"] == 0


def test_a_sampler_that_cannot_connect_stops_the_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "PG_ADMIN", "postgresql://postgres@127.0.0.1:1/postgres")
    with pytest.raises(psycopg.OperationalError), load.LockSampler("anything"):
        pass
