"""Words for codes on the coordinator's pages: visit states, audit actions, sexes, statuses."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from pro_app.models import ParticipantStatus, Sex
from pro_app.services.progress import State

STATES = {
    State.NOT_YET_OPEN: _l("Not yet open"),
    State.OPEN: _l("Open"),
    State.LINK_ISSUED: _l("Link issued"),
    State.OPENED: _l("Opened"),
    State.IN_PROGRESS: _l("In progress"),
    State.SUBMITTED: _l("Submitted"),
    State.MISSED: _l("Missed (window closed)"),
    State.WITHDRAWN: _l("Not collected (withdrawn)"),
    State.NOTHING_DUE: _l("No questionnaire"),
}

PARTICIPANT_STATUSES = {
    ParticipantStatus.ACTIVE: _l("Active"),
    ParticipantStatus.WITHDRAWN: _l("Withdrawn"),
}

SEXES = {Sex.FEMALE: _l("Female"), Sex.MALE: _l("Male")}

ACTIONS = {
    "participant.enrolled": _l("Enrolled"),
    "participant.day0_corrected": _l("Day 0 corrected"),
    "participant.withdrawn": _l("Withdrawn"),
    "link.issued": _l("Link issued"),
    "link.reissued": _l("Link reissued"),
    "link.revoked": _l("Link revoked"),
    "link.started": _l("Link opened (started)"),
    "answer.saved": _l("Answer saved"),
    "response.submitted": _l("Record submitted"),
    "staff_entry.started": _l("Staff entry started"),
    "staff_entry.ended": _l("Staff entry ended"),
}

# Detail keys worth showing in the audit history, in this order; the rest stay in the database.
DETAIL_KEYS = (
    "reason",
    "instrument",
    "item",
    "value",
    "previous",
    "day0",
    "language",
    "entered_by",
    "entry_reason",
    "link_id",
    "replaces_link_id",
    "response_id",
)


def action(code: str) -> str:
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def details(values: dict[str, Any]) -> list[tuple[str, str]]:
    shown = []
    for key in DETAIL_KEYS:
        if key in values and values[key] not in (None, "", []):
            shown.append((key, _plain(values[key])))
    return shown


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return str(value)
