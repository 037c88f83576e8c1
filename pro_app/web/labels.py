"""Words for codes on staff pages: visit states, audit actions and their details, sexes, statuses."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask_babel import get_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from pro_app import formatting
from pro_app.languages import LANGUAGE_NAMES
from pro_app.models import ParticipantStatus, Sex
from pro_app.services.progress import State

K = TypeVar("K")

_IN_LANGUAGE: dict[tuple[int, str], dict[Any, str]] = {}


def in_language(table: Mapping[K, Any]) -> Mapping[K, str]:
    """One of the tables below in this request's language, worked out once per process and
    language: a lazy string looks its translation up again each time it is shown, and a due board
    shows 150 visit states."""
    key = (id(table), str(get_locale()))
    found = _IN_LANGUAGE.get(key)
    if found is None:
        found = _IN_LANGUAGE[key] = {code: str(words) for code, words in table.items()}
    return found


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

_BADGES: dict[tuple[State, str], Markup] = {}


def state_badge(state: State) -> Markup:
    """A visit state as a coloured badge, built once per process and language: a due board shows
    150 of them, and a template macro for each cost a tenth of its render."""
    key = (state, str(get_locale()))
    found = _BADGES.get(key)
    if found is None:
        words = in_language(STATES)[state]
        found = _BADGES[key] = Markup('<span class="state state-{}">{}</span>').format(
            state.value, words
        )
    return found


# Their own context: "Open" alone is the visit state (访视窗已开放), not a query awaiting its reply.
QUERY_STATES = {
    "open": lazy_pgettext("query status", "Open"),
    "answered": lazy_pgettext("query status", "Answered"),
    "closed": lazy_pgettext("query status", "Closed"),
}

QUERY_STEPS = {
    "open": _l("Raised"),
    "answered": _l("Answered"),
    "closed": _l("Closed"),
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
    "response.corrected": _l("Record corrected"),
    "response.voided": _l("Record voided"),
    "record.verified": _l("Source data verified"),
    "query.opened": _l("Query raised"),
    "query.answered": _l("Query answered"),
    "query.closed": _l("Query closed"),
    "pdf.stored": _l("Signed PDF made"),
    "pdf.failed": _l("Signed PDF failed"),
    "pdf.downloaded": _l("Signed PDF downloaded"),
    "pdf.verified": _l("Signed PDF checked"),
    "binder.exported": _l("Binder exported"),
    "records.exported": _l("Data exported"),
    "backup.made": _l("Backup made"),
    "backup.restored": _l("Backup restored"),
    "staff.signed_in": _l("Signed in"),
    "staff.signed_out": _l("Signed out"),
    "staff.sign_in_failed": _l("Sign-in failed"),
    "staff.session_expired": _l("Session expired"),
    "staff.locked": _l("Account locked"),
}

# Detail keys worth showing in the audit history, in this order; the rest stay in the database.
DETAIL_KEYS = {
    "reason": _l("reason"),
    "instrument": _l("questionnaire"),
    "item": _l("item"),
    "value": _l("answer"),
    "previous": _l("previous"),
    "day0": _l("Day 0"),
    "language": _l("language"),
    "entered_by": _l("entered by"),
    "entry_reason": _l("reason for staff entry"),
    "link_id": _l("link no."),
    "replaces_link_id": _l("replaces link no."),
    "response_id": _l("record no."),
    "supersedes_id": _l("replaces record no."),
    "version": _l("version"),
    "changes": _l("changes"),
    "reason_code": _l("reason (from the list)"),
    "field": _l("item or field"),
    "text": _l("text"),
    "format": _l("format"),
}


# Who entered an answer or a record, as events store it (`EnteredBy`'s values).
ENTERED_BY = {"participant": _l("The participant"), "staff": _l("Study staff")}


def local_time(value: datetime, timezone: str) -> str:
    """Date and time in the site's zone, compact: the table heading names the zone once."""
    local = value.astimezone(ZoneInfo(timezone))
    return f"{formatting.day(local.date())} {local:%H:%M:%S}"


def action(code: str) -> str:
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def actor(value: str) -> str:
    """'staff:li' -> 'li'; 'participant:PRIME-001' -> 'Participant PRIME-001'; others as stored."""
    kind, _sep, name = value.partition(":")
    if kind == "staff" and name:
        return name
    if kind == "participant" and name:
        return _("Participant %(study_id)s", study_id=name)
    if kind == "system":
        return _("System (%(name)s)", name=name or "-")
    return value


def details(values: dict[str, Any]) -> list[tuple[str, str]]:
    shown = []
    for key, label in DETAIL_KEYS.items():
        if key in values and values[key] not in (None, "", []):
            value = values[key]
            if key == "language" and value in LANGUAGE_NAMES:
                value = LANGUAGE_NAMES[value]
            elif key == "entered_by" and value in ENTERED_BY:
                value = ENTERED_BY[value]
            shown.append((str(label), _plain(value)))
    return shown


def _plain(value: Any) -> str:
    if isinstance(value, dict) and {"field", "old", "new"} <= set(value):
        return f"{value['field']}: {_plain(value['old'])} → {_plain(value['new'])}"
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return str(value)
