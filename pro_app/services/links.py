"""Visit links: issue, revoke, resolve and start.

Contract: a token is 28 characters of Crockford's base32 drawn with `secrets` (140 bits), shown
once at issue time and never stored or logged; the database keeps only its SHA-256, and a token is
found by looking up that hash (never by comparing plain values). A link is good for one visit of one
participant, inside the visit window (plus a configurable grace), until it is revoked or replaced.

The alphabet has no I, L, O or U and is read without regard to case, so the printed link can be
typed: it is shown in groups of four (ABCD-EFGH-...), and accepted with or without the dashes or
spaces, in either case, with i/l read as 1 and o as 0. Tokens issued before (URL-safe base64) are
still found by the hash of exactly what was sent.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from sqlalchemy import bindparam, func, select, update

from pro_app import clock
from pro_app.errors import (
    LinkAlreadyIssued,
    LinkExpired,
    LinkNotYetOpen,
    LinkRevoked,
    LinkUnknown,
    NoActiveLink,
    ParticipantWithdrawn,
    VisitComplete,
    VisitHasNoInstruments,
    VisitHasNoPatientPart,
)
from pro_app.extensions import db
from pro_app.models import Participant, ParticipantStatus, StaffUser, Visit, VisitLink
from pro_app.models.rows import DRAFTS_SAVED, LINK_ROWS, LinkRow, VisitLike, link_row
from pro_app.questionnaire.schedule import Schedule
from pro_app.services import answering, audit
from pro_app.services.reasons import require_reason

# Crockford's base32: digits and capitals without I, L, O and U.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOKEN_LENGTH = 28  # 28 x 5 = 140 bits
GROUP = 4
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = str.maketrans("", "", "- ")


def new_token() -> str:
    """A fresh token, grouped for reading aloud and typing (ABCD-EFGH-...-WXYZ)."""
    plain = "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_LENGTH))
    return "-".join(plain[i : i + GROUP] for i in range(0, TOKEN_LENGTH, GROUP))


def canonical(token: str) -> str | None:
    """The token as stored (hashed): upper case, no separators, look-alikes read as digits; None
    when what was typed is not a base32 token of the right length."""
    plain = token.upper().translate(_SEPARATORS).translate(_READ_AS)
    if len(plain) != TOKEN_LENGTH or any(ch not in ALPHABET for ch in plain):
        return None
    return plain


def token_hash(token: str) -> str:
    return hashlib.sha256((canonical(token) or token).encode()).hexdigest()


def issue(
    visit: Visit, *, actor: str, staff: StaffUser | None = None, reason: str = ""
) -> tuple[VisitLink, str]:
    """A new link for the visit; any link still active for it is revoked (a reissue)."""
    audit.hold_trail()  # before looking for the active link (see the verbs below)
    participant = visit.participant
    db.session.refresh(participant, ["status"])  # a withdrawal a moment ago has committed
    if participant.status is ParticipantStatus.WITHDRAWN:
        raise ParticipantWithdrawn()
    replaced = active_link(visit)
    if replaced is not None:
        revoke(replaced, actor=actor, staff=staff, reason=reason or "reissued")
    token = new_token()
    link = VisitLink(
        visit_id=visit.id,
        token_sha256=token_hash(token),
        issued_at=clock.utcnow(),
        issued_by_id=staff.id if staff else None,
    )
    db.session.add(link)
    db.session.flush()
    audit.record(
        "link.reissued" if replaced else "link.issued",
        actor,
        site_id=participant.site_id,
        participant_id=participant.id,
        visit_id=visit.id,
        link_id=link.id,
        replaces_link_id=replaced.id if replaced else None,
        reason=reason or None,
    )
    return link, token


def revoke(link: VisitLink, *, actor: str, staff: StaffUser | None = None, reason: str) -> None:
    if link.revoked_at is not None:
        return
    link.revoked_at = clock.utcnow()
    link.revoked_by_id = staff.id if staff else None
    link.revoke_reason = reason
    db.session.flush()
    participant = link.visit.participant
    audit.record(
        "link.revoked",
        actor,
        site_id=participant.site_id,
        participant_id=participant.id,
        visit_id=link.visit_id,
        link_id=link.id,
        reason=reason,
    )


def active_links(participant: Participant) -> list[VisitLink]:
    """Every link still active for any visit of the participant, in one query."""
    return list(
        db.session.scalars(
            select(VisitLink)
            .join(Visit, VisitLink.visit_id == Visit.id)
            .where(Visit.participant_id == participant.id, VisitLink.revoked_at.is_(None))
        )
    )


def active_link(visit: Visit) -> VisitLink | None:
    return db.session.scalar(
        select(VisitLink).where(VisitLink.visit_id == visit.id, VisitLink.revoked_at.is_(None))
    )


# The link with its visit, participant and site in one query, as a plain row: built once, bound
# per request. Neither the landing page nor Start needs a session object (Start's one change to the
# link is a single UPDATE).
_OF_TOKEN = VisitLink.token_sha256.in_([bindparam("typed"), bindparam("as_issued")])
# With whether its visit has saved answers: the landing and Start need to know.
_ROW_BY_TOKEN = LINK_ROWS.add_columns(DRAFTS_SAVED).where(_OF_TOKEN)
# Bound by audit.Change's names: it runs with Start's audit event.
_STARTED = (
    update(VisitLink)
    .where(VisitLink.id == bindparam("change_link_id"))
    .values(
        first_started_at=func.coalesce(VisitLink.first_started_at, bindparam("change_now")),
        last_started_at=bindparam("change_now"),
    )
)


def _token_params(token: str) -> dict[str, str]:
    """A typed token is normalised first; a token issued before typable links is hashed as it
    is. Unknown tokens (empty, too long) raise LinkUnknown."""
    if not token or len(token) > 100:
        raise LinkUnknown()
    return {"typed": token_hash(token), "as_issued": hashlib.sha256(token.encode()).hexdigest()}


def read(token: str) -> LinkRow:
    """The link a token belongs to, whatever its state, as a plain row with whether its visit
    has saved answers (run on the session's connection: the session's ORM layer has nothing to
    add to plain columns). Unknown tokens raise LinkUnknown."""
    row = db.session.connection().execute(_ROW_BY_TOKEN, _token_params(token)).first()
    if row is None:
        raise LinkUnknown()
    return link_row(row, drafts_saved=row.drafts_saved)


def check_usable(link: LinkRow, grace_days: int) -> None:
    """Raise the reason the link cannot be used now, if any (revoked, withdrawn, outside window)."""
    if link.revoked_at is not None:
        raise LinkRevoked()
    check_visit_open(link.visit, grace_days)


def check_visit_open(visit: VisitLike, grace_days: int) -> None:
    """Raise why answers cannot be given for this visit today (withdrawn, outside the window)."""
    if visit.participant.status is ParticipantStatus.WITHDRAWN:
        raise ParticipantWithdrawn()
    today = site_today(visit)
    if today < visit.window_start:
        raise LinkNotYetOpen(visit.window_start)
    if today > closes_on(visit, grace_days):
        raise LinkExpired(visit.window_end)


def closes_on(visit: VisitLike, grace_days: int) -> date:
    """The last site-calendar day on which the visit can still be answered."""
    return visit.window_end + timedelta(days=grace_days)


# --- the verbs of the desk and the CLI: the same rules for both --------------------------------
#
# Each holds the audit trail before it looks for the visit's active link, so two coordinators
# acting on one visit at once are served one after the other on PostgreSQL too (SQLite's writers
# queue anyway): the second sees the first one's link, and a visit never has two active links.


def issue_first(
    visit: Visit,
    *,
    actor: str,
    staff: StaffUser | None = None,
    schedule: Schedule,
    grace_days: int,
) -> tuple[VisitLink, str]:
    """The visit's first (or next, after a revoke) link. An active one must be reissued instead."""
    audit.hold_trail()
    _require_collectable(visit, schedule, grace_days)
    if active_link(visit) is not None:
        raise LinkAlreadyIssued()
    return issue(visit, actor=actor, staff=staff)


