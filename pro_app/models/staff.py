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
    # The last accepted TOTP time step: a code is good once, so an overheard one cannot be replayed.
    totp_last_step: Mapped[int | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(10), default="zh_Hans")
    created_at: Mapped[datetime]

    sites: Mapped[list[Site]] = relationship(secondary=staff_site)

    @property
    def site_ids(self) -> set[int]:
        return {site.id for site in self.sites}

    @property
    def actor(self) -> str:
        """How this user is named in the audit trail."""
        return f"staff:{self.username}"


class StaffSession(Base):
    """One signed-in browser. The cookie holds a random key; only its SHA-256 is stored.

    Kept on the server so that sign-out, idle expiry and disabling an account end the session for
    good: a copied cookie is worthless once its row is ended.
    """

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # "signed_out", "idle", "max_age", "disabled", "password_changed", "password_reset"
    end_reason: Mapped[str | None] = mapped_column(String(20))
    second_factor: Mapped[bool] = mapped_column(default=False)

    staff: Mapped[StaffUser] = relationship()


class SigninGuard(Base):
    """Sign-in attempts counted under one key, whether or not the username exists (so the two
    cannot be told apart): a username with one client address (locked after a few failures),
    and a username from anywhere (a growing delay between attempts). The key is a SHA-256 of the
    scope and its values; counts change only by atomic UPDATE ... RETURNING (services/signin.py)."""

    __tablename__ = "signin_guard"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The username as typed (normalised), so an administrator's unlock finds every row of it.
    username: Mapped[str] = mapped_column(String(128), index=True)
    # The client address of a pair row; None for the username's own row.
    address: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    not_before: Mapped[datetime | None]
    updated_at: Mapped[datetime]
