"""Signing staff in and out: password check, lockout, second factor, server-side idle sessions.

A password sign-in has three steps: `begin_attempt` counts the attempt atomically in a short
transaction the caller commits at once; `verify` runs argon2 with no transaction open;
`finish_attempt` decides in the request's transaction. The lock is per (username, client address)
and the wait per username, for unknown usernames alike (docs/security.md says why).

A failed attempt is itself a state change (a counter, perhaps a lock, an audit event), so the
functions that raise InvalidCredentials, InvalidSecondFactor or AccountLocked leave those changes
flushed: the caller commits them before showing the error.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from pro_app import clock
from pro_app.errors import AccountLocked, InvalidCredentials, InvalidSecondFactor
from pro_app.extensions import db
from pro_app.models import SigninGuard, StaffSession, StaffUser
from pro_app.services import accounts, audit

# Failures of one username from one client address before that pair is locked.
MAX_FAILED_ATTEMPTS = 5
LOCK_MINUTES = 15
# Attempts at one username from anywhere before each further one must wait, the wait doubling
# from one second up to MAX_DELAY_SECONDS.
ACCOUNT_FREE_ATTEMPTS = 10
MAX_DELAY_SECONDS = 60
# Even an active session ends after a working day; the idle limit comes from settings.
MAX_SESSION_HOURS = 12
# Last-seen is written at most this often, so a page load is not always a database write.
TOUCH_SECONDS = 30


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt, admitted by `begin_attempt`: plain values only, so the password can
    be checked with no transaction open (argon2 takes ~50 ms of CPU; SQLite's write lock must not
    wait for it)."""

    username: str
    address: str
    pair_key: str
    account_key: str
    number: int
    staff_id: int | None
    password_hash: str | None = field(repr=False)


@dataclass(frozen=True)
class Verdict:
    matched: bool
    new_hash: str | None = field(default=None, repr=False)


def begin_attempt(username: str, address: str) -> Attempt:
    """Step 1 of a password sign-in, for a short transaction of its own that the caller commits
    before step 2: take one attempt under the (username, address) pair and under the username.
    The counts move by atomic UPDATE ... RETURNING, so 40 parallel attempts are numbered 1..40
    and only the first MAX_FAILED_ATTEMPTS are checked. A username that does not exist is counted
    and locked the same way. Raises AccountLocked (recorded) when the attempt is not admitted."""
    name = _normal(username)
    address = address[:64]
    now = clock.utcnow()
    pair_key = _key("pair", name, address)
    account_key = _key("account", name)
    _ensure_guard(pair_key, name, address, now)
    _ensure_guard(account_key, name, None, now)
    number = _take(pair_key, now, check_delay=False)
    if number is None:
        _refused(name, address, "locked", _guard(pair_key).locked_until)
    assert number is not None
    if number > MAX_FAILED_ATTEMPTS:
        # Attempts beyond the limit that raced in before the lock: the lock is set now.
        _refused(name, address, "locked", _lock(pair_key, name, address, now))
    account_number = _take(account_key, now, check_delay=True)
    if account_number is None:
        _refused(name, address, "delayed", _guard(account_key).not_before)
    assert account_number is not None
    if account_number > ACCOUNT_FREE_ATTEMPTS:
        delay = min(2 ** (account_number - ACCOUNT_FREE_ATTEMPTS - 1), MAX_DELAY_SECONDS)
        db.session.execute(
            update(SigninGuard)
            .where(SigninGuard.key == account_key)
            .values(not_before=now + timedelta(seconds=delay))
            .execution_options(synchronize_session=False)
        )
    staff = accounts.find_by_username(name)
    return Attempt(
        username=name,
        address=address,
        pair_key=pair_key,
        account_key=account_key,
        number=number,
        staff_id=staff.id if staff is not None else None,
        password_hash=staff.password_hash if staff is not None else None,
    )


def verify(attempt: Attempt, password: str) -> Verdict:
    """Step 2, outside any transaction: the argon2 check (an unknown user costs the same)."""
    matched = accounts.hash_matches(attempt.password_hash, password)
    new_hash = None
    if matched and attempt.password_hash is not None:
        new_hash = accounts.fresh_hash_if_needed(attempt.password_hash, password)
    return Verdict(matched, new_hash)


