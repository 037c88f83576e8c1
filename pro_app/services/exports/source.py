"""The sealed records an export carries, streamed from the database as plain values.

By default the current version of each record: the highest version per visit and instrument, and
nothing when that version voids the record. With `history`, every version, voided ones included.
Rows come ordered by site, participant, visit day, instrument and version, a few hundred at a time
(`yield_per`), so an export holds one batch in memory however large the trial.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, select

from pro_app.extensions import db
from pro_app.models import Participant, Response, Site, StaffUser, Visit
from pro_app.records import TRIAL_ID

# The study as the standards name it. STUDYID is the registry id the sealed records carry.
STUDYID = TRIAL_ID
STUDY_NAME = "PRIME-HFrEF"
PROTOCOL_NAME = "DFSC-2018(CR)-08"
STUDY_DESCRIPTION = (
    "PRIME-HFrEF: umbilical-cord mesenchymal stem cells in heart failure with reduced ejection "
    "fraction (NCT04992832); patient-reported outcomes and 6-minute walk test logs from PRIME-PRO."
)
BATCH = 500


@dataclass(frozen=True)
class ExportRecord:
    """One sealed record version with who, where and when: never a name, never an arm."""

    record_id: int
    site_code: str
    site_timezone: str
    study_id: str
    day0: date
    visit_code: str
    visit_day: int
    instrument_id: str
    instrument_version: str
    version: int
    supersedes_id: int | None
    voided: bool
    scoring_version: str
    textpack_id: str
    textpack_sha256: str
    textpack_demo: bool
    language: str
    languages: list[str]
    entered_by: str
    staff: str | None
    entry_reason: str | None
    correction_reason: str | None
    correction_reason_code: str | None
    started_at: datetime | None
    submitted_at: datetime
    answers: dict[str, Any]
    scores: dict[str, Any]
    record_sha256: str
    receipt_number: str

    @property
    def usubjid(self) -> str:
        """SDTM's unique subject id: STUDYID-SITE-study id."""
        return f"{STUDYID}-{self.site_code}-{self.study_id}"

    def local(self, moment: datetime) -> datetime:
        """A stored UTC time in the site's zone."""
        return moment.astimezone(ZoneInfo(self.site_timezone))


def _query(site_ids: Collection[int] | None, history: bool) -> Select[Any]:
    query: Select[Any] = (
        select(  # type: ignore[assignment]
            Response.id,
            Site.code,
            Site.timezone,
            Participant.study_id,
            Participant.day0,
            Visit.code,
            Visit.day,
            Response.instrument_id,
            Response.instrument_version,
            Response.version,
            Response.supersedes_id,
            Response.voided,
            Response.scoring_version,
            Response.textpack_id,
            Response.textpack_sha256,
            Response.textpack_demo,
            Response.language,
            Response.languages,
            Response.entered_by,
            StaffUser.username,
            Response.entry_reason,
            Response.correction_reason,
            Response.correction_reason_code,
            Response.started_at,
            Response.submitted_at,
            Response.answers,
            Response.scores,
            Response.record_sha256,
            Response.receipt_number,
        )
        .join(Visit, Response.visit_id == Visit.id)
        .join(Participant, Visit.participant_id == Participant.id)
        .join(Site, Participant.site_id == Site.id)
        .outerjoin(StaffUser, Response.staff_id == StaffUser.id)
    )
    if site_ids is not None:
        query = query.where(Site.id.in_(list(site_ids) or [-1]))
    if not history:
        latest = (
            select(
                Response.visit_id,
                Response.instrument_id,
                func.max(Response.version).label("version"),
            )
            .group_by(Response.visit_id, Response.instrument_id)
            .subquery()
        )
        query = query.join(
            latest,
            and_(
                latest.c.visit_id == Response.visit_id,
                latest.c.instrument_id == Response.instrument_id,
                latest.c.version == Response.version,
            ),
        ).where(Response.voided.is_(False))
    return query.order_by(
        Site.code, Participant.study_id, Visit.day, Response.instrument_id, Response.version
    )


def records(
    site_ids: Collection[int] | None = None, *, history: bool = False
) -> Iterator[ExportRecord]:
    """The records of these sites (all sites when None), current versions unless `history`."""
    result = db.session.execute(_query(site_ids, history).execution_options(yield_per=BATCH))
    for row in result:
        (
            record_id,
            site_code,
            timezone,
            study_id,
            day0,
            visit_code,
            visit_day,
            instrument_id,
            instrument_version,
            version,
            supersedes_id,
            voided,
            scoring_version,
            textpack_id,
            textpack_sha256,
            textpack_demo,
            language,
            languages,
            entered_by,
            staff,
            entry_reason,
            correction_reason,
            correction_reason_code,
            started_at,
            submitted_at,
            answers,
            scores,
            record_sha256,
            receipt_number,
        ) = row
        yield ExportRecord(
            record_id=record_id,
            site_code=site_code,
            site_timezone=timezone,
            study_id=study_id,
            day0=day0,
            visit_code=visit_code,
            visit_day=visit_day,
            instrument_id=instrument_id,
            instrument_version=instrument_version,
            version=version,
            supersedes_id=supersedes_id,
            voided=bool(voided),
            scoring_version=scoring_version,
            textpack_id=textpack_id,
            textpack_sha256=textpack_sha256,
            textpack_demo=textpack_demo,
            language=language,
            languages=list(languages or []),
            entered_by=entered_by.value,
            staff=staff,
            entry_reason=entry_reason,
            correction_reason=correction_reason,
            correction_reason_code=correction_reason_code,
            started_at=started_at,
            submitted_at=submitted_at,
            answers=answers,
            scores=scores,
            record_sha256=record_sha256,
            receipt_number=receipt_number,
        )


def sites(site_ids: Collection[int] | None) -> list[Site]:
    """The sites an export covers (for ODM locations)."""
    query = select(Site).order_by(Site.code)
    if site_ids is not None:
        query = query.where(Site.id.in_(list(site_ids) or [-1]))
    return list(db.session.scalars(query))


def staff_usernames(site_ids: Collection[int] | None, *, history: bool) -> list[str]:
    """The staff who entered or corrected any exported record (for ODM's users)."""
    inner = _query(site_ids, history).subquery()
    return sorted(
        name for name in db.session.scalars(select(inner.c.username).distinct()) if name is not None
    )
