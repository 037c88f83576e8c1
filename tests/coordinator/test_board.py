"""The due board: what is open today (soonest to close first), what opens within 7 days, what was
missed in the last 14 days; active participants of the user's own sites only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from pro_app.extensions import db
from pro_app.questionnaire.catalog import catalog
from pro_app.services import corrections, enrolment, progress
from tests.actions import Patient, StaffBrowser
from tests.factories import (
    TODAY,
    issue_token,
    make_participant,
    make_site,
    make_staff,
    visit_of,
)
from tests.walklog import seal_log


def _section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    end = page.find("</section>", start)
    return page[start:end]


def _row(section: str, study_id: str) -> str:
    start = section.index(study_id)
    return section[section.rfind("<tr", 0, start) : section.index("</tr>", start)]


def test_board_sections_and_order(
    client: FlaskClient, desk: StaffBrowser, coordinator: object
) -> None:
    # Baseline window is Day 0 - 14 .. Day 0; D7 is Day 5 .. Day 9; D43 is Day 36 .. Day 50.
    make_participant("PRIME-001", day0=TODAY)  # baseline closes today
    make_participant("PRIME-002", day0=TODAY + timedelta(days=10))  # baseline open, closes in 10
    make_participant("PRIME-003", day0=TODAY + timedelta(days=17))  # baseline opens in 3 days
    make_participant("PRIME-004", day0=TODAY + timedelta(days=30))  # opens in 16 days: not shown
    make_participant("PRIME-005", day0=TODAY - timedelta(days=5))  # baseline missed 5 days ago
    make_participant("PRIME-006", day0=TODAY - timedelta(days=40))  # D43 open, target in 3 days
    done = make_participant("PRIME-007", day0=TODAY)
    gone = make_participant("PRIME-008", day0=TODAY)
    other = make_participant("PRIME-009", day0=TODAY, site=make_site("XYZ"))
    patient = Patient(client.application.test_client(), issue_token(done))
    patient.start()
    patient.answer_all([1] * 21)
    patient.submit()
    seal_log(visit_of(done))
    staff = db.session.merge(coordinator)
    enrolment.withdraw(gone, reason="moved away", staff=staff)  # type: ignore[arg-type]
    db.session.commit()
    assert other.site.code == "XYZ"

    page = desk.get("/desk/").get_data(as_text=True)
    open_now = _section(page, "open-now")
    assert open_now.index("PRIME-001") < open_now.index("PRIME-002"), "soonest to close first"
    assert "今天截止" in _row(open_now, "PRIME-001") and "10天后截止" in _row(open_now, "PRIME-002")
    assert "第43天" in _row(open_now, "PRIME-006") and "已过目标日" not in _row(
        open_now, "PRIME-006"
    )
    assert "row-urgent" in _row(open_now, "PRIME-001")

    soon = _section(page, "opening-soon")
    assert "PRIME-003" in soon and "3天后" in soon
    missed = _section(page, "missed")
    assert "PRIME-005" in missed and "超窗未完成" in missed
    for absent in ("PRIME-004", "PRIME-008", "PRIME-009"):
        assert absent not in page, absent
    # PRIME-007 finished its baseline: it is on the board only for D7, due in 5 days.
    assert "PRIME-007" not in open_now and "PRIME-007" not in missed
    assert "PRIME-007" in soon
    assert "SEH：今天是2026年11月25日（北京时间）" in page


def test_overdue_is_flagged(client: FlaskClient, desk: StaffBrowser) -> None:
    # D43 target is Day 43; on Day 45 it is past target but its window (to Day 50) is open.
    make_participant("PRIME-010", day0=TODAY - timedelta(days=45))
    db.session.commit()
    open_now = _section(desk.get("/desk/").get_data(as_text=True), "open-now")
    row = _row(open_now, "PRIME-010")
    assert "已过目标日" in row and "5天后截止" in row


def test_empty_board(desk: StaffBrowser) -> None:
    page = desk.get("/desk/").get_data(as_text=True)
    assert "今天没有开放的访视窗。" in page and "没有超窗的访视。" in page


def test_a_link_can_be_issued_from_the_board(client: FlaskClient, desk: StaffBrowser) -> None:
    without = make_participant("PRIME-011", day0=TODAY)
    with_link = make_participant("PRIME-012", day0=TODAY)
    issue_token(with_link)
    db.session.commit()
    open_now = _section(desk.get("/desk/").get_data(as_text=True), "open-now")
    visit = visit_of(without)
    assert f'action="/desk/visits/{visit.id}/link"' in _row(open_now, "PRIME-011")
    assert '/link"' not in _row(open_now, "PRIME-012"), "no second link from the board"
    issued = desk.post(f"/desk/visits/{visit.id}/link", page_url="/desk/")
    issued = desk.get(issued.location)
    assert issued.status_code == 200 and "已为PRIME-011发放链接" in issued.get_data(as_text=True)


def test_each_section_shows_its_most_urgent_rows_and_says_how_many_more(
    desk: StaffBrowser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However large the trial, a section lists at most BOARD_ROWS visits, the most urgent."""
    monkeypatch.setattr(progress, "BOARD_ROWS", 2)
    for number, closes_in in ((21, 6), (22, 2), (23, 9), (24, 4)):
        make_participant(f"PRIME-{number:03d}", day0=TODAY + timedelta(days=closes_in))
    db.session.commit()
    page = desk.get("/desk/").get_data(as_text=True)
    open_now = _section(page, "open-now")
    assert open_now.index("PRIME-022") < open_now.index("PRIME-024")
    assert "PRIME-021" not in open_now and "PRIME-023" not in open_now
    assert '<span class="count">4</span>' in open_now
    assert "共4条，这里只列出最紧急的2条。" in open_now and "查看全部受试者" in open_now


