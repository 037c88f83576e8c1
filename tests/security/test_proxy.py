"""Behind a TLS proxy (PRO_PROXY_FIX): the client's real address counts for the rate limits, and
HTTPS requests get HSTS and Secure cookies. Without it, forwarded headers are not believed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from pro_app import create_app
from pro_app.extensions import db
from pro_app.web.ratelimits import limiter_of
from tests.conftest import make_settings

HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


_MADE: list[Flask] = []


@pytest.fixture(autouse=True)
def close_apps() -> Iterator[None]:
    """Close the connections of the apps a test made (PostgreSQL warns about open ones)."""
    yield
    while _MADE:
        made = _MADE.pop()
        with made.app_context():
            db.session.remove()
            db.engine.dispose()


def _app(database_url: str, folder: Path, **extra: str) -> Flask:
    app = create_app({"TESTING": True}, settings=make_settings(database_url, folder, **extra))
    limiter_of(app).reset()
    _MADE.append(app)
    return app


def test_behind_a_proxy_https_gets_hsts_and_secure_cookies(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    proxied = _app(database_url, tmp_path, PRO_PROXY_FIX="1")
    response = proxied.test_client().get("/staff/login", headers=HTTPS)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    plain = proxied.test_client().get("/staff/login", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers
    assert "Secure" not in plain.headers["Set-Cookie"]


def test_the_forwarded_address_is_the_one_rate_limited(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    proxied = _app(database_url, tmp_path, PRO_PROXY_FIX="1", PRO_RATELIMIT_LINKS="2 per minute")
    client = proxied.test_client()
    first = {"X-Forwarded-For": "203.0.113.7"}
    assert [client.get(f"/s/x{n}", headers=first).status_code for n in range(3)] == [404, 404, 429]
    assert client.get("/s/y", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 404


def test_without_the_setting_forwarded_headers_are_not_believed(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    direct = _app(database_url, tmp_path, PRO_RATELIMIT_LINKS="2 per minute")
    client = direct.test_client()
    statuses = [
        client.get(f"/s/x{n}", headers={**HTTPS, "X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(3)
    ]
    assert statuses == [404, 404, 429]
    assert "Strict-Transport-Security" not in client.get("/staff/login", headers=HTTPS).headers
