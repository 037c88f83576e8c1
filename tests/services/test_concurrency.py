"""Two devices racing on PostgreSQL, with real connections and committed transactions."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import func, select

from pro_app import create_app
from pro_app.errors import (
    AlreadySubmitted,
    InputRejected,
    LinkAlreadyIssued,
    LinkRevoked,
    ParticipantWithdrawn,
    QueryStateRefused,
    RecordSuperseded,
)
from pro_app.extensions import db
from pro_app.models import (
    AuditEvent,
    DataQuery,
    QueryEvent,
    QueryStatus,
    Response,
    Role,
    SdvMark,
    Site,
    StaffUser,
    Visit,
    VisitLink,
)
from pro_app.questionnaire.catalog import catalog
from pro_app.services import (
    accounts,
    answering,
    audit,
    corrections,
    enrolment,
    links,
    review,
    sealing,
)
from tests.conftest import empty_database, make_settings
from tests.factories import (
    answer_mlhfq,
    issue_token,
    make_participant,
    make_staff,
    seal_mlhfq,
    visit_of,
)
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


def settled(action: Callable[[], object], refusal: type[Exception], done: str, refused: str) -> str:
    """Run one racer's action: commit it and say `done`, or roll back the refusal the race may
    bring and say `refused`."""
    try:
        action()
    except refusal:
        db.session.rollback()
        return refused
    db.session.commit()
    return done


def test_two_devices_submitting_at_once_make_one_record(pg_app: Flask) -> None:
    with pg_app.app_context():
        visit = visit_of(make_participant("PRIME-201"))
        mlhfq = answer_mlhfq(visit)
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


def _correct(ids: dict[str, int], value: str) -> None:
    """A coordinator's correction of the record's second item, from a paper form."""
    record = db.session.get(Response, ids["record"])
    staff = db.session.get(StaffUser, ids["staff"])
    assert record is not None and staff is not None
    corrections.correct(
        record,
        {"mlhf02": value},
        reason="paper form",
        reason_code="transcription_error",
        staff=staff,
        catalog=catalog(),
    )


def _correct_or_submit(turns: Iterator[str], lock: threading.Lock, ids: dict[str, int]) -> str:
    """One of two writers on one visit: the first to come corrects its questionnaire, the
    other seals its walk log."""
    with lock:
        turn = next(turns)
    if turn == "correct":
        _correct(ids, "4")
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
            record = seal_mlhfq(visit)
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
    return settled(
        functools.partial(_correct, ids, value), RecordSuperseded, "corrected", "superseded"
    )


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
            record = seal_mlhfq(visit)
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


def _issue_first(staff_id: int, visit_id: int) -> str:
    """A coordinator's "Issue link" on a visit without one."""
    staff = db.session.get(StaffUser, staff_id)
    visit = db.session.get(Visit, visit_id)
    assert staff is not None and visit is not None
    issue = functools.partial(
        links.issue_first,
        visit,
        actor=staff.actor,
        staff=staff,
        schedule=catalog().schedule,
        grace_days=0,
    )
    return settled(issue, LinkAlreadyIssued, "issued", "already issued")


def test_two_coordinators_issuing_a_visits_first_link_at_once_make_one_link(
    pg_app: Flask,
) -> None:
    """One visit, one active link: the second "Issue link" sees the first one's link (and is told
    to reissue with a reason), as on SQLite, where writers queue."""
    with pg_app.app_context():
        staff_id = make_staff("coord.links").id
        db.session.commit()
    for round_number in range(5):
        with pg_app.app_context():
            visit_id = visit_of(make_participant(f"PRIME-5{round_number:02d}")).id
            db.session.commit()
        outcomes = race(pg_app, functools.partial(_issue_first, staff_id, visit_id))
        assert sorted(outcomes) == ["already issued", "issued"]
        with pg_app.app_context():
            active = db.session.scalars(
                select(VisitLink.id).where(
                    VisitLink.visit_id == visit_id, VisitLink.revoked_at.is_(None)
                )
            ).all()
            assert len(active) == 1


def _start_or_revoke(turns: Iterator[str], lock: threading.Lock, token: str, visit_id: int) -> str:
    """The patient taps Start while a coordinator revokes the link. A Start that reads the link
    after the revoke has committed is refused (the patient is told the link was revoked)."""
    with lock:
        turn = next(turns)
    if turn == "start":
        return settled(
            lambda: links.start(links.read(token), grace_days=3),
            LinkRevoked,
            "start",
            "start refused: revoked",
        )
    else:
        visit = db.session.get(Visit, visit_id)
        assert visit is not None
        links.revoke_active(visit, actor="staff:coord", reason="lost phone")
    db.session.commit()
    return turn


