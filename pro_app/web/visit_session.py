"""Which visit this browser is answering: bound to one visit link, never the source of truth.

The cookie only says which link was started here. Answers and progress live in the database, so a
browser that loses its cookies (WeChat's in-app browser does) resumes by reopening the link.

A signed-in coordinator can instead bind their browser to a visit in staff-entry mode: the same
screens, but every answer and the sealed record name the staff member and the reason. The desk
binds (`bind_staff_entry`), the patient screens read (`current`): both go through this module.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request, session
from flask_babel import get_locale
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import joinedload

from pro_app.config import Settings
from pro_app.errors import AnswerLost, PatientSessionMissing, StaffEntryEnded
from pro_app.extensions import csrf, db
from pro_app.languages import LANGUAGES
from pro_app.models import Participant, Response, Role, StaffUser, Visit, VisitLink
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.definitions import Instrument
from pro_app.services import links, sealing
from pro_app.web.access import current_staff

_KEY = "patient_link"
_STAFF_ENTRY = "staff_entry"


@dataclass(frozen=True)
class PatientContext:
    visit: Visit
    participant: Participant
    link: VisitLink | None = None
    staff: StaffUser | None = None
    entry_reason: str | None = None

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
        )


def settings() -> Settings:
    value: Settings = current_app.config["PRO_SETTINGS"]
    return value


def bind(link: VisitLink, language: str | None = None) -> None:
    """This browser now answers `link`'s visit, in the language the patient was reading."""
    chosen = language if language in LANGUAGES else session.get("lang")
    session.clear()
    session[_KEY] = link.id
    if chosen in LANGUAGES:
        session["lang"] = chosen


def _link(link_id: int) -> VisitLink | None:
    return db.session.get(
        VisitLink,
        link_id,
        options=[
            joinedload(VisitLink.visit).joinedload(Visit.participant).joinedload(Participant.site)
        ],
    )


def current() -> PatientContext:
    """The started visit of this browser, checked on every request (revocation is immediate)."""
    if "patient_context" in g:
        cached: PatientContext = g.patient_context
        return cached
    entry = session.get(_STAFF_ENTRY)
    if isinstance(entry, dict):
        ctx = _staff_entry(entry)
    else:
        link_id = session.get(_KEY)
        link = _link(link_id) if isinstance(link_id, int) else None
        if link is None:
            raise PatientSessionMissing()
        g.preferred_language = link.visit.participant.preferred_language
        g.patient_site = link.visit.participant.site
        links.check_usable(link, settings().link_grace_days)
        ctx = PatientContext(link=link, visit=link.visit, participant=link.visit.participant)
    g.patient_context = ctx
    return ctx


def resume_token(ctx: PatientContext) -> str | None:
    """Carried by every answer form of a patient (not staff entry): if the browser loses its
    cookie while the page is open, the answer POST can re-bind the visit and keep the answer.
    Like the start token it is bound to the link, so it is also the form's CSRF proof then."""
    if ctx.link is None or ctx.staff is not None:
        return None
    return _resume_signer().dumps(ctx.link.id)


def _resume_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="patient-resume")


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
        link_id = _resume_signer().loads(request.form.get("resume", ""))
    except BadSignature:
        raise AnswerLost() from None
    link = _link(link_id) if isinstance(link_id, int) else None
    if link is None:
        raise AnswerLost()
    bind(link, request.form.get("shown_language"))


def start_token(link: VisitLink) -> str:
    """The landing page's CSRF token: bound to the link itself, so it works without a cookie."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"start:{link.token_sha256}".encode(), hashlib.sha256).hexdigest()


def start_token_valid(link: VisitLink, submitted: str | None) -> bool:
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


def _staff_entry(entry: dict[str, Any]) -> PatientContext:
    staff = current_staff()
    visit_id = entry.get("visit_id")
    visit = (
        db.session.get(
            Visit, visit_id, options=[joinedload(Visit.participant).joinedload(Participant.site)]
        )
        if isinstance(visit_id, int)
        else None
    )
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
    )
