"""The migrations are the schema: the models match the head revision, and every revision upgrades
and downgrades."""

from __future__ import annotations

from pathlib import Path

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect

from pro_app import create_app
from pro_app.config import REPO_ROOT
from pro_app.extensions import db
from tests.conftest import make_settings

MIGRATIONS = REPO_ROOT / "pro_app" / "migrations"


def test_models_match_the_head_revision(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_revision_upgrades_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'walk.sqlite3'}"
    app = create_app({"TESTING": True}, settings=make_settings(url, tmp_path))
    revisions = [
        script.revision
        for script in reversed(list(ScriptDirectory(str(MIGRATIONS)).walk_revisions()))
    ]
    assert revisions[:2] == ["0001", "0002"]
    with app.app_context():
        for revision in revisions:
            flask_migrate.upgrade(revision=revision)
        assert "staff_session" in inspect(db.engine).get_table_names()
        for revision in reversed(revisions[:-1]):
            flask_migrate.downgrade(revision=revision)
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        db.engine.dispose()
