"""Signed PDF copies of sealed records, and the database-backed job queue that makes them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_app.models.base import Base, value_enum
from pro_app.models.responses import Response


class JobStatus(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(Base):
    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"), index=True)
    status: Mapped[JobStatus] = mapped_column(value_enum(JobStatus), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime]
    locked_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class PdfDocument(Base):
    """The stored bytes of one record's signed PDF; downloads stream these, never re-render."""

    __tablename__ = "pdf_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), unique=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size_bytes: Mapped[int]
    signer_fingerprint: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[str] = mapped_column(String(20))
    demo_signature: Mapped[bool]
    created_at: Mapped[datetime]

    response: Mapped[Response] = relationship()
