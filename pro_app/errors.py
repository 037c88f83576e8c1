"""Domain errors with names. Services raise them; pro_app/errorpages.py turns them into pages."""

from __future__ import annotations

from datetime import date


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


class EnrolmentError(DomainError):
    """A participant could not be enrolled; `field` names the form field at fault."""

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


class EntryReasonRequired(DomainError):
    """Staff entering a record on a participant's behalf must say why (GCP attribution)."""

    status = 400
