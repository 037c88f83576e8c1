"""The patient journey through the Flask test client: link, items, review, submit, receipt."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select

from pro_app.extensions import db
from pro_app.models import AuditEvent, DraftAnswer, Job, Response, VisitLink
from tests.actions import Patient, csrf_of
from tests.factories import issue_token, make_participant

ALL_TWOS = [2] * 21


def _started(client: FlaskClient, language: str = "zh_Hans") -> Patient:
    participant = make_participant(language=language)
    patient = Patient(client, issue_token(participant))
    response = patient.start()
    assert response.status_code == 303
    return patient


def test_whole_flow_in_chinese(client: FlaskClient) -> None:
    patient = _started(client)
    intro = client.get("/visit/mlhfq")
    assert "心衰生活质量问卷" in intro.get_data(as_text=True)
    item = client.get("/visit/mlhfq/q/3")
    page = item.get_data(as_text=True)
    assert "第3题，共21题" in page and 'lang="zh-Hans"' in page
    patient.answer_all(ALL_TWOS)
    review = client.get("/visit/mlhfq/review").get_data(as_text=True)
    assert "检查您的回答" in review and "未回答" not in review
    confirm = client.get("/visit/mlhfq/submit").get_data(as_text=True)
    assert "提交后" in confirm
    done = patient.submit()
    assert done.status_code == 303 and done.location.endswith("/visit/mlhfq/receipt")
    receipt = client.get(done.location).get_data(as_text=True)
    record = db.session.scalars(select(Response)).one()
    assert record.receipt_number in receipt
    assert "2026年11月25日 10:00（北京时间）" in _text(receipt)  # in parts that stay whole
    assert "第3题" not in receipt  # the receipt never shows the answers again
    assert record.scores["total"] == {"value": 42, "missing": 0, "imputed": False}
    assert record.scores["physical"]["value"] == 16 and record.scores["emotional"]["value"] == 10
    assert record.language == "zh_Hans" and record.languages == ["zh_Hans"]


def test_whole_flow_in_english(client: FlaskClient) -> None:
    patient = _started(client, language="en")
    page = client.get("/visit/mlhfq/q/1").get_data(as_text=True)
    assert "Question 1 of 21" in page and 'lang="en"' in page
    patient.answer_all([5] * 21)
    patient.submit()
    record = db.session.scalars(select(Response)).one()
    assert record.scores["total"]["value"] == 105 and record.language == "en"
    receipt = client.get("/visit/mlhfq/receipt").get_data(as_text=True)
    assert "25 Nov 2026 10:00 China Standard Time" in _text(receipt)


def test_record_is_sealed_with_identity_of_everything_used(client: FlaskClient) -> None:
    patient = _started(client)
    patient.answer_all(ALL_TWOS)
    patient.submit()
    record = db.session.scalars(select(Response)).one()
    assert record.instrument_id == "mlhfq" and record.instrument_version == "1.0"
    assert record.scoring_version == "mlhfq-sum-1.0"
    assert record.textpack_id == "mlhfq-zh_Hans-demo-1" and record.textpack_demo
    assert len(record.textpack_sha256) == 64 and len(record.record_sha256) == 64
    assert record.entered_by.value == "participant" and record.staff_id is None
    assert record.submitted_at.tzinfo is not None
    assert db.session.scalar(select(func.count()).select_from(DraftAnswer)) == 0
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "response.submitted" in actions and actions.count("answer.saved") == 21


def test_next_without_a_choice_asks_for_one_and_saves_nothing(client: FlaskClient) -> None:
    patient = _started(client)
    response = patient.answer(1, None)
    assert response.status_code == 400
    assert "请选择一个答案" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(DraftAnswer)) == 0


def test_out_of_range_answers_are_refused(client: FlaskClient) -> None:
    patient = _started(client)
    for bad in ("6", "-1", "x", "2.5", ""):
        response = patient.answer(1, bad)
        assert response.status_code == 400, bad
    assert db.session.scalar(select(func.count()).select_from(DraftAnswer)) == 0


def test_a_skipped_item_is_blank_not_zero_and_marked_on_review(client: FlaskClient) -> None:
    patient = _started(client)
    values: list[int | None] = [3] * 21
    values[6] = None
    patient.answer_all(values)
    review = client.get("/visit/mlhfq/review").get_data(as_text=True)
    assert "还有1道题没有回答" in review
    # The rows can still be tapped to change an answer: the page says so here too.
    assert "如需修改，请点一下那道题。" in review and "所有题目都已回答" not in review
    patient.submit()
    record = db.session.scalars(select(Response)).one()
    assert record.answers["mlhf07"] is None
    assert record.scores["physical"] == {"value": None, "missing": 1, "imputed": False}
    assert record.scores["emotional"]["value"] == 15


_SAVE_STATE = re.compile(r'<p class="(save-state[^"]*)"[^>]*>([^<]*)</p>')


def _save_state(page: str) -> tuple[str, str]:
    """The question page's line under the answers: its class and its words."""
    found = _SAVE_STATE.search(page)
    assert found, "no save-state line"
    return found.group(1), found.group(2)


