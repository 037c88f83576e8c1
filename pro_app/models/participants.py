"""Participants (study id only, never a name or an arm) and their scheduled visits."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_app.models.base import Base, value_enum
from pro_app.models.sites import Site


class Sex(enum.Enum):
    MALE = "male"
    FEMALE = "female"


class ParticipantStatus(enum.Enum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Participant(Base):
    __tablename__ = "participant"
    __table_args__ = (
        CheckConstraint("birth_year BETWEEN 1900 AND 2100", name="birth_year_range"),
        CheckConstraint("height_cm BETWEEN 100 AND 230", name="height_range"),
        # Every list of a site's participants, records or visits runs in study-id order: read
        # in that order from here, a page stops after its rows instead of sorting the site.
        Index("ix_participant_site_id_study_id", "site_id", "study_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[str] = mapped_column(String(40), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    sex: Mapped[Sex] = mapped_column(value_enum(Sex))
    birth_year: Mapped[int]
    height_cm: Mapped[int]
    preferred_language: Mapped[str] = mapped_column(String(10))
    day0: Mapped[date]
    status: Mapped[ParticipantStatus] = mapped_column(
        value_enum(ParticipantStatus), default=ParticipantStatus.ACTIVE
    )
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]

    site: Mapped[Site] = relationship()
    visits: Mapped[list[Visit]] = relationship(back_populates="participant", order_by="Visit.day")


class Visit(Base):
    """One scheduled visit; dates are calendar days in the site's time zone."""

    __tablename__ = "visit"
    __table_args__ = (
        UniqueConstraint("participant_id", "code"),
        # The due board starts here: the visits whose window has not long closed, with every
        # column its candidate query tests, so that it reads the index alone.
        Index(
            "ix_visit_board",
            "window_end",
            "window_start",
            "code",
            "current_records",
            "participant_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    day: Mapped[int]
    target_date: Mapped[date]
    window_start: Mapped[date]
    window_end: Mapped[date]
    # How many of its instruments have a current record (the newest sealed version, not voided).
    # Derived from its records and rewritten from them whenever one is stored
    # (sealing.record_sealed), in the same transaction: the due board reads it instead of working
    # it out for a thousand visits on each view.
    current_records: Mapped[int] = mapped_column(default=0, server_default="0")

    participant: Mapped[Participant] = relationship(back_populates="visits")
