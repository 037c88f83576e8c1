"""Under a real gunicorn: a malformed chunked body gets a 400, not a 500, and no link token
reaches gunicorn's access or error log, whatever the case or characters around it."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pro_app.extensions import db
from tests.conftest import empty_database
from tests.factories import issue_token, make_participant
from tests.security.live import Gunicorn

pytestmark = pytest.mark.committed


@pytest.fixture(autouse=True)
def in_app_context() -> None:
    """gunicorn serves a database of its own."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    folder = Path(tmp_path_factory.mktemp("live"))
    with empty_database("sqlite", folder) as url:
        live = Gunicorn(url, folder, workers=1)
        live.migrate()
        live.start()
        yield live
        live.stop()


def _status(url: str, data: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=data)  # noqa: S310 - our own local server
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_malformed_chunked_body_is_a_400(server: Gunicorn) -> None:
    for body in (b"zz\r\nabc\r\n0\r\n\r\n", b"5\r\nab", b"3\r\nabcdef\r\n0\r\n\r\n"):
        answer = server.raw(
            b"POST /staff/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + body
        )
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
        # gunicorn may answer 400 itself or close the connection; the app never answers 500.
        assert status in (0, 400), answer[:200]
    assert "Traceback" not in server.log.read_text(errors="replace")


def test_no_token_in_gunicorn_logs(server: Gunicorn) -> None:
    app = server.app()
    with app.app_context():
        token = issue_token(make_participant())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    for path in (
        f"/s/{token}",
        f"/S/{token}",
        f"/s/{token}%00",
        f"/s/{token}%C3%A9x",
        f"/s/{token}/more",
        f"/staff/login?token={token}",
    ):
        assert _status(server.base + path) < 500
    assert _status(server.base + f"/s/{token}", data=b"start_token=%C3%A9") < 500
    log = server.log.read_text(errors="replace")
    assert re.search(r"/s/\[redacted\]", log, re.IGNORECASE), log[-2000:]
    assert token not in log
