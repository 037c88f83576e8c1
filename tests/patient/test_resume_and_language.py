"""Nothing is lost: resume on a second device, after a lost cookie, and across a language switch."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pro_app.extensions import db
from pro_app.models import Response, Visit
from pro_app.services import answering
from tests.actions import Patient
from tests.factories import issue_token, make_participant


def test_second_device_resumes_at_first_unanswered_item(app_ctx: Flask) -> None:
    token = issue_token(make_participant())
    phone = Patient(app_ctx.test_client(), token)
    phone.start()
    for number in range(1, 6):
        phone.answer(number, number % 6)
    tablet = Patient(app_ctx.test_client(), token)
    resumed = tablet.start()
    assert resumed.location.endswith("/visit/mlhfq/q/6")
    page = tablet.client.get("/visit/mlhfq/q/4").get_data(as_text=True)
    assert 'value="4" checked' in page


def test_lost_cookie_then_reopening_the_link_resumes(app_ctx: Flask) -> None:
    token = issue_token(make_participant())
    client = app_ctx.test_client()
    patient = Patient(client, token)
    patient.start()
    patient.answer(1, 2)
    patient.answer(2, 3)
    client.delete_cookie("session")
    lost = client.get("/visit/mlhfq/q/3")
    assert lost.status_code == 401
    text = lost.get_data(as_text=True)
    assert "请重新打开您的链接" in text and "Please open your link again" in text
    assert patient.start().location.endswith("/visit/mlhfq/q/3")


def test_language_switch_mid_way_keeps_every_answer_and_is_recorded(client: FlaskClient) -> None:
    patient = Patient(client, issue_token(make_participant(language="zh_Hans")))
    patient.start()
    for number in range(1, 11):
        patient.answer(number, 1)
    english = client.get("/visit/mlhfq/q/11", query_string={"lang": "en"})
    assert "Question 11 of 21" in english.get_data(as_text=True)
    back = client.get("/visit/mlhfq/q/10").get_data(as_text=True)
    assert 'value="1" checked' in back and "Question 10 of 21" in back
    for number in range(11, 22):
        patient.answer(number, 2)
    patient.submit()
    record = db.session.scalars(select(Response)).one()
    assert record.languages == ["en", "zh_Hans"] and record.language == "en"
    assert record.item_languages["mlhf01"] == "zh_Hans" and record.item_languages["mlhf21"] == "en"
    assert record.scores["total"]["value"] == 10 + 22


def test_first_language_is_the_participants_then_the_browsers(client: FlaskClient) -> None:
    patient = Patient(client, issue_token(make_participant(language="en")))
    assert 'lang="en"' in patient.open_link().get_data(as_text=True)
    unknown = client.get("/s/nosuchtoken", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in unknown.get_data(as_text=True)
    chinese = client.get("/s/nosuchtoken", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert 'lang="zh-Hans"' in chinese.get_data(as_text=True)


def test_an_answer_records_the_language_of_the_page_it_was_given_on(client: FlaskClient) -> None:
    """Another tab may have switched language since this page was shown: the page's language counts."""
    patient = Patient(client, issue_token(make_participant(language="zh_Hans")))
    patient.start()
    patient.answer(1, 2, shown_language="en")
    patient.answer(2, 2, shown_language="klingon")
    visit_id = db.session.scalars(select(Visit.id).where(Visit.code == "baseline")).one()
    saved = answering.saved_answers(visit_id, "mlhfq")
    assert saved["mlhf01"].language == "en" and saved["mlhf02"].language == "zh_Hans"
