"""The audit trail: append-only events chained by a keyed MAC, anchored by signed checkpoints.

Each event carries the MAC of its predecessor (`prev_hash`) and its own `hash`: HMAC-SHA256 with
the audit key over its content and that link. The key is configuration (PRO_AUDIT_KEY_FILE), never
in the database, so a person who can change the database cannot compute a valid MAC for an
inserted or edited event, nor re-chain the events after one. What a database alone cannot show,
that its newest events were deleted, a checkpoint shows: a file outside the database with the
event count, the last event's id and MAC and the time, signed with the site certificate
(`write_checkpoint`; daily by the PDF worker, at every binder export, and `flask audit checkpoint`).
`verify_chain` walks the chain with the key and holds it against the newest checkpoint and against
the sealed records, each of which must have its event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Delete, Insert, Table, Update, bindparam, func, insert, select
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session

from pro_app import clock, config
from pro_app.canonical import canonical_json, sha256_of
from pro_app.extensions import db
from pro_app.models import AuditChainHead, AuditEvent, Participant, Response
from pro_app.pdf.certificates import sign_bytes, signature_holds, site_certificate_fingerprint

GENESIS = "0" * 64
CHECKPOINT_EVERY = timedelta(hours=24)
# The events that seal, correct or void a record: every record version has one.
RECORD_ACTIONS = ("response.submitted", "response.corrected", "response.voided")


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def _mac(key: bytes, fields: dict[str, Any]) -> str:
    return hmac.new(key, canonical_json(fields), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Change:
    """A write that an event records, given to `record_with` to run with it: on PostgreSQL both
    go in one statement (the write as a data-modifying WITH clause), elsewhere the write runs
    first. `statement` is built once and binds its values by names starting with "change_"; the
    changes of one event share a name only for the same value."""

    statement: Insert | Update | Delete
    params: dict[str, Any]


def record(
    action: str,
    actor: str,
    *,
    site_id: int | None = None,
    participant_id: int | None = None,
    visit_id: int | None = None,
    **details: Any,
) -> None:
    """Append one event. Never pass a visit-link token or a password in `details`."""
    _append(action, actor, site_id, participant_id, visit_id, details, ())


def record_with(
    changes: Change | Sequence[Change],
    action: str,
    actor: str,
    /,
    *,
    site_id: int | None = None,
    participant_id: int | None = None,
    visit_id: int | None = None,
    **details: Any,
) -> None:
    """Run `changes` in their order and append the event that records them (one statement on
    PostgreSQL)."""
    together = (changes,) if isinstance(changes, Change) else tuple(changes)
    _append(action, actor, site_id, participant_id, visit_id, details, together)


def _append(
    action: str,
    actor: str,
    site_id: int | None,
    participant_id: int | None,
    visit_id: int | None,
    details: dict[str, Any],
    changes: tuple[Change, ...],
) -> None:
    session = db.session
    # What the session holds is written first, so the event comes after the changes it records
    # (and the rows it names exist). Then the statements go to the transaction's connection:
    # they are plain inserts, and events are never read back or changed through the session.
    session.flush()
    connection = session.connection()
    # The head row names the predecessor. On PostgreSQL `FOR UPDATE` serialises appenders (one
    # waits for the other's commit, then reads the head that one's insert moved); on SQLite the
    # writing transaction already holds the database's write lock.
    together = bool(changes) and connection.dialect.name == "postgresql"
    if not together:
        for change in changes:
            connection.execute(change.statement, change.params)
    last = session.info.get(_HELD) or _read_head()
    key = config.current().audit_key
    values: dict[str, Any] = {
        "occurred_at": clock.utcnow(),
        "action": action,
        "actor": actor,
        "site_id": site_id,
        "participant_id": participant_id,
        "visit_id": visit_id,
        "details": details,
        "prev_hash": last or GENESIS,
        "key_id": key_id(key),
    }
    values["hash"] = _mac(key, _hashed_values(values))
    if together:
        params = {f"event_{name}": value for name, value in values.items()}
        for change in changes:
            params.update(change.params)
        statements = tuple(change.statement for change in changes)
        connection.execute(_with_changes(statements), params)
    else:
        connection.execute(_INSERT, values)
    session.info[_HELD] = values["hash"]  # the trigger moved the head here; nobody else can


def hold_trail() -> None:
    """Hold the trail for this transaction now: on PostgreSQL its head row is locked until commit
    (`FOR UPDATE`); on SQLite the writing transaction already holds the database's write lock.
    Every state change appends an event, so writers queue here anyway; a writer that must read
    current state first (is the instrument sealed? what is saved?) holds the trail before reading,
    so it sees every earlier writer's commit. The head is remembered, so this transaction's first
    event needs no second look at it. (On SQLite holding costs no statement: the head is read at
    the first append.)"""
    session = db.session
    if _HELD in session.info:
        return
    if session.get_bind().dialect.name == "sqlite":
        session.info[_HELD] = ""  # held by the write lock; the head is not read yet
    else:
        _read_head()


def read_with_slot(head: str | None) -> None:
    """The head as the first query of a SQLite writer read it beside the slot: with the write lock
    held it stays current, so the first append needs not read it again. (On PostgreSQL the head
    was read when the trail was held, and this changes nothing.)"""
    session = db.session
    if session.info.get(_HELD) == "":
        session.info[_HELD] = head or GENESIS


def trail_held() -> bool:
    """Whether this transaction holds the trail (`hold_trail`, or an event already appended)."""
    return _HELD in db.session.info


def _read_head() -> str:
    """The head, read on the transaction's connection: a plain column that the session's ORM
    layer would only add its cost to (on PostgreSQL its execution layer was 8% of an item step's
    samples), and a row that only the audit trigger changes, so nothing the session holds needs
    flushing first."""
    session = db.session
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    head = connection.execute(_HEAD_FOR_UPDATE if postgresql else HEAD).scalar() or GENESIS
    session.info[_HELD] = head
    return head


@sqlalchemy_event.listens_for(Session, "after_rollback")
@sqlalchemy_event.listens_for(Session, "after_soft_rollback")
def _release(session: Session, *_args: object) -> None:
    """A transaction's end (or a savepoint's rollback, which drops its locks) ends the hold."""
    session.info.pop(_HELD, None)


@sqlalchemy_event.listens_for(Session, "after_commit")
def _release_on_commit(session: Session) -> None:
    """A commit ends the hold; a savepoint's release (SQLAlchemy reports it as a commit too)
    does not: the transaction goes on with its locks, and with the head it wrote, if any."""
    if not session.in_nested_transaction():
        session.info.pop(_HELD, None)


_HELD = "audit_trail_head"


HEAD = select(AuditChainHead.last_hash).where(AuditChainHead.id == 1)
_HEAD_FOR_UPDATE = HEAD.with_for_update()
_COLUMNS = (
    "occurred_at",
    "action",
    "actor",
    "site_id",
    "participant_id",
    "visit_id",
    "details",
    "prev_hash",
    "hash",
    "key_id",
)
_INSERT = insert(cast(Table, AuditEvent.__table__))
_WITH_CHANGES: dict[tuple[int, ...], Insert] = {}


def _with_changes(statements: tuple[Insert | Update | Delete, ...]) -> Insert:
    """`WITH change AS (<statement>), change_2 AS (...) INSERT INTO audit_event ...`, built once
    per sequence of statements (which are themselves built once). The event's values are bound
    as "event_<column>": a parameter named like a column of a table that a change updates
    (`participant_id` of `visit`) would be added to that UPDATE's SET clause."""
    key = tuple(id(statement) for statement in statements)
    if key not in _WITH_CHANGES:
        table = cast(Table, AuditEvent.__table__)
        values = {name: bindparam(f"event_{name}", type_=table.c[name].type) for name in _COLUMNS}
        ctes = [
            statement.cte("change" if n == 1 else f"change_{n}")
            for n, statement in enumerate(statements, 1)
        ]
        _WITH_CHANGES[key] = _INSERT.values(values).add_cte(*ctes)
    return _WITH_CHANGES[key]


