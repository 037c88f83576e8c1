"""A tapped answer is saved at once (the page's background POST), a lost cookie keeps the answer
being given, and the language chosen on the landing page survives Start."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pro_app.extensions import db
from pro_app.models import AuditEvent, DraftAnswer
from tests.actions import Patient, csrf_of
from tests.factories import issue_token, make_participant

_RESUME = re.compile(r'name="resume" value="([^"]+)"')


def drafts() -> dict[str, int]:
    return {row.item_id: row.value for row in db.session.scalars(select(DraftAnswer))}


def test_a_background_save_stores_the_tapped_answer_and_says_so(client: FlaskClient) -> None:
    patient = Patient(client, issue_token(make_participant()))
    patient.start()
    page = client.get("/visit/mlhfq/q/1")
    saved = client.post(
        "/visit/mlhfq/q/1",
        data={"csrf_token": csrf_of(page), "action": "save", "answer": "4"},
        headers={"Accept": "application/json"},
    )
    assert saved.status_code == 200 and saved.get_json() == {"ok": True, "saved": 4}
    assert drafts() == {"mlhf01": 4}
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "answer.saved"))
    # A reload shows the tapped answer as the saved one.
    assert 'value="4" checked' in client.get("/visit/mlhfq/q/1").get_data(as_text=True)


def test_a_background_save_follows_the_csrf_rules_and_refuses_bad_input(
    client: FlaskClient,
) -> None:
    patient = Patient(client, issue_token(make_participant()))
    patient.start()
    forged = client.post("/visit/mlhfq/q/1", data={"action": "save", "answer": "4"})
    assert forged.status_code == 400
    page = client.get("/visit/mlhfq/q/1")
    bad = client.post(
        "/visit/mlhfq/q/1",
        data={"csrf_token": csrf_of(page), "action": "save", "answer": "9"},
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 400 and bad.get_json()["ok"] is False
    assert drafts() == {}


def test_without_javascript_the_page_says_next_saves(client: FlaskClient) -> None:
    patient = Patient(client, issue_token(make_participant(language="en")))
    patient.start()
    page = client.get("/visit/mlhfq/q/1").get_data(as_text=True)
    assert "Your answer is saved when you tap “Next”." in page
    assert "Please tap “Next”." in page  # what the page says if a background save fails
    assert "<h1" in page


@pytest.mark.parametrize(
    ("language", "button", "hint", "failed"),
    [
        (
            "en",
            "Back to review",
            "Your answer is saved when you tap “Back to review”.",
            "Not saved yet. Please tap “Back to review”.",
        ),
        (
            "zh_Hans",
            "回到检查页面",
            "点“回到检查页面”时会保存您的回答。",
            "您的回答还没有保存，请点“回到检查页面”。",
        ),
    ],
)
def test_a_question_opened_from_the_review_names_the_button_it_has(
    client: FlaskClient, language: str, button: str, hint: str, failed: str
) -> None:
    """Opened from the review, a question's button says "Back to review", not "Next": its hints
    said "tap Next", a button the page did not have."""
    patient = Patient(client, issue_token(make_participant(language=language)))
    patient.start()
    page = client.get("/visit/mlhfq/q/3?from=review").get_data(as_text=True)
    assert f'value="next">{button}</button>' in page
    assert hint in page and failed in page
    assert "下一题" not in page and "tap “Next”" not in page


def test_a_lost_cookie_keeps_the_answer_being_given(app_ctx: Flask) -> None:
    client = app_ctx.test_client()
    patient = Patient(client, issue_token(make_participant()))
    patient.start()
    page = client.get("/visit/mlhfq/q/1")
    resume = _RESUME.search(page.get_data(as_text=True))
    assert resume
    client.delete_cookie("session")
    kept = client.post(
        "/visit/mlhfq/q/1",
        data={"csrf_token": csrf_of(page), "resume": resume.group(1), "answer": "2"},
    )
    assert kept.status_code == 303 and kept.location.endswith("/visit/mlhfq/q/2")
    assert drafts() == {"mlhf01": 2}
    # The browser is bound again: the next screen opens.
    assert client.get("/visit/mlhfq/q/2").status_code == 200


def test_a_lost_cookie_without_a_good_resume_token_says_to_answer_again(
    app_ctx: Flask,
) -> None:
    client = app_ctx.test_client()
    patient = Patient(client, issue_token(make_participant()))
    patient.start()
    page = client.get("/visit/mlhfq/q/1")
    client.delete_cookie("session")
    lost = client.post(
        "/visit/mlhfq/q/1",
        data={"csrf_token": csrf_of(page), "resume": "forged.value", "answer": "2"},
    )
    assert lost.status_code == 401
    assert "Please give this answer again" in lost.get_data(as_text=True)
    assert drafts() == {}


def test_a_revoked_link_cannot_be_resumed_by_its_resume_token(app_ctx: Flask) -> None:
    from pro_app.services import links
    from tests.factories import visit_of

    client = app_ctx.test_client()
    participant = make_participant()
    patient = Patient(client, issue_token(participant))
    patient.start()
    page = client.get("/visit/mlhfq/q/1")
    resume = _RESUME.search(page.get_data(as_text=True))
    assert resume
    links.revoke_active(visit_of(participant), actor="test", reason="lost phone")
    client.delete_cookie("session")
    refused = client.post(
        "/visit/mlhfq/q/1",
        data={"csrf_token": csrf_of(page), "resume": resume.group(1), "answer": "2"},
    )
    assert refused.status_code == 410
    assert drafts() == {}


def test_the_language_chosen_on_the_landing_page_survives_start(client: FlaskClient) -> None:
    patient = Patient(client, issue_token(make_participant(language="zh_Hans")))
    landing = patient.open_link(lang="en").get_data(as_text=True)
    start_token = re.search(r'name="start_token" value="([0-9a-f]+)"', landing)
    assert start_token and 'name="lang" value="en"' in landing
    started = client.post(
        f"/s/{patient.token}", data={"start_token": start_token.group(1), "lang": "en"}
    )
    page = client.get(started.location).get_data(as_text=True)
    assert 'lang="en"' in page and "Heart failure" in page


def test_demo_wording_shows_no_licence_line(client: FlaskClient) -> None:
    patient = Patient(client, issue_token(make_participant()))
    patient.start()
    for path in ("/visit/mlhfq", "/visit"):
        page = client.get(path).get_data(as_text=True)
        assert "Used under licence" not in page and "©" not in page, path
