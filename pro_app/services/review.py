"""The monitor's review of sealed records: source-data verification and data queries.

Neither changes a record. A verification mark belongs to one record version, so a correction (a
new version) starts unverified. A query is raised on a record version or one of its fields; the
coordinator answers it (and corrects the record if needed); the monitor closes it. Each step is
kept with its text and audited. Every function takes the site ids the user may see: a record of
another site is not found, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, Subquery, func, select
from sqlalchemy.orm import joinedload

from pro_app import clock
from pro_app.errors import InputRejected, QueryStateRefused, RecordNotFound
from pro_app.extensions import db
from pro_app.models import (
    DataQuery,
    Participant,
    QueryEvent,
    QueryStatus,
    Response,
    SdvMark,
    StaffUser,
    Visit,
)
from pro_app.services import audit, sites
from pro_app.services.reasons import require_reason


def record_for(site_ids: Iterable[int], response_id: int) -> Response:
    """A sealed record version at one of these sites (NotFound otherwise, whichever the cause)."""
    record = db.session.scalar(
        select(Response)
        .join(Visit, Response.visit_id == Visit.id)
        .join(Participant, Visit.participant_id == Participant.id)
        .options(
            joinedload(Response.visit).joinedload(Visit.participant).joinedload(Participant.site),
            joinedload(Response.staff),
        )
        .where(Response.id == response_id, Participant.site_id.in_(list(site_ids) or [-1]))
    )
    if record is None:
        raise RecordNotFound()
    return record


def _audit(action: str, record: Response, staff: StaffUser, **details: object) -> None:
    participant = record.visit.participant
    audit.record(
        action,
        staff.actor,
        site_id=participant.site_id,
        participant_id=participant.id,
        visit_id=record.visit_id,
        response_id=record.id,
        instrument=record.instrument_id,
        version=record.version,
        **details,
    )


# --- source-data verification ------------------------------------------------------------------


def mark(record: Response) -> SdvMark | None:
    return db.session.scalar(select(SdvMark).where(SdvMark.response_id == record.id))


def mark_verified(record: Response, *, staff: StaffUser) -> SdvMark:
    """The monitor checked this version against its source: a mark and an audit event, never a
    change to the record. Marking twice keeps the first mark, also two marks at the same moment
    (a double tap): the trail is held before looking (see `_hold_query`)."""
    audit.hold_trail()
    existing = mark(record)
    if existing is not None:
        return existing
    marked = SdvMark(response_id=record.id, staff_id=staff.id, marked_at=clock.utcnow())
    db.session.add(marked)
    db.session.flush()
    _audit("record.verified", record, staff, record_sha256=record.record_sha256)
    return marked


def marks(response_ids: Iterable[int]) -> dict[int, SdvMark]:
    ids = list(response_ids)
    if not ids:
        return {}
    return {
        row.response_id: row
        for row in db.session.scalars(
            select(SdvMark).options(joinedload(SdvMark.staff)).where(SdvMark.response_id.in_(ids))
        )
    }


# --- queries -------------------------------------------------------------------------------------


def _hold_query(query: DataQuery) -> None:
    """Hold the audit trail, then read the query's status again: a step decided on a status read
    before another writer's commit (the monitor closing while the coordinator answers, a double
    tap) would otherwise follow a closed query on PostgreSQL. SQLite's writers queue anyway."""
    audit.hold_trail()
    db.session.refresh(query, ["status"])


def _step(query: DataQuery, step: QueryStatus, staff: StaffUser, text: str) -> None:
    now = clock.utcnow()
    query.status = step
    query.updated_at = now
    db.session.add(QueryEvent(query=query, step=step, staff_id=staff.id, at=now, text=text))
    db.session.flush()


def raise_query(
    record: Response, *, field: str | None, text: str, staff: StaffUser, fields: Iterable[str]
) -> DataQuery:
    """A monitor asks about a record version or one field of it (`fields`: its field ids). The
    same question again from the same monitor while it is still open (a double tap, a form sent
    twice) is that query, not a second one."""
    text = require_reason(text, "text")  # the same rule as a reason
    if field and field not in set(fields):
        raise InputRejected("field", "unknown")
    audit.hold_trail()  # so a second copy sent at the same moment finds the first
    asked = _same_open_query(record, field or None, text, staff)
    if asked is not None:
        return asked
    now = clock.utcnow()
    query = DataQuery(
        response_id=record.id,
        field=field or None,
        status=QueryStatus.OPEN,
        opened_by_id=staff.id,
        opened_at=now,
        updated_at=now,
    )
    db.session.add(query)
    db.session.flush()
    db.session.add(
        QueryEvent(query=query, step=QueryStatus.OPEN, staff_id=staff.id, at=now, text=text)
    )
    db.session.flush()
    _audit("query.opened", record, staff, query_id=query.id, field=field or None, text=text)
    return query


def _same_open_query(
    record: Response, field: str | None, text: str, staff: StaffUser
) -> DataQuery | None:
    return db.session.scalar(
        select(DataQuery)
        .join(QueryEvent, QueryEvent.query_id == DataQuery.id)
        .where(
            DataQuery.response_id == record.id,
            DataQuery.field.is_(None) if field is None else DataQuery.field == field,
            DataQuery.opened_by_id == staff.id,
            DataQuery.status == QueryStatus.OPEN,
            QueryEvent.step == QueryStatus.OPEN,
            QueryEvent.text == text,
        )
        .limit(1)
    )


