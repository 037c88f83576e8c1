"""The patient screens of each instrument kind, registered by the kind's name.

The generic routes (visit page, intro, review, submit, receipt) ask the flow of an instrument's
kind for what differs: where a screen is, how its intro, review and confirmation look, and how
progress reads. Each kind's own screens are routes in its module (choice_views, worksheet_views).
"""

from __future__ import annotations

from typing import Any, Protocol

from flask import abort
from werkzeug.wrappers import Response as WerkzeugResponse

from pro_app.questionnaire.definitions import Instrument
from pro_app.questionnaire.kinds.base import Progress
from pro_app.questionnaire.kinds.registry import require_parts
from pro_app.web.visit_session import PatientContext

Page = str | tuple[str, int] | WerkzeugResponse | tuple[WerkzeugResponse, int]


class Flow(Protocol):
    def screen_url(self, instrument: Any, screen_id: str) -> str:
        """The URL of one screen (an item number, a worksheet part)."""

    def intro(self, ctx: PatientContext, instrument: Any, progress: Progress) -> Page: ...

    def review(self, ctx: PatientContext, instrument: Any) -> Page: ...

    def confirm(self, ctx: PatientContext, instrument: Any, progress: Progress) -> Page:
        """The "submit now?" page (GET of submit)."""

    def progress_text(self, progress: Progress) -> str:
        """ "5 of 21 answered" or "12 of 30 filled in"."""


FLOWS: dict[str, Flow] = {}


def register(kind: str, flow: Flow) -> None:
    FLOWS[kind] = flow


def flow_for(instrument: Instrument) -> Flow:
    return FLOWS[instrument.kind]


def of_kind(instrument: Instrument, kind: str) -> Any:
    """The instrument, if it is of this kind; a screen of another kind's URL is not found."""
    if instrument.kind != kind:
        abort(404)
    return instrument


def check_complete() -> None:
    require_parts("the patient screens (pro_app.patient.flows)", FLOWS)
