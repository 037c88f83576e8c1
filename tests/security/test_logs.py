"""No visit-link token in any log: the app's own exception log, access logs of any case or
encoding, and (tests/logscan.py) every log record of the whole test run."""

from __future__ import annotations

import logging
import sys

import pytest
from flask import Flask

from pro_app.web.security import redact
from tests import logscan
from tests.factories import issue_token, make_participant


@pytest.fixture
def token(app_ctx: Flask) -> str:
    return issue_token(make_participant())


def test_the_run_remembers_issued_tokens(token: str) -> None:
    assert token in logscan.ISSUED.tokens


def test_an_exception_on_a_link_is_logged_without_its_token(app_ctx: Flask, token: str) -> None:
    for path in (f"/s/{token}", f"/S/{token}", f"/s/{token}%00x", f"/s/{token}é"):
        with app_ctx.test_request_context(path, method="POST"):
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                app_ctx.log_exception(sys.exc_info())
    lines = [line for line in logscan.COLLECTOR.lines if "Exception on" in line]
    assert lines and all(token not in line for line in lines)
    assert "/s/[redacted]" in lines[-1].lower()


@pytest.mark.parametrize(
    "line",
    [
        '"GET /s/{t} HTTP/1.1" 200',
        '"GET /S/{t} HTTP/1.1" 200',
        '"GET /s/{t}%0A%00zz HTTP/1.1" 404',
        '"GET /s/{t}\u00e9\u4e2d HTTP/1.1" 404',
        '"GET /%2fs%2f{t} HTTP/1.1" 404',
        '"GET /visit?token={t}&x=1 HTTP/1.1" 200',
        '"POST /s/{t}?start_token={t} HTTP/1.1" 303',
    ],
)
def test_access_lines_of_any_shape_are_redacted(app_ctx: Flask, token: str, line: str) -> None:
    logging.getLogger("werkzeug").info(line.replace("{t}", token))
    logging.getLogger("gunicorn.access").info("%s", line.replace("{t}", token))
    assert not logscan.leaks()
    assert token not in redact(line.replace("{t}", token))


def test_the_scan_would_find_a_leak(token: str) -> None:
    """The scan is real: a line holding a token is found (then taken back out of the run's log)."""
    logscan.COLLECTOR.lines.append(f"leaked {token}")
    try:
        assert logscan.leaks() == [(token, f"leaked {token}")]
    finally:
        logscan.COLLECTOR.lines.pop()
