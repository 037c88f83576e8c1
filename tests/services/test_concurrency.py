"""Two devices racing on PostgreSQL, with real connections and committed transactions."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import func, select

from pro_app import create_app
from pro_app.errors import AlreadySubmitted, RecordSuperseded
from pro_app.extensions import db
from pro_app.models import Response, StaffUser, Visit
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.definitions import Instrument
from pro_app.services import answering, audit, corrections, sealing
from tests.conftest import empty_database, make_settings
from tests.factories import make_participant, make_staff, visit_of
from tests.walklog import fill_log, sixmwt

pytestmark = pytest.mark.committed


@pytest.fixture(autouse=True)
def in_app_context() -> None:
    """These tests commit on a database of their own, not in the shared rolled-back transaction."""


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = Path(tmp_path_factory.mktemp("race"))
    with empty_database("postgresql", folder) as url:
        app = create_app({"TESTING": True}, settings=make_settings(url, folder))
        with app.app_context():
            flask_migrate.upgrade()
        yield app
        with app.app_context():
            db.engine.dispose()


def race(app: Flask, work: Callable[[], str], devices: int = 2) -> list[str]:
    barrier = threading.Barrier(devices)
    outcomes: list[str] = []

    def device() -> None:
        with app.app_context():
            barrier.wait()
            outcomes.append(work())

    threads = [threading.Thread(target=device) for _ in range(devices)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _answer_mlhfq(visit: Visit) -> Instrument:
    """Every MLHFQ item answered (not yet sealed); returns the instrument."""
    mlhfq = catalog().instrument("mlhfq")
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, 1, language="en", actor="test")
    return mlhfq


def test_two_devices_submitting_at_once_make_one_record(pg_app: Flask) -> None:
    with pg_app.app_context():
        visit = visit_of(make_participant("PRIME-201"))
        mlhfq = _answer_mlhfq(visit)
        db.session.commit()
        visit_id = visit.id

    def submit() -> str:
        target = db.session.get(Visit, visit_id)
        assert target is not None
        try:
            sealing.submit(target, mlhfq, catalog(), language="en", actor="test")
            db.session.commit()
            return "sealed"
        except AlreadySubmitted:
            db.session.rollback()
            return "receipt"

    assert sorted(race(pg_app, submit)) == ["receipt", "sealed"]
    with pg_app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Response).where(Response.visit_id == visit_id)
        )
        assert count == 1
        assert audit.verify_chain().ok


def test_two_devices_saving_the_same_item_at_once_both_succeed(pg_app: Flask) -> None:
    with pg_app.app_context():
        visit_id = visit_of(make_participant("PRIME-202")).id
        db.session.commit()

    def save() -> str:
        target = db.session.get(Visit, visit_id)
        assert target is not None
        answering.save_answer(
            target, catalog().instrument("mlhfq"), "mlhf01", 3, language="zh_Hans", actor="test"
        )
        db.session.commit()
        return "saved"

    assert race(pg_app, save) == ["saved", "saved"]
    with pg_app.app_context():
        saved = answering.saved_answers(visit_id, "mlhfq")
        assert saved["mlhf01"].value == 3
        assert audit.verify_chain().ok


def _correct_or_submit(turns: Iterator[str], lock: threading.Lock, ids: dict[str, int]) -> str:
    """One of two writers on one visit: the first to come corrects its questionnaire, the
    other seals its walk log."""
    with lock:
        turn = next(turns)
    if turn == "correct":
        record = db.session.get(Response, ids["record"])
        staff = db.session.get(StaffUser, ids["staff"])
        assert record is not None and staff is not None
        corrections.correct(
            record,
            {"mlhf02": "4"},
            reason="paper form",
            reason_code="transcription_error",
            staff=staff,
            catalog=catalog(),
        )
    else:
        target = db.session.get(Visit, ids["visit"])
        assert target is not None
        sealing.submit(target, sixmwt(), catalog(), language="en", actor="test")
    db.session.commit()
    return turn


def test_a_correction_and_another_instruments_submit_at_once_both_count(pg_app: Flask) -> None:
    """The visit's count of current records (what the due board reads) is rewritten by each
    writer after it holds the trail: whichever order they commit in, it ends at 2, and neither
    writer deadlocks on the visit's row against the trail's head."""
    with pg_app.app_context():
        staff_id = make_staff("coord.race").id
        db.session.commit()
    for round_number in range(5):
        with pg_app.app_context():
            visit = visit_of(make_participant(f"PRIME-3{round_number:02d}"))
            mlhfq = _answer_mlhfq(visit)
            record = sealing.submit(visit, mlhfq, catalog(), language="en", actor="test")
            fill_log(visit)
            db.session.commit()
            ids = {"record": record.id, "staff": staff_id, "visit": visit.id}
        writer = functools.partial(
            _correct_or_submit, iter(["correct", "submit"]), threading.Lock(), ids
        )
        assert sorted(race(pg_app, writer)) == ["correct", "submit"]
        with pg_app.app_context():
            counted = db.session.get(Visit, ids["visit"])
            assert counted is not None
            assert counted.current_records == 2 == len(answering.sealed_instruments(counted.id))


def _correct_once(values: Iterator[str], lock: threading.Lock, ids: dict[str, int]) -> str:
    """A coordinator's correction of the record both of them opened (version 1), each with a
    value of its own."""
    with lock:
        value = next(values)
    record = db.session.get(Response, ids["record"])
    staff = db.session.get(StaffUser, ids["staff"])
    assert record is not None and staff is not None
    try:
        corrections.correct(
            record,
            {"mlhf02": value},
            reason="paper form",
            reason_code="transcription_error",
            staff=staff,
            catalog=catalog(),
        )
    except RecordSuperseded:
        db.session.rollback()
        return "superseded"
    db.session.commit()
    return "corrected"


def test_two_coordinators_correcting_one_record_at_once_make_one_version(pg_app: Flask) -> None:
    """Both opened version 1. The first correction seals version 2; the other, however close
    behind, is told the record has changed (as on SQLite, where writers queue), never a stray
    "already submitted" from the unique constraint."""
    with pg_app.app_context():
        staff_id = make_staff("coord.twice").id
        db.session.commit()
    for round_number in range(5):
        with pg_app.app_context():
            visit = visit_of(make_participant(f"PRIME-4{round_number:02d}"))
            record = sealing.submit(
                visit, _answer_mlhfq(visit), catalog(), language="en", actor="test"
            )
            db.session.commit()
            ids = {"record": record.id, "staff": staff_id, "visit": visit.id}
        coordinator = functools.partial(_correct_once, iter(["3", "4"]), threading.Lock(), ids)
        assert sorted(race(pg_app, coordinator)) == ["corrected", "superseded"]
        with pg_app.app_context():
            versions = db.session.scalars(
                select(Response.version).where(Response.visit_id == ids["visit"])
            ).all()
            assert sorted(versions) == [1, 2]
    with pg_app.app_context():
        assert audit.verify_chain().ok
