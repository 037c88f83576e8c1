"""Enrolling participants, laying out their visits from Day 0, correcting Day 0, withdrawal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pro_app import clock
from pro_app.errors import EnrolmentError, ParticipantWithdrawn
from pro_app.extensions import db
from pro_app.languages import LANGUAGES
from pro_app.models import (
    DraftAnswer,
    Participant,
    ParticipantStatus,
    Response,
    Sex,
    Site,
    StaffUser,
    Visit,
    VisitLink,
)
from pro_app.questionnaire.schedule import Schedule
from pro_app.services import audit, links
from pro_app.services.reasons import require_reason

MIN_AGE, MAX_AGE = 18, 80
MIN_HEIGHT_CM, MAX_HEIGHT_CM = 100, 230
# Day 0 is the first infusion: enrolment is around it, not years away from it.
DAY0_MAX_PAST_DAYS = 365
DAY0_MAX_FUTURE_DAYS = 90


def enrol(
    *,
    site: Site,
    study_id: str,
    sex: Sex,
    birth_year: int,
    height_cm: int,
    preferred_language: str,
    day0: date,
    schedule: Schedule,
    actor: str,
) -> Participant:
    """Create a participant and every visit of the schedule. No name, phone or arm is taken."""
    study_id = normalise_study_id(study_id)
    problems = enrolment_problems(
        site,
        study_id=study_id,
        birth_year=birth_year,
        height_cm=height_cm,
        preferred_language=preferred_language,
        day0=day0,
    )
    if problems:
        raise problems[0]
    participant = Participant(
        study_id=study_id,
        site_id=site.id,
        sex=sex,
        birth_year=birth_year,
        height_cm=height_cm,
        preferred_language=preferred_language,
        day0=day0,
        status=ParticipantStatus.ACTIVE,
        created_at=clock.utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(participant)
    except IntegrityError:
        # Another coordinator enrolled the same study id a moment ago.
        raise EnrolmentError("study_id", "taken") from None
    for planned in schedule.visits:
        target, start, end = planned.dates(day0)
        db.session.add(
            Visit(
                participant_id=participant.id,
                code=planned.code,
                day=planned.day,
                target_date=target,
                window_start=start,
                window_end=end,
            )
        )
    db.session.flush()
    db.session.refresh(participant, ["visits"])
    audit.record(
        "participant.enrolled",
        actor,
        site_id=site.id,
        participant_id=participant.id,
        study_id=study_id,
        sex=sex.value,
        birth_year=birth_year,
        height_cm=height_cm,
        preferred_language=preferred_language,
        day0=day0.isoformat(),
        schedule_version=schedule.version,
    )
    return participant


def normalise_study_id(study_id: str) -> str:
    return study_id.strip().upper()


def enrolment_problems(
    site: Site,
    *,
    study_id: str | None = None,
    birth_year: int | None = None,
    height_cm: int | None = None,
    preferred_language: str | None = None,
    day0: date | None = None,
) -> list[EnrolmentError]:
    """Every enrolment rule the given values break, so a form can show them all at once.

    A value left out (None) is not checked. Reads only; changes nothing.
    """
    problems = []
    if study_id is not None:
        study_id = normalise_study_id(study_id)
        if not re.fullmatch(site.study_id_pattern, study_id):
            problems.append(EnrolmentError("study_id", "format"))
        elif db.session.scalar(select(Participant.id).where(Participant.study_id == study_id)):
            problems.append(EnrolmentError("study_id", "taken"))
    today = clock.today_in(site.timezone)
    if birth_year is not None:
        # Only the year of birth is kept, so age is counted in calendar years at Day 0.
        age_at_day0 = (day0 or today).year - birth_year
        if not MIN_AGE <= age_at_day0 <= MAX_AGE:
            problems.append(EnrolmentError("birth_year", "age", min=MIN_AGE, max=MAX_AGE))
    if height_cm is not None and not MIN_HEIGHT_CM <= height_cm <= MAX_HEIGHT_CM:
        problems.append(EnrolmentError("height_cm", "range", min=MIN_HEIGHT_CM, max=MAX_HEIGHT_CM))
    if preferred_language is not None and preferred_language not in LANGUAGES:
        problems.append(EnrolmentError("preferred_language", "unknown"))
    earliest = today - timedelta(days=DAY0_MAX_PAST_DAYS)
    latest = today + timedelta(days=DAY0_MAX_FUTURE_DAYS)
    if day0 is not None and not earliest <= day0 <= latest:
        problems.append(
            EnrolmentError("day0", "range", past=DAY0_MAX_PAST_DAYS, future=DAY0_MAX_FUTURE_DAYS)
        )
    return problems


@dataclass(frozen=True)
class Day0Correction:
    moved: list[Visit]
    kept: list[Visit]


def plan_day0_correction(participant: Participant) -> Day0Correction:
    """Which visits a Day 0 correction moves: those with nothing saved or submitted yet."""
    touched = _visits_with_data(participant)
    moved = [v for v in participant.visits if v.id not in touched]
    kept = [v for v in participant.visits if v.id in touched]
    return Day0Correction(moved=moved, kept=kept)


def correct_day0(
    participant: Participant,
    new_day0: date,
    *,
    reason: str,
    schedule: Schedule,
    actor: str,
) -> Day0Correction:
    """Move Day 0 and recompute the dates of every visit that has no data yet.

    Visits with saved or submitted answers keep their dates: their answers were given against
    that window. The result must still be a schedule whose windows are in order and apart.
    """
    reason = require_reason(reason)
    # Which visits have answers is read with the trail held: an answer saved a moment ago has
    # committed (on PostgreSQL; SQLite's writers queue), so its visit keeps its dates.
    audit.hold_trail()
    db.session.refresh(participant, ["day0"])
    if new_day0 == participant.day0:
        raise EnrolmentError("day0", "unchanged")
    problems = enrolment_problems(
        participant.site, birth_year=participant.birth_year, day0=new_day0
    )
    if problems:
        raise problems[0]
    plan = plan_day0_correction(participant)
    new_dates: dict[int, tuple[date, date, date]] = {}
    for visit in plan.moved:
        new_dates[visit.id] = schedule.visit(visit.code).dates(new_day0)
    for visit in plan.kept:
        new_dates[visit.id] = (visit.target_date, visit.window_start, visit.window_end)
    ordered = sorted(participant.visits, key=lambda v: v.day)
    for earlier, later in pairwise(ordered):
        if new_dates[earlier.id][2] >= new_dates[later.id][1]:
            raise EnrolmentError("day0", "overlaps_visit_with_data")
    changes = []
    for visit in plan.moved:
        target, start, end = new_dates[visit.id]
        changes.append(
            {
                "visit": visit.code,
                "from": [visit.window_start.isoformat(), visit.window_end.isoformat()],
                "to": [start.isoformat(), end.isoformat()],
            }
        )
        visit.target_date, visit.window_start, visit.window_end = target, start, end
    previous = participant.day0
    participant.day0 = new_day0
    db.session.flush()
    audit.record(
        "participant.day0_corrected",
        actor,
        site_id=participant.site_id,
        participant_id=participant.id,
        previous=previous.isoformat(),
        day0=new_day0.isoformat(),
        reason=reason,
        moved=changes,
        kept=[visit.code for visit in plan.kept],
    )
    return plan


def withdraw(participant: Participant, *, reason: str, staff: StaffUser) -> list[VisitLink]:
    """Withdraw: no new links, active links revoked; every record and answer stays as it is."""
    reason = require_reason(reason)
    # Decided on the status as it is now: a withdrawal or a link issued a moment ago by another
    # coordinator has committed once the trail is held (on PostgreSQL; SQLite's writers queue).
    audit.hold_trail()
    db.session.refresh(participant, ["status"])
    if participant.status is ParticipantStatus.WITHDRAWN:
        raise ParticipantWithdrawn()
    revoked = links.active_links(participant)
    for link in revoked:
        links.revoke(link, actor=staff.actor, staff=staff, reason="participant withdrawn")
    participant.status = ParticipantStatus.WITHDRAWN
    participant.withdrawn_at = clock.utcnow()
    participant.withdrawal_reason = reason
    db.session.flush()
    audit.record(
        "participant.withdrawn",
        staff.actor,
        site_id=participant.site_id,
        participant_id=participant.id,
        reason=reason,
        links_revoked=[link.id for link in revoked],
    )
    return revoked


def _visits_with_data(participant: Participant) -> set[int]:
    visit_ids = [visit.id for visit in participant.visits]
    if not visit_ids:
        return set()
    sealed = db.session.scalars(select(Response.visit_id).where(Response.visit_id.in_(visit_ids)))
    drafts = db.session.scalars(
        select(DraftAnswer.visit_id).where(DraftAnswer.visit_id.in_(visit_ids))
    )
    return set(sealed) | set(drafts)


def find_participant(study_id: str) -> Participant | None:
    return db.session.scalar(
        select(Participant).where(Participant.study_id == normalise_study_id(study_id))
    )


def find_visit(participant: Participant, code: str) -> Visit | None:
    return next((visit for visit in participant.visits if visit.code == code), None)
