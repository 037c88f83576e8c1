"""Factory functions for test data: a site, an enrolled participant, a visit link."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import select, text

from pro_app import clock
from pro_app.extensions import db
from pro_app.models import Participant, Response, Role, Sex, Site, StaffUser, Visit
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.definitions import Instrument
from pro_app.services import accounts, answering, enrolment, links, sealing

TODAY = date(2026, 11, 25)


def make_site(code: str = "SEH") -> Site:
    site = db.session.scalar(select(Site).where(Site.code == code))
    if site is None:
        site = Site(
            code=code,
            name_en=f"Site {code}",
            name_zh=f"研究中心{code}",
            timezone="Asia/Shanghai",
            study_id_pattern=r"^PRIME-\d{3}$",
            contact_en="Study nurse: 021-0000 0000",
            contact_zh="研究护士：021-0000 0000",
            phone="+86 21 0000 0000",
        )
        db.session.add(site)
        db.session.flush()
    return site


def make_participant(
    study_id: str = "PRIME-001",
    *,
    site: Site | None = None,
    day0: date = TODAY,
    language: str = "zh_Hans",
    sex: Sex = Sex.FEMALE,
    birth_year: int = 1958,
    height_cm: int = 160,
) -> Participant:
    return enrolment.enrol(
        site=site or make_site(),
        study_id=study_id,
        sex=sex,
        birth_year=birth_year,
        height_cm=height_cm,
        preferred_language=language,
        day0=day0,
        schedule=catalog().schedule,
        actor="test",
    )


def answer_mlhfq(visit: Visit, value: int = 1, *, actor: str = "test") -> Instrument:
    """Every MLHFQ item of the visit answered `value` (in English), not yet sealed."""
    mlhfq = catalog().instrument("mlhfq")
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, value, language="en", actor=actor)
    return mlhfq


def seal_mlhfq(visit: Visit, value: int = 1, *, actor: str = "test") -> Response:
    """The visit's MLHFQ answered `value` throughout and sealed."""
    mlhfq = answer_mlhfq(visit, value, actor=actor)
    return sealing.submit(visit, mlhfq, catalog(), language="en", actor=actor)


def visit_of(participant: Participant, code: str = "baseline") -> Visit:
    visit = enrolment.find_visit(participant, code)
    assert visit is not None
    return visit


def issue_token(participant: Participant, code: str = "baseline") -> str:
    _link, token = links.issue(visit_of(participant, code), actor="test")
    db.session.commit()
    return token


# --- staff -----------------------------------------------------------------------------------

STAFF_PASSWORD = "blue-kettle-river-42"
_password_hashes: dict[str, str] = {}


def _hash_of(password: str) -> str:
    # argon2 is slow on purpose; hash each test password once per test session.
    if password not in _password_hashes:
        _password_hashes[password] = accounts.hash_password(password)
    return _password_hashes[password]


def make_staff(
    username: str = "coord-a",
    role: Role = Role.COORDINATOR,
    sites: list[Site] | None = None,
    *,
    password: str = STAFF_PASSWORD,
    must_change_password: bool = False,
    totp_secret: str | None = None,
    language: str = "zh_Hans",
    active: bool = True,
) -> StaffUser:
    staff = StaffUser(
        username=username,
        password_hash=_hash_of(password),
        role=role,
        is_active=active,
        must_change_password=must_change_password,
        totp_secret=totp_secret,
        failed_logins=0,
        language=language,
        created_at=clock.utcnow(),
    )
    staff.sites = sites if sites is not None else [make_site()]
    db.session.add(staff)
    db.session.flush()
    return staff


# --- attacks ---------------------------------------------------------------------------------


@contextmanager
def as_database_owner() -> Iterator[None]:
    """Changes behind the application's back, with the append-only triggers out of the way."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        for table in ("audit_event", "response"):
            db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    yield
    if postgres:
        for table in ("audit_event", "response"):
            db.session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    db.session.expire_all()