def test_opening_soon_lists_the_soonest_and_missed_the_latest_first(
    desk: StaffBrowser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "BOARD_ROWS", 2)
    # The baseline window runs from Day 0 - 14 to Day 0 (no grace days in the tests).
    for number, opens_in in ((51, 6), (52, 1), (53, 3)):
        make_participant(f"PRIME-{number:03d}", day0=TODAY + timedelta(days=14 + opens_in))
    for number, closed_ago in ((61, 9), (62, 2), (63, 5)):
        make_participant(f"PRIME-{number:03d}", day0=TODAY - timedelta(days=closed_ago))
    db.session.commit()
    page = desk.get("/desk/").get_data(as_text=True)
    soon = _section(page, "opening-soon")
    assert soon.index("PRIME-052") < soon.index("PRIME-053") and "PRIME-051" not in soon
    # PRIME-062's Day 7 window opens in 3 days too: it comes after PRIME-053 by study id.
    assert "PRIME-062" not in soon and '<span class="count">4</span>' in soon
    missed = _section(page, "missed")
    assert missed.index("PRIME-062") < missed.index("PRIME-063") and "PRIME-061" not in missed
    assert '<span class="count">3</span>' in missed


def test_a_voided_record_puts_its_visit_back_on_the_board(
    client: FlaskClient, desk: StaffBrowser, coordinator: object
) -> None:
    participant = make_participant("PRIME-031", day0=TODAY + timedelta(days=3))
    patient = Patient(client.application.test_client(), issue_token(participant))
    patient.start()
    patient.answer_all([1] * 21)
    patient.submit()
    record = seal_log(visit_of(participant))
    db.session.commit()
    assert "PRIME-031" not in _section(desk.get("/desk/").get_data(as_text=True), "open-now")
    corrections.void(
        record,
        reason="belongs to PRIME-002",
        reason_code="wrong_participant",
        staff=db.session.merge(coordinator),  # type: ignore[arg-type]
        catalog=catalog(),
    )
    db.session.commit()
    assert "PRIME-031" in _section(desk.get("/desk/").get_data(as_text=True), "open-now")


def test_each_site_sorts_its_visits_by_its_own_today(client: FlaskClient) -> None:
    """At 02:00 UTC it is already 25 November in Shanghai, still the 24th in Los Angeles: a
    window opening on the 25th is open at the one site and opens tomorrow at the other."""
    shanghai = make_site("SEH")
    los_angeles = make_site("LAX")
    los_angeles.timezone = "America/Los_Angeles"
    make_staff("coord-two", sites=[shanghai, los_angeles])
    # The baseline window runs from Day 0 - 14 to Day 0: it opens on TODAY.
    make_participant("PRIME-041", site=shanghai, day0=TODAY + timedelta(days=14))
    make_participant("PRIME-042", site=los_angeles, day0=TODAY + timedelta(days=14))
    db.session.commit()
    desk = StaffBrowser(client)
    assert desk.sign_in("coord-two").status_code == 303
    page = desk.get("/desk/").get_data(as_text=True)
    open_now, soon = _section(page, "open-now"), _section(page, "opening-soon")
    assert "PRIME-041" in open_now and "PRIME-041" not in soon
    assert "PRIME-042" in soon and "PRIME-042" not in open_now
    assert "1天后" in _row(soon, "PRIME-042")
    assert '<span class="count">1</span>' in open_now and '<span class="count">1</span>' in soon
