"""The migrations are the only way the schema is made: they match the models and every step runs."""

from __future__ import annotations

from pathlib import Path

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import Config

from pro_app import create_app
from pro_app.config import REPO_ROOT
from pro_app.extensions import db
from tests.conftest import empty_database, make_settings

MIGRATIONS = REPO_ROOT / "pro_app" / "migrations"


def _scripts() -> ScriptDirectory:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_models_match_the_head_revision(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models and migrations differ: run `flask db migrate`: {differences}"


def test_there_is_one_head() -> None:
    assert len(_scripts().get_heads()) == 1


def test_every_revision_upgrades_and_downgrades(backend: str, tmp_path: Path) -> None:
    revisions = [r.revision for r in reversed(list(_scripts().walk_revisions()))]
    with empty_database(backend, tmp_path) as url:
        app = create_app({"TESTING": True}, settings=make_settings(url, tmp_path))
        with app.app_context():
            for revision in revisions:
                flask_migrate.upgrade(revision=revision)
                with db.engine.connect() as connection:
                    assert MigrationContext.configure(connection).get_current_revision() == revision
            for revision in reversed(revisions[:-1]):
                flask_migrate.downgrade(revision=revision)
            flask_migrate.downgrade(revision="base")
            flask_migrate.upgrade()
            db.engine.dispose()
