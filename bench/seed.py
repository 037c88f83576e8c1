"""Bench seeding: a trial of any size, inserted in bulk with SQLAlchemy Core (not through the web
flow, and without audit events: the benches measure the pages, not the seeding).

Records are built the way sealing builds them (answers, scores from the real scoring and 6MWT
computation, canonical hash and receipt number), so every page and export reads them as real.
Visit links are rows with the SHA-256 of a token this module draws and returns, as
`services.links.issue` stores them. Staff accounts get a known password and no first-sign-in
password change.

Used by bench/exports.py (every slot sealed), bench/staff.py (a large trial with ten records per
participant) and bench/load.py (participants whose baseline is open today, each with a link).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

BATCH = 200  # participants per INSERT batch
SITE_CODE = "SEH"
STAFF_PASSWORD = "bench-kettle-river-42"  # noqa: S105 (throw-away bench databases only)


def _walk_values(rng: random.Random, test_day: date) -> dict[str, Any]:
    stopped = rng.random() < 0.1
    return {
        "test_date": test_day.isoformat(),
        "start_time": f"{rng.randint(8, 15):02d}:{rng.choice(['00', '15', '30', '45'])}",
        "test_number": 1,
        "practice_test": "no",
        "course_length_m": 30.0,
        "lap_length_m": 60.0,
        "supplemental_o2": "no",
        "o2_flow_l_min": None,
        "o2_device": None,
        "assistive_device": rng.choice(["none", "none", "none", "cane"]),
        "medications": "",
        "weight_kg": round(rng.uniform(45, 95), 1),
        "resting_sbp": rng.randint(95, 150),
        "resting_dbp": rng.randint(55, 90),
        "baseline_hr": rng.randint(55, 100),
        "baseline_spo2": rng.randint(92, 99),
        "baseline_dyspnoea": rng.choice([0.0, 0.5, 1.0, 2.0]),
        "baseline_fatigue": rng.choice([0.0, 0.5, 1.0, 2.0]),
        "laps": rng.randint(3, 9),
        "partial_lap_m": float(rng.randint(0, 59)),
        "stopped_early": "yes" if stopped else "no",
        "stop_reason": "需要休息" if stopped else None,
        "stop_time_s": rng.randint(120, 340) if stopped else None,
        "end_hr": rng.randint(70, 140),
        "end_spo2": rng.randint(85, 99),
        "end_dyspnoea": rng.choice([1.0, 2.0, 3.0, 4.0, 5.0]),
        "end_fatigue": rng.choice([1.0, 2.0, 3.0, 4.0]),
        "symptoms": ["none"],
        "symptoms_other": None,
        "comments": "",
        "assessor": "Nurse Li",
    }


def ensure_site() -> int:
    """The bench's site (SEH), made if missing; its id."""
    from sqlalchemy import select

    from pro_app.extensions import db
    from pro_app.models import Site

    site = db.session.scalar(select(Site).where(Site.code == SITE_CODE))
    if site is None:
        site = Site(
            code=SITE_CODE,
            name_en="Shanghai East Hospital, Heart Failure Department",
            name_zh="上海市东方医院 心力衰竭科",
            timezone="Asia/Shanghai",
            study_id_pattern=r"^PRIME-\d{5}$",
        )
        db.session.add(site)
        db.session.flush()
    return site.id


def _exports_day0(n: int) -> date:
    return date(2025, 1, 6) + timedelta(days=n % 300)


