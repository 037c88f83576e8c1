"""The audit trail is append-only and tamper-evident: a changed or removed event breaks the chain."""

from __future__ import annotations

import itertools

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from pro_app.extensions import db
from pro_app.models import AuditEvent
from pro_app.services import audit
from tests.factories import as_database_owner, issue_token, make_participant


def _events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_each_event_links_to_the_one_before(runner: FlaskCliRunner) -> None:
    issue_token(make_participant())
    events = _events()
    assert [e.action for e in events] == ["participant.enrolled", "link.issued"]
    assert events[0].prev_hash == audit.GENESIS
    for earlier, later in itertools.pairwise(events):
        assert later.prev_hash == earlier.hash
    assert audit.verify_chain().ok
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output


def test_the_orm_refuses_to_change_an_event() -> None:
    make_participant()
    event = _events()[0]
    event.actor = "someone else"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_an_edit_behind_the_apps_back_is_detected(runner: FlaskCliRunner) -> None:
    issue_token(make_participant())
    victim = _events()[1]
    with as_database_owner():
        db.session.execute(
            update(AuditEvent).where(AuditEvent.id == victim.id).values(actor="staff:mallory")
        )
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_id == victim.id and "content" in report.fault
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"event {victim.id}" in result.output


def test_a_removed_event_is_detected() -> None:
    participant = make_participant()
    issue_token(participant)
    issue_token(participant)  # a reissue: revoke + issue
    victim = _events()[1]
    with as_database_owner():
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == victim.id))
    report = audit.verify_chain()
    assert not report.ok and "link" in report.fault


def test_the_chain_cannot_fork() -> None:
    make_participant()
    first = _events()[0]
    fork = AuditEvent(
        occurred_at=first.occurred_at,
        action="x",
        actor="y",
        details={},
        prev_hash=first.prev_hash,
        hash="f" * 64,
    )
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(fork)


def test_a_savepoint_released_keeps_the_hold_and_the_chain_goes_on() -> None:
    """A record's insert runs in a savepoint: its release keeps the transaction's hold on the
    trail (and the head it wrote), a savepoint rolled back or the transaction's end drops it."""
    audit.hold_trail()
    with db.session.begin_nested():
        audit.record("link.issued", "system:test")
    assert audit.trail_held()
    audit.record("link.revoked", "system:test")  # appended after the savepoint's event
    try:
        with db.session.begin_nested():
            audit.record("link.reissued", "system:test")
            raise RuntimeError("undone")
    except RuntimeError:
        pass
    assert not audit.trail_held()  # the undone event may have moved the head: read it again
    audit.record("link.started", "system:test")
    db.session.commit()
    assert not audit.trail_held()
    events = _events()
    assert [e.action for e in events[-3:]] == ["link.issued", "link.revoked", "link.started"]
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert audit.verify_chain().ok
