"""Enrolling participants and laying out their visit schedule from Day 0."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from pro_app import clock
from pro_app.errors import EnrolmentError
from pro_app.extensions import db
from pro_app.models import Participant, Sex, Site, Visit
from pro_app.questionnaire.schedule import Schedule
from pro_app.questionnaire.textpacks import LANGUAGES
from pro_app.services import audit

MIN_AGE, MAX_AGE = 18, 80

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
    study_id = study_id.strip().upper()
    if not re.fullmatch(site.study_id_pattern, study_id):
        raise EnrolmentError("study_id", "format")
    if db.session.scalar(select(Participant.id).where(Participant.study_id == study_id)):
        raise EnrolmentError("study_id", "taken")
    age_at_day0 = day0.year - birth_year
    if not MIN_AGE <= age_at_day0 <= MAX_AGE:
        raise EnrolmentError("birth_year", "age")
    if not 100 <= height_cm <= 230:
        raise EnrolmentError("height_cm", "range")
    if preferred_language not in LANGUAGES:
        raise EnrolmentError("preferred_language", "unknown")
    participant = Participant(
        study_id=study_id,
        site_id=site.id,
        sex=sex,
        birth_year=birth_year,
        height_cm=height_cm,
        preferred_language=preferred_language,
        day0=day0,
        created_at=clock.utcnow(),
    )
    db.session.add(participant)
    db.session.flush()
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
    audit.record(
        "participant.enrolled",
        actor,
        site_id=site.id,
        participant_id=participant.id,
        study_id=study_id,
        day0=day0.isoformat(),
        schedule_version=schedule.version,
    )
    return participant

def find_participant(study_id: str) -> Participant | None:
    return db.session.scalar(
        select(Participant).where(Participant.study_id == study_id.strip().upper())
    )

def find_visit(participant: Participant, code: str) -> Visit | None:
    return next((visit for visit in participant.visits if visit.code == code), None)
