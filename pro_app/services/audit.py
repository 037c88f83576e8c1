"""Writing and verifying the tamper-evident audit trail (each event hashes its predecessor)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text

from pro_app import clock
from pro_app.canonical import sha256_of
from pro_app.extensions import db
from pro_app.models import AuditEvent

GENESIS = "0" * 64
# Any fixed number: the advisory lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK = 7_452_001


def record(
    action: str,
    actor: str,
    *,
    site_id: int | None = None,
    participant_id: int | None = None,
    visit_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one event. Never pass a visit-link token or a password in `details`."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    last = session.scalars(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    event = AuditEvent(
        occurred_at=clock.utcnow(),
        action=action,
        actor=actor,
        site_id=site_id,
        participant_id=participant_id,
        visit_id=visit_id,
        details=details,
        prev_hash=last or GENESIS,
    )
    event.hash = sha256_of(_hashed_fields(event))
    session.add(event)
    session.flush()
    return event


def _hashed_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "action": event.action,
        "actor": event.actor,
        "site_id": event.site_id,
        "participant_id": event.participant_id,
        "visit_id": event.visit_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }


@dataclass(frozen=True)
class ChainReport:
    events: int
    first_bad_id: int | None
    fault: str

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None


def verify_chain() -> ChainReport:
    """Walk the whole chain; report the first event whose link or content does not hold."""
    expected_prev = GENESIS
    count = 0
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(500):
        count += 1
        if event.prev_hash != expected_prev:
            return ChainReport(count, event.id, "link to the previous event is broken")
        if sha256_of(_hashed_fields(event)) != event.hash:
            return ChainReport(count, event.id, "content does not match its hash")
        expected_prev = event.hash
    return ChainReport(count, None, "")


def history(
    participant_id: int, *, page: int = 1, per_page: int = 50
) -> tuple[list[AuditEvent], int]:
    """One participant's events, newest first, a page at a time; returns (events, total)."""
    mine = AuditEvent.participant_id == participant_id
    total = db.session.scalar(select(func.count()).select_from(AuditEvent).where(mine)) or 0
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(mine)
            .order_by(AuditEvent.id.desc())
            .offset((max(page, 1) - 1) * per_page)
            .limit(per_page)
        )
    )
    return events, total
