"""The audit trail: append-only events, each carrying the hash of the one before it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from pro_app.models.base import Base


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(60), index=True)
    # "staff:<username>", "participant:<study id>", "system" or "anonymous".
    actor: Mapped[str] = mapped_column(String(100))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Unique: two events can never claim the same predecessor, so the chain cannot fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # HMAC-SHA256 with the audit key (not in the database) over the event and prev_hash; events
    # written before the key existed carry a plain SHA-256 and no key_id.
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Which key made `hash` (the first 16 hex digits of the key's SHA-256).
    key_id: Mapped[str | None] = mapped_column(String(16))


class AuditChainHead(Base):
    """The newest event of the chain, kept by a database trigger on every insert into
    `audit_event`. Appending reads it (on PostgreSQL `FOR UPDATE`, which serialises appenders
    and, after waiting, returns the head the other appender wrote): one statement finds the
    predecessor and takes the chain. Not evidence: `flask audit verify` walks the events."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int | None]
    last_hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_audit(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise RuntimeError("audit events are append-only")
