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


class RecordNotFound(DomainError):
    """No sealed record with that id at a site the user may see (never says which of the two)."""

    status = 404


class PdfNotReady(DomainError):
    """The record is sealed but its signed PDF is not stored yet (queued, retrying or failed)."""

    status = 409

    def __init__(self, response_id: int, status: str) -> None:
        super().__init__(response_id, status)
        self.response_id = response_id
        self.pdf_status = status


class SiteNotFound(DomainError):
    status = 404
