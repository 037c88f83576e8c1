"""Where visits and instruments stand: the coordinator's schedule and due board (read only)."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, partial
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, case, select

from pro_app import clock
from pro_app.database import one_of
from pro_app.extensions import db
from pro_app.models import (
    DraftAnswer,
    Participant,
    ParticipantStatus,
    Response,
    Site,
    StaffUser,
    Visit,
    VisitLink,
)
from pro_app.models.rows import VISIT_ROWS, VisitLike, visit_row
from pro_app.questionnaire.schedule import Schedule
from pro_app.services.links import closes_on


class State(enum.Enum):
    """In the order a visit moves through them; the last three are endings."""

    NOT_YET_OPEN = "not_yet_open"
    OPEN = "open"
    LINK_ISSUED = "link_issued"
    OPENED = "opened"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    MISSED = "missed"
    WITHDRAWN = "withdrawn"
    NOTHING_DUE = "nothing_due"


_PROGRESS_ORDER = [
    State.NOT_YET_OPEN,
    State.OPEN,
    State.LINK_ISSUED,
    State.OPENED,
    State.IN_PROGRESS,
]


def instrument_state(
    *,
    today: date,
    window_start: date,
    closes: date,
    submitted: bool,
    answered_any: bool,
    link: VisitLink | None,
    withdrawn: bool,
) -> State:
    """One instrument's state on a site-calendar day. Pure, so the edges are easy to test."""
    if submitted:
        return State.SUBMITTED
    if withdrawn:
        return State.WITHDRAWN
    if today > closes:
        return State.MISSED
    if answered_any:
        return State.IN_PROGRESS
    if link is not None and link.first_started_at is not None:
        return State.OPENED
    if link is not None:
        return State.LINK_ISSUED
    if today >= window_start:
        return State.OPEN
    return State.NOT_YET_OPEN


def visit_state(states: list[State]) -> State:
    """A visit is submitted when every instrument is; missed if any unfinished one is missed."""
    if not states:
        return State.NOTHING_DUE
    unfinished = [state for state in states if state is not State.SUBMITTED]
    if not unfinished:
        return State.SUBMITTED
    for ending in (State.WITHDRAWN, State.MISSED):
        if ending in unfinished:
            return ending
    if len(unfinished) < len(states):
        return State.IN_PROGRESS
    return max(unfinished, key=_PROGRESS_ORDER.index)


@dataclass(frozen=True)
class SealedVersion:
    """What a schedule shows of an instrument's current record: which version, when, by whom.
    Read as plain rows (a list page shows hundreds; the record itself is one click away)."""

    id: int
    version: int
    submitted_at: datetime
    entered_by_staff: str | None


@dataclass(frozen=True)
class InstrumentProgress:
    instrument_id: str
    state: State
    answered: int
    last_saved_at: datetime | None
    response: SealedVersion | None

    @property
    def entered_by_staff(self) -> str | None:
        return self.response.entered_by_staff if self.response is not None else None


@dataclass(frozen=True)
class VisitProgress:
    visit: VisitLike
    state: State
    today: date
    closes: date
    instruments: list[InstrumentProgress]
    active_link: VisitLink | None
    links: list[VisitLink] = field(default_factory=list)
    # Instruments the participant answers alone; without one the visit gets no patient link.
    patient_instruments: tuple[str, ...] = ()

    @property
    def patient_link_useful(self) -> bool:
        """A patient link has something to offer: a patient part not yet submitted."""
        done = {row.instrument_id for row in self.instruments if row.response is not None}
        return bool(set(self.patient_instruments) - done)

    @property
    def can_collect(self) -> bool:
        """A link can be issued or staff can enter data (window not closed, work left)."""
        return self.state in _PROGRESS_ORDER

    @property
    def window_open(self) -> bool:
        return self.visit.window_start <= self.today <= self.closes

    @property
    def overdue(self) -> bool:
        """Past the target day and still unfinished, while the window is open."""
        return self.can_collect and self.today > self.visit.target_date

    @property
    def days_left(self) -> int:
        return (self.closes - self.today).days


@cache
def _progress_queries(
    dialect: str,
) -> tuple[
    Select[VisitLink],
    Select[int, int, str, int, bool, datetime, str],
    Select[int, str, Any, datetime],
]:
    """The links, the versions and the drafts of the visits bound as `visit_ids`, built once per
    database `dialect`. Only what a schedule shows of each version (the newest one decides the
    slot)."""
    of_visits = partial(one_of, name="visit_ids", dialect=dialect)
    links = (
        select(VisitLink)
        .where(of_visits(VisitLink.visit_id))
        .order_by(VisitLink.issued_at, VisitLink.id)
    )
    versions = (
        select(
            Response.id,
            Response.visit_id,
            Response.instrument_id,
            Response.version,
            Response.voided,
            Response.submitted_at,
            StaffUser.username,
        )
        .outerjoin(StaffUser, Response.staff_id == StaffUser.id)
        .where(of_visits(Response.visit_id))
        .order_by(Response.version)
    )
    drafts = select(
        DraftAnswer.visit_id, DraftAnswer.instrument_id, DraftAnswer.value, DraftAnswer.saved_at
    ).where(of_visits(DraftAnswer.visit_id))
    return links, versions, drafts