def finish_attempt(attempt: Attempt, verdict: Verdict) -> StaffUser:
    """Step 3, in the request's transaction: the account these credentials open, or a refusal
    (recorded, then raised). A right password is refused too if the pair was locked meanwhile:
    once locked, nothing signs in from there until the lock ends."""
    now = clock.utcnow()
    staff = db.session.get(StaffUser, attempt.staff_id) if attempt.staff_id else None
    if staff is None or not verdict.matched or not staff.is_active:
        cause = (
            "unknown_user"
            if staff is None
            else "bad_password"
            if not verdict.matched
            else "disabled"
        )
        audit.record(
            "staff.sign_in_failed",
            "anonymous",
            username=attempt.username[:64],
            address=attempt.address,
            cause=cause,
            attempt=attempt.number,
        )
        if attempt.number >= MAX_FAILED_ATTEMPTS:
            raise AccountLocked(_lock(attempt.pair_key, attempt.username, attempt.address, now))
        raise InvalidCredentials()
    # With a second factor to come, the count goes on until the code is right too.
    _succeeded(
        attempt.pair_key,
        attempt.account_key,
        attempt.username,
        attempt.address,
        now,
        reset=staff.totp_secret is None,
    )
    if verdict.new_hash is not None:
        staff.password_hash = verdict.new_hash
    db.session.flush()
    return staff


def check_second_factor(staff: StaffUser, code: str, address: str) -> None:
    """The TOTP code after an accepted password; a wrong code counts as a failure of the same
    (username, address) pair. The code check is cheap, so it runs in one transaction."""
    now = clock.utcnow()
    address = address[:64]
    pair_key = _key("pair", staff.username, address)
    _ensure_guard(pair_key, staff.username, address, now)
    number = _take(pair_key, now, check_delay=False)
    if number is None:
        _refused(staff.username, address, "locked", _guard(pair_key).locked_until)
    assert number is not None
    if number > MAX_FAILED_ATTEMPTS:
        _refused(staff.username, address, "locked", _lock(pair_key, staff.username, address, now))
    if not staff.is_active or staff.totp_secret is None:
        raise InvalidSecondFactor()
    step = accounts.matching_totp_step(staff.totp_secret, code, staff.totp_last_step)
    if step is None:
        audit.record(
            "staff.sign_in_failed",
            "anonymous",
            username=staff.username,
            address=address,
            cause="bad_code",
            attempt=number,
        )
        if number >= MAX_FAILED_ATTEMPTS:
            raise AccountLocked(_lock(pair_key, staff.username, address, now))
        raise InvalidSecondFactor()
    _succeeded(pair_key, _key("account", staff.username), staff.username, address, now)
    staff.totp_last_step = step
    db.session.flush()


def start_session(staff: StaffUser, *, second_factor: bool) -> str:
    """Open a session; returns the random key for the cookie (only its hash is stored)."""
    key = secrets.token_urlsafe(32)
    now = clock.utcnow()
    staff.failed_logins = 0
    staff.locked_until = None
    session_row = StaffSession(
        staff_id=staff.id,
        key_sha256=_hash(key),
        started_at=now,
        last_seen_at=now,
        second_factor=second_factor,
    )
    db.session.add(session_row)
    db.session.flush()
    audit.record(
        "staff.signed_in",
        staff.actor,
        staff_id=staff.id,
        session_id=session_row.id,
        role=staff.role.value,
        second_factor=second_factor,
    )
    return key


@dataclass(frozen=True)
class Resumed:
    session: StaffSession | None
    # Why the session behind the cookie has ended ("idle", "max_age", "disabled"), if it has.
    ended: str | None = None
    ended_id: int | None = None
    # Whether its last-seen time is due a write (written at most every TOUCH_SECONDS).
    touch: bool = False


def resume(key: str, idle_minutes: int) -> Resumed:
    """The open session behind a cookie key, or why it has ended. Reads only: ending an idle
    session (`expire`) and moving its idle clock (`touch`) are the caller's bookkeeping."""
    row = db.session.scalar(
        select(StaffSession)
        .options(joinedload(StaffSession.staff).joinedload(StaffUser.sites))
        .where(StaffSession.key_sha256 == _hash(key), StaffSession.ended_at.is_(None))
    )
    if row is None:
        return Resumed(None)
    now = clock.utcnow()
    reason = None
    if not row.staff.is_active:
        reason = "disabled"
    elif now - row.last_seen_at > timedelta(minutes=idle_minutes):
        reason = "idle"
    elif now - row.started_at > timedelta(hours=MAX_SESSION_HOURS):
        reason = "max_age"
    if reason is not None:
        return Resumed(None, reason, row.id)
    return Resumed(row, touch=now - row.last_seen_at >= timedelta(seconds=TOUCH_SECONDS))


