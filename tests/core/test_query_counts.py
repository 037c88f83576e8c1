"""The number of SQL statements behind each main page does not grow with the trial: a page with
one participant (or visit) and the same page with fifty issue the same number of statements."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from pro_app.extensions import db
from pro_app.models import Role
from tests.actions import Patient, StaffBrowser
from tests.factories import issue_token, make_participant, make_site, make_staff, visit_of
from tests.walklog import seal_log


@contextmanager
def counted() -> Iterator[list[str]]:
    """Every statement sent to the database inside the block."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements_of(request: Callable[[], Any]) -> int:
    with counted() as statements:
        response = request()
    assert response.status_code == 200, response.status_code
    return len(statements)


def _trial(size: int) -> None:
    """`size` participants at SEH, each with a link issued and a sealed 6MWT at baseline."""
    for number in range(1, size + 1):
        participant = make_participant(f"PRIME-{number:03d}")
        visit = visit_of(participant)
        issue_token(participant)
        seal_log(visit)
    db.session.commit()


@pytest.fixture
def staff_pages(client: FlaskClient) -> Callable[[int, Role], StaffBrowser]:
    def signed_in(size: int, role: Role) -> StaffBrowser:
        _trial(size)
        make_staff(f"{role.value}-q", role=role, sites=[make_site("SEH")])
        db.session.commit()
        browser = StaffBrowser(client)
        assert browser.sign_in(f"{role.value}-q").status_code == 303
        return browser

    return signed_in


STAFF_PAGES = [
    (Role.COORDINATOR, "/desk/"),
    (Role.COORDINATOR, "/desk/participants?status=all"),
    (Role.COORDINATOR, "/desk/participants/{first}"),
    (Role.MONITOR, "/monitor/"),
]


def _first_participant_id() -> int:
    from sqlalchemy import select

    from pro_app.models import Participant

    found = db.session.scalar(select(Participant.id).where(Participant.study_id == "PRIME-001"))
    assert found is not None
    return found


@pytest.mark.parametrize(("role", "url"), STAFF_PAGES)
def test_staff_pages_do_not_grow_with_the_trial(
    app_ctx: Flask,
    staff_pages: Callable[[int, Role], StaffBrowser],
    role: Role,
    url: str,
) -> None:
    browser = staff_pages(1, role)
    small = statements_of(lambda: browser.get(url.format(first=_first_participant_id())))
    _trial_more()
    large = statements_of(lambda: browser.get(url.format(first=_first_participant_id())))
    assert large == small, f"{url}: {small} statements with 1 participant, {large} with 50"


def _trial_more() -> None:
    for number in range(2, 51):
        participant = make_participant(f"PRIME-{number:03d}")
        issue_token(participant)
        seal_log(visit_of(participant))
    db.session.commit()


def test_patient_pages_do_not_grow_with_the_trial(app_ctx: Flask, client: FlaskClient) -> None:
    participant = make_participant("PRIME-900")
    patient = Patient(client, issue_token(participant))
    assert patient.start().status_code == 303
    item = statements_of(lambda: client.get("/visit/mlhfq/q/3"))
    visit = statements_of(lambda: client.get("/visit"))
    _trial_more()
    assert statements_of(lambda: client.get("/visit/mlhfq/q/3")) == item
    assert statements_of(lambda: client.get("/visit")) == visit
    print(f"item page {item}, visit page {visit}")