def test_a_skipped_question_says_it_was_skipped_not_saved(client: FlaskClient) -> None:
    patient = _started(client)
    patient.answer_all([3, None] + [3] * 19)
    skipped = client.get("/visit/mlhfq/q/2")
    assert _save_state(skipped.get_data(as_text=True)) == (
        "save-state",
        "您之前跳过了这道题，现在仍可以回答。",
    )
    answered = client.get("/visit/mlhfq/q/1").get_data(as_text=True)
    assert _save_state(answered) == ("save-state saved", "✓ 已自动保存")
    # Next on the skipped question without an answer: asked to choose, still not "saved".
    refused = client.post("/visit/mlhfq/q/2", data={"csrf_token": csrf_of(skipped)})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="answer-error"' in page
    assert _save_state(page) == ("save-state", "您之前跳过了这道题，现在仍可以回答。")


def test_review_links_every_unanswered_question_at_the_top(client: FlaskClient) -> None:
    patient = _started(client)
    values: list[int | None] = [None] * 21
    for number in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12):
        values[number - 1] = 2
    patient.answer_all(values)
    review = client.get("/visit/mlhfq/review").get_data(as_text=True)
    top = review.split('class="missing-links"')[1].split("</ul>")[0]
    linked = re.findall(r"/visit/mlhfq/q/(\d+)\?from=review", top)
    assert linked == [str(n) for n in range(13, 22)]


def test_review_lets_the_patient_change_an_answer(client: FlaskClient) -> None:
    patient = _started(client)
    patient.answer_all(ALL_TWOS)
    changed = patient.answer(5, 4, **{"from": "review"})
    assert changed.location.endswith("/visit/mlhfq/review")
    patient.submit()
    assert db.session.scalars(select(Response)).one().answers["mlhf05"] == 4


def test_back_keeps_the_answer_and_goes_to_the_previous_item(client: FlaskClient) -> None:
    patient = _started(client)
    patient.answer(1, 1)
    back = patient.answer(2, 3, action="back")
    assert back.location.endswith("/visit/mlhfq/q/1")
    page = client.get("/visit/mlhfq/q/2").get_data(as_text=True)
    assert 'value="3" checked' in page


def test_double_submit_makes_one_record_and_shows_the_receipt(client: FlaskClient) -> None:
    patient = _started(client)
    patient.answer_all(ALL_TWOS)
    page = client.get("/visit/mlhfq/submit")
    token = csrf_of(page)
    first = client.post("/visit/mlhfq/submit", data={"csrf_token": token})
    second = client.post("/visit/mlhfq/submit", data={"csrf_token": token})
    assert first.location == second.location and second.location.endswith("/receipt")
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_answers_after_submission_change_nothing(client: FlaskClient) -> None:
    patient = _started(client)
    patient.answer_all(ALL_TWOS)
    token = csrf_of(client.get("/visit/mlhfq/q/1"))  # a valid form, kept open on another tab
    patient.submit()
    late = client.post(
        "/visit/mlhfq/q/1", data={"csrf_token": token, "answer": "5", "action": "next"}
    )
    assert late.status_code == 303 and late.location.endswith("/visit/mlhfq/receipt")
    assert db.session.scalars(select(Response)).one().answers["mlhf01"] == 2


def test_start_records_when_the_link_was_first_used(client: FlaskClient) -> None:
    _started(client)
    link = db.session.scalars(select(VisitLink)).one()
    assert link.first_started_at is not None


def test_the_visit_page_says_how_much_is_answered_in_the_patients_language(
    client: FlaskClient,
) -> None:
    cases = (("PRIME-001", "zh_Hans", "已答3题，共21题"), ("PRIME-002", "en", "3 of 21 answered"))
    for study_id, language, expected in cases:
        participant = make_participant(study_id, language=language)
        patient = Patient(client, issue_token(participant))
        assert patient.start().status_code == 303
        for number in (1, 2, 3):
            assert patient.answer(number, 2).status_code == 303
        page = client.get("/visit").get_data(as_text=True)
        assert expected in page, language


def test_the_visit_page_leads_to_the_check_once_every_question_is_answered(
    client: FlaskClient,
) -> None:
    patient = _started(client)
    for number in range(1, 21):
        assert patient.answer(number, 2).status_code == 303
    partway = client.get("/visit").get_data(as_text=True)
    assert "继续填写" in partway and "检查您的回答并提交" not in partway
    assert patient.answer(21, None, "skip").status_code == 303  # nothing left to fill in
    done = client.get("/visit").get_data(as_text=True)
    assert "继续填写" not in done
    button = re.search(r'<a class="button primary" href="([^"]+)">检查您的回答并提交</a>', done)
    assert button and button.group(1) == "/visit/mlhfq/review"


def _text(page: str) -> str:
    """A page's words without its tags (a moment is written in spans that stay whole)."""
    return re.sub(r"<[^>]+>", "", page)