def reissue(
    visit: Visit,
    *,
    actor: str,
    staff: StaffUser | None = None,
    reason: str,
    schedule: Schedule,
    grace_days: int,
) -> tuple[VisitLink, str]:
    """A new link that revokes the active one, with the reason why (lost phone, wrong person...)."""
    reason = require_reason(reason)
    audit.hold_trail()
    _require_collectable(visit, schedule, grace_days)
    if active_link(visit) is None:
        raise NoActiveLink()
    return issue(visit, actor=actor, staff=staff, reason=reason)


def revoke_active(
    visit: Visit, *, actor: str, staff: StaffUser | None = None, reason: str
) -> VisitLink:
    """Revoke the visit's link without a replacement."""
    reason = require_reason(reason)
    audit.hold_trail()
    link = active_link(visit)
    if link is None:
        raise NoActiveLink()
    revoke(link, actor=actor, staff=staff, reason=reason)
    return link


def _require_collectable(visit: Visit, schedule: Schedule, grace_days: int) -> None:
    """A link is only worth issuing for an active participant's not-yet-closed visit with a part
    the participant answers (administered_by = "patient") that is not yet submitted.

    Before the window opens is fine: the patient is then told when it opens.
    """
    if visit.participant.status is ParticipantStatus.WITHDRAWN:
        raise ParticipantWithdrawn()
    planned = schedule.visit(visit.code)
    if not planned.instruments:
        raise VisitHasNoInstruments()
    if not planned.patient_instruments:
        # Only an assessor's worksheet (the 6MWT log): done at the clinic through staff entry.
        raise VisitHasNoPatientPart()
    if site_today(visit) > closes_on(visit, grace_days):
        raise LinkExpired(visit.window_end)
    if set(planned.patient_instruments) <= answering.sealed_instruments(visit.id):
        raise VisitComplete()


def site_today(visit: VisitLike) -> date:
    return clock.today_in(visit.participant.site.timezone)


def start(link: LinkRow, grace_days: int) -> None:
    """The patient pressed Start: a state change, so only ever called from a POST. The first
    start is kept; the last is now."""
    check_usable(link, grace_days)
    participant = link.visit.participant
    # The stamp goes with the event that records it (one statement on PostgreSQL), after the
    # trail is held: the desk's link verbs hold the trail, then change the link, and Start now
    # takes the two in the same order, so neither can wait for the other in a circle.
    stamp = {"change_link_id": link.id, "change_now": clock.utcnow()}
    audit.record_with(
        audit.Change(_STARTED, stamp),
        "link.started",
        f"participant:{participant.study_id}",
        site_id=participant.site_id,
        participant_id=participant.id,
        visit_id=link.visit.id,
        link_id=link.id,
    )