def test_a_start_and_a_revoke_of_one_link_at_once_never_deadlock(pg_app: Flask) -> None:
    """Both hold the trail before they write the link's row (Start's stamp goes with its audit
    event): neither waits for the other in a circle. Both commit, whichever comes first, unless
    the revoke has committed before Start reads the link: then Start is refused, cleanly."""
    both_committed = 0
    for round_number in range(10):
        with pg_app.app_context():
            participant = make_participant(f"PRIME-1{round_number:02d}")
            token = issue_token(participant)
            visit_id = visit_of(participant).id
        writer = functools.partial(
            _start_or_revoke, iter(["start", "revoke"]), threading.Lock(), token, visit_id
        )
        outcomes = sorted(race(pg_app, writer))
        assert outcomes in (["revoke", "start"], ["revoke", "start refused: revoked"])
        both_committed += outcomes == ["revoke", "start"]
        with pg_app.app_context():
            link = db.session.scalars(select(VisitLink).where(VisitLink.visit_id == visit_id)).one()
            assert link.revoked_at is not None
            assert (link.first_started_at is not None) == ("start" in outcomes)
            assert audit.verify_chain().ok
    # The race the test is for happened: a Start and a revoke both writing at once.
    assert both_committed, "every Start came after its revoke had committed"


def _sealed_mlhfq(study_id: str) -> int:
    record = seal_mlhfq(visit_of(make_participant(study_id)))
    db.session.commit()
    return record.id


def _mark(staff_id: int, record_id: int) -> str:
    """A monitor's "Verified against source" (a double tap, or two monitors)."""
    staff = db.session.get(StaffUser, staff_id)
    record = db.session.get(Response, record_id)
    assert staff is not None and record is not None
    review.mark_verified(record, staff=staff)
    db.session.commit()
    return "marked"


def test_two_monitors_marking_one_record_at_once_make_one_mark(pg_app: Flask) -> None:
    """Marking twice keeps the first mark, also when the two marks come at the same moment (no
    error from the one-mark-per-version constraint, one audit event)."""
    with pg_app.app_context():
        staff_id = make_staff("monitor.marks", Role.MONITOR).id
        db.session.commit()
    for round_number in range(5):
        with pg_app.app_context():
            record_id = _sealed_mlhfq(f"PRIME-6{round_number:02d}")
        assert race(pg_app, functools.partial(_mark, staff_id, record_id)) == ["marked"] * 2
        with pg_app.app_context():
            record = db.session.get(Response, record_id)
            assert record is not None
            marks = db.session.scalar(
                select(func.count()).select_from(SdvMark).where(SdvMark.response_id == record_id)
            )
            verified = db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "record.verified")
                .where(AuditEvent.visit_id == record.visit_id)
            )
            assert marks == 1 and verified == 1


def _close(staff_id: int, query_id: int) -> str:
    staff = db.session.get(StaffUser, staff_id)
    query = db.session.get(DataQuery, query_id)
    assert staff is not None and query is not None
    close = functools.partial(review.close_query, query, text="checked at the site", staff=staff)
    return settled(close, QueryStateRefused, "closed", "refused")


def test_a_query_closed_twice_at_once_is_closed_once(pg_app: Flask) -> None:
    with pg_app.app_context():
        staff_id = make_staff("monitor.queries", Role.MONITOR).id
        db.session.commit()
    for round_number in range(5):
        with pg_app.app_context():
            record_id = _sealed_mlhfq(f"PRIME-7{round_number:02d}")
            record = db.session.get(Response, record_id)
            staff = db.session.get(StaffUser, staff_id)
            assert record is not None and staff is not None
            query_id = review.raise_query(
                record, field=None, text="please check", staff=staff, fields=()
            ).id
            db.session.commit()
        outcomes = race(pg_app, functools.partial(_close, staff_id, query_id))
        assert sorted(outcomes) == ["closed", "refused"]
        with pg_app.app_context():
            closings = db.session.scalar(
                select(func.count())
                .select_from(QueryEvent)
                .where(QueryEvent.query_id == query_id, QueryEvent.step == QueryStatus.CLOSED)
            )
            assert closings == 1