def _hashed_values(values: dict[str, Any]) -> dict[str, Any]:
    """What an event's MAC covers, from its column values (as it is written or read back)."""
    fields = {
        "occurred_at": values["occurred_at"].isoformat(),
        "action": values["action"],
        "actor": values["actor"],
        "site_id": values["site_id"],
        "participant_id": values["participant_id"],
        "visit_id": values["visit_id"],
        "details": values["details"],
        "prev_hash": values["prev_hash"],
    }
    if values["key_id"] is not None:
        fields["key_id"] = values["key_id"]
    return fields


def _hashed_fields(event: AuditEvent) -> dict[str, Any]:
    return _hashed_values({name: getattr(event, name) for name in _COLUMNS})


# --- checkpoints ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of how far the trail reached at a moment, kept outside the database."""

    count: int
    last_id: int | None
    last_mac: str
    at: datetime
    path: Path
    signed: bool  # the signature holds and is the site certificate's

    @property
    def summary(self) -> str:
        return f"{self.count} events up to event {self.last_id} at {self.at.isoformat()}"


def write_checkpoint(reason: str, directory: Path | None = None) -> Checkpoint:
    """Write a checkpoint of the committed trail as it is now. Call it outside a transaction
    that has written events: it must only speak of events that will stay."""
    settings = config.current()
    directory = directory or settings.audit_checkpoint_dir
    # Count and newest id in one statement, so an append committed meanwhile cannot fall between
    # them (appenders hold the chain's head, so ids are committed in order).
    count, last_id = db.session.execute(
        select(func.count(), func.max(AuditEvent.id)).select_from(AuditEvent)
    ).one()
    last_mac = (
        db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == last_id))
        if last_id is not None
        else GENESIS
    )
    now = clock.utcnow()
    payload = {
        "trial": "NCT04992832",
        "count": count or 0,
        "last_id": last_id,
        "last_mac": last_mac,
        "key_id": key_id(settings.audit_key),
        "at": now.isoformat(),
        "reason": reason,
    }
    signed = sign_bytes(settings, canonical_json(payload))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"checkpoint-{now:%Y%m%dT%H%M%S%f}Z-{count or 0}.json"
    document = {
        "checkpoint": payload,
        "signature": base64.b64encode(signed.signature).decode(),
        "certificate": signed.certificate_pem.decode(),
        "certificate_sha256": signed.fingerprint,
    }
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n")
    temporary.replace(path)
    written = _read_checkpoint(path, signed.fingerprint)
    assert written is not None
    return written


