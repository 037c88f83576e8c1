"""Visit links: a credential for one participant's one visit, stored only as its SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_app.models.base import Base
from pro_app.models.participants import Visit


class VisitLink(Base):
    __tablename__ = "visit_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    first_started_at: Mapped[datetime | None]
    last_started_at: Mapped[datetime | None]

    visit: Mapped[Visit] = relationship()
