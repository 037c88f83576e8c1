"""Where visits and instruments stand: the coordinator's schedule and due board (read only)."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, partial
from typing import Any, NamedTuple

from sqlalchemy import Date, Integer, Select, and_, bindparam, case, func, select

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
from pro_app.models.rows import (
    VISIT_PARTICIPANT_SITE,
    Columns,
    VisitLike,
    VisitRow,
    visit_row,
)
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
        planned = schedule.visit(visit.code)
        for instrument_id in planned.instruments:
            record = sealed.get((visit.id, instrument_id))
            saved = drafts.get((visit.id, instrument_id)) or _Drafts()
            state = instrument_state(
                today=today,
                window_start=visit.window_start,
                closes=closes,
                submitted=record is not None,
                answered_any=saved.saved > 0,
                # The patient's link opens only the patient's part: an instrument done at the
                # clinic is never "link issued" or "opened" by it.
                link=active if instrument_id in planned.patient_instruments else None,
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
            patient_instruments=planned.patient_instruments,
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


class Section(enum.IntEnum):
    """The board's sections, in the order the page shows them."""

    OPEN_NOW = 0
    OPENING_SOON = 1
    RECENTLY_MISSED = 2


@dataclass(frozen=True)
class Board:
    open_now: list[VisitProgress]
    opening_soon: list[VisitProgress]
    recently_missed: list[VisitProgress]
    # How many visits each section holds in all (it shows the first BOARD_ROWS).
    open_now_total: int = 0
    opening_soon_total: int = 0
    recently_missed_total: int = 0


def _unindexed(column: Any, dialect: str) -> Any:
    """`column` with its indexes hidden from SQLite's planner (`+ 0`: the same value); as it is
    elsewhere (on PostgreSQL it would only mislead the planner's estimates)."""
    return column + 0 if dialect == "sqlite" else column


class _SiteDates(NamedTuple):
    """The dates that sort a site's visits into sections, from that site's own today. A window
    is open now if it started by today and closes (its end plus the grace days) today or later:
    its end is on or after `open_from`. It opens soon if it starts after today, by `soon_until`.
    It was missed lately if it closed within the last MISSED_LOOKBACK_DAYS: its end is before
    `open_from`, on or after `missed_from`."""

    today: date
    open_from: date
    soon_until: date
    missed_from: date

    @classmethod
    def of(cls, today: date, grace_days: int) -> _SiteDates:
        open_from = today - timedelta(days=grace_days)
        return cls(
            today=today,
            open_from=open_from,
            soon_until=today + timedelta(days=HORIZON_DAYS),
            missed_from=open_from - timedelta(days=MISSED_LOOKBACK_DAYS),
        )


@cache
def _candidates(dialect: str, needed: tuple[tuple[str, int], ...], sites: int) -> Select[*Columns]:
    """Every unfinished visit that might be on the board, with its section (NULL: on none), for
    a database `dialect`, the instruments each visit code needs and a number of `sites`; built
    once, `_board_params` fills it in. A visit all of whose instruments have a current record is
    submitted: never on the board.

    Both planners should start from the visits whose window closed lately or is still to come,
    by the board's index (`ix_visit_board`), and look each one's participant up: not start from
    every participant of the site and look up its visits (five to twenty times slower at 10,000
    participants). PostgreSQL's does. SQLite's, with or without ANALYZE's statistics, is steered
    there by hiding the site index and the visits' participant indexes from it.

    On SQLite a candidate is the visit's id and dates, read from the covering index alone, and
    its study id; the board query reads the shown ones whole. PostgreSQL reads each candidate's
    visit row anyway (a bitmap scan of the index, then the table), so there a candidate is the
    whole visit with its participant and site (`VISIT_PARTICIPANT_SITE`): looked up again by
    id, its planner would scan every visit."""

    def at_site(name: str) -> Any:
        """The date `name` of the visit's own site (each site has its own today)."""
        if sites == 1:
            return bindparam(f"{name}_0", type_=Date)
        return case(
            *(
                (
                    Participant.site_id == bindparam(f"site_{i}"),
                    bindparam(f"{name}_{i}", type_=Date),
                )
                for i in range(sites)
            )
        )

    today, open_from, soon_until, missed_from = (at_site(name) for name in _SiteDates._fields)
    section = case(
        (and_(Visit.window_start <= today, Visit.window_end >= open_from), Section.OPEN_NOW.value),
        (
            and_(Visit.window_start > today, Visit.window_start <= soon_until),
            Section.OPENING_SOON.value,
        ),
        (
            and_(Visit.window_end < open_from, Visit.window_end >= missed_from),
            Section.RECENTLY_MISSED.value,
        ),
    )
    if dialect == "sqlite":
        found = select(
            Visit.id,
            Visit.window_start,
            Visit.window_end,
            Participant.study_id,
            section.label("section"),
        ).join(Participant, _unindexed(Visit.participant_id, dialect) == Participant.id)
    else:
        found = (
            select(*VISIT_PARTICIPANT_SITE, section.label("section"))
            .join(Participant, Visit.participant_id == Participant.id)
            .join(Site, Participant.site_id == Site.id)
        )
    return found.where(
        _unindexed(Participant.site_id, dialect).in_(bindparam("site_ids", expanding=True)),
        Participant.status == ParticipantStatus.ACTIVE,
        Visit.code.in_(bindparam("codes", expanding=True)),
        Visit.current_records < case(dict(needed), value=Visit.code, else_=0),
        Visit.window_start <= bindparam("latest_start"),
        Visit.window_end >= bindparam("earliest_end"),
    )


