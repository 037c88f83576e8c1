"""Each process's connection pool: one connection per gunicorn thread, set from PRO_DB_POOL_*."""

from __future__ import annotations

import pytest

from pro_app.config import ConfigError, PoolSettings


def test_the_pool_is_sized_from_the_environment() -> None:
    pool = PoolSettings.from_env(
        {"PRO_DB_POOL_SIZE": "8", "PRO_DB_MAX_OVERFLOW": "3", "PRO_DB_POOL_PRE_PING": "1"}
    )
    options = pool.engine_options("postgresql+psycopg://app@db/prime_pro")
    assert options == {
        "pool_size": 8,
        "max_overflow": 3,
        "pool_timeout": 10,
        "pool_recycle": 1800,
        "pool_pre_ping": True,
    }


def test_an_in_memory_database_gets_no_pool_size() -> None:
    options = PoolSettings.from_env({}).engine_options("sqlite://")
    assert "pool_size" not in options and options["pool_pre_ping"] is False
    assert PoolSettings.from_env({}).engine_options("sqlite:////srv/pro.sqlite3")["pool_size"] == 4


def test_a_pool_size_must_be_a_number() -> None:
    with pytest.raises(ConfigError, match="PRO_DB_POOL_SIZE"):
        PoolSettings.from_env({"PRO_DB_POOL_SIZE": "four"})