def _withdraw_or_issue(turns: Iterator[str], lock: threading.Lock, ids: dict[str, int]) -> str:
    """One coordinator withdraws the participant while another issues a link for a visit."""
    with lock:
        turn = next(turns)
    staff = db.session.get(StaffUser, ids["staff"])
    visit = db.session.get(Visit, ids["visit"])
    assert staff is not None and visit is not None
    action: Callable[[], object]
    if turn == "withdraw":
        action = functools.partial(
            enrolment.withdraw, visit.participant, reason="moved away", staff=staff
        )
    else:
        action = functools.partial(
            links.issue_first,
            visit,
            actor=staff.actor,
            staff=staff,
            schedule=catalog().schedule,
            grace_days=0,
        )
    return settled(action, ParticipantWithdrawn, turn, "refused")


def test_a_link_issued_while_the_participant_is_withdrawn_never_stays_active(
    pg_app: Flask,
) -> None:
    """Withdrawing revokes every active link: a link issued at the same moment is either refused
    or issued first and revoked with the others."""
    with pg_app.app_context():
        staff_id = make_staff("coord.withdraw").id
        db.session.commit()
    for round_number in range(5):
        with pg_app.app_context():
            visit_id = visit_of(make_participant(f"PRIME-8{round_number:02d}")).id
            db.session.commit()
        ids = {"staff": staff_id, "visit": visit_id}
        writer = functools.partial(
            _withdraw_or_issue, iter(["withdraw", "issue"]), threading.Lock(), ids
        )
        assert "withdraw" in race(pg_app, writer)
        with pg_app.app_context():
            active = db.session.scalars(
                select(VisitLink.id).where(
                    VisitLink.visit_id == visit_id, VisitLink.revoked_at.is_(None)
                )
            ).all()
            assert active == []


def _create(site_id: int) -> str:
    site = db.session.get(Site, site_id)
    assert site is not None
    create = functools.partial(
        accounts.create_staff,
        username="new.coordinator",
        role=Role.COORDINATOR,
        sites=[site],
        password="a long enough passphrase 2026",
        actor="staff:admin",
    )
    return settled(create, InputRejected, "created", "taken")


def test_two_admins_creating_one_username_at_once_make_one_account(pg_app: Flask) -> None:
    with pg_app.app_context():
        site_id = db.session.scalars(select(Site.id)).first()
        if site_id is None:
            site_id = visit_of(make_participant("PRIME-900")).participant.site_id
        db.session.commit()
    assert sorted(race(pg_app, functools.partial(_create, site_id))) == ["created", "taken"]


def _move_day0_or_save(turns: Iterator[str], lock: threading.Lock, ids: dict[str, int]) -> str:
    """A coordinator corrects Day 0 while the participant saves an answer at home."""
    with lock:
        turn = next(turns)
    visit = db.session.get(Visit, ids["visit"])
    assert visit is not None
    if turn == "move":
        participant = visit.participant
        enrolment.correct_day0(
            participant,
            participant.day0 + timedelta(days=1),
            reason="wrong date on the form",
            schedule=catalog().schedule,
            actor="staff:coord",
        )
    else:
        answering.save_answer(
            visit, catalog().instrument("mlhfq"), "mlhf01", 2, language="zh_Hans", actor="test"
        )
    db.session.commit()
    return turn


def test_a_day0_correction_never_moves_a_visit_answered_at_the_same_moment(
    pg_app: Flask,
) -> None:
    """A visit with an answer keeps the window it was answered in: an answer saved while Day 0
    is corrected either lands first (and the visit keeps its dates) or after (on the new dates)."""
    for round_number in range(5):
        with pg_app.app_context():
            visit = visit_of(make_participant(f"PRIME-9{round_number:02d}"))
            ids = {"visit": visit.id}
            before = (visit.window_start, visit.window_end)
            db.session.commit()
        writer = functools.partial(
            _move_day0_or_save, iter(["move", "save"]), threading.Lock(), ids
        )
        assert sorted(race(pg_app, writer)) == ["move", "save"]
        with pg_app.app_context():
            found = db.session.get(Visit, ids["visit"])
            assert found is not None
            # The audit chain orders the two writes as they committed.
            day0_event = db.session.scalar(
                select(AuditEvent.id).where(
                    AuditEvent.action == "participant.day0_corrected",
                    AuditEvent.participant_id == found.participant_id,
                )
            )
            answer_event = db.session.scalar(
                select(AuditEvent.id).where(
                    AuditEvent.action == "answer.saved", AuditEvent.visit_id == found.id
                )
            )
            assert day0_event is not None and answer_event is not None
            kept = (found.window_start, found.window_end) == before
            assert kept == (answer_event < day0_event)