@cache
def _board_query(dialect: str, needed: tuple[tuple[str, int], ...], sites: int) -> Select[*Columns]:
    """The board's rows: each section's visits ranked by urgency (open now: the soonest to close
    first; opening soon: the soonest to open; missed: the latest to close), those ranked from
    `first` to `last` read whole (`VISIT_PARTICIPANT_SITE`) with their section and how many
    visits it holds. One statement: the ranking and counting happen in the database, which
    hands back the 150 rows a page shows, not the thousand candidates of a large trial."""
    candidates = _candidates(dialect, needed, sites).subquery("candidate")
    carried = [column for column in candidates.c if column.name != "section"]
    section = candidates.c.section
    in_missed = section == Section.RECENTLY_MISSED.value
    window_start, window_end, study_id = (
        candidates.c.window_start,
        candidates.c.window_end,
        candidates.c.study_id,
    )
    ranked = (
        select(
            *carried,
            section,
            func.row_number()
            .over(
                partition_by=section,
                order_by=(
                    # Open now by closing day, opening soon by opening day, both ascending;
                    # missed by closing day descending; then by study id, the same way.
                    case(
                        (section == Section.OPEN_NOW.value, window_end),
                        (section == Section.OPENING_SOON.value, window_start),
                    ).asc(),
                    case((in_missed, window_end)).desc(),
                    case((in_missed, study_id)).desc(),
                    study_id.asc(),
                ),
            )
            .label("rank"),
            func.count().over(partition_by=section).label("total"),
        )
        .where(section.is_not(None))
        .subquery("ranked")
    )
    if dialect == "sqlite":
        rows = (
            select(*VISIT_PARTICIPANT_SITE)
            .join_from(ranked, Visit, Visit.id == ranked.c.id)
            .join(Participant, Visit.participant_id == Participant.id)
            .join(Site, Participant.site_id == Site.id)
        )
    else:
        rows = select(*list(ranked.c)[: len(VISIT_PARTICIPANT_SITE)])
    return (
        rows.add_columns(ranked.c.section, ranked.c.total)
        .where(
            ranked.c.rank.between(
                bindparam("first", type_=Integer), bindparam("last", type_=Integer)
            )
        )
        .order_by(ranked.c.section, ranked.c.rank)
    )


def _board_params(sites: Sequence[Site], needed: dict[str, int], grace_days: int) -> dict[str, Any]:
    utc_today = clock.utcnow().date()
    params: dict[str, Any] = {
        # Each section's most urgent rows.
        "first": 1,
        "last": BOARD_ROWS,
        "site_ids": [site.id for site in sites],
        "codes": [code for code, count in needed.items() if count],
        # What the covering index is read for, with a day's slack either side of every site's
        # own today.
        "latest_start": utc_today + timedelta(days=HORIZON_DAYS + 1),
        "earliest_end": utc_today - timedelta(days=MISSED_LOOKBACK_DAYS + grace_days + 1),
    }
    for i, site in enumerate(sites):
        params[f"site_{i}"] = site.id
        for name, day in _SiteDates.of(clock.today_in(site.timezone), grace_days)._asdict().items():
            params[f"{name}_{i}"] = day
    return params


def board_query(
    sites: Sequence[Site], needed: dict[str, int], grace_days: int, dialect: str
) -> Select[*Columns]:
    """The board's statement with its values, as `due_board` runs it on a database `dialect`
    ("sqlite", "postgresql"); `needed`: how many instruments each visit code has."""
    query = _board_query(dialect, tuple(needed.items()), len(sites))
    return query.params(_board_params(sites, needed, grace_days))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def due_board(sites: Sequence[Site], schedule: Schedule, grace_days: int) -> Board:
    """Across the user's `sites`: windows open today (soonest to close first), windows opening in
    the next 7 days, and windows missed in the last 14 days, each with its BOARD_ROWS most
    urgent. Active participants only.

    The page costs about the same for 100 participants or 10,000: one statement sorts every
    candidate visit into its section by its dates and whether all its instruments are sealed,
    ranks them and reads the rows shown; their full progress (links, drafts, records) is then
    read for those rows only."""
    if not sites:
        return Board([], [], [])
    needed = {planned.code: len(planned.instruments) for planned in schedule.visits}
    dialect = _dialect()
    params = _board_params(sites, needed, grace_days)
    shown: dict[Section, list[VisitRow]] = {section: [] for section in Section}
    totals = dict.fromkeys(Section, 0)
    # On the session's connection: the session's ORM layer would add nothing but its cost.
    query = _board_query(dialect, tuple(needed.items()), len(sites))
    for row in db.session.connection().execute(query, params):
        section = Section(row.section)
        shown[section].append(visit_row(row))
        totals[section] = row.total
    progress = progress_of(
        [visit for section in Section for visit in shown[section]], schedule, grace_days
    )
    shown_open, shown_soon, shown_missed = (
        [progress[visit.id] for visit in shown[section]] for section in Section
    )
    return Board(
        open_now=shown_open,
        opening_soon=shown_soon,
        recently_missed=shown_missed,
        open_now_total=totals[Section.OPEN_NOW],
        opening_soon_total=totals[Section.OPENING_SOON],
        recently_missed_total=totals[Section.RECENTLY_MISSED],
    )
