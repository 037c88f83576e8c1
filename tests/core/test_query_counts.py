"""The number of SQL statements behind each main page does not grow with the trial: a page with
one participant (or visit) and the same page with fifty issue the same number of statements. And a
patient's item step (GET the question, POST the answer, follow the redirect) stays within its
budget of statements on both engines."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from pro_app.extensions import db
from pro_app.models import Role
from tests.actions import Patient, StaffBrowser, csrf_of
from tests.factories import issue_token, make_participant, make_site, make_staff, visit_of
from tests.walklog import seal_log

# GET the question, POST the answer, GET the next question (where the 303 leads). Counted as the
# statements the app sends: transaction control (BEGIN, COMMIT) is not counted on either engine
# (psycopg's own BEGIN is not seen by SQLAlchemy; SQLite's BEGIN IMMEDIATE is, and is excluded).
ITEM_STEP_BUDGET = 5


@contextmanager
def counted() -> Iterator[list[str]]:
    """Every statement sent to the database inside the block, but the SAVEPOINTs the test
    harness wraps each request in (a real server issues BEGIN and COMMIT instead)."""
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


def test_an_item_step_costs_at_most_five_statements(app_ctx: Flask, client: FlaskClient) -> None:
    """GET item 3, POST its answer, follow the 303 to item 4: the visit, the "sealed?" check and
    the saved answer come from one query per request; the POST holds the audit trail (PostgreSQL:
    its head row locked; SQLite: the write lock, the head read with the slot) and writes the
    answer with its audit event (PostgreSQL: one statement; SQLite: two)."""
    participant = make_participant("PRIME-901")
    patient = Patient(client, issue_token(participant))
    assert patient.start().status_code == 303
    assert patient.answer(1, 2).status_code == 303  # the chain and the draft are not empty
    with counted() as statements:
        page = client.get("/visit/mlhfq/q/3")
        assert page.status_code == 200
        on_get = len(statements)
        answered = client.post(
            "/visit/mlhfq/q/3", data={"csrf_token": csrf_of(page), "answer": "4"}
        )
        assert answered.status_code == 303
        assert answered.headers["Location"].endswith("/visit/mlhfq/q/4")
        assert client.get("/visit/mlhfq/q/4").status_code == 200
    listing = "\n".join(" ".join(statement.split())[:120] for statement in statements)
    print(f"item step: {len(statements)} statements\n{listing}")
    assert len(statements) <= ITEM_STEP_BUDGET, f"{len(statements)} statements:\n{listing}"
    assert on_get == 1, listing
    assert statements[-1] == statements[0], "the redirect's page is read like any question's"
    again = client.get("/visit/mlhfq/q/3").get_data(as_text=True)
    assert 'value="4" checked' in again


def test_changing_an_answer_costs_the_same(app_ctx: Flask, client: FlaskClient) -> None:
    """An answer given again (an update, not an insert) stays within the same budget and audits
    the previous value."""
    participant = make_participant("PRIME-902")
    patient = Patient(client, issue_token(participant))
    assert patient.start().status_code == 303
    assert patient.answer(3, 1).status_code == 303
    with counted() as statements:
        assert patient.answer(3, 5).status_code == 303
    assert len(statements) <= ITEM_STEP_BUDGET
    from sqlalchemy import select

    from pro_app.models import AuditEvent

    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (last.details["value"], last.details["previous"]) == (5, 1)


def test_start_reads_the_link_once(app_ctx: Flask, client: FlaskClient) -> None:
    """Start: the link (with its visit, participant and site, and whether the visit has saved
    answers), the link's update and its audit event (the head, then the update and the insert:
    one statement on PostgreSQL). A first Start has no answers to read for where to go next (nor
    records, until one is sealed): the link is not read back."""
    patient = Patient(client, issue_token(make_participant("PRIME-901")))
    landing = patient.open_link().get_data(as_text=True)
    start_token = re.search(r'name="start_token" value="([^"]+)"', landing)
    assert start_token is not None
    with counted() as statements:
        started = client.post(f"/s/{patient.token}", data={"start_token": start_token.group(1)})
    assert started.status_code == 303
    assert started.headers["Location"].endswith("/visit/mlhfq")
    listing = "\n".join(statements)
    postgresql = db.engine.dialect.name == "postgresql"
    assert len(statements) <= (3 if postgresql else 4), f"{len(statements)} statements:\n{listing}"
    assert sum("FROM visit_link" in s for s in statements) == 1, listing
    (stamp,) = [s for s in statements if "UPDATE visit_link" in s]
    assert ("INSERT INTO audit_event" in stamp) == postgresql, listing
    if postgresql:  # the trail is held before the link's row is written: the desk's order
        head = next(n for n, s in enumerate(statements) if "audit_chain_head" in s)
        assert head < statements.index(stamp), listing
    # Asked with the link, not read: there are none yet.
    (asked,) = [s for s in statements if "draft_answer" in s]
    assert "FROM visit_link" in asked, listing


def test_the_landing_reads_no_records_while_none_is_sealed(
    app_ctx: Flask, client: FlaskClient
) -> None:
    """The landing: the link with its visit and whether the visit has saved answers; the
    answers once it has some, its records once the visit counts one (`Visit.current_records`).
    With answers saved, the landing offers to continue; after a seal it shows the record done."""
    participant = make_participant("PRIME-903")
    patient = Patient(client, issue_token(participant))
    with counted() as statements:
        landing = patient.open_link().get_data(as_text=True)
    assert 'class="tag ok"' not in landing and "开始" in landing and "继续" not in landing
    listing = "\n".join(statements)
    assert len(statements) == 1 and not any("FROM response" in s for s in statements), listing
    assert patient.start().status_code == 303
    assert patient.answer(1, 3).status_code == 303
    with counted() as statements:
        landing = patient.open_link().get_data(as_text=True)
    listing = "\n".join(statements)
    assert (
        len(statements) == 2 and sum(s.startswith("SELECT draft_answer") for s in statements) == 1
    )
    assert "继续" in landing, "a saved answer: the button says Continue"
    seal_log(visit_of(participant))
    with counted() as statements:
        landing = patient.open_link().get_data(as_text=True)
    listing = "\n".join(statements)
    assert len(statements) == 3 and sum("FROM response" in s for s in statements) == 1, listing
    assert landing.count('class="tag ok"') == 1  # the walk log: done


def test_submit_and_receipt_read_each_thing_once(app_ctx: Flask, client: FlaskClient) -> None:
    """The submit POST: the visit and whether the instrument is sealed (with the trail held), the
    drafts, then the writes (the record; then the drafts' delete, the visit's count of current
    records and the PDF job with the audit event). Neither the slot nor the trail's head is read a
    second time; the record's insert needs no savepoint (tests/core/test_transactions.py)."""
    patient = Patient(client, issue_token(make_participant("PRIME-902")))
    assert patient.start().status_code == 303
    patient.answer_all([2] * 21)
    page = client.get("/visit/mlhfq/submit")
    with counted() as statements:
        sealed = client.post("/visit/mlhfq/submit", data={"csrf_token": csrf_of(page)})
    assert sealed.status_code == 303
    assert sealed.headers["Location"].endswith("/visit/mlhfq/receipt")
    listing = "\n".join(statements)
    assert sum("newest" in s for s in statements) == 1, listing
    # The head is read beside the slot (and, on PostgreSQL, locked first by a statement of its
    # own), never again before the event's insert.
    head_reads = sum(s.lstrip().startswith("SELECT audit_chain_head") for s in statements)
    assert head_reads == (1 if db.engine.dialect.name == "postgresql" else 0), listing
    assert sum("UPDATE visit" in s for s in statements) == 1, listing
    assert sum("INSERT INTO job" in s for s in statements) == 1, listing
    # The drafts' delete, the recount and the PDF job run inside the audit event's insert on
    # PostgreSQL (one statement), before it on SQLite.
    if db.engine.dialect.name == "postgresql":
        (event,) = [s for s in statements if "INSERT INTO audit_event" in s]
        assert all(write in event for write in ("DELETE FROM draft", "UPDATE visit", "INTO job"))
    most = 5 if db.engine.dialect.name == "postgresql" else 7
    assert len(statements) <= most, f"{len(statements)} statements:\n{listing}"
    # The receipt: the visit, then its drafts and records for what is left (the record shown is
    # one of them, not read on its own).
    with counted() as statements:
        receipt = client.get("/visit/mlhfq/receipt")
    assert receipt.status_code == 200
    listing = "\n".join(statements)
    assert sum("FROM response" in s for s in statements) == 1, listing
    assert len(statements) <= 3, f"{len(statements)} statements:\n{listing}"
