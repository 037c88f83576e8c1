"""Which visit this browser is answering: bound to one visit link, never the source of truth.

The cookie only says which link was started here. Answers and progress live in the database, so a
browser that loses its cookies (WeChat's in-app browser does) resumes by reopening the link.

A signed-in coordinator can instead bind their browser to a visit in staff-entry mode: the same
screens, but every answer and the sealed record name the staff member and the reason. The desk
binds (`bind_staff_entry`), the patient screens read (`current`): both go through this module.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request, session
from flask_babel import get_locale
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Row, Select, bindparam

from pro_app.config import Settings
from pro_app.errors import AnswerLost, PatientSessionMissing, StaffEntryEnded
from pro_app.extensions import csrf, db
from pro_app.languages import LANGUAGES
from pro_app.models import Response, Role, StaffUser, Visit, VisitLink
from pro_app.models.rows import (
    LINK_ROWS,
    VISIT_ROWS,
    Columns,
    LinkRow,
    ParticipantLike,
    VisitLike,
    link_row,
    visit_row,
)
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.definitions import Instrument
from pro_app.services import answering, audit, links, sealing
from pro_app.web.access import current_staff

_KEY = "patient_link"
_STAFF_ENTRY = "staff_entry"


@dataclass(frozen=True)
class PatientContext:
    """What a patient screen needs of the visit in hand, read as plain rows on every request (a
    staff entry has no link)."""

    visit: VisitLike
    participant: ParticipantLike
    link: LinkRow | None = None
    staff: StaffUser | None = None
    entry_reason: str | None = None
    # The instrument (and item) the request asked about, read with the visit.
    slot: answering.Slot | None = None

    @property
    def actor(self) -> str:
        if self.staff is not None:
            return self.staff.actor
        return f"participant:{self.participant.study_id}"

    @property
    def by_staff(self) -> bool:
        return self.staff is not None

    def seal(self, instrument: Instrument, language: str) -> Response:
        """Seal this visit's instrument, attributed to whoever is entering (patient or staff)."""
        return sealing.submit(
            self.visit,
            instrument,
            catalog(),
            language=language,
            actor=self.actor,
            staff=self.staff,
            entry_reason=self.entry_reason,
            slot=self.slot,
        )


def settings() -> Settings:
    value: Settings = current_app.config["PRO_SETTINGS"]
    return value


def bind(link: LinkRow, language: str | None = None) -> None:
    """This browser now answers `link`'s visit, in the language the patient was reading."""
    chosen = language if language in LANGUAGES else session.get("lang")
    session.clear()
    session[_KEY] = link.id
    if chosen in LANGUAGES:
        session["lang"] = chosen


def _with_slot(rows: Select[*Columns], slot: bool, item: bool) -> Select[Any]:
    """The visit's rows and the asked-for slot: one query."""
    return answering.with_slot(rows, item) if slot else rows


def _slot(row: Row[Any], instrument_id: str | None, item_id: str | None) -> answering.Slot | None:
    return None if instrument_id is None else answering.slot_from(row, instrument_id, item_id)


def _params(instrument_id: str | None, item_id: str | None, **key: int) -> dict[str, Any]:
    if instrument_id is None:
        return key
    return {**key, **answering.slot_params(instrument_id, item_id)}


# Built once per shape (with a slot? with an item?); the values are bound when they run.
_SHAPES = ((False, False), (True, False), (True, True))
_BY_LINK = {
    (slot, item): _with_slot(LINK_ROWS, slot, item).where(VisitLink.id == bindparam("link_id"))
    for slot, item in _SHAPES
}
_BY_VISIT = {
    (slot, item): _with_slot(VISIT_ROWS, slot, item).where(Visit.id == bindparam("visit_id"))
    for slot, item in _SHAPES
}


def _shape(instrument_id: str | None, item_id: str | None) -> tuple[bool, bool]:
    return instrument_id is not None, instrument_id is not None and item_id is not None


def _first(query: Select[*Columns], params: dict[str, Any]) -> Row[*Columns] | None:
    """The query's first row, run on the session's connection (in its transaction): it returns
    plain columns, so the session's ORM layer has nothing to add but its cost (130 against
    200 us a run)."""
    return db.session.connection().execute(query, params).first()


def _link(
    link_id: int, instrument_id: str | None, item_id: str | None
) -> tuple[LinkRow, answering.Slot | None] | None:
    row = _first(
        _BY_LINK[_shape(instrument_id, item_id)], _params(instrument_id, item_id, link_id=link_id)
    )
    if row is None:
        return None
    return link_row(row), _slot(row, instrument_id, item_id)


def current(instrument_id: str | None = None, item_id: str | None = None) -> PatientContext:
    """The started visit of this browser, checked on every request (revocation is immediate).
    Given an instrument (and an item), its slot is read in the same query."""
    cached: PatientContext | None = g.get("patient_context")
    if cached is not None and (
        instrument_id is None
        or (
            cached.slot is not None
            and cached.slot.instrument_id == instrument_id
            and cached.slot.item_id == item_id
        )
    ):
        return cached
    if instrument_id is not None and request.method == "POST":
        # A write reads its slot with the trail held, so the slot is current until commit
        # (a seal on another device either came first and is seen, or waits for this one).
        audit.hold_trail()
    entry = session.get(_STAFF_ENTRY)
    if isinstance(entry, dict):
        ctx = _staff_entry(entry, instrument_id, item_id)
    else:
        link_id = session.get(_KEY)
        found = _link(link_id, instrument_id, item_id) if isinstance(link_id, int) else None
        if found is None:
            raise PatientSessionMissing()
        link, slot = found
        ctx = link_context(link, slot)
        links.check_usable(link, settings().link_grace_days)
    g.patient_context = ctx
    return ctx