@dataclass
class _Drafts:
    saved: int = 0
    answered: int = 0
    last_saved_at: datetime | None = None

    def add(self, value: Any, saved_at: datetime) -> None:
        self.saved += 1
        self.answered += value is not None
        if self.last_saved_at is None or saved_at > self.last_saved_at:
            self.last_saved_at = saved_at


def progress_of(
    visits: Sequence[VisitLike], schedule: Schedule, grace_days: int
) -> dict[int, VisitProgress]:
    """Progress for many visits with three queries in all, whatever their number (records and
    drafts as plain rows: a list of 25 participants reads some 250 records)."""
    if not visits:
        return {}
    of_visits = {"visit_ids": [visit.id for visit in visits]}
    links_query, versions_query, drafts_query = _progress_queries(_dialect())
    all_links: dict[int, list[VisitLink]] = defaultdict(list)
    for link in db.session.scalars(links_query, of_visits):
        all_links[link.visit_id].append(link)
    # Each slot's newest version (read in version order, the last one wins); a voided newest
    # version leaves its slot empty: the visit needs the instrument again.
    versions = db.session.execute(versions_query, of_visits)
    newest = {(row.visit_id, row.instrument_id): row for row in versions}
    sealed = {
        key: SealedVersion(row.id, row.version, row.submitted_at, row.username)
        for key, row in newest.items()
        if not row.voided
    }
    drafts: dict[tuple[int, str], _Drafts] = defaultdict(_Drafts)
    for row in db.session.execute(drafts_query, of_visits):
        drafts[(row.visit_id, row.instrument_id)].add(row.value, row.saved_at)
    todays: dict[str, date] = {}
    result = {}
    for visit in visits:
        participant = visit.participant
        timezone = participant.site.timezone
        today = todays.get(timezone) or todays.setdefault(timezone, clock.today_in(timezone))
        closes = closes_on(visit, grace_days)
        links_here = all_links.get(visit.id, [])
        active = next((link for link in reversed(links_here) if link.revoked_at is None), None)
        withdrawn = participant.status is ParticipantStatus.WITHDRAWN
        instruments = []
        for instrument_id in schedule.visit(visit.code).instruments:
            record = sealed.get((visit.id, instrument_id))
            saved = drafts.get((visit.id, instrument_id)) or _Drafts()
            state = instrument_state(
                today=today,
                window_start=visit.window_start,
                closes=closes,
                submitted=record is not None,
                answered_any=saved.saved > 0,
                link=active,
                withdrawn=withdrawn,
            )
            instruments.append(
                InstrumentProgress(
                    instrument_id=instrument_id,
                    state=state,
                    answered=saved.answered,
                    last_saved_at=saved.last_saved_at,
                    response=record,
                )
            )
        result[visit.id] = VisitProgress(
            visit=visit,
            state=visit_state([row.state for row in instruments]),
            today=today,
            closes=closes,
            instruments=instruments,
            active_link=active,
            links=links_here,
            patient_instruments=schedule.visit(visit.code).patient_instruments,
        )
    return result


def participant_progress(
    participant: Participant, schedule: Schedule, grace_days: int
) -> list[VisitProgress]:
    by_id = progress_of(list(participant.visits), schedule, grace_days)
    return [by_id[visit.id] for visit in participant.visits]


def next_visit(progress: list[VisitProgress]) -> VisitProgress | None:
    """The first visit that still needs something, for a one-line summary in lists."""
    return next((row for row in progress if row.can_collect), None)


# --- the due board --------------------------------------------------------------------------

HORIZON_DAYS = 7
MISSED_LOOKBACK_DAYS = 14


# Each section of the board shows at most this many rows (the most urgent); it says how many more
# there are. A trial the size of PRIME has far fewer; a large one keeps a page that loads fast.
BOARD_ROWS = 50


@dataclass(frozen=True)
class Board:
    open_now: list[VisitProgress]
    opening_soon: list[VisitProgress]
    recently_missed: list[VisitProgress]
    # How many visits each section holds in all (it shows the first BOARD_ROWS).
    open_now_total: int = 0
    opening_soon_total: int = 0
    recently_missed_total: int = 0


class _Candidate(NamedTuple):
    """A visit sorted into a section (a tuple: a board sorts a thousand of them)."""

    visit_id: int
    study_id: str
    window_start: date
    closes: date
    today: date


def _unindexed(column: Any, dialect: str) -> Any:
    """`column` with its indexes hidden from SQLite's planner (`+ 0`: the same value); as it is
    elsewhere (on PostgreSQL it would only mislead the planner's estimates)."""
    return column + 0 if dialect == "sqlite" else column


