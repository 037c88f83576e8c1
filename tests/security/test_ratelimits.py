"""Rate limits answer 429 in both languages: link guessing per address, sign-in per address and
per username; and the Redis storage counts across workers (a real redis-server)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pro_app import create_app
from pro_app.extensions import db
from pro_app.web import ratelimits
from pro_app.web.ratelimits import limiter_of
from tests.actions import Patient, csrf_of
from tests.conftest import make_settings
from tests.factories import issue_token, make_participant, make_staff

REDIS = ("127.0.0.1", 6379)


def assert_too_many(response: TestResponse) -> None:
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many attempts" in page and "尝试次数太多" in page
    assert re.search(r"Please wait [12] minutes", page) and re.search(r"请等待[12]分钟", page)
    # Retry-After in seconds, the same wait as the page's minutes.
    waits = re.search(r"Please wait (\d+) minutes", page)
    assert waits is not None
    minutes = int(waits.group(1))
    assert (minutes - 1) * 60 < int(response.headers["Retry-After"]) <= minutes * 60


def _limit(app: Flask, name: str) -> int:
    return int(str(app.config[name]).split()[0])


def test_link_guessing_from_one_address_is_stopped(client: FlaskClient, app_ctx: Flask) -> None:
    allowed = _limit(app_ctx, "RATELIMIT_LINKS")
    for n in range(allowed):
        assert client.get(f"/s/guess-{n:04d}").status_code == 404
    assert_too_many(client.get("/s/guess-last"))
    assert_too_many(client.post("/s/guess-last", data={"start_token": "x"}))
    # Another address is not held up by this one.
    other = client.get("/s/guess-other", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 404


def test_a_real_link_opens_and_starts_while_its_address_is_held_up(
    client: FlaskClient, app_ctx: Flask
) -> None:
    """Only look-ups that find no link count: a patient behind the same address as a guesser (a
    carrier's shared address) still opens and starts a real link; the guesser's next try, GET or
    POST, is refused."""
    patient = Patient(client, issue_token(make_participant("PRIME-971")))
    for n in range(_limit(app_ctx, "RATELIMIT_LINKS")):
        assert client.get(f"/s/guess-{n:04d}").status_code == 404
    assert_too_many(client.get("/s/guess-last"))
    for _ in range(3):
        assert patient.open_link().status_code == 200
    assert patient.start().status_code == 303
    assert client.get(patient.item_url(1)).status_code == 200
    assert_too_many(client.get("/s/guess-after"))
    assert_too_many(client.post("/s/guess-after", data={"start_token": "x"}))


def test_starts_that_go_through_are_limited_per_address(
    client: FlaskClient, app_ctx: Flask
) -> None:
    """Each Start writes an audit event: past the limit of Starts that went through, one more is
    refused; Starts that fail (a wrong start token) are not what fills it."""
    patient = Patient(client, issue_token(make_participant("PRIME-972")))
    for _ in range(5):
        refused = client.post(f"/s/{patient.token}", data={"start_token": "wrong"})
        assert refused.status_code == 400
    for _ in range(_limit(app_ctx, "RATELIMIT_LINKS")):
        assert patient.start().status_code == 303
    assert_too_many(patient.start())
    # Opening the link is never refused.
    assert patient.open_link().status_code == 200


def test_the_limiter_works_only_where_a_limit_is_checked(
    client: FlaskClient, app_ctx: Flask
) -> None:
    """Start is counted; opening a real link and an answer page never wake the limiter (its
    per-request state cost 4-7% of each answer, its check 14% of a landing's instructions)."""
    patient = Patient(client, issue_token(make_participant("PRIME-970")))
    limiter_class = type(limiter_of(app_ctx))
    state = limiter_class.context
    woken: list[object] = []

    def counted(limiter: object) -> object:
        woken.append(limiter)
        return state.fget(limiter)  # type: ignore[misc]

    with mock.patch.object(limiter_class, "context", property(counted)):
        landing = patient.open_link()
        assert landing.status_code == 200
        assert not woken
        started = patient.start()
        assert woken
        # Checked, yet no X-RateLimit-* headers: they would tell a guesser the tries left.
        assert not [name for name, _ in started.headers if name.startswith("X-RateLimit")]
        woken.clear()
        page = client.get(patient.item_url(1))
        assert page.status_code == 200
        assert "X-RateLimit-Limit" not in page.headers
        assert not woken
        assert client.get("/s/guess-0001").status_code == 404
        assert woken


def _sign_in(client: FlaskClient, username: str, address: str) -> TestResponse:
    page = client.get("/staff/login", environ_base={"REMOTE_ADDR": address})
    return client.post(
        "/staff/login",
        environ_base={"REMOTE_ADDR": address},
        data={"csrf_token": csrf_of(page), "username": username, "password": "wrong-password"},
    )


def test_sign_in_is_limited_per_address(client: FlaskClient, app_ctx: Flask) -> None:
    allowed = _limit(app_ctx, "RATELIMIT_SIGNIN")
    for n in range(allowed):
        assert _sign_in(client, f"user-{n}", "203.0.113.5").status_code == 400
    assert_too_many(_sign_in(client, "user-x", "203.0.113.5"))
    # The sign-in page itself still opens (only posts are counted).
    assert (
        client.get("/staff/login", environ_base={"REMOTE_ADDR": "203.0.113.5"}).status_code == 200
    )


def test_sign_in_is_limited_per_username_from_anywhere(client: FlaskClient, app_ctx: Flask) -> None:
    make_staff("coord-a")
    allowed = _limit(app_ctx, "RATELIMIT_ACCOUNT")
    for n in range(allowed):
        assert _sign_in(client, "coord-a", f"198.51.100.{n}").status_code == 400
    assert_too_many(_sign_in(client, "COORD-A ", "198.51.100.250"))
    assert _sign_in(client, "coord-b", "198.51.100.250").status_code == 400


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The machine's redis-server; started here for this module if it is not running."""
    started = None
    if not _redis_up() and shutil.which("redis-server"):
        folder = tmp_path_factory.mktemp("redis")
        started = subprocess.Popen(
            [
                "redis-server",
                "--port",
                "6379",
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(50):
            if _redis_up():
                break
            time.sleep(0.1)
    if not _redis_up():
        reason = "redis-server is not installed and not running at 127.0.0.1:6379"
        print(f"SKIPPED the Redis rate-limit test: {reason}")
        pytest.skip(reason)
    yield "redis://127.0.0.1:6379/15"
    if started is not None:
        started.terminate()
        started.wait(10)


def test_redis_storage_counts_across_workers(
    redis_url: str, app: Flask, database_url: str, tmp_path: Path
) -> None:
    """Two app instances (two workers) on one Redis share one count per address."""
    prefix = f"pro-test-{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        database_url,
        tmp_path,
        PRO_RATELIMIT_STORAGE_URI=redis_url,
        PRO_RATELIMIT_LINKS="4 per minute",
    )
    workers = [
        create_app({"TESTING": True, "RATELIMIT_KEY_PREFIX": prefix}, settings=settings)
        for _ in range(2)
    ]
    clients = [worker.test_client() for worker in workers]
    statuses = [clients[n % 2].get(f"/s/guess-{n}").status_code for n in range(4)]
    assert statuses == [404] * 4
    assert_too_many(clients[0].get("/s/guess-5"))
    assert_too_many(clients[1].get("/s/guess-6"))
    from pro_app.web.ratelimits import limiter_of

    for worker in workers:
        assert "redis" in type(limiter_of(worker).storage).__name__.lower()
    limiter_of(workers[0]).reset()
    for worker in workers:
        with worker.app_context():
            db.session.remove()
            db.engine.dispose()


def test_without_redis_each_process_counts_on_its_own(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    """Redis down (nothing listens on its port): patients are still served, never an error page,
    and the limit still holds, counted in this process's memory until Redis answers again."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(
        database_url,
        tmp_path,
        PRO_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0",
        PRO_RATELIMIT_LINKS="3 per minute",
    )
    worker = create_app({"TESTING": True}, settings=settings)
    client = worker.test_client()
    assert [client.get(f"/s/guess-{n}").status_code for n in range(3)] == [404] * 3
    assert_too_many(client.get("/s/guess-last"))
    assert "memory" in type(limiter_of(worker).limiter.storage).__name__.lower()
    with worker.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_default_limit_refuses_to_start(app: Flask, database_url: str, tmp_path: Path) -> None:
    """Each view checks its own limits; the limiter's check before every request (for default
    and application limits) is left out. A default limit would then never be checked: the app
    refuses to start with one instead of running without it."""
    from pro_app.web.ratelimits import limiter_of

    assert limiter_of(app)._check_request_limit not in app.before_request_funcs.get(None, [])
    settings = make_settings(database_url, tmp_path)
    with pytest.raises(RuntimeError, match="default or application rate limits"):
        create_app({"TESTING": True, "RATELIMIT_DEFAULT": "100 per day"}, settings=settings)


def test_the_page_and_retry_after_tell_the_same_wait_when_a_second_ticks_over(
    client: FlaskClient, app_ctx: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait is read once a request: a clock that moves a whole second between two readings
    (61 s left, then 60) still gives one answer, not "2 minutes" with Retry-After 60."""

    class Ticking:
        readings = 0

        def time(self) -> float:
            self.readings += 1
            reset_at = limiter_of(app_ctx).current_limit.reset_at  # type: ignore[union-attr]
            return float(reset_at) - (60.5 if self.readings == 1 else 59.5)

    clock = Ticking()
    monkeypatch.setattr(ratelimits, "time", clock)
    make_staff("coord-t")
    for n in range(_limit(app_ctx, "RATELIMIT_ACCOUNT")):
        assert _sign_in(client, "coord-t", f"198.51.100.{n}").status_code == 400
    refused = _sign_in(client, "coord-t", "198.51.100.250")
    assert_too_many(refused)
    assert "Please wait 2 minutes" in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] == "61"
    assert clock.readings == 1