def _read_checkpoint(path: Path, site_fingerprint: str) -> Checkpoint | None:
    try:
        document = json.loads(path.read_text())
        payload = document["checkpoint"]
        certificate = document["certificate"].encode()
        signature = base64.b64decode(document["signature"])
        fingerprint = hashlib.sha256(_pem_der(certificate)).hexdigest()
        holds = signature_holds(canonical_json(payload), signature, certificate)
        return Checkpoint(
            count=int(payload["count"]),
            last_id=payload["last_id"],
            last_mac=str(payload["last_mac"]),
            at=datetime.fromisoformat(payload["at"]),
            path=path,
            signed=holds and fingerprint == site_fingerprint,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _pem_der(pem: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def checkpoints(directory: Path | None = None) -> list[Checkpoint]:
    """Every readable checkpoint, oldest first (an unreadable file counts as unsigned)."""
    settings = config.current()
    directory = directory or settings.audit_checkpoint_dir
    if not directory.is_dir():
        return []
    site = site_certificate_fingerprint(settings)
    found = []
    for path in sorted(directory.glob("checkpoint-*.json")):
        checkpoint = _read_checkpoint(path, site)
        found.append(
            checkpoint
            if checkpoint is not None
            else Checkpoint(0, None, "", datetime.min, path, signed=False)
        )
    return sorted(found, key=lambda c: c.at)


def checkpoint_if_due(now: datetime | None = None) -> Checkpoint | None:
    """The daily checkpoint: written when the newest is a day old (or there is none)."""
    now = now or clock.utcnow()
    signed = [c for c in checkpoints() if c.signed]
    if signed and now - max(c.at for c in signed) < CHECKPOINT_EVERY:
        return None
    return write_checkpoint("daily")


# --- verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    events: int
    first_bad_id: int | None
    fault: str
    checkpoint: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return not self.fault


def _walk(key: bytes) -> Iterator[tuple[AuditEvent, str | None]]:
    """Each event with what is wrong with it (None when its link and MAC hold)."""
    expected_prev = GENESIS
    keyed_seen = False
    own_key = key_id(key)
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        fault = None
        if event.prev_hash != expected_prev:
            fault = "link to the previous event is broken (an event was removed or inserted)"
        elif event.key_id is None:
            # Written before the audit key existed: only at the start of the trail.
            if keyed_seen:
                fault = "an event without the audit key's MAC follows keyed events"
            elif sha256_of(_hashed_fields(event)) != event.hash:
                fault = "content does not match its hash"
        else:
            keyed_seen = True
            if event.key_id != own_key:
                fault = "made with another audit key"
            elif not hmac.compare_digest(_mac(key, _hashed_fields(event)), event.hash):
                fault = "content does not match its MAC (changed, or forged without the key)"
        yield event, fault
        expected_prev = event.hash


def verify_chain(directory: Path | None = None) -> ChainReport:
    """Walk the whole chain with the key; then hold it against the newest signed checkpoint
    (truncation, a missing trail) and the sealed records (each has its event)."""
    key = config.current().audit_key
    count = 0
    seen: dict[int, str] = {}
    for event, fault in _walk(key):
        count += 1
        if fault is not None:
            return ChainReport(count, event.id, fault)
        seen[event.id] = event.hash
    signed = [c for c in checkpoints(directory) if c.signed]
    newest = signed[-1] if signed else None
    unsigned = [c for c in checkpoints(directory) if not c.signed]
    if unsigned:
        return ChainReport(
            count, None, f"checkpoint {unsigned[0].path.name} is not signed by the site certificate"
        )
    if newest is not None:
        if count < newest.count:
            return ChainReport(
                count,
                None,
                f"the trail is truncated: {count} events, but the checkpoint of "
                f"{newest.at.isoformat()} saw {newest.count}",
                newest,
            )
        if newest.last_id is not None and seen.get(newest.last_id) != newest.last_mac:
            return ChainReport(
                count,
                newest.last_id,
                f"event {newest.last_id} of the checkpoint of {newest.at.isoformat()} is missing "
                "or different",
                newest,
            )
        before = sum(1 for event_id in seen if newest.last_id and event_id <= newest.last_id)
        if before != newest.count:
            return ChainReport(
                count, None, "events before the checkpoint were removed or inserted", newest
            )
    orphan = _record_without_event()
    if orphan is not None:
        return ChainReport(count, None, orphan, newest)
    return ChainReport(count, None, "", newest)


def _record_without_event() -> str | None:
    """A sealed record or a participant whose audit event is gone reveals removed events, even
    those newer than the newest checkpoint."""
    recorded: set[int] = set()
    for details in db.session.scalars(
        select(AuditEvent.details).where(AuditEvent.action.in_(RECORD_ACTIONS))
    ).yield_per(1000):
        if isinstance(details, dict) and isinstance(details.get("response_id"), int):
            recorded.add(details["response_id"])
    for response_id in db.session.scalars(select(Response.id).order_by(Response.id)).yield_per(
        1000
    ):
        if response_id not in recorded:
            return f"record {response_id} has no audit event: events were removed"
    enrolled = set(
        db.session.scalars(
            select(AuditEvent.participant_id).where(AuditEvent.action == "participant.enrolled")
        )
    )
    for participant_id in db.session.scalars(select(Participant.id)):
        if participant_id not in enrolled:
            return f"participant {participant_id} has no enrolment event: events were removed"
    return None


# --- reading the trail ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    """What an audit view shows: one site or participant, optionally one user, action, dates."""

    site_ids: frozenset[int]
    participant_id: int | None = None
    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


def _where(selection: EventFilter) -> list[Any]:
    conditions: list[Any] = [AuditEvent.site_id.in_(selection.site_ids or {-1})]
    if selection.participant_id is not None:
        conditions.append(AuditEvent.participant_id == selection.participant_id)
    if selection.actor:
        conditions.append(AuditEvent.actor == selection.actor)
    if selection.action:
        conditions.append(AuditEvent.action == selection.action)
    if selection.since is not None:
        conditions.append(AuditEvent.occurred_at >= selection.since)
    if selection.until is not None:
        conditions.append(AuditEvent.occurred_at < selection.until)
    return conditions


def events(
    selection: EventFilter, *, page: int = 1, per_page: int = 50
) -> tuple[list[AuditEvent], int]:
    """One page of the events the filter selects, newest first; returns (events, total)."""
    conditions = _where(selection)
    total = db.session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    page_events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(*conditions)
            .order_by(AuditEvent.id.desc())
            .offset((max(page, 1) - 1) * per_page)
            .limit(per_page)
        )
    )
    return page_events, total


def all_events(selection: EventFilter) -> Iterator[AuditEvent]:
    """Every event the filter selects, oldest first, read in batches (for an export)."""
    yield from db.session.scalars(
        select(AuditEvent).where(*_where(selection)).order_by(AuditEvent.id)
    ).yield_per(1000)


def actions(site_ids: frozenset[int]) -> list[str]:
    """The actions that occur at these sites, for a filter's choices."""
    return sorted(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.site_id.in_(site_ids or {-1})).distinct()
        )
    )


def history(
    participant_id: int, site_ids: frozenset[int] | set[int], *, page: int = 1, per_page: int = 50
) -> tuple[list[AuditEvent], int]:
    """One participant's events, newest first, a page at a time; returns (events, total)."""
    return events(
        EventFilter(site_ids=frozenset(site_ids), participant_id=participant_id),
        page=page,
        per_page=per_page,
    )
