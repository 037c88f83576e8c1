"""Domain errors with names, codes and parameters. Services raise them; the message catalogue of
each audience (pro_app/web/messages/) turns a code and its parameters into words, and
pro_app/web/errorpages.py into pages. A user can cause every one of them: never a 500."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any, ClassVar

from pro_app import clock


class DomainError(Exception):
    """Base of every error a user can cause. `code` names it in the message catalogues;
    `params` are the values its message needs (limits, dates), never words."""

    status: ClassVar[int] = 400
    code: str = "error"

    def __init__(self, **params: Any) -> None:
        super().__init__(params)
        self.params = params

    def __str__(self) -> str:
        return f"{self.code} {self.params}" if self.params else self.code


class LinkUnknown(DomainError):
    status = 404
    code = "link.unknown"


class LinkRevoked(DomainError):
    status = 410
    code = "link.revoked"


class LinkExpired(DomainError):
    """The visit window (plus grace) has closed."""

    status = 410
    code = "link.expired"

    def __init__(self, window_end: date) -> None:
        super().__init__(date=window_end)
        self.window_end = window_end


class LinkNotYetOpen(DomainError):
    status = 403
    code = "link.not_yet_open"

    def __init__(self, window_start: date) -> None:
        super().__init__(date=window_start)
        self.window_start = window_start


class ParticipantWithdrawn(DomainError):
    status = 410
    code = "participant.withdrawn"


class PatientSessionMissing(DomainError):
    """A clean patient URL was opened without a started visit (cookie lost or never set)."""

    status = 401
    code = "session.missing"


class AnswerLost(DomainError):
    """An answer was sent from a browser that lost its visit (cookie gone) with nothing that can
    safely resume it: that one answer must be given again."""

    status = 401
    code = "session.answer_lost"


class AlreadySubmitted(DomainError):
    status = 409
    code = "record.already_submitted"

    def __init__(self, response_id: int) -> None:
        super().__init__()
        self.response_id = response_id


class InvalidAnswer(DomainError):
    code = "answer.invalid"

    def __init__(self, item_id: str) -> None:
        super().__init__()
        self.item_id = item_id


class InstrumentNotInVisit(DomainError):
    status = 404
    code = "not_found"


class InputRejected(DomainError):
    """A value a person typed was refused: `field` names the form field, `rule` the rule broken;
    its code is "field.rule" (e.g. "reason.too_long") and `params` hold the limits."""

    def __init__(self, field: str, rule: str, **params: Any) -> None:
        super().__init__(**params)
        self.field = field
        self.rule = rule
        self.code = f"{field}.{rule}"


class RecordIncomplete(DomainError):
    """A worksheet cannot be sealed yet: required fields are blank, values break a hard limit, or
    an unusual value has not been confirmed. Each list names field ids (or finding keys)."""

    code = "record.incomplete"

    def __init__(self, missing: list[str], refused: list[str], unconfirmed: list[str]) -> None:
        super().__init__()
        self.missing = missing
        self.refused = refused
        self.unconfirmed = unconfirmed


class RecordSuperseded(DomainError):
    """Only a record's current version can be corrected or voided (another is newer)."""

    status = 409
    code = "record.superseded"

    def __init__(self, current_version: int) -> None:
        super().__init__(version=current_version)


class CorrectionRefused(DomainError):
    """A correction has values refused by the instrument's checks, or unusual values that need a
    "yes, this is correct"; `errors` and `warnings` are the kind's findings, by field."""

    code = "correction.refused"

    def __init__(self, errors: dict[str, Any], warnings: list[Any]) -> None:
        super().__init__()
        self.errors = errors
        self.warnings = warnings


class QueryStateRefused(DomainError):
    """A closed query takes no further step."""

    status = 409
    code = "query.closed"

    def __init__(self, state: str) -> None:
        super().__init__(state=state)


class TimerConflict(DomainError):
    """The walk part changed on another device after this timing began: replacing it needs a yes."""

    status = 409
    code = "timer.conflict"


class EnrolmentError(InputRejected):
    """A participant could not be enrolled or their Day 0 not corrected."""


class ReasonRequired(InputRejected):
    """A change that needs a written reason (revoke, reissue, withdrawal, correction) had none
    (or one too long to store)."""


class NotFoundHere(DomainError):
    """Unknown, or at a site this user does not work at: the two look the same on purpose."""

    status = 404
    code = "not_found"


class RecordNotFound(DomainError):
    """No sealed record with that id at a site the user may see (never says which of the two)."""

    status = 404
    code = "not_found"


class SiteNotFound(DomainError):
    status = 404
    code = "not_found"


class InvalidCredentials(DomainError):
    """Wrong username or password (deliberately not saying which)."""

    status = 401
    code = "signin.invalid"


class InvalidSecondFactor(DomainError):
    status = 401
    code = "signin.bad_code"


class AccountLocked(DomainError):
    status = 423
    code = "signin.locked"

    def __init__(self, until: datetime) -> None:
        minutes = max(1, math.ceil((until - clock.utcnow()).total_seconds() / 60))
        super().__init__(until=until, minutes=minutes)
        self.until = until


class LinkAlreadyIssued(DomainError):
    """The visit already has an active link: replace it by reissuing, with a reason."""

    status = 409
    code = "link.already_issued"


class NoActiveLink(DomainError):
    status = 409
    code = "link.none_active"


class VisitHasNoInstruments(DomainError):
    status = 409
    code = "visit.no_instruments"


class VisitHasNoPatientPart(DomainError):
    """Every instrument of the visit is done at the clinic by staff: no patient link."""

    status = 409
    code = "visit.no_patient_part"


class AtClinic(DomainError):
    """An assessor-administered instrument (the 6MWT log) opened from a patient's link."""

    status = 403
    code = "instrument.at_clinic"


class VisitComplete(DomainError):
    """Every instrument of the visit is already submitted."""

    status = 409
    code = "visit.complete"


class StaffEntryEnded(DomainError):
    """Staff entry was requested but the staff sign-in is gone (signed out, idle, no access)."""

    status = 401
    code = "staff_entry.ended"


class SelfLockout(DomainError):
    """An admin tried to remove their own admin role or disable their own account."""

    status = 409
    code = "account.self_lockout"


class PdfNotReady(DomainError):
    """The record is sealed but its signed PDF is not stored yet (queued, retrying or failed)."""

    status = 409
    code = "pdf.not_ready"

    def __init__(self, response_id: int, status: str) -> None:
        super().__init__(state=status)
        self.response_id = response_id
        self.pdf_status = status


class HistoryNotInSdtm(DomainError):
    """SDTM tabulates the data as it stands: one row per test, so no superseded versions."""

    status = 400
    code = "export.history_not_in_sdtm"
