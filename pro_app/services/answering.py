"""Saving answers screen by screen, so nothing typed is lost, and reading the draft back.

A patient screen needs three things of the database: the visit (with its participant and site),
whether the instrument is sealed, and the saved answer of the item on screen. `with_slot` adds the
last two to the query that loads the visit, so a screen costs one round trip; `save_answer` then
writes the answer with one upsert and its audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Row, Select, String, and_, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from pro_app import clock
from pro_app.errors import AlreadySubmitted, InstrumentNotInVisit
from pro_app.extensions import db
from pro_app.models import DraftAnswer, EnteredBy, Response, StaffUser, Visit
from pro_app.models.rows import VisitLike
from pro_app.questionnaire.definitions import Instrument
from pro_app.questionnaire.kinds.base import CheckContext, Draft, SavedAnswer
from pro_app.questionnaire.schedule import Schedule
from pro_app.services import audit


def instruments_of(visit: VisitLike, schedule: Schedule) -> tuple[str, ...]:
    return schedule.visit(visit.code).instruments


def require_instrument(visit: VisitLike, schedule: Schedule, instrument_id: str) -> None:
    if instrument_id not in instruments_of(visit, schedule):
        raise InstrumentNotInVisit()


def latest_version(visit_id: int, instrument_id: str) -> Response | None:
    """The newest sealed version of this visit's instrument, voided or not."""
    return db.session.scalar(
        select(Response)
        .where(Response.visit_id == visit_id, Response.instrument_id == instrument_id)
        .order_by(Response.version.desc())
        .limit(1)
    )


def sealed_response(visit_id: int, instrument_id: str) -> Response | None:
    """The current record of this visit's instrument: its newest version, unless that voids it
    (then the slot is empty and can be filled again)."""
    latest = latest_version(visit_id, instrument_id)
    return None if latest is None or latest.voided else latest


def sealed_instruments(visit_id: int) -> set[str]:
    """The instruments of a visit that have a current record (a voided one does not count)."""
    latest: dict[str, bool] = {}
    for instrument_id, voided in db.session.execute(
        select(Response.instrument_id, Response.voided)
        .where(Response.visit_id == visit_id)
        .order_by(Response.version)
    ):
        latest[instrument_id] = voided
    return {instrument_id for instrument_id, voided in latest.items() if not voided}


@dataclass(frozen=True)
class Slot:
    """One instrument of a visit as a request found it: its newest sealed version (if any) and,
    when a screen asked for one, the saved answer of one item."""

    instrument_id: str
    newest_id: int | None = None
    newest_version: int | None = None
    newest_voided: bool = False
    item_id: str | None = None
    saved: SavedAnswer | None = None

    def next_version(self) -> int:
        """AlreadySubmitted when the slot holds a current record (late save, other device);
        otherwise the version number a new record takes: 1, or the one after a void. Read once,
        so two devices racing compute the same number and the unique constraint on
        (visit, instrument, version) lets only one of them seal."""
        if self.newest_id is None or self.newest_version is None:
            return 1
        if not self.newest_voided:
            raise AlreadySubmitted(self.newest_id)
        return self.newest_version + 1


_NEWEST = aliased(Response, name="newest")


# The slot's parameters, bound when the query runs: a query with a slot is built once per shape
# (and its compiled form cached) instead of once per request.
SLOT_INSTRUMENT = bindparam("slot_instrument", type_=String)
SLOT_ITEM = bindparam("slot_item", type_=String)