def link_context(link: LinkRow, slot: answering.Slot | None = None) -> PatientContext:
    """The context of a link read with its visit, participant and site. From here on this
    request's pages, error pages included, speak the participant's language and show the site's
    phone."""
    participant = link.visit.participant
    g.preferred_language = participant.preferred_language
    g.patient_site_id = participant.site_id
    return PatientContext(link=link, visit=link.visit, participant=participant, slot=slot)


def started(link: LinkRow) -> PatientContext:
    """The context of the link this request has just bound (and checked): what `current` would
    read back from the database again."""
    ctx = link_context(link)
    g.patient_context = ctx
    return ctx


def resume_token(ctx: PatientContext) -> str | None:
    """Carried by every answer form of a patient (not staff entry): if the browser loses its
    cookie while the page is open, the answer POST can re-bind the visit and keep the answer.
    Like the start token it is bound to the link, so it is also the form's CSRF proof then."""
    if ctx.link is None or ctx.staff is not None:
        return None
    return _resume_token(current_app.config["SECRET_KEY"], ctx.link.id)


@functools.lru_cache(maxsize=4096)
def _resume_token(secret_key: str, link_id: int) -> str:
    """The same for every page of a link (it carries no time), so signed once per process."""
    return _resume_signer(secret_key).dumps(link_id)


def _resume_signer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="patient-resume")


def protect_answer_post() -> None:
    """The CSRF rule of an answer POST: a bound browser sends the session's CSRF token; a
    browser that lost its cookie sends the page's resume token, which re-binds it to the link
    (still checked for revocation and the window by `current`). Otherwise this answer is lost
    and the patient is told so."""
    if isinstance(session.get(_KEY), int) or isinstance(session.get(_STAFF_ENTRY), dict):
        csrf.protect()
        return
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise AnswerLost()
    try:
        link_id = _resume_signer(current_app.config["SECRET_KEY"]).loads(
            request.form.get("resume", "")
        )
    except BadSignature:
        raise AnswerLost() from None
    found = _link(link_id, None, None) if isinstance(link_id, int) else None
    if found is None:
        raise AnswerLost()
    bind(found[0], request.form.get("shown_language"))


def start_token(link: LinkRow) -> str:
    """The landing page's CSRF token: bound to the link itself, so it works without a cookie."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"start:{link.token_sha256}".encode(), hashlib.sha256).hexdigest()


def start_token_valid(link: LinkRow, submitted: str | None) -> bool:
    return hmac.compare_digest(start_token(link).encode(), (submitted or "").encode())


# --- staff entry ----------------------------------------------------------------------------


def bind_staff_entry(visit: Visit, staff: StaffUser, reason: str, language: str) -> None:
    """This browser now enters `visit` for the participant; the staff sign-in stays."""
    session.pop(_KEY, None)
    session[_STAFF_ENTRY] = {
        "visit_id": visit.id,
        "staff_id": staff.id,
        "reason": reason,
        "study_id": visit.participant.study_id,
        "visit_code": visit.code,
    }
    session["lang"] = language


def staff_entry_visit_id() -> int | None:
    entry = session.get(_STAFF_ENTRY)
    value = entry.get("visit_id") if isinstance(entry, dict) else None
    return value if isinstance(value, int) else None


def end_staff_entry() -> None:
    session.pop(_STAFF_ENTRY, None)
    session.pop("lang", None)


def staff_entry_banner() -> dict[str, Any] | None:
    """What the staff-entry bar shows on patient screens (display only; `current` checks access)."""
    if request.endpoint in ("patient.landing", "patient.start"):
        return None
    entry = session.get(_STAFF_ENTRY)
    if not isinstance(entry, dict):
        return None
    banner = dict(entry)
    try:
        planned = catalog().schedule.visit(str(entry.get("visit_code")))
    except KeyError:
        return banner
    banner["visit_name"] = planned.name(str(get_locale()))
    return banner


def _staff_entry(
    entry: dict[str, Any], instrument_id: str | None, item_id: str | None
) -> PatientContext:
    staff = current_staff()
    visit_id = entry.get("visit_id")
    visit, slot = None, None
    if isinstance(visit_id, int):
        row = _first(
            _BY_VISIT[_shape(instrument_id, item_id)],
            _params(instrument_id, item_id, visit_id=visit_id),
        )
        if row is not None:
            visit, slot = visit_row(row), _slot(row, instrument_id, item_id)
    if (
        staff is None
        or staff.id != entry.get("staff_id")
        or staff.role is not Role.COORDINATOR
        or staff.must_change_password
        or visit is None
        or visit.participant.site_id not in staff.site_ids
    ):
        end_staff_entry()
        raise StaffEntryEnded()
    links.check_visit_open(visit, settings().link_grace_days)
    return PatientContext(
        visit=visit,
        participant=visit.participant,
        staff=staff,
        entry_reason=str(entry.get("reason") or ""),
        slot=slot,
    )
