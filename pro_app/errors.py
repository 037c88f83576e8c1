"""Domain errors with names. Services raise them; pro_app/errorpages.py turns them into pages."""

from __future__ import annotations

from datetime import date, datetime


class DomainError(Exception):
    """Base of every error a user can cause; never a 500."""

    status = 400


class LinkUnknown(DomainError):
    status = 404


class LinkRevoked(DomainError):
    status = 410


class LinkExpired(DomainError):
    """The visit window (plus grace) has closed."""

    status = 410

    def __init__(self, window_end: date) -> None:
        super().__init__(window_end)
        self.window_end = window_end


class LinkNotYetOpen(DomainError):
    status = 403

    def __init__(self, window_start: date) -> None:
        super().__init__(window_start)
        self.window_start = window_start


class ParticipantWithdrawn(DomainError):
    status = 410


class PatientSessionMissing(DomainError):
    """A clean patient URL was opened without a started visit (cookie lost or never set)."""

    status = 401


class AlreadySubmitted(DomainError):
    status = 409

    def __init__(self, response_id: int) -> None:
        super().__init__(response_id)
        self.response_id = response_id


class InvalidAnswer(DomainError):
    status = 400

    def __init__(self, item_id: str) -> None:
        super().__init__(item_id)
        self.item_id = item_id


class InstrumentNotInVisit(DomainError):
    status = 404


class InputRejected(DomainError):
    """A value a person typed was refused; `field` names the form field, `code` the rule broken."""

    status = 400

    def __init__(self, field: str, code: str) -> None:
        super().__init__(field, code)
        self.field = field
        self.code = code


class RecordIncomplete(DomainError):
    """A form cannot be sealed yet: required fields are blank, values break a hard limit, or an
    unusual value has not been confirmed. Each list names field ids (or finding keys)."""

    status = 400

    def __init__(self, missing: list[str], refused: list[str], unconfirmed: list[str]) -> None:
        super().__init__(missing, refused, unconfirmed)
        self.missing = missing
        self.refused = refused
        self.unconfirmed = unconfirmed


class TimerConflict(DomainError):
    """The walk part changed on another device after this timing began: replacing it needs a yes."""

    status = 409


class EnrolmentError(InputRejected):
    """A participant could not be enrolled or their Day 0 not corrected."""


class ReasonRequired(InputRejected):
    """A change that needs a written reason (revoke, reissue, withdrawal, correction) had none."""

    def __init__(self, field: str = "reason", code: str = "required") -> None:
        super().__init__(field, code)


class NotFoundHere(DomainError):
    """Unknown, or at a site this user does not work at: the two look the same on purpose."""

    status = 404


class RecordNotFound(DomainError):
    """No sealed record with that id at a site the user may see (never says which of the two)."""

    status = 404


class InvalidCredentials(DomainError):
    """Wrong username or password (deliberately not saying which)."""

    status = 401


class InvalidSecondFactor(DomainError):
    status = 401


class AccountLocked(DomainError):
    status = 423

    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


class LinkAlreadyIssued(DomainError):
    """The visit already has an active link: replace it by reissuing, with a reason."""

    status = 409


class NoActiveLink(DomainError):
    status = 409


class VisitHasNoInstruments(DomainError):
    status = 409


class VisitComplete(DomainError):
    """Every instrument of the visit is already submitted."""

    status = 409


class StaffEntryEnded(DomainError):
    """Staff entry was requested but the staff sign-in is gone (signed out, idle, no access)."""

    status = 401


class SelfLockout(DomainError):
    """An admin tried to remove their own admin role or disable their own account."""

    status = 409


class PdfNotReady(DomainError):
    """The record is sealed but its signed PDF is not stored yet (queued, retrying or failed)."""

    status = 409

    def __init__(self, response_id: int, status: str) -> None:
        super().__init__(response_id, status)
        self.response_id = response_id
        self.pdf_status = status


class SiteNotFound(DomainError):
    status = 404


class HistoryNotInSdtm(DomainError):
    """SDTM tabulates the data as it stands: one row per test, so no superseded versions."""

    status = 400
