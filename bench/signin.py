"""Sign-in load against patients' saves (issue 13): a real gunicorn (the `make serve`
shape: two workers per core x 1 thread) on SQLite; patients answer questions in a loop and the latency of each save is
measured, first alone, then while 16 staff sign in at once, over and over (each argon2 check
~50 ms of CPU). Figures: bench/results/signin.json and .md.

    python -m bench signin [--seconds 15] [--patients 4] [--signins 16] [--no-limits]

By default the rate limits are the app's own (as the issue asks: "with the rate limits"), so
16 sign-in loops from one address reach argon2 at most 20 times a minute; `--no-limits` raises
them, so every sign-in reaches argon2 (the worst case: 16 staff on 16 addresses at once).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis

from bench.load import REDIS_URL, Server, redis_pid
from pro_app.cli.serve import DEFAULT_THREADS, default_workers, worker_class

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
PASSWORD = "bench-kettle-river-42"  # noqa: S105 - the bench staff's made-up password
_START = re.compile(r'name="start_token" value="([0-9a-f]+)"')
_CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _browser() -> urllib.request.OpenerDirector:
    jar = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    return urllib.request.build_opener(jar, _NoRedirect())


def _send(
    opener: urllib.request.OpenerDirector, url: str, form: dict[str, str] | None = None
) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=30) as response:  # noqa: S310
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode(errors="replace")


def _env(folder: Path, limits: bool = True) -> dict[str, str]:
    raised = {
        "PRO_RATELIMIT_SIGNIN": "100000 per minute",
        "PRO_RATELIMIT_ACCOUNT": "100000 per minute",
    }
    return {
        **os.environ,
        "PRO_INSTANCE_DIR": str(folder),
        "PRO_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "PRO_SECRET_KEY": "bench-secret-key",
        "PRO_TEXTPACK_DIR": str(folder / "textpacks"),
        "PRO_RATELIMIT_LINKS": "100000 per minute",
        **({} if limits else raised),
    }


def _seed(folder: Path, patients: int, staff: int) -> list[str]:
    os.environ.update(_env(folder))
    import flask_migrate

    from pro_app import clock, create_app
    from pro_app.cli import ensure_site
    from pro_app.extensions import db
    from pro_app.models import Role, Sex
    from pro_app.questionnaire.catalog import catalog
    from pro_app.services import accounts, enrolment, links

    app = create_app()
    tokens = []
    with app.app_context():
        flask_migrate.upgrade()
        site = ensure_site("SEH", name_en="Site SEH", name_zh="研究中心SEH")
        today = clock.today_in(site.timezone)
        for n in range(patients):
            participant = enrolment.enrol(
                site=site,
                study_id=f"PRIME-{700 + n:03d}",
                sex=Sex.FEMALE,
                birth_year=1958,
                height_cm=160,
                preferred_language="en",
                # Baseline window Day 0 - 14 .. Day 0: open now and for the next week.
                day0=today + timedelta(days=7),
                schedule=catalog().schedule,
                actor="bench",
            )
            visit = participant.visits[0]
            tokens.append(links.issue(visit, actor="bench")[1])
        for n in range(staff):
            user = accounts.create_staff(
                username=f"bench-{n:02d}",
                role=Role.COORDINATOR,
                sites=[site],
                password=PASSWORD,
                actor="bench",
            )
            user.must_change_password = False
        db.session.commit()
        db.engine.dispose()
    return tokens


ERRORS: list[str] = []


def _patient(base: str, token: str, stop: threading.Event, timings: list[float]) -> None:
    try:
        _answer_loop(base, token, stop, timings)
    except Exception as error:  # reported after the phase: a bench must not hide a failure
        ERRORS.append(repr(error))


def _answer_loop(base: str, token: str, stop: threading.Event, timings: list[float]) -> None:
    browser = _browser()
    _, page = _send(browser, f"{base}/s/{token}")
    match = _START.search(page)
    if match is None:
        raise RuntimeError(f"no Start form: {page[:200]}")
    _send(browser, f"{base}/s/{token}", {"start_token": match.group(1)})
    n = 0
    while not stop.is_set():
        item = n % 21 + 1
        _, page = _send(browser, f"{base}/visit/mlhfq/q/{item}")
        csrf = _CSRF.search(page)
        if csrf is None:
            raise RuntimeError(f"no form on item {item}: {page[:200]}")
        form = {"csrf_token": csrf.group(1), "answer": str(n % 6), "action": "next"}
        started = time.perf_counter()
        status, _ = _send(browser, f"{base}/visit/mlhfq/q/{item}", form)
        timings.append(time.perf_counter() - started)
        if status != 303:
            raise RuntimeError(f"save answered {status}")
        n += 1


def _signer(
    base: str, username: str, stop: threading.Event, count: list[int], pause: float
) -> None:
    while not stop.wait(pause):
        browser = _browser()
        _, page = _send(browser, f"{base}/staff/login")
        csrf = _CSRF.search(page)
        assert csrf is not None
        status, _ = _send(
            browser,
            f"{base}/staff/login",
            {"csrf_token": csrf.group(1), "username": username, "password": PASSWORD},
        )
        if status == 303:
            count.append(1)


def _phase(
    base: str, tokens: list[str], seconds: float, signins: int, pause: float = 0
) -> dict[str, Any]:
    stop = threading.Event()
    timings: list[float] = []
    signed: list[int] = []
    threads = [threading.Thread(target=_patient, args=(base, t, stop, timings)) for t in tokens]
    threads += [
        threading.Thread(target=_signer, args=(base, f"bench-{n:02d}", stop, signed, pause))
        for n in range(signins)
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(60)
    if ERRORS:
        raise RuntimeError(f"patients failed: {ERRORS[:3]}")
    ordered = sorted(timings)
    return {
        "saves": len(ordered),
        "save_ms_p50": round(statistics.median(ordered) * 1000, 1),
        "save_ms_p95": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
        "sign_ins": len(signed),
    }


def run(seconds: float, patients: int, signins: int, limits: bool, pause: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        tokens = _seed(folder, patients, signins)
        # The very gunicorn command of the load bench (`make run` settings), its workers counting
        # the rate limits in one Redis as `make run`'s do; the bench's own database, emptied first
        # so that an earlier run's counts (per hour, per username) do not refuse this one's.
        pro_settings = {k: v for k, v in _env(folder, limits).items() if k.startswith("PRO_")}
        pro_settings["PRO_RATELIMIT_STORAGE_URI"] = REDIS_URL
        redis_pid(REDIS_URL)  # a Redis answers, or the bench stops and says so
        redis.Redis.from_url(REDIS_URL).flushdb()
        server = Server("signin", "wsgi:app", pro_settings, folder, store=REDIS_URL)
        server.start()
        base = f"http://127.0.0.1:{server.port}"
        try:
            for _ in range(8):  # both workers have loaded the app once this answers a few times
                _send(_browser(), f"{base}/staff/login")
            alone = _phase(base, tokens[: patients // 2], seconds, 0)
            loaded = _phase(base, tokens[patients // 2 :], seconds, signins, pause)
        finally:
            server.stop()
    return {
        "database": "sqlite",
        "gunicorn": f"{default_workers()} {worker_class(DEFAULT_THREADS)} workers x "
        f"{DEFAULT_THREADS} thread(s)",
        "patients": patients // 2,
        "concurrent_sign_ins": signins,
        "pause_between_sign_ins_s": pause,
        "rate_limits": "the app's defaults" if limits else "raised (every sign-in checked)",
        "ratelimit_storage": REDIS_URL,
        "seconds_per_phase": seconds,
        "alone": alone,
        "with_sign_ins": loaded,
        "p95_ratio": round(loaded["save_ms_p95"] / alone["save_ms_p95"], 2),
        "cpus": os.cpu_count(),
    }


def cli(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench signin")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--patients", type=int, default=4, help="patients saving in each phase")
    parser.add_argument("--signins", type=int, default=16)
    parser.add_argument("--no-limits", action="store_true", help="raise the sign-in rate limits")
    parser.add_argument(
        "--pause", type=float, default=0, help="seconds each signer waits between attempts"
    )
    options = parser.parse_args(argv)
    figures = run(
        options.seconds, options.patients * 2, options.signins, not options.no_limits, options.pause
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "signin" if not options.no_limits else "signin-no-limits"
    if options.pause:
        name += f"-pause-{options.pause:g}s"
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    alone, loaded = figures["alone"], figures["with_sign_ins"]
    (RESULTS / f"{name}.md").write_text(
        "# Sign-in load against patients' saves\n\n"
        f"SQLite, gunicorn {figures['gunicorn']}, {figures['patients']} patients saving in a "
        f"loop, {figures['seconds_per_phase']} s per phase, {figures['cpus']} CPUs; rate limits: "
        f"{figures['rate_limits']}, counted in {figures.get('ratelimit_storage', 'memory://')}; "
        f"each of the {figures['concurrent_sign_ins']} signers waits "
        f"{figures['pause_between_sign_ins_s']} s between attempts.\n\n"
        "| phase | saves | p50 ms | p95 ms | sign-ins |\n|---|---|---|---|---|\n"
        f"| patients alone | {alone['saves']} | {alone['save_ms_p50']} | {alone['save_ms_p95']} | 0 |\n"
        f"| with {figures['concurrent_sign_ins']} concurrent sign-ins | {loaded['saves']} | "
        f"{loaded['save_ms_p50']} | {loaded['save_ms_p95']} | {loaded['sign_ins']} |\n\n"
        f"p95 ratio: {figures['p95_ratio']} (target: at most 2).\n"
    )
    print(json.dumps(figures, indent=2))