def with_slot(query: Select[Any], with_item: bool) -> Select[Any]:
    """`query` (which selects from `visit`) plus the newest version of the instrument bound to
    `slot_instrument` and, `with_item`, the saved answer of `slot_item`, as outer joins: the same
    round trip instead of two more. Run it with `slot_params`. It also reads the audit trail's
    head, which a writer on SQLite (holding the write lock) then needs not read again."""
    newest_version = (
        select(func.max(Response.version))
        .where(Response.visit_id == Visit.id, Response.instrument_id == SLOT_INSTRUMENT)
        .correlate(Visit)
        .scalar_subquery()
    )
    query = query.outerjoin_from(
        Visit,
        _NEWEST,
        and_(
            _NEWEST.visit_id == Visit.id,
            _NEWEST.instrument_id == SLOT_INSTRUMENT,
            _NEWEST.version == newest_version,
        ),
    ).add_columns(
        _NEWEST.id.label("newest_id"),
        _NEWEST.version.label("newest_version"),
        _NEWEST.voided.label("newest_voided"),
        audit.HEAD.scalar_subquery().label("trail_head"),
    )
    if with_item:
        query = (
            query.outerjoin_from(
                Visit,
                DraftAnswer,
                and_(
                    DraftAnswer.visit_id == Visit.id,
                    DraftAnswer.instrument_id == SLOT_INSTRUMENT,
                    DraftAnswer.item_id == SLOT_ITEM,
                ),
            )
            .outerjoin_from(DraftAnswer, StaffUser, DraftAnswer.staff_id == StaffUser.id)
            .add_columns(
                DraftAnswer.id.label("saved_id"),
                DraftAnswer.value.label("saved_value"),
                DraftAnswer.language.label("saved_language"),
                DraftAnswer.saved_at.label("saved_at"),
                StaffUser.username.label("saved_by"),
            )
        )
    return query


def slot_params(instrument_id: str, item_id: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"slot_instrument": instrument_id}
    if item_id is not None:
        params["slot_item"] = item_id
    return params


def slot_from(row: Row[Any], instrument_id: str, item_id: str | None = None) -> Slot:
    """The slot part of a row of a `with_slot` query (and the trail's head, handed to the audit
    trail for a SQLite writer that holds it)."""
    found = row._mapping
    audit.read_with_slot(found["trail_head"])
    saved = None
    if item_id is not None and found["saved_id"] is not None:
        saved = SavedAnswer(
            found["saved_value"], found["saved_language"], found["saved_at"], found["saved_by"]
        )
    return Slot(
        instrument_id=instrument_id,
        newest_id=found["newest_id"],
        newest_version=found["newest_version"],
        newest_voided=bool(found["newest_voided"]),
        item_id=item_id,
        saved=saved,
    )


_SLOT_ALONE = {
    with_item: with_slot(select(Visit.id).where(Visit.id == bindparam("visit_id")), with_item)
    for with_item in (False, True)
}


def read_slot(visit_id: int, instrument_id: str, item_id: str | None = None) -> Slot:
    """The slot on its own, for a caller that has not read it with the visit."""
    row = db.session.execute(
        _SLOT_ALONE[item_id is not None],
        {"visit_id": visit_id, **slot_params(instrument_id, item_id)},
    ).one()
    return slot_from(row, instrument_id, item_id)


def refuse_if_sealed(visit: VisitLike, instrument: Instrument, slot: Slot | None = None) -> int:
    """AlreadySubmitted when the instrument of this visit is sealed (late save, other device);
    otherwise the version number a new record of the slot takes (see `Slot.next_version`).
    The trail is held first (`audit.hold_trail`), so what is read here stays true until commit:
    a save racing a submit on another device either lands before the seal (and is in the record)
    or sees the seal and is refused, never a success for an answer the record does not hold.
    `slot` is what this transaction already read of the instrument with the trail held (the
    screen's first query); without it, it is read here."""
    if slot is None or slot.instrument_id != instrument.id or not audit.trail_held():
        audit.hold_trail()
        slot = read_slot(visit.id, instrument.id)
    return slot.next_version()


def saved_answers(visit_id: int, instrument_id: str) -> dict[str, DraftAnswer]:
    rows = db.session.scalars(
        select(DraftAnswer).where(
            DraftAnswer.visit_id == visit_id, DraftAnswer.instrument_id == instrument_id
        )
    )
    return {row.item_id: row for row in rows}


def draft(visit_id: int, instrument_id: str) -> Draft:
    """The saved answers as plain values, with the username of staff who saved any of them."""
    return drafts_of_visit(visit_id, instrument_id).get(instrument_id, {})


_DRAFTS = (
    select(
        DraftAnswer.instrument_id,
        DraftAnswer.item_id,
        DraftAnswer.value,
        DraftAnswer.language,
        DraftAnswer.saved_at,
        StaffUser.username,
    )
    .outerjoin(StaffUser, DraftAnswer.staff_id == StaffUser.id)
    .where(DraftAnswer.visit_id == bindparam("visit_id"))
)
# Built once (every instrument's, or one's); the values are bound when they run.
_DRAFTS_OF = {
    False: _DRAFTS,
    True: _DRAFTS.where(DraftAnswer.instrument_id == bindparam("instrument_id")),
}
_RECORDS = (
    select(Response).where(Response.visit_id == bindparam("visit_id")).order_by(Response.version)
)