def seed(
    first: int,
    last: int,
    rng: random.Random,
    *,
    day0_of: Callable[[int], date] = _exports_day0,
    sealed_slots: int | Callable[[int], int] | None = None,
) -> int:
    """Participants number first..last (inclusive); each has every scheduled visit and its first
    `sealed_slots` (visit, instrument) slots sealed in schedule order (all when None; a function
    of the participant's number gives each its own). Ids are
    given explicitly (participant n, its visits (n-1)*visits+1...), so callers can address them;
    PostgreSQL sequences are moved past them at the end. Returns the records inserted."""
    from sqlalchemy import insert

    from pro_app import records
    from pro_app.extensions import db
    from pro_app.models import EnteredBy, Participant, Response, Visit
    from pro_app.questionnaire.catalog import catalog
    from pro_app.questionnaire.kinds.base import Baseline, ParticipantFacts
    from pro_app.questionnaire.kinds.choice import ChoiceQuestionnaire
    from pro_app.questionnaire.scoring import score
    from pro_app.questionnaire.worksheet import Worksheet
    from pro_app.services import sealing

    loaded = catalog()
    mlhfq = loaded.instrument("mlhfq")
    walk = loaded.instrument("sixmwt")
    assert isinstance(mlhfq, ChoiceQuestionnaire)
    assert isinstance(walk, Worksheet)
    site_id = ensure_site()
    visits_per = len(loaded.schedule.visits)
    created = datetime(2025, 1, 1, tzinfo=UTC)
    pack = loaded.textpack("mlhfq", "zh_Hans")
    made = 0
    for start in range(first, last + 1, BATCH):
        numbers = range(start, min(start + BATCH, last + 1))
        participants, visits, responses = [], [], []
        for n in numbers:
            sex = "male" if n % 2 else "female"
            birth_year = 1946 + n % 30
            day0 = day0_of(n)
            participants.append(
                {
                    "id": n,
                    "study_id": f"PRIME-{n:05d}",
                    "site_id": site_id,
                    "sex": sex,
                    "birth_year": birth_year,
                    "height_cm": 150 + n % 35,
                    "preferred_language": "zh_Hans",
                    "day0": day0,
                    "status": "active",
                    "created_at": created,
                }
            )
            baseline_distance = None
            slots = 0
            limit = sealed_slots(n) if callable(sealed_slots) else sealed_slots
            for index, planned in enumerate(loaded.schedule.visits):
                visit_id = (n - 1) * visits_per + index + 1
                target = day0 + timedelta(days=planned.day)
                visits.append(
                    {
                        "id": visit_id,
                        "participant_id": n,
                        "code": planned.code,
                        "day": planned.day,
                        "target_date": target,
                        "window_start": target - timedelta(days=planned.days_before),
                        "window_end": target + timedelta(days=planned.days_after),
                    }
                )
                sealed_at = datetime.combine(target, datetime.min.time(), UTC) + timedelta(
                    hours=1, minutes=n % 50
                )
                for instrument_id in planned.instruments:
                    if limit is not None and slots >= limit:
                        break
                    slots += 1
                    if instrument_id == "mlhfq":
                        answers: dict[str, Any] = {
                            item_id: None if rng.random() < 0.01 else rng.randint(0, 5)
                            for item_id in mlhfq.item_ids
                        }
                        scores = {k: v.as_dict() for k, v in score(mlhfq, answers).items()}
                        version_of, scoring = mlhfq.version, mlhfq.scoring.version
                        textpack = (pack.pack_id, pack.sha256, pack.demo)
                    else:
                        values = _walk_values(rng, target)
                        facts = ParticipantFacts(sex, birth_year, 150 + n % 35)
                        base = Baseline(
                            "baseline",
                            None if planned.code == "baseline" else visit_id,
                            {"distance_m": baseline_distance},
                        )
                        scores = walk.computation.compute(values, facts, planned.code, base)
                        if planned.code == "baseline":
                            baseline_distance = scores["distance_m"]
                        answers = {
                            "worksheet": values,
                            "confirmed_warnings": {},
                            "timer": None,
                            "scales": {},
                            "entered_by": {f: "participant" for f in walk.item_ids},
                            "site_timezone": "Asia/Shanghai",
                        }
                        version_of, scoring = walk.version, walk.computation.version
                        textpack = ("none", "", False)
                    row = {
                        "visit_id": visit_id,
                        "instrument_id": instrument_id,
                        "version": 1,
                        "instrument_version": version_of,
                        "scoring_version": scoring,
                        "textpack_id": textpack[0],
                        "textpack_sha256": textpack[1],
                        "textpack_demo": textpack[2],
                        "language": "zh_Hans",
                        "languages": ["zh_Hans"],
                        "answers": answers,
                        "item_languages": {},
                        "scores": scores,
                        "entered_by": EnteredBy.PARTICIPANT,
                        "started_at": sealed_at - timedelta(minutes=9),
                        "submitted_at": sealed_at,
                        "voided": False,
                    }
                    # A transient row (never added to the session) is what sealing hashes too.
                    digest = records.record_sha256(
                        records.canonical_record(
                            Response(**row),
                            site_code=SITE_CODE,
                            study_id=f"PRIME-{n:05d}",
                            visit_code=planned.code,
                            staff_username=None,
                        )
                    )
                    row["record_sha256"] = digest
                    row["receipt_number"] = records.receipt_number(digest)
                    responses.append(row)
        db.session.execute(insert(Participant), participants)
        db.session.execute(insert(Visit), visits)
        if responses:
            db.session.execute(insert(Response), responses)
        db.session.commit()
        made += len(responses)
    sealing.recount()  # every visit's current records, as sealing each record would have kept it
    db.session.commit()
    fix_sequences()
    return made