def expire(session_id: int, reason: str) -> None:
    """End a session that idled out or outlived its day (or whose account was disabled)."""
    row = db.session.get(StaffSession, session_id)
    if row is None or row.ended_at is not None:
        return
    _end(row, reason, clock.utcnow())
    audit.record(
        "staff.session_expired",
        row.staff.actor,
        staff_id=row.staff_id,
        session_id=row.id,
        cause=reason,
    )


def touch(session_id: int) -> None:
    """Move a session's idle clock to now."""
    db.session.execute(
        update(StaffSession)
        .where(StaffSession.id == session_id, StaffSession.ended_at.is_(None))
        .values(last_seen_at=clock.utcnow())
    )


def sign_out(row: StaffSession) -> None:
    if row.ended_at is not None:
        return
    _end(row, "signed_out", clock.utcnow())
    audit.record("staff.signed_out", row.staff.actor, staff_id=row.staff_id, session_id=row.id)


def _end(row: StaffSession, reason: str, now: datetime) -> None:
    row.ended_at = now
    row.end_reason = reason
    db.session.flush()


def _normal(username: str) -> str:
    return accounts.normal_username(username)


def _key(scope: str, *values: str) -> str:
    return hashlib.sha256("\x1f".join((scope, *values)).encode()).hexdigest()


def _open(now: datetime) -> ColumnElement[bool]:
    return or_(SigninGuard.locked_until.is_(None), SigninGuard.locked_until <= now)


def _ensure_guard(key: str, name: str, address: str | None, now: datetime) -> None:
    """The guard row of `key`, made if missing (two racing makers: one wins, neither fails)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(SigninGuard)
        .values(key=key, username=name, address=address, attempts=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )


def _take(key: str, now: datetime, *, check_delay: bool) -> int | None:
    """Count one attempt under `key`, atomically; its number, or None if locked (or waiting)."""
    condition = _open(now)
    if check_delay:
        condition = and_(
            condition, or_(SigninGuard.not_before.is_(None), SigninGuard.not_before <= now)
        )
    number = db.session.execute(
        update(SigninGuard)
        .where(SigninGuard.key == key, condition)
        .values(attempts=SigninGuard.attempts + 1, updated_at=now)
        .returning(SigninGuard.attempts)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return None if number is None else int(number)


def _guard(key: str) -> SigninGuard:
    row = db.session.get(SigninGuard, key, populate_existing=True)
    assert row is not None
    return row


def _lock(key: str, name: str, address: str, now: datetime) -> datetime:
    """Lock the pair (if it is not locked already) and return when its lock ends."""
    until = now + timedelta(minutes=LOCK_MINUTES)
    locked = db.session.execute(
        update(SigninGuard)
        .where(SigninGuard.key == key, _open(now))
        .values(attempts=0, locked_until=until, updated_at=now)
        .returning(SigninGuard.key)
        .execution_options(synchronize_session=False)
    ).first()
    if locked is None:
        existing = _guard(key).locked_until
        return existing if existing is not None else until
    staff = accounts.find_by_username(name)
    if staff is not None:
        # Shown to administrators (who can unlock); it does not refuse other addresses.
        staff.locked_until = until
    audit.record(
        "staff.locked",
        "system",
        staff_id=staff.id if staff is not None else None,
        username=name[:64],
        address=address,
        until=until.isoformat(),
        minutes=LOCK_MINUTES,
    )
    return until


def _succeeded(
    pair_key: str, account_key: str, name: str, address: str, now: datetime, *, reset: bool = True
) -> None:
    """A right password (or code): refused all the same if the pair was locked meanwhile (one
    atomic UPDATE decides), else the counts start again."""
    values: dict[str, object] = {"updated_at": now}
    if reset:
        values["attempts"] = 0
    open_pair = db.session.execute(
        update(SigninGuard)
        .where(SigninGuard.key == pair_key, _open(now))
        .values(**values)
        .returning(SigninGuard.key)
        .execution_options(synchronize_session=False)
    ).first()
    if open_pair is None:
        _refused(name, address, "locked", _guard(pair_key).locked_until)
    if reset:
        db.session.execute(
            update(SigninGuard)
            .where(SigninGuard.key == account_key)
            .values(attempts=0, not_before=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def _refused(name: str, address: str, cause: str, until: datetime | None) -> None:
    audit.record(
        "staff.sign_in_failed", "anonymous", username=name[:64], address=address, cause=cause
    )
    raise AccountLocked(until or clock.utcnow())


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
