"""The patient's browser session: bound to one visit link, never the source of truth for progress.

The cookie only says which link was started here. Answers and progress live in the database, so a
browser that loses its cookies (WeChat's in-app browser does) resumes by reopening the link.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app, g, session

from pro_app.config import Settings
from pro_app.errors import PatientSessionMissing
from pro_app.extensions import db
from pro_app.models import Participant, Visit, VisitLink
from pro_app.services import links

_KEY = "patient_link"


@dataclass(frozen=True)
class PatientContext:
    link: VisitLink
    visit: Visit
    participant: Participant

    @property
    def actor(self) -> str:
        return f"participant:{self.participant.study_id}"


def settings() -> Settings:
    value: Settings = current_app.config["PRO_SETTINGS"]
    return value


def bind(link: VisitLink) -> None:
    session.clear()
    session[_KEY] = link.id


def current() -> PatientContext:
    """The started visit of this browser, checked on every request (revocation is immediate)."""
    link_id = session.get(_KEY)
    link = db.session.get(VisitLink, link_id) if isinstance(link_id, int) else None
    if link is None:
        raise PatientSessionMissing()
    g.preferred_language = link.visit.participant.preferred_language
    links.check_usable(link, settings().link_grace_days)
    return PatientContext(link=link, visit=link.visit, participant=link.visit.participant)


def start_token(link: VisitLink) -> str:
    """The landing page's CSRF token: bound to the link itself, so it works without a cookie."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"start:{link.token_sha256}".encode(), hashlib.sha256).hexdigest()


def start_token_valid(link: VisitLink, submitted: str | None) -> bool:
    return hmac.compare_digest(start_token(link), submitted or "")
