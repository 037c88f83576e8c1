"""The restore drill, on SQLite and PostgreSQL: back up a running app under write load, restore
into a fresh database, and prove the records, their hashes, the PDFs and the audit trail intact."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import select

from pro_app import create_app
from pro_app.extensions import db
from pro_app.models import AuditEvent, PdfDocument, Response
from pro_app.pdf.worker import RenderAndSign, Worker
from pro_app.questionnaire.catalog import catalog
from pro_app.services import answering, sealing
from tests.conftest import empty_database, make_settings
from tests.factories import make_participant, visit_of

pytestmark = pytest.mark.committed


@pytest.fixture(autouse=True)
def in_app_context() -> None:
    """These tests commit on databases of their own."""


@pytest.fixture
def databases(backend: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with empty_database(backend, tmp_path) as first, empty_database(backend, tmp_path) as second:
        yield first, second


def _app(url: str, instance: Path, checkpoints: str) -> Flask:
    settings = make_settings(url, instance, PRO_AUDIT_CHECKPOINT_DIR=str(instance / checkpoints))
    return create_app({"TESTING": True}, settings=settings)


def _seal(study_id: str) -> None:
    mlhfq = catalog().instrument("mlhfq")
    visit = visit_of(make_participant(study_id))
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, 2, language="zh_Hans", actor="test")
    sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor="test")
    db.session.commit()


def _snapshot() -> dict[int, tuple[str, str, str | None]]:
    rows = db.session.execute(
        select(Response.id, Response.record_sha256, Response.textpack_sha256, PdfDocument.sha256)
        .outerjoin(PdfDocument, PdfDocument.response_id == Response.id)
        .order_by(Response.id)
    )
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def test_backup_under_load_restores_intact(databases: tuple[str, str], tmp_path: Path) -> None:
    first_url, second_url = databases
    running = _app(first_url, tmp_path, "checkpoints-running")
    with running.app_context():
        flask_migrate.upgrade()
        for n in range(3):
            _seal(f"PRIME-5{n:02d}")
        Worker(RenderAndSign(running.config["PRO_SETTINGS"])).drain()
        db.session.commit()
        before = _snapshot()
    assert len(before) == 3 and all(pdf for _, _, pdf in before.values())

    # Write load: a patient keeps saving answers while the backup is made.
    stop = threading.Event()
    saves: list[int] = []

    def patient() -> None:
        with running.app_context():
            mlhfq = catalog().instrument("mlhfq")
            visit = visit_of(make_participant("PRIME-599"))
            db.session.commit()
            n = 0
            while not stop.is_set():
                answering.save_answer(
                    visit, mlhfq, mlhfq.item_ids[n % 21], n % 6, language="en", actor="load"
                )
                db.session.commit()
                n += 1
            saves.append(n)

    load = threading.Thread(target=patient)
    load.start()
    try:
        result = running.test_cli_runner().invoke(args=["backup", "-o", str(tmp_path / "b.tar")])
    finally:
        stop.set()
        load.join()
    assert result.exit_code == 0, result.output
    assert "3 records, 3 PDFs" in result.output and saves[0] > 0

    restored = _app(second_url, tmp_path, "checkpoints-restored")
    runner = restored.test_cli_runner()
    result = runner.invoke(args=["restore", str(tmp_path / "b.tar")])
    assert result.exit_code == 0, result.output
    with restored.app_context():
        assert _snapshot() == before  # records, their hashes, text-pack hashes, PDF hashes
        contents = {doc.response_id: doc.content for doc in db.session.scalars(select(PdfDocument))}
        actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    with running.app_context():
        originals = {
            doc.response_id: doc.content for doc in db.session.scalars(select(PdfDocument))
        }
    assert contents == originals
    assert "backup.made" in actions and actions[-1] == "backup.restored"
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "audit trail intact" in verified.output, verified.output
    # A second restore into the same (no longer empty) database is refused, and changes nothing.
    again = runner.invoke(args=["restore", str(tmp_path / "b.tar")])
    assert again.exit_code == 1 and "not empty" in again.output
    with running.app_context():
        db.session.remove()
        db.engine.dispose()
    with restored.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_damaged_backup_is_refused(databases: tuple[str, str], tmp_path: Path) -> None:
    first_url, second_url = databases
    running = _app(first_url, tmp_path, "checkpoints-running")
    with running.app_context():
        flask_migrate.upgrade()
        _seal("PRIME-501")
    backup = tmp_path / "b.tar"
    assert running.test_cli_runner().invoke(args=["backup", "-o", str(backup)]).exit_code == 0
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the database copy
    backup.write_bytes(bytes(data))
    restored = _app(second_url, tmp_path, "checkpoints-restored")
    result = restored.test_cli_runner().invoke(args=["restore", str(backup)])
    assert result.exit_code == 1
    with restored.app_context():
        from sqlalchemy import inspect

        assert inspect(db.engine).get_table_names() == []
        db.session.remove()
        db.engine.dispose()
    with running.app_context():
        db.session.remove()
        db.engine.dispose()
