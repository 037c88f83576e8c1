"""Answers in progress (one row per item, saved screen by screen) and sealed, immutable records."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, event, false
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from pro_app import records
from pro_app.models.base import Base, value_enum
from pro_app.models.participants import Visit
from pro_app.models.staff import StaffUser


class EnteredBy(enum.Enum):
    PARTICIPANT = "participant"
    STAFF = "staff"


class DraftAnswer(Base):
    """One saved answer of an unsubmitted instrument; upserted as the patient moves on."""

    __tablename__ = "draft_answer"
    __table_args__ = (UniqueConstraint("visit_id", "instrument_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    instrument_id: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[str] = mapped_column(String(40))
    # JSON so one table serves choices (int), numbers (float) and text alike.
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    language: Mapped[str] = mapped_column(String(10))
    saved_at: Mapped[datetime]
    entered_by: Mapped[EnteredBy] = mapped_column(value_enum(EnteredBy))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


class Response(Base):
    """A sealed record. Never updated: a correction is a new row with version + 1."""

    __tablename__ = "response"
    __table_args__ = (UniqueConstraint("visit_id", "instrument_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    instrument_id: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(default=1)
    instrument_version: Mapped[str] = mapped_column(String(20))
    scoring_version: Mapped[str] = mapped_column(String(40))
    textpack_id: Mapped[str] = mapped_column(String(80))
    textpack_sha256: Mapped[str] = mapped_column(String(64))
    textpack_demo: Mapped[bool]
    language: Mapped[str] = mapped_column(String(10))
    languages: Mapped[list[str]] = mapped_column(JSON)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    item_languages: Mapped[dict[str, str]] = mapped_column(JSON)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    entered_by: Mapped[EnteredBy] = mapped_column(value_enum(EnteredBy))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    entry_reason: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime]
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"))
    correction_reason: Mapped[str | None] = mapped_column(String(500))
    # A correction of a participant's own answers names a reason from a fixed list (instrument
    # data), besides the free text; staff-entered values need the free text only.
    correction_reason_code: Mapped[str | None] = mapped_column(String(40))
    # A version that voids the record (entered for the wrong visit or participant): the slot is
    # empty again and can be filled anew. Nothing is ever deleted.
    voided: Mapped[bool] = mapped_column(default=False, server_default=false())
    record_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    receipt_number: Mapped[str] = mapped_column(String(20), unique=True)

    visit: Mapped[Visit] = relationship()
    # Who entered it, when staff did (the participant otherwise).
    staff: Mapped[StaffUser | None] = relationship()
    # The version this one corrects (None for a first version).
    supersedes: Mapped[Response | None] = relationship(remote_side="Response.id")

    def canonical(self) -> dict[str, Any]:
        """What this record asserts, in the form its SHA-256 is taken over."""
        participant = self.visit.participant
        return records.canonical_record(
            self,
            site_code=participant.site.code,
            study_id=participant.study_id,
            visit_code=self.visit.code,
            staff_username=self.staff.username if self.staff else None,
        )

    @property
    def hash_holds(self) -> bool:
        """Whether the stored content still hashes to the SHA-256 it was sealed with."""
        return records.record_sha256(self.canonical()) == self.record_sha256


class ImmutableRecordError(RuntimeError):
    """Raised when code tries to change or delete a sealed record."""


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_sealed_records(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, Response) and session.is_modified(obj, include_collections=False):
            raise ImmutableRecordError(f"sealed record {obj.id} cannot be changed")
    for obj in session.deleted:
        if isinstance(obj, Response):
            raise ImmutableRecordError(f"sealed record {obj.id} cannot be deleted")
