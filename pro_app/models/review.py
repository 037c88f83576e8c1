"""The monitor's review of sealed records: source-data verification marks and data queries.

Neither changes a record. A mark belongs to one record version (a correction is a new version,
so it starts unverified); a query is raised on a record version or one of its fields and moves
open -> answered -> closed, each step kept as an event with its text.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_app.models.base import Base, value_enum
from pro_app.models.responses import Response
from pro_app.models.staff import StaffUser


class SdvMark(Base):
    """A monitor verified this record version against its source (one mark per version)."""

    __tablename__ = "sdv_mark"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    marked_at: Mapped[datetime]

    staff: Mapped[StaffUser] = relationship()


class QueryStatus(enum.Enum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class DataQuery(Base):
    """A monitor's question about a record version, or one field of it."""

    __tablename__ = "data_query"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    # An item or field id of the record; None when the query is about the record as a whole.
    field: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[QueryStatus] = mapped_column(value_enum(QueryStatus), index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    response: Mapped[Response] = relationship()
    opened_by: Mapped[StaffUser] = relationship()
    events: Mapped[list[QueryEvent]] = relationship(
        back_populates="query", order_by="QueryEvent.id"
    )


class QueryEvent(Base):
    """One step of a query: opened, answered or closed, by whom, with what text."""

    __tablename__ = "query_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("data_query.id"), index=True)
    step: Mapped[QueryStatus] = mapped_column(value_enum(QueryStatus))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)

    query: Mapped[DataQuery] = relationship(back_populates="events")
    staff: Mapped[StaffUser] = relationship()
