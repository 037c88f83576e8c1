"""Fixtures: an app per database backend (SQLite and PostgreSQL), schema built by the migrations,
each test inside a transaction that is rolled back, and a clock frozen at a known instant."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask_migrate
import psycopg
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker
from werkzeug.test import TestResponse

from pro_app import clock, create_app
from pro_app.config import REPO_ROOT, Settings
from pro_app.extensions import db
from pro_app.pdf.worker import RenderAndSign
from pro_app.web import static_files
from pro_app.web.ratelimits import limiter_of

try:
    from flask_sqlalchemy.session import _app_ctx_id
except ImportError:  # pragma: no cover - moved in a later Flask-SQLAlchemy
    from flask.globals import app_ctx

    def _app_ctx_id() -> int:
        return id(app_ctx._get_current_object())


# Every log of the run is scanned for issued link tokens (tests/logscan.py).
pytest_plugins = ["tests.logscan"]

# 10:00 in Shanghai on 25 Nov 2026: inside the baseline window of a participant whose Day 0 is today.
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the catalogues and build the static files, so a bare `pytest` sees the same
    translations and hashed static files as `make test`."""
    static_files.ensure_built()
    for po_path in (REPO_ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with po_path.with_suffix(".mo").open("wb") as mo_file:
            write_mo(mo_file, catalog)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked postgresql_only is not collected for SQLite (it is about PostgreSQL), nor
    one marked sqlite_only for PostgreSQL."""
    kept, dropped = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        backend = params.params.get("backend") if params else None
        if (item.get_closest_marker("postgresql_only") and backend == "sqlite") or (
            item.get_closest_marker("sqlite_only") and backend == "postgresql"
        ):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _postgres_admin_url() -> str:
    return os.environ.get("PRO_TEST_DATABASE_URL", DEFAULT_PG)


@contextmanager
def empty_database(backend: str, folder: Path) -> Iterator[str]:
    """A new, empty database of the given backend; dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    admin = make_url(_postgres_admin_url())
    name = f"pro_test_{uuid.uuid4().hex[:10]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with empty_database(backend, tmp_path_factory.mktemp(backend)) as url:
        yield url


def make_settings(database_url: str, instance: Path, **extra: str) -> Settings:
    return Settings.from_env(
        {
            "PRO_INSTANCE_DIR": str(instance),
            "PRO_DATABASE_URL": database_url,
            "PRO_SECRET_KEY": "test-secret-key",
            "PRO_TEXTPACK_DIR": str(instance / "textpacks"),
            "PRO_BASE_URL": "http://localhost",
            **extra,
        }
    )


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    application = create_app({"TESTING": True}, settings=make_settings(database_url, instance))
    with application.app_context():
        flask_migrate.upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen(NOW):
        yield


@pytest.fixture
def app_ctx(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """An app context whose session works inside one transaction, rolled back after the test.
    Audit checkpoints (files outside the database) go to a folder of the test's own."""
    settings = app.config["PRO_SETTINGS"]
    app.config["PRO_SETTINGS"] = dataclasses.replace(
        settings, audit_checkpoint_dir=tmp_path / "audit-checkpoints"
    )
    limiter_of(app).reset()  # each test starts with no rate-limit counts
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        # A plain SQLAlchemy session: Flask-SQLAlchemy's own picks the engine per table and
        # would step around the outer transaction.
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        app.test_client_class = RequestPerContextClient
        try:
            yield app
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()
            app.config["PRO_SETTINGS"] = settings


class RequestPerContextClient(FlaskClient):
    """Each request gets its own app context (fresh `g`, own session), as in production."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:  # type: ignore[override]
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def pipeline(app: Flask) -> RenderAndSign:
    """A warm render-and-sign pipeline per app (fonts and certificate loaded once)."""
    with app.app_context():
        return RenderAndSign(app.config["PRO_SETTINGS"])


@pytest.fixture
def client(app_ctx: Flask) -> FlaskClient:
    return app_ctx.test_client()


@pytest.fixture
def runner(app_ctx: Flask) -> FlaskCliRunner:
    return app_ctx.test_cli_runner()
