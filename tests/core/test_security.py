"""Headers on every page, CSRF on every POST, and no visit-link token in any log line."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pro_app.web.security import RedactTokens, redact
from tests.actions import Patient
from tests.factories import issue_token, make_participant


@pytest.fixture
def csrf_app(app_ctx: Flask) -> Flask:
    """The app with CSRF checking on, as in production (TESTING does not turn it off here)."""
    assert app_ctx.config.get("WTF_CSRF_ENABLED", True)
    return app_ctx


def test_security_headers_on_patient_pages(client: FlaskClient) -> None:
    token = issue_token(make_participant())
    response = client.get(f"/s/{token}")
    headers = response.headers
    assert headers["Referrer-Policy"] == "no-referrer"
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"


def test_pages_load_no_third_party_assets(client: FlaskClient) -> None:
    token = issue_token(make_participant())
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page
    assert "<script>" not in page and "style=" not in page


def test_item_post_without_csrf_token_is_refused_and_saves_nothing(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    patient = Patient(client, issue_token(make_participant()))
    patient.start()
    response = client.post("/visit/mlhfq/q/1", data={"answer": "3", "action": "next"})
    assert response.status_code == 400
    page = client.get("/visit/mlhfq/q/1").get_data(as_text=True)
    assert "checked" not in page


def test_submit_without_csrf_token_is_refused(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    patient = Patient(client, issue_token(make_participant()))
    patient.start()
    patient.answer_all([1] * 21)
    assert client.post("/visit/mlhfq/submit").status_code == 400
    assert client.get("/visit/mlhfq/receipt").status_code == 302


def test_redaction_removes_tokens_from_paths() -> None:
    assert redact('"GET /s/Ab3_x-9QzZ HTTP/1.1" 200') == '"GET /s/[redacted] HTTP/1.1" 200'
    # A typed token may come %-encoded (spaces between its groups, a stray character).
    typed = '"GET /s/ABCD%20EFGH%2DJKMN%E2%80%94PQRS?lang=en HTTP/1.1" 200'
    # Everything up to the next blank goes: the token and, with it, the query string.
    assert redact(typed) == '"GET /s/[redacted] HTTP/1.1" 200'
    assert redact("/s/abcd-efgh.jkmn~pqrs") == "/s/[redacted]"


def test_access_log_lines_carry_no_token(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = issue_token(make_participant())
    logger = logging.getLogger("werkzeug")
    assert any(isinstance(f, RedactTokens) for f in logger.filters)
    record = logger.makeRecord(
        "werkzeug", logging.INFO, __file__, 1, '"%s" %s', (f"GET /s/{token} HTTP/1.1", 200), None
    )
    for log_filter in logger.filters:
        log_filter.filter(record)
    assert token not in record.getMessage() and "/s/[redacted]" in record.getMessage()


def test_gunicorn_access_atoms_are_redacted() -> None:
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(U)s", None, None)
    record.args = {"U": "/s/SECRETTOKEN123", "s": "200"}
    RedactTokens().filter(record)
    assert record.getMessage() == "/s/[redacted]"
