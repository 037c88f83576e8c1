"""The coordinator's participants list: each participant's next visit with its window and state,
and how many visits are submitted of those due (the visits read for the whole page at once)."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from pro_app.extensions import db
from tests.actions import Patient, StaffBrowser
from tests.factories import TODAY, issue_token, make_participant, visit_of
from tests.walklog import seal_log


def _row(page: str, study_id: str) -> str:
    start = page.index(f">{study_id}<")
    return page[page.rfind("<tr", 0, start) : page.index("</tr>", start)]


def test_each_row_shows_its_own_next_visit_and_submitted_count(
    client: FlaskClient, desk: StaffBrowser
) -> None:
    waiting = make_participant("PRIME-071", day0=TODAY)  # baseline open, closes today
    done = make_participant("PRIME-072", day0=TODAY)
    # Day 20: the baseline and Day 7 windows have closed unanswered; Day 43 is next.
    missed = make_participant("PRIME-073", day0=TODAY - timedelta(days=20))
    patient = Patient(client.application.test_client(), issue_token(done))
    patient.start()
    patient.answer_all([1] * 21)
    patient.submit()
    seal_log(visit_of(done))
    db.session.commit()
    assert waiting.id and missed.id

    page = desk.get("/desk/participants").get_data(as_text=True)
    first = _row(page, "PRIME-071")
    assert "基线（第0天）" in first and "state-open" in first and "0 / " in first
    second = _row(page, "PRIME-072")
    assert "基线" not in second and "第7天" in second and "1 / " in second
    third = _row(page, "PRIME-073")
    assert "第43天" in third and "0 / 6" in third and "超窗未完成2次" in third, third
