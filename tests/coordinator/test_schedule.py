"""The visit schedule: dates from Day 0, window edges in Asia/Shanghai, the status of each visit
and instrument as a coordinator sees it, and Day 0 corrections."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from pro_app import clock
from pro_app.errors import EnrolmentError, ReasonRequired
from pro_app.extensions import db
from pro_app.models import AuditEvent, VisitLink
from pro_app.questionnaire.catalog import catalog
from pro_app.services import enrolment, links, progress
from pro_app.services.progress import State
from tests.actions import Patient, StaffBrowser
from tests.factories import TODAY, issue_token, make_participant, visit_of
from tests.walklog import seal_log


def test_windows_follow_day0_and_the_schedule_file(client: FlaskClient) -> None:
    participant = make_participant(day0=date(2026, 11, 25))
    windows = {v.code: (v.target_date, v.window_start, v.window_end) for v in participant.visits}
    assert windows == {
        "baseline": (date(2026, 11, 25), date(2026, 11, 11), date(2026, 11, 25)),
        "d7": (date(2026, 12, 2), date(2026, 11, 30), date(2026, 12, 4)),
        "d43": (date(2027, 1, 7), date(2026, 12, 31), date(2027, 1, 14)),
        "d91": (date(2027, 2, 24), date(2027, 2, 17), date(2027, 3, 3)),
        "d180": (date(2027, 5, 24), date(2027, 5, 10), date(2027, 6, 7)),
        "d360": (date(2027, 11, 20), date(2027, 11, 6), date(2027, 12, 4)),
    }


def _state(participant_visit_code: str, participant: object) -> State:
    rows = progress.participant_progress(participant, catalog().schedule, 0)  # type: ignore[arg-type]
    return next(row.state for row in rows if row.visit.code == participant_visit_code)


def _shanghai(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """A Shanghai wall-clock time as UTC (UTC+8, no daylight saving)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=8)


def test_window_opens_and_closes_at_shanghai_midnight(client: FlaskClient) -> None:
    # Day 0 = 20 Nov: the D43 window runs 26 Dec .. 9 Jan, Shanghai calendar days.
    participant = make_participant(day0=date(2026, 11, 20))
    d43 = visit_of(participant, "d43")
    assert (d43.window_start, d43.window_end) == (date(2026, 12, 26), date(2027, 1, 9))
    edges = [
        (_shanghai(2026, 12, 25, 23, 59, 59), State.NOT_YET_OPEN),  # 15:59:59 UTC on the 25th
        (_shanghai(2026, 12, 26, 0, 0), State.OPEN),  # 16:00 UTC on the 25th
        (_shanghai(2027, 1, 9, 23, 59, 59), State.OPEN),  # last day is inside
        (_shanghai(2027, 1, 10, 0, 0), State.MISSED),
    ]
    for instant, expected in edges:
        with clock.frozen(instant):
            assert _state("d43", participant) is expected, instant.isoformat()


def test_grace_days_extend_only_when_configured(client: FlaskClient) -> None:
    participant = make_participant(day0=date(2026, 11, 20))
    with clock.frozen(_shanghai(2027, 1, 10, 9, 0)):
        rows = progress.participant_progress(participant, catalog().schedule, 2)
        d43 = next(row for row in rows if row.visit.code == "d43")
        assert d43.state is State.OPEN and d43.overdue and d43.days_left == 1


@pytest.mark.parametrize(
    ("link", "kwargs", "expected"),
    [
        (None, {"submitted": True, "withdrawn": True}, State.SUBMITTED),
        (None, {"withdrawn": True}, State.WITHDRAWN),
        ("started", {"today": date(2026, 1, 11), "answered_any": True}, State.MISSED),
        ("started", {"answered_any": True}, State.IN_PROGRESS),
        ("started", {}, State.OPENED),
        ("issued", {}, State.LINK_ISSUED),
        ("issued", {"today": date(2026, 1, 1)}, State.LINK_ISSUED),
        (None, {}, State.OPEN),
        (None, {"today": date(2026, 1, 10)}, State.OPEN),
        (None, {"today": date(2026, 1, 1)}, State.NOT_YET_OPEN),
    ],
)
def test_instrument_state_table(
    link: str | None, kwargs: dict[str, object], expected: State
) -> None:
    arguments: dict[str, object] = {
        "today": date(2026, 1, 5),
        "window_start": date(2026, 1, 3),
        "closes": date(2026, 1, 10),
        "submitted": False,
        "answered_any": False,
        "link": None,
        "withdrawn": False,
    }
    if link is not None:
        started = clock.utcnow() if link == "started" else None
        arguments["link"] = VisitLink(first_started_at=started)
    arguments.update(kwargs)
    assert progress.instrument_state(**arguments) is expected  # type: ignore[arg-type]


