"""Every staff form refuses a POST without this session's CSRF token, and changes nothing."""

from __future__ import annotations

from flask import Flask, url_for
from sqlalchemy import func, select

from pro_app.extensions import db
from pro_app.models import AuditEvent, Participant, Response, Role, StaffSession
from pro_app.questionnaire.catalog import catalog
from pro_app.services import answering, review, sealing
from tests.actions import StaffBrowser
from tests.factories import issue_token, make_participant, make_site, make_staff, visit_of

STAFF_AREAS = {"auth", "account", "coordinator", "monitor", "admin"}
ROLE_FOR = {
    "coordinator": "coord-a",
    "monitor": "monitor-a",
    "admin": "admin-a",
    "account": "coord-a",
    "auth": "coord-a",
}


def _sealed_record(participant: Participant) -> Response:
    visit = visit_of(participant)
    mlhfq = catalog().instrument("mlhfq")
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, 1, language="en", actor="test")
    return sealing.submit(visit, mlhfq, catalog(), language="en", actor="test")


def _events() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_staff_posts_need_the_sessions_csrf_token(app_ctx: Flask) -> None:
    site = make_site()
    participant = make_participant(site=site)
    issue_token(participant, "d43")
    make_staff("coord-a", Role.COORDINATOR, [site])
    make_staff("admin-a", Role.ADMIN, [site])
    monitor = make_staff("monitor-a", Role.MONITOR, [site])
    record = _sealed_record(make_participant("PRIME-002", site=site))
    query = review.raise_query(record, field=None, text="A question", staff=monitor, fields=[])
    victim = make_staff("coord-b", Role.COORDINATOR, [site])
    db.session.commit()
    browsers = {}
    for username in ("coord-a", "admin-a", "monitor-a"):
        browsers[username] = StaffBrowser(app_ctx.test_client())
        browsers[username].sign_in(username)
    stranger = StaffBrowser(app_ctx.test_client())
    stranger.sign_in("coord-b")
    foreign_token = stranger.csrf()
    params = {
        "participant_id": participant.id,
        "visit_id": participant.visits[2].id,
        "staff_id": victim.id,
        "site_id": site.id,
        "response_id": record.id,
        "query_id": query.id,
    }
    checked = []
    for rule in app_ctx.url_map.iter_rules():
        area = rule.endpoint.split(".", 1)[0]
        if area not in STAFF_AREAS or "POST" not in (rule.methods or ()):
            continue
        with app_ctx.test_request_context():
            url = url_for(rule.endpoint, **{name: params[name] for name in rule.arguments})
        browser = browsers[ROLE_FOR[area]]
        # Plausible, complete form data: only the token is missing or wrong.
        data = {
            "reason": "a good reason",
            "reason_code": "transcription_error",
            "text": "a question",
            "confirm": "y",
            "language": "en",
            "day0": "2026-11-26",
            "username": "coord-a",
            "password": "blue-kettle-river-42",
            "code": "123456",
            "current_password": "blue-kettle-river-42",
            "confirm_password": "x",
            "role": "monitor",
            "sites": str(site.id),
            "active": "y",
            "study_id": "PRIME-099",
            "sex": "male",
            "birth_year": "1960",
            "height_cm": "170",
            "preferred_language": "en",
            "site_id": str(site.id),
            "name_en": "X",
            "name_zh": "X",
            "timezone": "UTC",
            "study_id_pattern": ".*",
            "study_id_example": "A",
        }
        for token in (None, foreign_token, "forged"):
            before = _events()
            sessions = db.session.scalar(select(func.count()).select_from(StaffSession))
            payload = dict(data) if token is None else {**data, "csrf_token": token}
            response = browser.client.post(url, data=payload)
            assert response.status_code == 400, (
                f"{url} with token {token!r}: {response.status_code}"
            )
            db.session.expire_all()
            assert _events() == before, url
            assert db.session.scalar(select(func.count()).select_from(StaffSession)) == sessions
        checked.append(rule.endpoint)
    assert {
        "auth.login",
        "auth.logout",
        "coordinator.issue_link",
        "coordinator.withdraw",
        "admin.reset_password",
        "account.language",
        "coordinator.correct",
        "coordinator.void",
        "coordinator.answer_query",
        "monitor.mark_verified",
        "monitor.raise_query",
        "monitor.close_query",
    } <= set(checked)
    # The refusal is explained in the staff member's language.
    refused = browsers["coord-a"].client.post("/desk/participants/new", data={})
    assert "表单已过期" in refused.get_data(as_text=True)
