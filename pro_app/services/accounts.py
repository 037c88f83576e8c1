"""Staff accounts: create, roles, sites, passwords, two-step sign-in, language, enable/disable.

Passwords are hashed with argon2id and never logged or audited. Every change here is an audit
event whose actor is the person (or the command line) that made it.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from pro_app import clock
from pro_app.errors import InputRejected, InvalidSecondFactor, NotFoundHere, SelfLockout
from pro_app.extensions import db
from pro_app.languages import LANGUAGES
from pro_app.models import Role, SigninGuard, Site, StaffSession, StaffUser
from pro_app.services import audit

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
TOTP_ISSUER = "PRIME-PRO"
# Codes from the previous and next 30-second step are accepted: phone clocks drift.
TOTP_DRIFT_STEPS = 1

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): still far beyond guessing
# (sign-in is also rate-limited and locked), and one sign-in then costs one core briefly instead
# of argon2-cffi's default 64 MiB x 3 passes x 4 lanes, which, 16 at once, starved the patients'
# saves of CPU. Hashes made with other parameters still verify and are upgraded at the next
# successful sign-in (`needs_rehash`).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when a username is unknown, so a miss takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


# --- passwords ------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_matches(stored: str | None, password: str) -> bool:
    """One argon2 verification, with no database work (sign-in runs it outside any transaction).
    An unknown user (None) still costs one verification and never matches."""
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


def fresh_hash_if_needed(stored: str, password: str) -> str | None:
    """A new hash when `stored` was made with older argon2 parameters (the password is known)."""
    return _hasher.hash(password) if _hasher.check_needs_rehash(stored) else None


def password_matches(staff: StaffUser | None, password: str) -> bool:
    """Constant-shape check: an unknown user still costs one argon2 verification."""
    stored = staff.password_hash if staff is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return staff is not None


def rehash_if_needed(staff: StaffUser, password: str) -> None:
    """Upgrade a hash made with older argon2 parameters, at a moment we know the password."""
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = _hasher.hash(password)


def check_password_policy(password: str, username: str) -> None:
    """NIST SP 800-63B style: long rather than complicated; refuse the obvious."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputRejected("password", "too_short", min=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputRejected("password", "too_long", max=MAX_PASSWORD_LENGTH)
    if username.lower() in password.lower():
        raise InputRejected("password", "contains_username")
    if len(set(password)) < 5:
        raise InputRejected("password", "too_simple")


def temporary_password() -> str:
    """A one-time password to hand over in person, e.g. 'k7wq-m3pz-9hfd-2xrt' (80 bits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


# --- accounts -------------------------------------------------------------------------------


def find_by_username(username: str) -> StaffUser | None:
    return db.session.scalar(
        select(StaffUser).where(StaffUser.username == username.strip().lower())
    )


def create_staff(
    *,
    username: str,
    role: Role,
    sites: Iterable[Site],
    password: str,
    language: str = "zh_Hans",
    actor: str,
) -> StaffUser:
    """A new account that must choose its own password at first sign-in."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise InputRejected("username", "format")
    site_list = _require_sites(sites)
    _require_language(language)
    check_password_policy(password, username)
    password_hash = hash_password(password)  # argon2 first: the trail is not held while it runs
    # Two admins creating one username at once: the second waits here and is told it is taken.
    audit.hold_trail()
    if find_by_username(username) is not None:
        raise InputRejected("username", "taken")
    staff = StaffUser(
        username=username,
        password_hash=password_hash,
        role=role,
        is_active=True,
        must_change_password=True,
        failed_logins=0,
        language=language,
        created_at=clock.utcnow(),
    )
    staff.sites = site_list
    db.session.add(staff)
    db.session.flush()
    audit.record(
        "staff.created",
        actor,
        staff_id=staff.id,
        username=username,
        role=role.value,
        sites=sorted(site.code for site in site_list),
    )
    return staff


def set_role(staff: StaffUser, role: Role, *, actor: str, by: StaffUser | None = None) -> None:
    if staff.role is role:
        return
    if by is not None and by.id == staff.id and staff.role is Role.ADMIN:
        raise SelfLockout()
    previous = staff.role
    staff.role = role
    db.session.flush()
    audit.record(
        "staff.role_changed",
        actor,
        staff_id=staff.id,
        username=staff.username,
        previous=previous.value,
        role=role.value,
    )


def set_sites(staff: StaffUser, sites: Iterable[Site], *, actor: str) -> None:
    site_list = _require_sites(sites)
    previous = sorted(site.code for site in staff.sites)
    now = sorted(site.code for site in site_list)
    if previous == now:
        return
    staff.sites = site_list
    db.session.flush()
    audit.record(
        "staff.sites_changed",
        actor,
        staff_id=staff.id,
        username=staff.username,
        previous=previous,
        sites=now,
    )


def set_active(staff: StaffUser, active: bool, *, actor: str, by: StaffUser | None = None) -> None:
    if staff.is_active == active:
        return
    if not active and by is not None and by.id == staff.id:
        raise SelfLockout()
    staff.is_active = active
    db.session.flush()
    if not active:
        end_sessions(staff, "disabled")
    audit.record(
        "staff.enabled" if active else "staff.disabled",
        actor,
        staff_id=staff.id,
        username=staff.username,
    )


def update_staff(
    staff: StaffUser,
    *,
    role: Role,
    sites: Iterable[Site],
    active: bool,
    actor: str,
    by: StaffUser | None = None,
) -> None:
    """An admin's edit of an account; each kind of change is its own audit event."""
    set_sites(staff, sites, actor=actor)
    set_role(staff, role, actor=actor, by=by)
    set_active(staff, active, actor=actor, by=by)