def test_visit_state_combines_its_instruments() -> None:
    assert progress.visit_state([]) is State.NOTHING_DUE
    assert progress.visit_state([State.SUBMITTED, State.SUBMITTED]) is State.SUBMITTED
    assert progress.visit_state([State.SUBMITTED, State.OPEN]) is State.IN_PROGRESS
    assert progress.visit_state([State.SUBMITTED, State.MISSED]) is State.MISSED
    assert progress.visit_state([State.OPEN, State.LINK_ISSUED]) is State.LINK_ISSUED


def _visit_block(page: str, code: str) -> str:
    start = page.index(f'id="visit-{code}"')
    end = page.find('<li class="visit', start)
    return page[start : end if end != -1 else len(page)]


def test_participant_page_follows_a_visit_from_open_to_submitted(
    client: FlaskClient, desk: StaffBrowser
) -> None:
    participant = make_participant(day0=TODAY)
    db.session.commit()
    url = f"/desk/participants/{participant.id}"
    block = _visit_block(desk.get(url).get_data(as_text=True), "baseline")
    assert "已开放" in block and "今天截止" in block and "发放链接" in block
    assert "未开放" in _visit_block(desk.get(url).get_data(as_text=True), "d43")
    d7 = _visit_block(desk.get(url).get_data(as_text=True), "d7")
    assert "未开放" in d7 and "6分钟步行试验" in d7 and "MLHFQ" not in d7

    token = issue_token(participant)
    block = _visit_block(desk.get(url).get_data(as_text=True), "baseline")
    assert "state-link_issued" in block and "尚未打开" in block

    patient = Patient(client.application.test_client(), token)
    clock.advance(timedelta(minutes=5))
    patient.start()
    block = _visit_block(desk.get(url).get_data(as_text=True), "baseline")
    assert "state-opened" in block and "打开于2026年11月25日 10:05（北京时间）" in block

    for number in (1, 2, 3):
        patient.answer(number, 2)
    block = _visit_block(desk.get(url).get_data(as_text=True), "baseline")
    assert "state-in_progress" in block and "已答3题，共21题" in block

    patient.answer_all([1] * 21)
    clock.advance(timedelta(minutes=7))
    patient.submit()
    seal_log(visit_of(participant))
    db.session.commit()
    block = _visit_block(desk.get(url).get_data(as_text=True), "baseline")
    assert "state-submitted" in block and "提交于2026年11月25日 10:12（北京时间）" in block
    assert "发放链接" not in block.replace("已发放链接", "")


def test_the_walk_test_done_at_the_clinic_does_not_take_the_patient_links_state(
    client: FlaskClient, desk: StaffBrowser
) -> None:
    participant = make_participant(day0=TODAY)
    db.session.commit()
    patient = Patient(client.application.test_client(), issue_token(participant))
    patient.start()
    patient.answer_all([1] * 21)
    patient.submit()
    db.session.commit()
    block = _visit_block(
        desk.get(f"/desk/participants/{participant.id}").get_data(True), "baseline"
    )
    walk = block.split("6分钟步行试验记录")[1].split("</li>")[0]
    assert 'class="state state-open"' in walk and "state-opened" not in walk
    # The link is still active (the MLHFQ's record is sealed): what is left is the clinic's.
    assert "已发放链接" in block
    assert "其余部分在研究中心完成：请使用代录入。" in block
    assert "不发放受试者链接" not in block
    rows = progress.participant_progress(participant, catalog().schedule, 0)
    baseline = next(row for row in rows if row.visit.code == "baseline")
    assert [row.state for row in baseline.instruments] == [State.SUBMITTED, State.OPEN]
    assert baseline.state is State.IN_PROGRESS


def test_a_closed_window_shows_missed(client: FlaskClient, desk: StaffBrowser) -> None:
    participant = make_participant(day0=TODAY - timedelta(days=10))
    db.session.commit()
    page = desk.get(f"/desk/participants/{participant.id}").get_data(as_text=True)
    block = _visit_block(page, "baseline")
    assert "超窗未完成" in block and "发放链接" not in block


