"""A sealed record's canonical form, the SHA-256 taken over it, and its receipt number.

A small domain module: plain values in, JSON-ready data and strings out; no database, no Flask.
Sealing, the signed PDF, the verifier and the exports all take the record's hash through here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pro_app.canonical import sha256_of

TRIAL_ID = "NCT04992832"


class _Coded(Protocol):
    @property
    def value(self) -> str: ...


class SealedFields(Protocol):
    """What a sealed record asserts (the `response` row is one)."""

    instrument_id: str
    instrument_version: str
    version: int
    scoring_version: str
    textpack_id: str
    textpack_sha256: str
    textpack_demo: bool
    language: str
    languages: list[str]
    answers: dict[str, Any]
    item_languages: dict[str, str]
    scores: dict[str, Any]
    entry_reason: str | None
    started_at: datetime | None
    submitted_at: datetime
    supersedes_id: int | None
    correction_reason: str | None
    correction_reason_code: str | None
    voided: bool

    @property
    def entered_by(self) -> _Coded: ...


def canonical_record(
    record: SealedFields,
    *,
    site_code: str,
    study_id: str,
    visit_code: str,
    staff_username: str | None,
) -> dict[str, Any]:
    """Everything the record asserts, in the form its SHA-256 is taken over. Keys that came with
    corrections are present only when set, so every earlier record keeps its hash."""
    canonical = {
        "trial": TRIAL_ID,
        "site": site_code,
        "study_id": study_id,
        "visit": visit_code,
        "instrument": record.instrument_id,
        "instrument_version": record.instrument_version,
        "record_version": record.version,
        "scoring_version": record.scoring_version,
        "textpack": {
            "id": record.textpack_id,
            "sha256": record.textpack_sha256,
            "demo": record.textpack_demo,
        },
        "language": record.language,
        "languages": record.languages,
        "answers": record.answers,
        "item_languages": record.item_languages,
        "scores": record.scores,
        "entered_by": record.entered_by.value,
        "staff": staff_username,
        "entry_reason": record.entry_reason,
        "started_at": _iso(record.started_at),
        "submitted_at": _iso(record.submitted_at),
        "supersedes_id": record.supersedes_id,
        "correction_reason": record.correction_reason,
    }
    if record.correction_reason_code:
        canonical["correction_reason_code"] = record.correction_reason_code
    if record.voided:
        canonical["voided"] = True
    return canonical


def record_sha256(canonical: dict[str, Any]) -> str:
    return sha256_of(canonical)


def receipt_number(record_hash: str) -> str:
    """A short number a patient can read out on the phone, e.g. 3F9A-C21B-77D0."""
    head = record_hash[:12].upper()
    return "-".join(head[i : i + 4] for i in range(0, 12, 4))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
