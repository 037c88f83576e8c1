"""An attacker with database access cannot rewrite the audit trail unseen: `flask audit verify`
finds a recomputed insert, an edit with a re-chained tail, deleted newest events, a deleted trail,
and plain edits, deletes and inserts; on PostgreSQL triggers refuse the changes in the first place.

The attacks run as a database owner would (triggers disabled), on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from pro_app import config
from pro_app.canonical import sha256_of
from pro_app.extensions import db
from pro_app.models import AuditEvent, Response
from pro_app.services import audit
from tests.factories import as_database_owner, issue_token, make_participant


def _trail(participants: int = 3) -> list[AuditEvent]:
    for number in range(participants):
        participant = make_participant(f"PRIME-{number + 1:03d}")
        issue_token(participant)
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _public_hash(**fields: object) -> str:
    """What an attacker can compute: the event's SHA-256 by the published field layout."""
    return sha256_of(fields)


def test_an_intact_trail_verifies_against_its_checkpoint(
    app_ctx: Flask, runner: FlaskCliRunner
) -> None:
    _trail()
    written = audit.write_checkpoint("test")
    report = audit.verify_chain()
    assert report.ok and report.checkpoint is not None and report.checkpoint.path == written.path
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output and "checkpoint" in result.output
    assert all(event.key_id == audit.key_id(config.current().audit_key) for event in _trail(0))


def test_an_appended_event_hashed_with_the_public_algorithm_is_found(app_ctx: Flask) -> None:
    events = _trail()
    last = events[-1]
    fields = {
        "occurred_at": last.occurred_at.isoformat(),
        "action": "link.revoked",
        "actor": "staff:mallory",
        "site_id": last.site_id,
        "participant_id": last.participant_id,
        "visit_id": last.visit_id,
        "details": {},
        "prev_hash": last.hash,
    }
    for key_id in (None, last.key_id):  # unkeyed, or claiming the real key without knowing it
        claimed = {**fields, "key_id": key_id} if key_id else fields
        with as_database_owner():
            db.session.execute(
                insert(AuditEvent).values(
                    occurred_at=last.occurred_at,
                    action="link.revoked",
                    actor="staff:mallory",
                    site_id=last.site_id,
                    participant_id=last.participant_id,
                    visit_id=last.visit_id,
                    details={},
                    prev_hash=last.hash,
                    hash=_public_hash(**claimed),
                    key_id=key_id,
                )
            )
        report = audit.verify_chain()
        assert not report.ok and report.first_bad_id is not None
        assert "MAC" in report.fault
        with as_database_owner():
            db.session.execute(delete(AuditEvent).where(AuditEvent.actor == "staff:mallory"))


def test_an_edit_with_every_later_hash_recomputed_is_found(app_ctx: Flask) -> None:
    events = _trail()
    victim = events[2]
    with as_database_owner():
        db.session.execute(
            update(AuditEvent).where(AuditEvent.id == victim.id).values(actor="staff:mallory")
        )
        previous = events[1].hash
        for event in events[2:]:
            db.session.refresh(event)
            fields = {
                "occurred_at": event.occurred_at.isoformat(),
                "action": event.action,
                "actor": event.actor,
                "site_id": event.site_id,
                "participant_id": event.participant_id,
                "visit_id": event.visit_id,
                "details": event.details,
                "prev_hash": previous,
                "key_id": event.key_id,
            }
            forged = _public_hash(**fields)
            db.session.execute(
                update(AuditEvent)
                .where(AuditEvent.id == event.id)
                .values(prev_hash=previous, hash=forged)
            )
            previous = forged
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_id == victim.id


@pytest.mark.parametrize("removed", [1, 10, 100])
def test_deleting_the_newest_events_is_found(app_ctx: Flask, removed: int) -> None:
    events = _trail(52)  # 104 events
    audit.write_checkpoint("daily")
    newest = [event.id for event in events[-removed:]]
    with as_database_owner():
        db.session.execute(delete(AuditEvent).where(AuditEvent.id.in_(newest)))
    report = audit.verify_chain()
    assert not report.ok
    assert "truncated" in report.fault or "missing" in report.fault


def test_deleting_the_whole_trail_is_found(app_ctx: Flask, runner: FlaskCliRunner) -> None:
    _trail()
    with as_database_owner():
        db.session.execute(delete(AuditEvent))
    # Without a checkpoint, the participants without their enrolment events give it away ...
    report = audit.verify_chain()
    assert not report.ok and report.events == 0 and "no enrolment event" in report.fault
    # ... and with one, the count it saw.
    audit.write_checkpoint("daily")
    db.session.execute(text("SELECT 1"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "audit trail broken" in result.output


def test_a_deleted_record_event_is_found_even_after_the_newest_checkpoint(app_ctx: Flask) -> None:
    """Records newer than every checkpoint still need their event."""
    from tests.factories import visit_of
    from tests.walklog import seal_log

    audit.write_checkpoint("daily")
    record = seal_log(visit_of(make_participant("PRIME-077")))
    with as_database_owner():
        db.session.execute(
            delete(AuditEvent).where(
                AuditEvent.action == "response.submitted", AuditEvent.visit_id == record.visit_id
            )
        )
    report = audit.verify_chain()
    assert not report.ok
    assert f"record {record.id} has no audit event" in report.fault or "link" in report.fault


@pytest.mark.parametrize("attack", ["edit", "delete", "insert"])
def test_plain_edits_deletes_and_inserts_are_found(app_ctx: Flask, attack: str) -> None:
    events = _trail()
    middle = events[len(events) // 2]
    with as_database_owner():
        if attack == "edit":
            db.session.execute(
                update(AuditEvent).where(AuditEvent.id == middle.id).values(details={"x": 1})
            )
        elif attack == "delete":
            db.session.execute(delete(AuditEvent).where(AuditEvent.id == middle.id))
        else:
            db.session.execute(
                insert(AuditEvent).values(
                    occurred_at=middle.occurred_at,
                    action="x",
                    actor="y",
                    details={},
                    prev_hash="e" * 64,
                    hash="f" * 64,
                    key_id=middle.key_id,
                )
            )
    report = audit.verify_chain()
    assert not report.ok


def test_a_checkpoint_changed_on_disk_is_refused(app_ctx: Flask) -> None:
    _trail()
    written = audit.write_checkpoint("daily")
    document = json.loads(written.path.read_text())
    document["checkpoint"]["count"] = 1
    written.path.write_text(json.dumps(document))
    report = audit.verify_chain()
    assert not report.ok and "not signed by the site certificate" in report.fault


@pytest.mark.postgresql_only
def test_postgresql_refuses_to_change_the_trail_or_a_sealed_record(app_ctx: Flask) -> None:
    assert db.session.get_bind().dialect.name == "postgresql"
    from tests.factories import visit_of
    from tests.walklog import seal_log

    seal_log(visit_of(make_participant("PRIME-088")))
    statements = [
        update(AuditEvent).values(actor="staff:mallory"),
        delete(AuditEvent),
        text("TRUNCATE audit_event CASCADE"),
        update(Response).values(scores={}),
        delete(Response),
        text("TRUNCATE response CASCADE"),
    ]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(statement)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > 0
