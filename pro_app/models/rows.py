"""A visit with its participant and site as plain, read-only rows, and the queries that read them.

Every patient request reads its link, visit, participant and site in one query
(web/visit_session.py) and changes none of them: the answers and records it writes are rows of
their own. Made into four ORM objects with their session state, that read cost twice what the
query itself costs (285 against 133 us); as these frozen rows an item step (GET, POST, redirect)
runs 7.5% fewer instructions. The due board reads its 150 visits the same way. A service that
takes a visit (answering, sealing, links, worksheet_entry, progress) accepts either: a
`VisitLike` is a `Visit` or a `VisitRow`, which have the same fields for what they share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Label, Row, Select, exists, select

from pro_app.models.links import VisitLink
from pro_app.models.participants import Participant, ParticipantStatus, Sex, Visit
from pro_app.models.responses import DraftAnswer
from pro_app.models.sites import Site


@dataclass(frozen=True, slots=True)
class SiteRow:
    id: int
    code: str
    timezone: str


# Each row's first field is the row it belongs to; then its columns, in the order of its column
# list below (VISIT_COLUMNS...).


@dataclass(frozen=True, slots=True)
class ParticipantRow:
    site: SiteRow
    id: int
    study_id: str
    site_id: int
    sex: Sex
    birth_year: int
    height_cm: int
    preferred_language: str
    status: ParticipantStatus


@dataclass(frozen=True, slots=True)
class VisitRow:
    participant: ParticipantRow
    id: int
    participant_id: int
    code: str
    window_start: date
    window_end: date
    target_date: date
    current_records: int


@dataclass(frozen=True, slots=True)
class LinkRow:
    visit: VisitRow
    id: int
    token_sha256: str
    revoked_at: datetime | None
    # Whether the visit has any saved answer, where the link was read with that question
    # (`DRAFTS_SAVED`); True where it was not, so its answers are read to find out.
    drafts_saved: bool = True


# A visit or participant as a service may be handed it: a session object (the desk's) or a row
# (a patient screen's, the board's). A link reaches the services only as a row.
ParticipantLike = Participant | ParticipantRow
VisitLike = Visit | VisitRow

# The columns of each row, in the order of its fields (after the row it belongs to).
VISIT_COLUMNS = (
    Visit.id,
    Visit.participant_id,
    Visit.code,
    Visit.window_start,
    Visit.window_end,
    Visit.target_date,
    Visit.current_records,
)
PARTICIPANT_COLUMNS = (
    Participant.id,
    Participant.study_id,
    Participant.site_id,
    Participant.sex,
    Participant.birth_year,
    Participant.height_cm,
    Participant.preferred_language,
    Participant.status,
)
SITE_COLUMNS = (Site.id, Site.code, Site.timezone)
LINK_COLUMNS = (VisitLink.id, VisitLink.token_sha256, VisitLink.revoked_at)
# A visit with its participant and site, as a query selects them.
VISIT_PARTICIPANT_SITE = (*VISIT_COLUMNS, *PARTICIPANT_COLUMNS, *SITE_COLUMNS)

Columns = tuple[Any, ...]  # a query's columns: as many as it selects

# The rows' queries without their conditions: visits (`visit_row`), and links with their visits
# (`link_row`). Built once; each caller adds its `where` (and the patient screens their slot).
VISIT_ROWS: Select[*Columns] = (
    select(*VISIT_PARTICIPANT_SITE)
    .join(Participant, Visit.participant_id == Participant.id)
    .join(Site, Participant.site_id == Site.id)
)
LINK_ROWS: Select[*Columns] = (
    select(*LINK_COLUMNS, *VISIT_PARTICIPANT_SITE)
    .join_from(VisitLink, Visit, VisitLink.visit_id == Visit.id)
    .join(Participant, Visit.participant_id == Participant.id)
    .join(Site, Participant.site_id == Site.id)
)


# Whether the visit of a row has any saved answer (draft), asked in the same statement: a link
# opened for the first time has none, and its landing and Start then skip reading them.
DRAFTS_SAVED: Label[bool] = exists().where(DraftAnswer.visit_id == Visit.id).label("drafts_saved")


def visit_row(row: Row[*Columns], start: int = 0) -> VisitRow:
    """The visit, participant and site of a row that selected `VISIT_PARTICIPANT_SITE` from
    position `start` on."""
    participant_at = start + len(VISIT_COLUMNS)
    site_at = participant_at + len(PARTICIPANT_COLUMNS)
    site = SiteRow(*_columns(row, site_at, len(SITE_COLUMNS)))
    participant = ParticipantRow(site, *_columns(row, participant_at, len(PARTICIPANT_COLUMNS)))
    return VisitRow(participant, *_columns(row, start, len(VISIT_COLUMNS)))


def link_row(row: Row[*Columns], drafts_saved: bool = True) -> LinkRow:
    """The link of a row that selected `LINK_COLUMNS`, then `VISIT_PARTICIPANT_SITE`
    (`drafts_saved`: what `DRAFTS_SAVED` said, if the row selected it too)."""
    link_id, token_sha256, revoked_at = _columns(row, 0, len(LINK_COLUMNS))
    visit = visit_row(row, len(LINK_COLUMNS))
    return LinkRow(visit, link_id, token_sha256, revoked_at, drafts_saved)


def _columns(row: Row[*Columns], start: int, count: int) -> Columns:
    return tuple(row[start : start + count])