def analyze() -> None:
    """On PostgreSQL, VACUUM ANALYZE, as autovacuum would have done on a database that grew over
    months: a bench right after a bulk load would otherwise time plans made for empty tables,
    and counts that read every row because no page is yet marked all-visible (the monitor's
    records total: 19 ms by a table scan, 5 ms by its index alone). Run after every bulk load."""
    from sqlalchemy import text

    from pro_app.extensions import db

    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.commit()
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def fix_sequences() -> None:
    """On PostgreSQL, move the id sequences past the explicit ids the seed inserted, and
    analyze."""
    from sqlalchemy import text

    from pro_app.extensions import db

    if db.session.get_bind().dialect.name != "postgresql":
        return
    analyze()
    db.session.execute(
        text(
            "SELECT setval(pg_get_serial_sequence('participant', 'id'), "
            "(SELECT coalesce(max(id), 1) FROM participant))"
        )
    )
    db.session.execute(
        text(
            "SELECT setval(pg_get_serial_sequence('visit', 'id'), "
            "(SELECT coalesce(max(id), 1) FROM visit))"
        )
    )
    db.session.commit()


def visits_per_participant() -> int:
    from pro_app.questionnaire.catalog import catalog

    return len(catalog().schedule.visits)


def issue_links(participants: range, visit_index: int = 0) -> list[str]:
    """A link to each participant's visit number `visit_index` (0 = baseline), as the link
    service stores it (the token's SHA-256 only); the tokens, in participant order."""
    from sqlalchemy import insert

    from pro_app import clock
    from pro_app.extensions import db
    from pro_app.models import VisitLink
    from pro_app.services.links import new_token, token_hash

    visits_per = visits_per_participant()
    tokens = [new_token() for _ in participants]
    now = clock.utcnow()
    rows = [
        {
            "visit_id": (n - 1) * visits_per + visit_index + 1,
            "token_sha256": token_hash(token),
            "issued_at": now,
        }
        for n, token in zip(participants, tokens, strict=True)
    ]
    for start in range(0, len(rows), 2_000):
        db.session.execute(insert(VisitLink), rows[start : start + 2_000])
    db.session.commit()
    return tokens


def add_staff(username: str, role: Any) -> None:
    """A staff account at the bench site with STAFF_PASSWORD, ready to sign in (no password
    change pending, no second factor)."""
    from sqlalchemy import select

    from pro_app import clock
    from pro_app.extensions import db
    from pro_app.models import Site, StaffUser
    from pro_app.services import accounts

    site = db.session.scalar(select(Site).where(Site.code == SITE_CODE))
    assert site is not None, "seed the site first"
    staff = StaffUser(
        username=username,
        password_hash=accounts.hash_password(STAFF_PASSWORD),
        role=role,
        is_active=True,
        must_change_password=False,
        totp_secret=None,
        failed_logins=0,
        language="zh_Hans",
        created_at=clock.utcnow(),
    )
    staff.sites = [site]
    db.session.add(staff)
    db.session.commit()


def today_in_site() -> date:
    from pro_app import clock

    return clock.today_in("Asia/Shanghai")


def add_review(monitor_username: str, after_response_id: int = 0, every: int = 97) -> int:
    """Review work on the records after `after_response_id`: an open query on every `every`-th
    record and a source-data verification mark on every third, as a monitor leaves them. Returns
    the queries opened."""
    from sqlalchemy import insert, select

    from pro_app import clock
    from pro_app.extensions import db
    from pro_app.models import DataQuery, QueryEvent, Response, SdvMark, StaffUser
    from pro_app.models.review import QueryStatus

    monitor = db.session.scalar(select(StaffUser.id).where(StaffUser.username == monitor_username))
    assert monitor is not None
    ids = list(
        db.session.scalars(
            select(Response.id).where(Response.id > after_response_id).order_by(Response.id)
        )
    )
    now = clock.utcnow()
    marks = [{"response_id": rid, "staff_id": monitor, "marked_at": now} for rid in ids[::3]]
    for start in range(0, len(marks), 5_000):
        db.session.execute(insert(SdvMark), marks[start : start + 5_000])
    queried = ids[every - 1 :: every]
    for response_id in queried:
        query_id = db.session.execute(
            insert(DataQuery)
            .values(
                response_id=response_id,
                field=None,
                status=QueryStatus.OPEN,
                opened_by_id=monitor,
                opened_at=now,
                updated_at=now,
            )
            .returning(DataQuery.id)
        ).scalar_one()
        db.session.execute(
            insert(QueryEvent).values(
                query_id=query_id,
                step=QueryStatus.OPEN,
                staff_id=monitor,
                at=now,
                text="请核对本次记录的日期。Please check the date of this record.",
            )
        )
    db.session.commit()
    return len(queried)