def reset_password(staff: StaffUser, password: str, *, actor: str) -> None:
    """Set a password the user must change at next sign-in; unlocks and signs out everywhere."""
    check_password_policy(password, staff.username)
    staff.password_hash = hash_password(password)
    staff.must_change_password = True
    staff.failed_logins = 0
    staff.locked_until = None
    forget_signin_failures(staff.username)
    db.session.flush()
    end_sessions(staff, "password_reset")
    audit.record("staff.password_reset", actor, staff_id=staff.id, username=staff.username)


def change_own_password(
    staff: StaffUser, current: str, new: str, *, keep_session_id: int | None
) -> None:
    """The user's own change: needs the current password; other browsers are signed out."""
    if not password_matches(staff, current):
        raise InputRejected("current_password", "wrong")
    check_password_policy(new, staff.username)
    if password_matches(staff, new):
        raise InputRejected("password", "unchanged")
    staff.password_hash = hash_password(new)
    staff.must_change_password = False
    db.session.flush()
    end_sessions(staff, "password_changed", keep_session_id=keep_session_id)
    audit.record("staff.password_changed", staff.actor, staff_id=staff.id)


def normal_username(username: str) -> str:
    """A username as sign-in counts it: trimmed, lower-case, at most 128 characters."""
    return username.strip().lower()[:128]


def forget_signin_failures(username: str) -> None:
    """Every sign-in count, lock and wait of this username, from any address."""
    db.session.execute(
        update(SigninGuard)
        .where(SigninGuard.username == normal_username(username))
        .values(attempts=0, locked_until=None, not_before=None, updated_at=clock.utcnow())
        .execution_options(synchronize_session=False)
    )


def unlock(staff: StaffUser, *, actor: str) -> None:
    forget_signin_failures(staff.username)
    if staff.locked_until is None and staff.failed_logins == 0:
        return
    staff.locked_until = None
    staff.failed_logins = 0
    db.session.flush()
    audit.record("staff.unlocked", actor, staff_id=staff.id, username=staff.username)


def set_language(staff: StaffUser, language: str) -> None:
    _require_language(language)
    if staff.language == language:
        return
    previous = staff.language
    staff.language = language
    db.session.flush()
    audit.record(
        "staff.language_changed",
        staff.actor,
        staff_id=staff.id,
        previous=previous,
        language=language,
    )


def end_sessions(staff: StaffUser, reason: str, *, keep_session_id: int | None = None) -> int:
    """End every open session of this user (except one, when the user acts on their own)."""
    query = (
        update(StaffSession)
        .where(StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))
        .values(ended_at=clock.utcnow(), end_reason=reason)
    )
    if keep_session_id is not None:
        query = query.where(StaffSession.id != keep_session_id)
    result = db.session.execute(query, execution_options={"synchronize_session": "fetch"})
    return int(getattr(result, "rowcount", 0) or 0)


# --- two-step sign-in (TOTP, RFC 6238) ------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(staff: StaffUser, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=staff.username, issuer_name=TOTP_ISSUER)


def matching_totp_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step `code` belongs to, if it is current and newer than the last one used."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(clock.utcnow())
    for step in range(now_step - TOTP_DRIFT_STEPS, now_step + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and (
            last_step is None or step > last_step
        ):
            return step
    return None


def enable_totp(staff: StaffUser, secret: str, code: str) -> None:
    """Turn on two-step sign-in once the user proves their app shows the right codes."""
    step = matching_totp_step(secret, code, None)
    if step is None:
        raise InvalidSecondFactor()
    staff.totp_secret = secret
    staff.totp_last_step = step
    db.session.flush()
    audit.record("staff.totp_enabled", staff.actor, staff_id=staff.id)


def disable_totp(staff: StaffUser, code: str) -> None:
    if staff.totp_secret is None:
        return
    step = matching_totp_step(staff.totp_secret, code, staff.totp_last_step)
    if step is None:
        raise InvalidSecondFactor()
    staff.totp_secret = None
    staff.totp_last_step = None
    db.session.flush()
    audit.record("staff.totp_disabled", staff.actor, staff_id=staff.id)


def reset_totp(staff: StaffUser, *, actor: str) -> None:
    """An admin clears a lost authenticator; the user can set up a new one after signing in."""
    if staff.totp_secret is None:
        return
    staff.totp_secret = None
    staff.totp_last_step = None
    db.session.flush()
    end_sessions(staff, "totp_reset")
    audit.record("staff.totp_reset", actor, staff_id=staff.id, username=staff.username)


# --- helpers --------------------------------------------------------------------------------


def _require_sites(sites: Iterable[Site]) -> list[Site]:
    site_list = sorted(set(sites), key=lambda site: site.code)
    if not site_list:
        raise InputRejected("sites", "required")
    return site_list


def _require_language(language: str) -> None:
    if language not in LANGUAGES:
        raise InputRejected("language", "unknown")


# --- what an admin may manage ---------------------------------------------------------------


def manageable_staff(site_ids: set[int]) -> list[StaffUser]:
    """Accounts whose every site is one of these: an admin never manages another site's staff."""
    everyone = db.session.scalars(select(StaffUser).order_by(StaffUser.username))
    return [staff for staff in everyone if staff.site_ids and staff.site_ids <= site_ids]


def staff_for(site_ids: set[int], staff_id: int) -> StaffUser:
    staff = db.session.get(StaffUser, staff_id)
    if staff is None or not staff.site_ids or not staff.site_ids <= site_ids:
        raise NotFoundHere()
    return staff
