"""Staff accounts: coordinators, monitors and admins, each scoped to one or more sites."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_app.models.base import Base, value_enum
from pro_app.models.sites import Site


class Role(enum.Enum):
    COORDINATOR = "coordinator"
    MONITOR = "monitor"
    ADMIN = "admin"


staff_site = Table(
    "staff_site",
    Base.metadata,
    Column("staff_id", ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("site.id", ondelete="CASCADE"), primary_key=True),
)


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(value_enum(Role))
    is_active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(10), default="zh_Hans")
    created_at: Mapped[datetime]

    sites: Mapped[list[Site]] = relationship(secondary=staff_site, lazy="selectin")

    @property
    def site_ids(self) -> set[int]:
        return {site.id for site in self.sites}
