"""The SIGKILL soak (`make test-soak`, not part of `make test`): 30 simulated patients answer and
submit through a real gunicorn while it is killed with SIGKILL 10 times, on each database.
Every answer the server acknowledged and every acknowledged submission must be in the database
afterwards, and the audit chain must verify. Figures go to bench/results/soak-<backend>.json."""

from __future__ import annotations

import http.cookiejar
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pro_app import clock
from pro_app.config import REPO_ROOT
from pro_app.extensions import db
from pro_app.models import DraftAnswer, Response, Visit
from pro_app.questionnaire.catalog import catalog
from pro_app.services import audit
from tests.conftest import empty_database
from tests.factories import issue_token, make_participant, visit_of
from tests.security.live import Gunicorn

pytestmark = [pytest.mark.committed, pytest.mark.soak]
SHANGHAI = ZoneInfo("Asia/Shanghai")
PATIENTS = 30
KILLS = 10
_START = re.compile(r'name="start_token" value="([0-9a-f]+)"')
_CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


@pytest.fixture(autouse=True)
def in_app_context() -> None:
    """gunicorn serves a database of its own."""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Phone:
    """One patient's browser: retries whatever a killed server did not answer."""

    def __init__(self, base: str, stats: dict[str, int], lock: threading.Lock) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )
        self.stats = stats
        self.lock = lock

    def _count(self, key: str) -> None:
        with self.lock:
            self.stats[key] = self.stats.get(key, 0) + 1

    def send(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            self._count("requests")
            try:
                request = urllib.request.Request(self.base + path, data=data)  # noqa: S310
                with self.opener.open(request, timeout=10) as response:
                    return int(response.status), response.read().decode()
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    # The status line is the acknowledgement (the server commits before it
                    # answers); a kill may still cut the body short.
                    try:
                        body = error.read().decode(errors="replace")
                    except (OSError, http.client.HTTPException):
                        body = ""
                    return int(error.code), body
                self._count("server_errors")
            except (OSError, http.client.HTTPException):
                self._count("retries")
            time.sleep(0.2)
        raise TimeoutError(path)


def _patient(
    phone: Phone, token: str, number: int, items: tuple[str, ...], acked: dict[str, object]
) -> None:
    status, page = phone.send(f"/s/{token}")
    match = _START.search(page)
    assert match, (status, page[:200])
    status, _ = phone.send(f"/s/{token}", {"start_token": match.group(1)})
    assert status == 303
    for position, item_id in enumerate(items, 1):
        value = (number + position) % 6
        while True:
            _, page = phone.send(f"/visit/mlhfq/q/{position}")
            csrf = _CSRF.search(page)
            if csrf is None:
                continue
            status, _ = phone.send(
                f"/visit/mlhfq/q/{position}",
                {"csrf_token": csrf.group(1), "answer": str(value), "action": "next"},
            )
            if status == 303:
                acked[item_id] = value  # the server said "saved"
                break
    while True:
        _, page = phone.send("/visit/mlhfq/submit")
        csrf = _CSRF.search(page)
        if csrf is None:
            break  # already submitted: the page is the receipt
        status, _ = phone.send("/visit/mlhfq/submit", {"csrf_token": csrf.group(1)})
        if status == 303:
            acked["submitted"] = True
            break


@pytest.fixture
def server(backend: str, tmp_path: Path) -> Iterator[Gunicorn]:
    with empty_database(backend, tmp_path) as url:
        live = Gunicorn(
            url,
            tmp_path,
            workers=2,
            extra_env={"PRO_RATELIMIT_LINKS": "100000 per minute"},
        )
        live.migrate()
        yield live
        live.stop()


def test_no_acknowledged_answer_is_lost_across_kills(server: Gunicorn, backend: str) -> None:
    app = server.app()
    # gunicorn runs on the real clock: the participants' Day 0 is today, really.
    now = datetime.now(UTC)
    with app.app_context(), clock.frozen(now):
        items = catalog().instrument("mlhfq").item_ids
        tokens = {}
        for n in range(PATIENTS):
            participant = make_participant(
                f"PRIME-{600 + n:03d}", day0=now.astimezone(SHANGHAI).date()
            )
            tokens[n] = (issue_token(participant), visit_of(participant).id)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()

    server.start()
    stats: dict[str, int] = {}
    lock = threading.Lock()
    acked: dict[int, dict[str, object]] = {n: {} for n in range(PATIENTS)}
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=_patient,
            args=(Phone(server.base, stats, lock), tokens[n][0], n, items, acked[n]),
        )
        for n in range(PATIENTS)
    ]
    for thread in threads:
        thread.start()
    restarts = []
    for _ in range(KILLS):
        time.sleep(1.5)
        server.kill()
        down = time.monotonic()
        server.start()
        restarts.append(time.monotonic() - down)
    for thread in threads:
        thread.join(300)
    duration = time.monotonic() - started
    server.stop()

    lost = []
    with app.app_context(), clock.frozen(datetime.now(UTC)):
        for n, (_token, visit_id) in tokens.items():
            records = list(
                db.session.scalars(select(Response).where(Response.visit_id == visit_id))
            )
            drafts = {
                row.item_id: row.value
                for row in db.session.scalars(
                    select(DraftAnswer).where(DraftAnswer.visit_id == visit_id)
                )
            }
            if acked[n].get("submitted") and len(records) != 1:
                lost.append(f"patient {n}: submission acknowledged, {len(records)} records")
            assert len(records) <= 1
            saved = records[0].answers if records else drafts
            for item_id in items:
                if item_id in acked[n] and saved.get(item_id) != acked[n][item_id]:
                    lost.append(
                        f"patient {n} {item_id}: acked {acked[n][item_id]}, kept {saved.get(item_id)}"
                    )
        report = audit.verify_chain()
        visits = db.session.scalar(select(Visit.id).limit(1))
        db.session.remove()
        db.engine.dispose()
    answers = sum(1 for n in acked for key in acked[n] if key != "submitted")
    submissions = sum(1 for n in acked if acked[n].get("submitted"))
    figures = {
        "backend": backend,
        "patients": PATIENTS,
        "kills": KILLS,
        "gunicorn_starts": server.starts,
        "acknowledged_answers": answers,
        "acknowledged_submissions": submissions,
        "lost": len(lost),
        "audit_chain_ok": report.ok,
        "audit_events": report.events,
        "duration_s": round(duration, 1),
        "restart_s_median": round(sorted(restarts)[len(restarts) // 2], 2),
        **stats,
    }
    results = REPO_ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"soak-{backend}.json").write_text(json.dumps(figures, indent=2) + "\n")
    assert visits is not None
    assert lost == [], lost[:10]
    assert report.ok, report.fault
    assert submissions == PATIENTS and answers == PATIENTS * len(items)