def test_chinese_schedule_joins_the_window_with_zhi(
    client: FlaskClient, desk: StaffBrowser
) -> None:
    participant = make_participant(day0=TODAY)
    db.session.commit()
    page = desk.get(f"/desk/participants/{participant.id}").get_data(as_text=True)
    assert (
        '<span class="nowrap">2026年11月11日</span>至<span class="nowrap">2026年11月25日</span>'
        in page
    )


def test_english_schedule_with_zone(client: FlaskClient, desk: StaffBrowser) -> None:
    participant = make_participant(day0=TODAY)
    db.session.commit()
    desk.post("/staff/account/language", {"language": "en"})
    page = desk.get(f"/desk/participants/{participant.id}").get_data(as_text=True)
    assert (
        '<span class="nowrap">11 Nov 2026</span> – <span class="nowrap">25 Nov 2026</span>' in page
    )
    assert "time zone (China Standard Time)" in page


# --- Day 0 correction ---------------------------------------------------------------------


def test_day0_correction_moves_visits_without_data_and_keeps_the_rest(
    client: FlaskClient, desk: StaffBrowser
) -> None:
    participant = make_participant(day0=TODAY)
    patient = Patient(client.application.test_client(), issue_token(participant))
    patient.start()
    patient.answer(1, 3)
    db.session.commit()
    url = f"/desk/participants/{participant.id}/day0"
    form = desk.get(url).get_data(as_text=True)
    assert "保持不变（已有回答）" in form and "重新计算" in form
    no_reason = desk.post(url, {"day0": "2026-11-28", "reason": ""}, page_url=url)
    assert no_reason.status_code == 400 and "请填写原因" in no_reason.get_data(as_text=True)
    done = desk.post(url, {"day0": "2026-11-28", "reason": "infusion postponed"}, page_url=url)
    assert done.status_code == 303
    db.session.expire_all()
    baseline, d7 = visit_of(participant, "baseline"), visit_of(participant, "d7")
    assert (baseline.window_start, baseline.window_end) == (date(2026, 11, 11), date(2026, 11, 25))
    assert (d7.target_date, d7.window_start, d7.window_end) == (
        date(2026, 12, 5),
        date(2026, 12, 3),
        date(2026, 12, 7),
    )
    assert participant.day0 == date(2026, 11, 28)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "participant.day0_corrected")
    ).one()
    assert event.details["reason"] == "infusion postponed"
    assert event.details["previous"] == "2026-11-25" and event.details["kept"] == ["baseline"]
    assert {m["visit"] for m in event.details["moved"]} == {"d7", "d43", "d91", "d180", "d360"}


def test_day0_correction_refusals(client: FlaskClient) -> None:
    participant = make_participant(day0=TODAY)
    schedule = catalog().schedule
    with pytest.raises(ReasonRequired):
        enrolment.correct_day0(participant, TODAY, reason=" ", schedule=schedule, actor="t")
    with pytest.raises(EnrolmentError, match="unchanged"):
        enrolment.correct_day0(participant, TODAY, reason="typo", schedule=schedule, actor="t")
    with pytest.raises(EnrolmentError, match="range"):
        enrolment.correct_day0(
            participant, TODAY + timedelta(days=200), reason="typo", schedule=schedule, actor="t"
        )
    # Baseline has answers and keeps its window; moving Day 0 back 20 days would put D7 before it.
    patient = Patient(client, issue_token(participant))
    patient.start()
    patient.answer(1, 1)
    with pytest.raises(EnrolmentError, match="overlaps_visit_with_data"):
        enrolment.correct_day0(
            participant, TODAY - timedelta(days=20), reason="typo", schedule=schedule, actor="t"
        )


def test_links_follow_a_corrected_window(client: FlaskClient) -> None:
    participant = make_participant(day0=TODAY + timedelta(days=20))
    token = issue_token(participant, "baseline")
    assert client.get(f"/s/{token}").status_code == 403
    enrolment.correct_day0(
        participant, TODAY, reason="date typo", schedule=catalog().schedule, actor="t"
    )
    db.session.commit()
    assert client.get(f"/s/{token}").status_code == 200
    assert links.active_link(visit_of(participant)) is not None
