"""Signing staff in and out: password check, lockout, second factor, server-side idle sessions.

A failed attempt is itself a state change (a counter, perhaps a lock, an audit event), so the
functions that raise InvalidCredentials, InvalidSecondFactor or AccountLocked leave those changes
flushed: the caller commits them before showing the error.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from pro_app import clock
from pro_app.errors import AccountLocked, InvalidCredentials, InvalidSecondFactor
from pro_app.extensions import db
from pro_app.models import StaffSession, StaffUser
from pro_app.services import accounts, audit

MAX_FAILED_ATTEMPTS = 5
LOCK_MINUTES = 15
# Even an active session ends after a working day; the idle limit comes from settings.
MAX_SESSION_HOURS = 12
# Last-seen is written at most this often, so a page load is not always a database write.
TOUCH_SECONDS = 30


def check_password(username: str, password: str) -> StaffUser:
    """The account these credentials open, or a named refusal (recorded, then raised)."""
    staff = accounts.find_by_username(username)
    matches = accounts.password_matches(staff, password)
    if staff is None:
        audit.record(
            "staff.sign_in_failed", "anonymous", username=username[:64], cause="unknown_user"
        )
        raise InvalidCredentials()
    _refuse_if_locked(staff)
    if not matches:
        _count_failure(staff, "bad_password")
        raise InvalidCredentials()
    if not staff.is_active:
        audit.record("staff.sign_in_failed", "anonymous", username=staff.username, cause="disabled")
        raise InvalidCredentials()
    accounts.rehash_if_needed(staff, password)
    return staff


def check_second_factor(staff: StaffUser, code: str) -> None:
    """The TOTP code after an accepted password; a wrong code counts as a failure."""
    _refuse_if_locked(staff)
    if not staff.is_active or staff.totp_secret is None:
        raise InvalidSecondFactor()
    step = accounts.matching_totp_step(staff.totp_secret, code, staff.totp_last_step)
    if step is None:
        _count_failure(staff, "bad_code")
        raise InvalidSecondFactor()
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


def _refuse_if_locked(staff: StaffUser) -> None:
    if staff.locked_until is not None and staff.locked_until > clock.utcnow():
        audit.record("staff.sign_in_failed", "anonymous", username=staff.username, cause="locked")
        raise AccountLocked(staff.locked_until)


def _count_failure(staff: StaffUser, cause: str) -> None:
    staff.failed_logins += 1
    audit.record(
        "staff.sign_in_failed",
        "anonymous",
        username=staff.username,
        cause=cause,
        attempt=staff.failed_logins,
    )
    if staff.failed_logins >= MAX_FAILED_ATTEMPTS:
        staff.locked_until = clock.utcnow() + timedelta(minutes=LOCK_MINUTES)
        staff.failed_logins = 0
        db.session.flush()
        audit.record(
            "staff.locked",
            "system",
            staff_id=staff.id,
            username=staff.username,
            until=staff.locked_until.isoformat(),
            minutes=LOCK_MINUTES,
        )
        raise AccountLocked(staff.locked_until)
    db.session.flush()


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
