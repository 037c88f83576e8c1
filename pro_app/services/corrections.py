"""After the seal: correcting a record and voiding one. Each is a new version, never an update.

A correction opens the current version's content again, applies the typed changes (checked by the
instrument's kind as at entry), seals it anew with its own hash, links it to the version it
supersedes, audits the old and new value of every changed field, and queues its signed PDF. The
old version stays readable everywhere. A participant's own answers (an instrument the participant
administers) change only with a reason from the fixed list; staff-entered worksheets need the
free text only. A void is a version marked void, with a reason: the slot can then be filled again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import select

from pro_app import clock
from pro_app.errors import CorrectionRefused, InputRejected, RecordSuperseded
from pro_app.extensions import db
from pro_app.models import Response, StaffUser
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.kinds.base import RawValue, SealedContent
from pro_app.questionnaire.kinds.registry import kind_of
from pro_app.services import answering, audit, sealing
from pro_app.services.reasons import require_reason


def _require_current(record: Response) -> None:
    """RecordSuperseded unless `record` is still the current version. The trail is held first
    (`audit.hold_trail`), so a correction racing another on PostgreSQL waits for it and then
    sees its version, as SQLite's queued writers do, instead of failing at the unique version."""
    audit.hold_trail()
    latest = answering.latest_version(record.visit_id, record.instrument_id)
    if latest is None or latest.id != record.id or record.voided:
        raise RecordSuperseded(latest.version if latest else record.version)


def _reason_code(catalog: Catalog, kind: str, code: str | None, required: bool) -> str | None:
    if not code:
        if required:
            raise InputRejected("reason_code", "required")
        return None
    if catalog.change_reasons.find(kind, code) is None:
        raise InputRejected("reason_code", "unknown")
    return code


def needs_reason_code(record: Response, catalog: Catalog) -> bool:
    """Whether changing this record needs a reason from the fixed list (the participant's own
    answers), not only free text (a staff-entered worksheet)."""
    return catalog.instrument(record.instrument_id).administered_by == "patient"


def correct(
    record: Response,
    raw: Mapping[str, RawValue],
    confirm: Collection[str] = (),
    *,
    reason: str,
    reason_code: str | None,
    staff: StaffUser,
    catalog: Catalog,
) -> Response:
    """Seal version n+1 with the changed values; raise CorrectionRefused with the refused and
    unconfirmed values, or a named refusal, and change nothing."""
    _require_current(record)
    instrument = catalog.instrument(record.instrument_id)
    kind = kind_of(instrument)
    visit = record.visit
    reason = require_reason(reason, "correction_reason")
    code = _reason_code(catalog, "correction", reason_code, needs_reason_code(record, catalog))
    now = clock.utcnow()
    draft = kind.reopen(instrument, record.answers, record.item_languages, record.submitted_at)
    revision = kind.revise(
        instrument,
        draft,
        raw,
        confirm,
        check=answering.check_context(visit),
        staff=staff.username,
        at=now,
    )
    if revision.errors or revision.warnings:
        raise CorrectionRefused(revision.errors, revision.warnings)
    if not revision.changed:
        raise InputRejected("changes", "none")
    content = kind.seal(
        instrument,
        revision.draft,
        sealing.seal_context(visit, instrument, catalog, record.language),
    )
    corrected = sealing.store(
        visit,
        instrument,
        content,
        version=record.version + 1,
        language=record.language,
        languages=record.languages,
        item_languages=record.item_languages,
        staff=staff,
        entry_reason=record.entry_reason,
        started_at=record.started_at,
        supersedes=record,
        correction_reason=reason,
        correction_reason_code=code,
    )
    sealing.record_sealed(
        visit,
        corrected,
        "response.corrected",
        staff.actor,
        response_id=corrected.id,
        supersedes_id=record.id,
        version=corrected.version,
        instrument=instrument.id,
        changes=[
            {"field": field, "old": old, "new": new}
            for field, (old, new) in revision.changed.items()
        ],
        reason=reason,
        reason_code=code,
        record_sha256=corrected.record_sha256,
    )
    return corrected


def void(
    record: Response,
    *,
    reason: str,
    reason_code: str | None,
    staff: StaffUser,
    catalog: Catalog,
) -> Response:
    """Seal version n+1 marked void (entered for the wrong visit or participant): the record no
    longer counts, nothing is deleted, and the slot can be filled again."""
    _require_current(record)
    instrument = catalog.instrument(record.instrument_id)
    reason = require_reason(reason, "correction_reason")
    code = _reason_code(catalog, "void", reason_code, required=True)
    visit = record.visit
    scores: dict[str, Any] = record.scores
    voided = sealing.store(
        visit,
        instrument,
        SealedContent(
            answers=record.answers,
            scores=scores,
            scoring_version=record.scoring_version,
            textpack_id=record.textpack_id,
            textpack_sha256=record.textpack_sha256,
            textpack_demo=record.textpack_demo,
        ),
        version=record.version + 1,
        language=record.language,
        languages=record.languages,
        item_languages=record.item_languages,
        staff=staff,
        entry_reason=record.entry_reason,
        started_at=record.started_at,
        supersedes=record,
        correction_reason=reason,
        correction_reason_code=code,
        voided=True,
    )
    sealing.record_sealed(
        visit,
        voided,
        "response.voided",
        staff.actor,
        response_id=voided.id,
        supersedes_id=record.id,
        version=voided.version,
        instrument=instrument.id,
        reason=reason,
        reason_code=code,
        record_sha256=voided.record_sha256,
    )
    return voided


def history(record: Response) -> list[Response]:
    """Every version of this record's visit and instrument, oldest first."""
    return list(
        db.session.scalars(
            select(Response)
            .where(
                Response.visit_id == record.visit_id,
                Response.instrument_id == record.instrument_id,
            )
            .order_by(Response.version)
        )
    )


def differences(older: Response, newer: Response, catalog: Catalog) -> list[tuple[str, Any, Any]]:
    """Field by field what changed from one version to the next: (field, old, new)."""
    instrument = catalog.instrument(newer.instrument_id)
    kind = kind_of(instrument)
    old_cells = kind.export_cells(instrument, older.answers, older.scores)
    new_cells = kind.export_cells(instrument, newer.answers, newer.scores)
    prefix = f"{instrument.id}."
    return [
        (name.removeprefix(prefix), old_cells.get(name), new_cells.get(name))
        for name in new_cells
        if old_cells.get(name) != new_cells.get(name)
    ]
