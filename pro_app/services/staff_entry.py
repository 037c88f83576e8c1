"""Staff entering a visit's answers on the participant's behalf (e.g. transcribing a paper form)."""

from __future__ import annotations

from pro_app.errors import InputRejected, VisitComplete, VisitHasNoInstruments
from pro_app.languages import LANGUAGES
from pro_app.models import StaffUser, Visit
from pro_app.questionnaire.schedule import Schedule
from pro_app.services import answering, audit, links
from pro_app.services.reasons import require_reason


def begin(
    visit: Visit,
    *,
    staff: StaffUser,
    reason: str,
    language: str,
    schedule: Schedule,
    grace_days: int,
) -> str:
    """Check staff may enter data for this visit now, record why; returns the cleaned reason.

    The same window applies as for the participant's own link: the server enforces it for both.
    """
    reason = require_reason(reason)
    if language not in LANGUAGES:
        raise InputRejected("language", "unknown")
    links.check_visit_open(visit, grace_days)
    instruments = schedule.visit(visit.code).instruments
    if not instruments:
        raise VisitHasNoInstruments()
    if set(instruments) <= answering.sealed_instruments(visit.id):
        raise VisitComplete()
    participant = visit.participant
    audit.record(
        "staff_entry.started",
        staff.actor,
        site_id=participant.site_id,
        participant_id=participant.id,
        visit_id=visit.id,
        reason=reason,
        language=language,
    )
    return reason


def end(visit: Visit, *, staff: StaffUser) -> None:
    participant = visit.participant
    audit.record(
        "staff_entry.ended",
        staff.actor,
        site_id=participant.site_id,
        participant_id=participant.id,
        visit_id=visit.id,
    )