def drafts_of_visit(visit_id: int, instrument_id: str | None = None) -> dict[str, Draft]:
    """Every instrument's saved answers of a visit (or only `instrument_id`'s), in one query.
    Plain columns, so it runs on the session's connection, past the ORM's execution layer (drafts
    are only ever written by statements, never as pending session objects, so there is nothing
    to flush first)."""
    params: dict[str, Any] = {"visit_id": visit_id}
    if instrument_id is not None:
        params["instrument_id"] = instrument_id
    drafts: dict[str, dict[str, SavedAnswer]] = {}
    rows = db.session.connection().execute(_DRAFTS_OF[instrument_id is not None], params)
    for instrument, item_id, value, language, saved_at, username in rows:
        drafts.setdefault(instrument, {})[item_id] = SavedAnswer(
            value, language, saved_at, username
        )
    return dict(drafts)  # as Drafts (read-only mappings)


def current_records(visit_id: int) -> dict[str, Response]:
    """Each instrument's current record of a visit (its newest version unless that voids it),
    in one query."""
    newest: dict[str, Response] = {}
    for response in db.session.scalars(_RECORDS, {"visit_id": visit_id}):
        newest[response.instrument_id] = response
    return {key: response for key, response in newest.items() if not response.voided}


def check_context(visit: VisitLike) -> CheckContext:
    return CheckContext(
        today=clock.today_in(visit.participant.site.timezone),
        window_start=visit.window_start,
        window_end=visit.window_end,
    )


_UPSERTS: dict[str, Any] = {}


_CHANGED = ("value", "language", "saved_at", "entered_by", "staff_id")
_UPSERT_COLUMNS = ("visit_id", "instrument_id", "item_id", *_CHANGED)


def _upsert(dialect_name: str) -> Insert:
    """INSERT ... ON CONFLICT (visit, instrument, item) DO UPDATE, built once per dialect (a Core
    statement on the table: a draft row is never read back through the session). Its values bind
    as "change_<column>", so the audit event can carry it in the same statement."""
    if dialect_name not in _UPSERTS:
        dialect = postgresql if dialect_name == "postgresql" else sqlite
        table = DraftAnswer.__table__
        upsert = dialect.insert(table).values(
            {
                name: bindparam(f"change_{name}", type_=table.c[name].type)
                for name in _UPSERT_COLUMNS
            }
        )
        _UPSERTS[dialect_name] = upsert.on_conflict_do_update(
            index_elements=["visit_id", "instrument_id", "item_id"],
            set_={name: upsert.excluded[name] for name in _CHANGED},
        )
    return _UPSERTS[dialect_name]


def save_answer(
    visit: VisitLike,
    instrument: Instrument,
    item_id: str,
    value: Any,
    *,
    language: str,
    actor: str,
    staff: StaffUser | None = None,
    slot: Slot | None = None,
) -> None:
    """Upsert one answer. Two devices saving the same item at once both succeed; the last wins.
    `slot` is what this transaction already read of the instrument and the item (the screen's
    first query); without it, it is read here."""
    if slot is None or slot.item_id != item_id or not audit.trail_held():
        audit.hold_trail()  # what is read next includes every earlier writer's commit
        slot = read_slot(visit.id, instrument.id, item_id)
    slot.next_version()  # AlreadySubmitted once sealed
    previous = slot.saved.value if slot.saved is not None else None
    # One upsert, whoever inserted first: the other device's row is updated instead. It runs
    # with its audit event (on PostgreSQL in the same statement).
    saved = {
        "visit_id": visit.id,
        "instrument_id": instrument.id,
        "item_id": item_id,
        "value": value,
        "language": language,
        "saved_at": clock.utcnow(),
        "entered_by": EnteredBy.STAFF if staff else EnteredBy.PARTICIPANT,
        "staff_id": staff.id if staff else None,
    }
    upsert = _upsert(db.session.get_bind().dialect.name)
    participant = visit.participant
    audit.record_with(
        audit.Change(upsert, {f"change_{k}": v for k, v in saved.items()}),
        "answer.saved",
        actor,
        site_id=participant.site_id,
        participant_id=participant.id,
        visit_id=visit.id,
        instrument=instrument.id,
        item=item_id,
        value=value,
        previous=previous,
        language=language,
    )