def answer_query(query: DataQuery, *, text: str, staff: StaffUser) -> DataQuery:
    """The coordinator answers an open query (an answered one can be answered again)."""
    _hold_query(query)
    if query.status is QueryStatus.CLOSED:
        raise QueryStateRefused(query.status.value)
    text = require_reason(text, "text")  # the same rule as a reason
    _step(query, QueryStatus.ANSWERED, staff, text)
    _audit("query.answered", query.response, staff, query_id=query.id, text=text)
    return query


def close_query(query: DataQuery, *, text: str, staff: StaffUser) -> DataQuery:
    """The monitor closes a query, usually once answered, with a closing note."""
    _hold_query(query)
    if query.status is QueryStatus.CLOSED:
        raise QueryStateRefused(query.status.value)
    text = require_reason(text, "text")  # the same rule as a reason
    _step(query, QueryStatus.CLOSED, staff, text)
    _audit("query.closed", query.response, staff, query_id=query.id, text=text)
    return query


def query_for(site_ids: Iterable[int], query_id: int) -> DataQuery:
    query = db.session.scalar(
        select(DataQuery)
        .join(Response, DataQuery.response_id == Response.id)
        .join(Visit, Response.visit_id == Visit.id)
        .join(Participant, Visit.participant_id == Participant.id)
        .options(joinedload(DataQuery.response).joinedload(Response.visit))
        .where(DataQuery.id == query_id, Participant.site_id.in_(list(site_ids) or [-1]))
    )
    if query is None:
        raise RecordNotFound()
    return query


def queries_of(records: Iterable[Response]) -> dict[int, list[DataQuery]]:
    """The queries of these record versions, with their steps, by record id."""
    ids = [record.id for record in records]
    found: dict[int, list[DataQuery]] = {record_id: [] for record_id in ids}
    if not ids:
        return found
    for query in db.session.scalars(
        select(DataQuery)
        .options(
            joinedload(DataQuery.events).joinedload(QueryEvent.staff),
            joinedload(DataQuery.opened_by),
        )
        .where(DataQuery.response_id.in_(ids))
        .order_by(DataQuery.id)
    ).unique():
        found[query.response_id].append(query)
    return found


@dataclass(frozen=True)
class QueryRow:
    """A query as the coordinator's board lists it: its record, where it stands, its question."""

    id: int
    response_id: int
    status: QueryStatus
    question: str
    study_id: str
    visit_code: str
    instrument_id: str
    version: int


# Named, not "!= CLOSED": an equality list lets the status index lead the join from the few
# open queries, not from every record of the site.
NOT_CLOSED = (QueryStatus.OPEN, QueryStatus.ANSWERED)


def _not_closed(site_ids: Iterable[int]) -> Select[int]:
    """The ids of the queries not yet closed at these sites. A user of every site needs no join
    to the participant (1,000 open queries: 6 ms of joins on PostgreSQL for each page's count)."""
    query = select(DataQuery.id).where(DataQuery.status.in_(NOT_CLOSED))
    if sites.covers_every_site(site_ids):
        return query
    return (
        query.join(Response, DataQuery.response_id == Response.id)
        .join(Visit, Response.visit_id == Visit.id)
        .join(Participant, Visit.participant_id == Participant.id)
        .where(Participant.site_id.in_(list(site_ids) or [-1]))
    )


def _pending_rows(shown: Subquery) -> Select[int, int, QueryStatus, str, str, str, str, int]:
    """The queries of the subquery `shown` (their ids), each with its question (the text it was
    raised with), its record's visit and participant, oldest first, as plain rows."""
    question = (
        select(QueryEvent.text)
        .where(QueryEvent.query_id == DataQuery.id)
        .order_by(QueryEvent.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            DataQuery.id,
            DataQuery.response_id,
            DataQuery.status,
            question,
            Participant.study_id,
            Visit.code,
            Response.instrument_id,
            Response.version,
        )
        .join_from(shown, DataQuery, DataQuery.id == shown.c.id)
        .join(Response, DataQuery.response_id == Response.id)
        .join(Visit, Response.visit_id == Visit.id)
        .join(Participant, Visit.participant_id == Participant.id)
        .order_by(DataQuery.opened_at, DataQuery.id)
    )


def pending(site_ids: Iterable[int], *, limit: int = 50) -> list[QueryRow]:
    """Queries not yet closed at these sites, oldest first (the coordinator's board), at most
    `limit`: in one statement, the oldest found by their ids alone (joined to their participants
    only to check the site), then read with their record's visit and participant."""
    shown = (
        _not_closed(list(site_ids))
        .order_by(DataQuery.opened_at, DataQuery.id)
        .limit(limit)
        .subquery("shown")
    )
    return [QueryRow(*row) for row in db.session.execute(_pending_rows(shown))]


def count_pending(site_ids: Iterable[int]) -> int:
    counted = select(func.count()).select_from(_not_closed(list(site_ids)).subquery())
    return db.session.scalar(counted) or 0