@cache
def _candidates(
    dialect: str, needed: tuple[tuple[str, int], ...]
) -> Select[int, date, date, str, str]:
    """The candidate query for a database `dialect` and the instruments each visit code needs,
    built once (building it cost more than running it from SQLAlchemy's cache);
    `_candidate_params` fills it in. A visit all of whose instruments have a current record is
    submitted: never on the board.

    Both planners should start from the visits whose window closed lately or is still to come,
    reading the board's covering index alone (`ix_visit_board`), and look each one's participant
    up: not start from every participant of the site and look up its visits (five to twenty
    times slower at 10,000 participants). PostgreSQL's does. SQLite's, with or without ANALYZE's
    statistics, is steered there by hiding the site index and the visits' participant indexes
    from it."""
    return (
        select(
            Visit.id,
            Visit.window_start,
            Visit.window_end,
            Participant.study_id,
            Site.timezone,
        )
        .join(Participant, _unindexed(Visit.participant_id, dialect) == Participant.id)
        .join(Site, Participant.site_id == Site.id)
        .where(
            _unindexed(Participant.site_id, dialect).in_(bindparam("site_ids", expanding=True)),
            Participant.status == ParticipantStatus.ACTIVE,
            Visit.code.in_(bindparam("codes", expanding=True)),
            Visit.current_records < case(dict(needed), value=Visit.code, else_=0),
            Visit.window_start <= bindparam("latest_start"),
            Visit.window_end >= bindparam("earliest_end"),
        )
    )


def _candidate_params(
    site_ids: set[int], needed: dict[str, int], grace_days: int
) -> dict[str, Any]:
    utc_today = clock.utcnow().date()
    # A day's slack either side: each site's own "today" is worked out per visit.
    return {
        "site_ids": sorted(site_ids),
        "codes": [code for code, count in needed.items() if count],
        "latest_start": utc_today + timedelta(days=HORIZON_DAYS + 1),
        "earliest_end": utc_today - timedelta(days=MISSED_LOOKBACK_DAYS + grace_days + 1),
    }


def candidates(
    site_ids: set[int], needed: dict[str, int], grace_days: int, dialect: str
) -> Select[int, date, date, str, str]:
    """Every unfinished visit that might be on the board, with its dates (`needed`: how many
    instruments each visit code has), for the database `dialect` ("sqlite", "postgresql")."""
    return _candidates(dialect, tuple(needed.items())).params(
        _candidate_params(site_ids, needed, grace_days)
    )


def _dialect() -> str:
    return db.session.get_bind().dialect.name


@cache
def _shown_visits(dialect: str) -> Select[*tuple[Any, ...]]:
    """The board's visits (bound as `visit_ids`) with their participants and sites, as plain rows
    (models/rows.py): 150 visits as ORM objects with their participants and sites cost more than
    the rest of the board's queries together. Run on the session's connection: the session's ORM
    layer would add nothing but its cost."""
    return VISIT_ROWS.where(one_of(Visit.id, "visit_ids", dialect))


def due_board(site_ids: set[int], schedule: Schedule, grace_days: int) -> Board:
    """Across the user's sites: windows open today (soonest to close first), windows opening in
    the next 7 days, and windows missed in the last 14 days. Active participants only.

    Two steps, so the page costs the same for 100 participants or 10,000: one light query sorts
    every candidate visit into its section by its dates and whether all its instruments are
    sealed; the full progress (links, drafts, records) is then read for the rows shown only."""
    if not site_ids:
        return Board([], [], [])
    needed = {planned.code: len(planned.instruments) for planned in schedule.visits}
    dialect = _dialect()
    rows = db.session.execute(
        _candidates(dialect, tuple(needed.items())),
        _candidate_params(site_ids, needed, grace_days),
    )
    todays: dict[str, date] = {}
    open_now: list[_Candidate] = []
    opening_soon: list[_Candidate] = []
    missed: list[_Candidate] = []
    for visit_id, start, end, study_id, timezone in rows:
        today = todays.get(timezone) or todays.setdefault(timezone, clock.today_in(timezone))
        closes = end + timedelta(days=grace_days)
        candidate = _Candidate(visit_id, study_id, start, closes, today)
        if start <= today <= closes:
            open_now.append(candidate)
        elif today < start <= today + timedelta(days=HORIZON_DAYS):
            opening_soon.append(candidate)
        elif today > closes >= today - timedelta(days=MISSED_LOOKBACK_DAYS):
            missed.append(candidate)
    open_now.sort(key=lambda c: (c.closes, c.study_id))
    opening_soon.sort(key=lambda c: (c.window_start, c.study_id))
    missed.sort(key=lambda c: (c.closes, c.study_id), reverse=True)
    sections = [section[:BOARD_ROWS] for section in (open_now, opening_soon, missed)]
    shown = [candidate.visit_id for section in sections for candidate in section]
    rows = db.session.connection().execute(_shown_visits(dialect), {"visit_ids": shown})
    progress = progress_of([visit_row(row) for row in rows], schedule, grace_days)
    shown_open, shown_soon, shown_missed = (
        [progress[candidate.visit_id] for candidate in section] for section in sections
    )
    return Board(
        open_now=shown_open,
        opening_soon=shown_soon,
        recently_missed=shown_missed,
        open_now_total=len(open_now),
        opening_soon_total=len(opening_soon),
        recently_missed_total=len(missed),
    )
