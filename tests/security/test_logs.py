"""No visit-link token in any log: the app's own exception log, access logs of any case or
encoding, and (tests/logscan.py) every log record of the whole test run."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import Flask
from gunicorn.config import Config
from hypothesis import given
from hypothesis import strategies as st

from pro_app import gunicorn_conf
from pro_app.gunicorn_conf import AccessLogger
from pro_app.web.security import _SECRET_IN_QUERY, _TOKEN_IN_PATH, REDACTED, redact
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


@given(
    st.lists(
        st.sampled_from(["/", "s", "S", "%2f", "%2F", "=", "?", "&", "token", "a", " ", "é"]),
        max_size=30,
    ).map("".join)
)
def test_the_quick_look_never_skips_a_secret(text: str) -> None:
    """`redact` only runs its substitutions on text where either could match: the result is
    what the substitutions alone give, for any text built from the characters they look for."""
    assert redact(text) == _SECRET_IN_QUERY.sub(
        rf"\1{REDACTED}", _TOKEN_IN_PATH.sub(rf"\1{REDACTED}", text)
    )


_RESPONSE = SimpleNamespace(status="200 OK", sent=512, headers=[("Content-Type", "text/html")])


def _atoms(access_format: str, path: str) -> dict[str, object]:
    config = Config()
    config.set("access_log_format", access_format)
    request = SimpleNamespace(headers=[("REFERER", path)])
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": "WeChat",
    }
    return AccessLogger(config).atoms(_RESPONSE, request, environ, timedelta(milliseconds=3))


def test_the_access_log_gets_only_the_atoms_its_format_names_redacted() -> None:
    atoms = _atoms(gunicorn_conf.access_log_format, "/s/abcdefghijklmnop")
    assert set(atoms) == {"h", "m", "U", "s", "b", "L"}
    assert atoms["U"] == "/s/[redacted]"
    # Another format: a header by any case, the request line.
    atoms = _atoms("%(r)s %({Referer}i)s %(a)s", "/S/abcdefghijklmnop?token=zz")
    assert atoms == {
        "r": "GET /S/[redacted] HTTP/1.1",
        "{referer}i": "/S/[redacted]",
        "a": "WeChat",
    }
