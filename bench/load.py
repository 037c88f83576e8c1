"""Load benchmark: patient requests under gunicorn, against a Flask "hello" floor.

Serves PRIME-PRO with the `make run` settings (gunicorn, two workers per core x 1 thread, config
python:pro_app.gunicorn_conf, rate limits counted in the machine's Redis) on SQLite and on
PostgreSQL (a fresh database each, migrated and seeded with a site, participants whose baseline
window is open and a link each), bench/hello_app.py under the very same gunicorn command as the
floor, and per engine bench/stack_app.py, the stack floor (the same flow on the libraries
PRIME-PRO must use, used plainly, nothing of its own): how much of the gap to the floor is the
stack's. The PDF worker is NOT run (PRO_RUN_PDF_WORKER unset): records queue PDF jobs that nobody
renders, because PDFs are measured by bench/pdf.py and never belong on the web path.

A multi-process client (one process per patient, a keep-alive http.client connection each, cookies
kept, every form's hidden fields, CSRF token and action parsed from the page like a browser) drives
three scenarios at 1 and 20 concurrent patients, the systems interleaved in rounds:

- landing: GET /s/<token> (the page a patient's link opens);
- item: one item step = GET the question, POST an answer (303), GET the page it redirects to;
- whole: a whole MLHFQ response from the link to the receipt (landing, Start, 21 answers, review,
  confirmation, submit), a fresh link each time.

Each cell records HTTP requests per second, p50/p95/p99 per request type, errors, the server's CPU
(utime+stime of the gunicorn master and workers, plus the PostgreSQL backends serving the bench
database and, for PRIME-PRO, the Redis server, from /proc) per request and per whole response, and
the CPU that other processes used meanwhile (/proc/stat minus the server and the client): a cell
where others used more than Options.noise_cores (0.25) is repeated (Options.retries: once) and
flagged if it stays noisy.
SQL statements per request are counted in-process (Flask test client, a before_cursor_execute
listener). On PostgreSQL a thread of the bench samples, every 20 ms while a cell is measured, how
many of the bench database's backends wait on a lock (`LockSampler`): PRIME-PRO's writers queue on
the audit trail's head row, which the stack floor does not have.

    python -m bench load [--quick] [--engines sqlite,postgresql] [--seconds S] [--rounds R]

Writes bench/results/load-<date>.md and .json, with ratios against the floor and the stack floor
and a pass/fail line per target of issue 14 (judged against the hello floor).
"""

from __future__ import annotations

import argparse
import html
import http.client
import math
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import report
from pro_app.cli.serve import DEFAULT_THREADS, default_workers, worker_class

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PG_ADMIN = os.environ.get("PRO_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# The rate limits' shared count, as `make run` keeps it (pro_app/cli/serve.py: LOCAL_REDIS), in a
# database of its own; the Redis server's CPU counts as PRIME-PRO's, beside its database's.
REDIS_URL = os.environ.get("PRO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# The stack floor's systems are named "stack-<engine>" (bench/stack_app.py).
STACK = "stack"
SCENARIOS = ("landing", "item", "whole")
CONCURRENCY = (1, 20)
TICKS = os.sysconf("SC_CLK_TCK")

# Targets of issue 14.
FLOOR_RATIO = 0.5
HARD_FLOOR_RATIO = 0.25
P99_MS = 100.0
STATEMENTS_PER_STEP = 5
CPU_PER_RESPONSE_MS = 60.0

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_FORM = re.compile(r'<form method="post"([^>]*)>')
_ACTION = re.compile(r'action="([^"]*)"')
_ANSWER = re.compile(r'name="answer" value="([^"]+)"')
_PRIMARY = re.compile(r'<a class="button primary" href="([^"]+)"')


# --- the browser -----------------------------------------------------------------------------------


class BenchError(Exception):
    """A request that did not get the answer a browser expects."""


@dataclass
class Page:
    status: int
    location: str
    body: str


class Transport:
    """One browser's connection: request(method, path, form) -> Page."""

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Page:
        raise NotImplementedError


class HttpTransport(Transport):
    """A keep-alive HTTP/1.1 connection with a cookie jar, like one phone's browser."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(host, port, timeout=30)
        self.reused = False  # has the current connection carried a request already?
        self.retries = 0

    def _reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.reused = False

    def _send(self, method: str, path: str, body: str | None, headers: dict[str, str]) -> Any:
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self._reconnect()
            raise
        self.reused = True
        return response, data

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Page:
        headers = {"Accept-Language": "zh-CN,zh;q=0.9", "User-Agent": "prime-pro-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        was_reused = self.reused
        try:
            response, data = self._send(method, path, body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not was_reused:
                raise
            # The server closed a kept-alive connection before answering (gunicorn closes one
            # whose keep-alive time ran out while every thread was busy): a browser sends the
            # request again on a new connection, and so does this client, once. Counted apart.
            self.retries += 1
            response, data = self._send(method, path, body, headers)
        for header in response.headers.get_all("Set-Cookie") or []:
            pair = header.split(";", 1)[0]
            name, _, value = pair.partition("=")
            lowered = header.lower()
            if "max-age=0" in lowered or "expires=thu, 01 jan 1970" in lowered:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        return Page(response.status, response.headers.get("Location", ""), data.decode())

    def close(self) -> None:
        self.conn.close()


class FlaskTransport(Transport):
    """The same browser over the Flask test client (for counting statements in-process)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Page:
        response = self.client.open(path, method=method, data=form)
        return Page(
            response.status_code, response.headers.get("Location", ""), response.get_data(True)
        )


def _local(location: str) -> str:
    """The path of a Location header (absolute or relative)."""
    if location.startswith("http"):
        after = location.split("://", 1)[1]
        return "/" + after.split("/", 1)[1] if "/" in after else "/"
    return location


class Browser:
    """Reads pages and acts on them as a patient's browser would; records each request's
    latency under a request type."""

    def __init__(self, transport: Transport, rng: random.Random) -> None:
        self.transport = transport
        self.rng = rng
        self.samples: dict[str, list[float]] = {}
        self.requests = 0

    def fetch(
        self, kind: str, method: str, path: str, form: dict[str, str] | None, expect: int
    ) -> Page:
        started = time.perf_counter()
        page = self.transport.request(method, path, form)
        elapsed = (time.perf_counter() - started) * 1000
        self.requests += 1
        self.samples.setdefault(kind, []).append(elapsed)
        if page.status != expect:
            raise BenchError(f"{method} {path}: {page.status}, expected {expect}")
        return page

    def form_of(self, page: Page, path: str) -> tuple[str, dict[str, str]]:
        """The page's POST form: where it goes and what a person's tap sends."""
        found = _FORM.search(page.body)
        if found is None:
            raise BenchError(f"{path}: no form")
        action = _ACTION.search(found.group(1))
        target = html.unescape(action.group(1)) if action else path
        data = {name: html.unescape(value) for name, value in _HIDDEN.findall(page.body)}
        answers = _ANSWER.findall(page.body)
        if answers:
            data["answer"] = self.rng.choice(answers)
            data["action"] = "next"
        return target, data

    def landing(self, token: str) -> Page:
        return self.fetch("landing", "GET", f"/s/{token}", None, 200)

    def start(self, token: str) -> str:
        """Open the link and tap Start; the path the app sends the patient to."""
        landing = self.landing(token)
        target, data = self.form_of(landing, f"/s/{token}")
        posted = self.fetch("start_post", "POST", target, data, 303)
        return _local(posted.location)

    def item_step(self, number: int) -> None:
        """GET the question, POST an answer, GET the page the 303 leads to."""
        path = f"/visit/mlhfq/q/{number}"
        page = self.fetch("item_get", "GET", path, None, 200)
        target, data = self.form_of(page, path)
        posted = self.fetch("answer_post", "POST", target, data, 303)
        self.fetch("redirect_get", "GET", _local(posted.location), None, 200)

    def whole_response(self, token: str) -> None:
        """From the link to the receipt: every page a patient sees, every tap a POST."""
        path = self.start(token)
        for _ in range(80):
            page = self.fetch("page_get", "GET", path, None, 200)
            if "/receipt" in path:
                return
            if _FORM.search(page.body):
                target, data = self.form_of(page, path)
                kind = "answer_post" if "answer" in data else "submit_post"
                path = _local(self.fetch(kind, "POST", target, data, 303).location)
            else:
                link = _PRIMARY.search(page.body)
                if link is None:
                    raise BenchError(f"{path}: neither a form nor a way on")
                path = html.unescape(link.group(1))
        raise BenchError("no receipt after 80 pages")


# --- the client processes --------------------------------------------------------------------------


@dataclass
class CellPlan:
    system: str
    scenario: str
    clients: int
    port: int
    warmup_s: float
    seconds: float


def _cpu_of_self() -> float:
    times = os.times()
    return times.user + times.system


def _client(
    plan: CellPlan,
    index: int,
    tokens: list[str],
    next_token: Any,
    barrier: Any,
    deadline: Any,
    out: Any,
) -> None:
    """One patient: set up, warm up, wait for the start, work until the deadline, report."""
    rng = random.Random(index * 7919 + hash(plan.scenario) % 1000)
    transport = HttpTransport("127.0.0.1", plan.port)
    browser = Browser(transport, rng)
    errors: list[str] = []

    def fresh_token() -> str | None:
        with next_token.get_lock():
            position = next_token.value
            next_token.value += 1
        return tokens[position] if position < len(tokens) else None

    own = tokens[index % len(tokens)]
    number = 1
    response_ms: list[float] = []

    def one() -> int:
        """One unit of work; returns the whole responses it completed."""
        nonlocal number
        if plan.scenario == "landing":
            browser.landing(own)
            return 0
        if plan.scenario == "item":
            browser.item_step(number)
            number = number % 21 + 1
            return 0
        token = fresh_token()
        if token is None:
            raise BenchError("the pool of fresh links ran out: raise Options.links")
        began = time.perf_counter()
        browser.whole_response(token)
        response_ms.append((time.perf_counter() - began) * 1000)
        return 1

    try:
        if plan.scenario == "item":
            browser.start(own)
        warm_until = time.monotonic() + plan.warmup_s
        while time.monotonic() < warm_until:
            try:
                one()
            except (BenchError, OSError, http.client.HTTPException) as error:
                errors.append(f"warm-up: {error}")
    except (BenchError, OSError, http.client.HTTPException) as error:
        errors.append(f"set-up: {error}")
    browser.samples.clear()
    browser.requests = 0
    response_ms.clear()
    transport.retries = 0
    barrier.wait()  # everyone warm: the main process reads the CPU counters
    barrier.wait()  # the deadline is set
    cpu_start = _cpu_of_self()
    started = time.monotonic()
    whole = 0
    failed = 0
    while True:  # at least one unit each, however late the scheduler woke this process
        try:
            whole += one()
        except BenchError as error:
            failed += 1
            errors.append(str(error))
            if "ran out" in str(error):
                break
        except (OSError, http.client.HTTPException) as error:
            failed += 1
            errors.append(f"connection: {error!r}")
        if time.monotonic() >= deadline.value:
            break
    finished = time.monotonic()
    out.send(
        {
            "samples": browser.samples,
            "response_ms": response_ms,
            "requests": browser.requests,
            "whole": whole,
            "errors": failed,
            "retries": transport.retries,
            "error_examples": [e for e in errors if not e.startswith("warm")][:3],
            "setup_errors": [e for e in errors if e.startswith(("set-up", "warm"))][:3],
            "cpu_s": _cpu_of_self() - cpu_start,
            "started": started,
            "finished": finished,
        }
    )
    out.close()


# --- CPU accounting from /proc ----------------------------------------------------------------------


def _proc_cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return found


def _machine_busy_s() -> float:
    with open("/proc/stat") as stat:
        cpu = stat.readline().split()[1:]
    values = [int(v) for v in cpu]
    idle = values[3] + values[4]  # idle + iowait
    busy = sum(values[:8]) - idle  # guest time is already inside user
    return busy / TICKS


class LockSampler:
    """While it runs, samples every `period` seconds how many backends of one PostgreSQL database
    wait on a lock (`pg_stat_activity.wait_event_type = 'Lock'`). Its own connection is to the
    admin database, so its backend is never one of those counted, nor the server's."""

    def __init__(self, database: str, period: float = 0.02) -> None:
        self.database = database
        self.period = period
        self.samples = 0
        self.waiting = 0  # backends found waiting, summed over the samples
        self.some = 0  # samples with at least one backend waiting
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lock-sampler", daemon=True)
        self._error: BaseException | None = None

    def __enter__(self) -> LockSampler:
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if self._error is not None:
            raise self._error

    def figures(self) -> dict[str, int]:
        return {"lock_samples": self.samples, "lock_waiting": self.waiting, "lock_some": self.some}

    def _run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                self._ready.set()
                while not self._stop.is_set():
                    row = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = %s AND wait_event_type = 'Lock'",
                        (self.database,),
                    ).fetchone()
                    found = int(row[0]) if row else 0
                    self.samples += 1
                    self.waiting += found
                    self.some += 1 if found else 0
                    self._stop.wait(self.period)
        except BaseException as error:  # reported by __enter__ or __exit__, in the bench's thread
            self._error = error
            self._ready.set()


@dataclass
class CpuSnapshot:
    server: dict[int, float]
    database: dict[int, float]
    busy_s: float


# --- servers -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A gunicorn serving one system with the `make run` settings."""

    name: str
    app: str
    env: dict[str, str]
    workdir: Path
    database: str | None = None  # the PostgreSQL database whose backends count as the server's
    store: str | None = None  # the Redis (URL) whose server process counts as the server's too
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    pids: list[int] = field(default_factory=list)
    workers: int = field(default_factory=default_workers)
    threads: int = DEFAULT_THREADS

    def start(self) -> None:
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PRO_")}
        env.update(self.env)
        env.pop("PRO_RUN_PDF_WORKER", None)  # PDFs are bench/pdf.py's business
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--worker-class",
            worker_class(self.threads),
            "--config",
            "python:pro_app.gunicorn_conf",
            self.app,
        ]
        log = self.workdir / f"{self.name}-gunicorn.log"
        with log.open("wb") as stderr:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr
            )
        until = time.monotonic() + 60
        while time.monotonic() < until:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited: {log.read_text()[-2000:]}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/s/warm-up-probe")
                conn.getresponse().read()
                if len(_children(self.process.pid)) >= 2:
                    break
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.2)
        else:
            raise RuntimeError(f"{self.name}: gunicorn did not answer within 60 s")

    def server_pids(self) -> list[int]:
        assert self.process is not None
        return [self.process.pid, *_children(self.process.pid)]

    def database_pids(self) -> list[int]:
        """The processes that do this server's storing: its PostgreSQL backends and Redis."""
        pids = [] if self.store is None else [redis_pid(self.store)]
        if self.database is None:
            return pids
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
            ).fetchall()
        return pids + [int(row[0]) for row in rows]

    def snapshot(self) -> CpuSnapshot:
        server = {pid: cpu for pid in self.server_pids() if (cpu := _proc_cpu(pid)) is not None}
        database = {pid: cpu for pid in self.database_pids() if (cpu := _proc_cpu(pid)) is not None}
        return CpuSnapshot(server, database, _machine_busy_s())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def redis_pid(url: str) -> int:
    """The process of the Redis server at `url`; fails loudly if none answers (`make redis`)."""
    import redis

    try:
        info = redis.Redis.from_url(url).info("server")
    except redis.RedisError as error:
        raise BenchError(f"no Redis at {url} (make redis starts one): {error}") from error
    return int(info["process_id"])


def _delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


# --- one cell ------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def percentile_interval(
    values: list[float], q: float, confidence: float = 0.95
) -> tuple[float, float | None]:
    """A distribution-free interval for the q-quantile from these samples: the order statistics
    x(l) and x(u) such that the count of samples below the true quantile, Binomial(n, q), falls
    in [l, u) with at least `confidence`. The upper end is None where even the largest sample
    cannot bound it (p99 from fewer than about 370 samples at 95%)."""
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return float("nan"), None
    tail = (1 - confidence) / 2
    log_q, log_rest = math.log(q), math.log1p(-q)
    cdf, below = [], 0.0
    for k in range(n + 1):
        below += math.exp(
            math.lgamma(n + 1)
            - math.lgamma(k + 1)
            - math.lgamma(n - k + 1)
            + k * log_q
            + (n - k) * log_rest
        )
        cdf.append(below)  # P(B <= k)
    low = max((k + 1 for k in range(n) if cdf[k] <= tail), default=1)
    high = next((k + 1 for k in range(n + 1) if cdf[k] >= 1 - tail), n + 1)
    return ordered[low - 1], ordered[high - 1] if high <= n else None


def drive(
    server: Server,
    target: Any,
    client_args: list[tuple[Any, ...]],
    seconds: float,
    sampler: LockSampler | None = None,
) -> tuple[list[dict[str, Any]], Any, Any]:
    """One forked process per client, `target(*args, barrier, deadline, pipe)`: all start
    together, run for `seconds` between two snapshots of the server, and send back their report.
    Returns the reports and the snapshots before and after. `sampler` runs between the two."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(client_args) + 1)
    deadline = context.Value("d", 0.0)
    pipes, processes = [], []
    for args in client_args:
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=target, args=(*args, barrier, deadline, send))
        process.start()
        send.close()
        pipes.append(receive)
        processes.append(process)
    barrier.wait(timeout=120)
    with sampler or nullcontext():
        before = server.snapshot()
        deadline.value = time.monotonic() + seconds
        barrier.wait(timeout=30)
        reports = [pipe.recv() for pipe in pipes]
        after = server.snapshot()
    for process in processes:
        process.join(timeout=30)
    return reports, before, after


def run_cell(server: Server, plan: CellPlan, tokens: list[str], next_token: Any) -> dict[str, Any]:
    clients = [(plan, index, tokens, next_token) for index in range(plan.clients)]
    sampler = LockSampler(server.database) if server.database else None
    reports, before, after = drive(server, _client, clients, plan.seconds, sampler)
    samples: dict[str, list[float]] = {}
    for client in reports:
        for kind, values in client["samples"].items():
            samples.setdefault(kind, []).extend(values)
    elapsed = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
    requests = sum(r["requests"] for r in reports)
    app_cpu = _delta(before.server, after.server)
    db_cpu = _delta(before.database, after.database)
    client_cpu = sum(r["cpu_s"] for r in reports)
    busy = after.busy_s - before.busy_s
    return {
        "system": plan.system,
        "scenario": plan.scenario,
        "clients": plan.clients,
        "seconds": round(elapsed, 3),
        "requests": requests,
        "whole_responses": sum(r["whole"] for r in reports),
        "errors": sum(r["errors"] for r in reports),
        "retries": sum(r["retries"] for r in reports),
        "error_examples": [e for r in reports for e in r["error_examples"]][:5],
        "setup_errors": [e for r in reports for e in r["setup_errors"]][:5],
        "samples": samples,
        "response_ms": [t for r in reports for t in r["response_ms"]],
        "app_cpu_s": round(app_cpu, 3),
        "db_cpu_s": round(db_cpu, 3),
        "client_cpu_s": round(client_cpu, 3),
        "other_cpu_s": round(max(busy - app_cpu - db_cpu - client_cpu, 0.0), 3),
        **(sampler.figures() if sampler else {}),
    }


# --- statement counts, in-process ---------------------------------------------------------------------


@contextmanager
def counted(engines: list[Any]) -> Iterator[list[str]]:
    """Every statement sent to the database inside the block, through any of the app's engines
    (a file SQLite database has a reading engine beside the main one), as
    tests/core/test_query_counts.py counts them: transaction control left out on both engines
    (SQLAlchemy never sees psycopg's BEGIN, and SQLite's BEGIN IMMEDIATE, one per writing request,
    is not counted either)."""
    from sqlalchemy import event

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        control = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK TO")
        if not statement.lstrip().upper().startswith(control):
            statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def statement_counts(app: Any, tokens: list[str]) -> dict[str, Any]:
    """Statements per request type, per item step and per whole response, through the test client
    (each request its own unit of work, as under gunicorn). Uses three fresh links."""
    from pro_app.extensions import db

    with app.app_context():
        engines = list(db.engines.values())
    counts: dict[str, Any] = {}

    def measure(name: str, action: Callable[[], Any]) -> None:
        with counted(engines) as statements:
            action()
        counts[name] = len(statements)

    browser = Browser(FlaskTransport(app.test_client()), random.Random(1))
    measure("landing", lambda: browser.landing(tokens[0]))
    measure("start", lambda: browser.start(tokens[0]))
    browser.item_step(1)  # the first save of the visit is not a typical step
    measure("item_get", lambda: browser.fetch("item_get", "GET", "/visit/mlhfq/q/3", None, 200))
    measure("item_step", lambda: browser.item_step(4))
    page = browser.fetch("item_get", "GET", "/visit/mlhfq/q/5", None, 200)
    target, data = browser.form_of(page, "/visit/mlhfq/q/5")
    posted: list[Page] = []
    measure(
        "answer_post",
        lambda: posted.append(browser.fetch("answer_post", "POST", target, data, 303)),
    )
    measure(
        "redirect_get",
        lambda: browser.fetch("redirect_get", "GET", _local(posted[0].location), None, 200),
    )
    whole = Browser(FlaskTransport(app.test_client()), random.Random(2))
    measure("whole_response", lambda: whole.whole_response(tokens[1]))
    counts["whole_response_requests"] = whole.requests
    return counts


# --- systems -------------------------------------------------------------------------------------------


@dataclass
class System:
    name: str
    server: Server
    landing_tokens: list[str]
    item_tokens: list[str]
    whole_tokens: list[str]
    next_whole: Any
    statements: dict[str, Any] | None = None


def _settings_env(url: str, instance: Path) -> dict[str, str]:
    return {
        "PRO_INSTANCE_DIR": str(instance),
        "PRO_DATABASE_URL": url,
        "PRO_SECRET_KEY": "bench-secret-key",
        "PRO_TEXTPACK_DIR": str(instance / "textpacks"),
        "PRO_BASE_URL": "http://127.0.0.1",
        "PRO_AUDIT_CHECKPOINT_DIR": str(instance / "audit-checkpoints"),
        # Every simulated patient and staff member comes from 127.0.0.1: the per-address limits
        # stay on (their cost is measured) but high enough never to refuse the bench.
        "PRO_RATELIMIT_LINKS": "1000000 per minute",
        "PRO_RATELIMIT_SIGNIN": "1000000 per minute",
        "PRO_RATELIMIT_ACCOUNT": "1000000 per minute",
    }


@contextmanager
def database(engine: str, workdir: Path, prefix: str = "bench") -> Iterator[tuple[str, str | None]]:
    """A fresh, empty database: (its URL, the PostgreSQL database name or None); dropped after."""
    if engine == "sqlite":
        yield f"sqlite:///{workdir / f'{prefix}-sqlite.sqlite3'}", None
        return
    import psycopg

    name = f"pro_{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        base = PG_ADMIN.rsplit("/", 1)[0]
        yield f"{base}/{name}", name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(engine: str, url: str, instance: Path, links: int, clients: int) -> dict[str, Any]:
    """Migrate and seed: participants whose baseline window is open (Day 0 a week ahead), a link
    to each baseline; returns the tokens by use, and the statement counts."""
    import flask_migrate

    from bench import seed as seeding
    from pro_app import create_app
    from pro_app.config import Settings
    from pro_app.extensions import db

    settings = Settings.from_env(_settings_env(url, instance))
    app = create_app({}, settings=settings)
    day0 = seeding.today_in_site() + timedelta(days=7)
    total = clients * 2 + 3 + links
    with app.app_context():
        flask_migrate.upgrade()
        seeding.seed(1, total, random.Random(14), day0_of=lambda _n: day0, sealed_slots=0)
        tokens = seeding.issue_links(range(1, total + 1))
        db.session.remove()
        db.engine.dispose()
    landing, rest = tokens[:clients], tokens[clients:]
    item, rest = rest[:clients], rest[clients:]
    counting, whole = rest[:3], rest[3:]
    statements = statement_counts(app, counting)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return {"landing": landing, "item": item, "whole": whole, "statements": statements}


# --- the run -------------------------------------------------------------------------------------------


@dataclass
class Options:
    engines: list[str]
    seconds: float
    warmup: float
    rounds: int
    clients: list[int]
    links: int
    noise_cores: float
    retries: int
    # gunicorn's processes and threads, for PRIME-PRO and the floor alike (`make run`'s).
    workers: int = field(default_factory=default_workers)
    threads: int = DEFAULT_THREADS


def options_for(quick: bool, engines: list[str], seconds: float | None) -> Options:
    if quick:
        return Options(engines, seconds or 1.0, 0.3, 1, [1, 3], 120, 0.5, 0)
    return Options(engines, seconds or 8.0, 1.5, 3, list(CONCURRENCY), 6_000, 0.25, 1)


def run(options: Options) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="prime-load-bench-"))
    context = multiprocessing.get_context("fork")
    systems: list[System] = []
    cells: list[dict[str, Any]] = []
    stack: list[Any] = []
    clients_max = max(options.clients)
    try:
        shape = {"workers": options.workers, "threads": options.threads}
        hello = Server("hello", "bench.hello_app:app", {}, workdir, **shape)
        hello_tokens = [f"hello-{i}" for i in range(clients_max)]
        systems.append(
            System(
                "hello",
                hello,
                hello_tokens,
                hello_tokens,
                [f"hello-w{i}" for i in range(200_000)],
                context.Value("l", 0),
            )
        )
        for engine in options.engines:
            instance = workdir / engine
            instance.mkdir()
            manager = database(engine, workdir)
            url, pg_name = manager.__enter__()
            stack.append(manager)
            started = time.perf_counter()
            prepared = prepare(engine, url, instance, options.links, clients_max)
            print(f"  {engine}: seeded in {time.perf_counter() - started:.1f} s", flush=True)
            env = {**_settings_env(url, instance), "PRO_RATELIMIT_STORAGE_URI": REDIS_URL}
            server = Server(engine, "wsgi:app", env, workdir, pg_name, REDIS_URL, **shape)
            systems.append(
                System(
                    engine,
                    server,
                    prepared["landing"],
                    prepared["item"],
                    prepared["whole"],
                    context.Value("l", 0),
                    prepared["statements"],
                )
            )
            systems.append(_stack_system(engine, workdir, stack, shape, clients_max, context))
        for system in systems:
            system.server.start()
        for round_number in range(1, options.rounds + 1):
            for scenario in SCENARIOS:
                for clients in options.clients:
                    for system in systems:
                        cells.append(
                            _measured_cell(system, scenario, clients, options, round_number)
                        )
    finally:
        for system in systems:
            system.server.stop()
        for manager in reversed(stack):
            manager.__exit__(None, None, None)
        shutil.rmtree(workdir, ignore_errors=True)
    return summarise(options, systems, cells)


def _stack_system(
    engine: str,
    workdir: Path,
    managers: list[Any],
    shape: dict[str, int],
    clients: int,
    context: Any,
) -> System:
    """The stack floor on `engine` (bench/stack_app.py): its own fresh database and tables (its
    database's context manager joins `managers`, closed when the run ends)."""
    from bench import stack_app

    manager = database(engine, workdir, prefix=STACK)
    url, pg_name = manager.__enter__()
    managers.append(manager)
    env = {"STACK_DATABASE_URL": url}
    with _environment(env):
        stack_app.create_tables()
    name = f"{STACK}-{engine}"
    server = Server(name, "bench.stack_app:create_app()", env, workdir, pg_name, **shape)
    tokens = [f"{name}-{i}" for i in range(clients)]
    whole = [f"{name}-w{i}" for i in range(200_000)]
    return System(name, server, tokens, tokens, whole, context.Value("l", 0))


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _measured_cell(
    system: System, scenario: str, clients: int, options: Options, round_number: int
) -> dict[str, Any]:
    plan = CellPlan(
        system.name, scenario, clients, system.server.port, options.warmup, options.seconds
    )
    tokens = {
        "landing": system.landing_tokens,
        "item": system.item_tokens,
        "whole": system.whole_tokens,
    }[scenario]
    tries = []
    for attempt in range(options.retries + 1):
        cell = run_cell(system.server, plan, tokens, system.next_whole)
        cell["round"] = round_number
        cell["attempt"] = attempt + 1
        noise = cell["other_cpu_s"] / max(cell["seconds"], 1e-9)
        cell["other_cores"] = round(noise, 2)
        cell["noisy"] = noise > options.noise_cores
        tries.append(cell)
        print(
            f"  round {round_number} {scenario:7} x{clients:<2} {system.name:10} "
            f"{cell['requests'] / max(cell['seconds'], 1e-9):8.1f} req/s  errors {cell['errors']}"
            f"  others {noise:.2f} cores{'  NOISY' if cell['noisy'] else ''}",
            flush=True,
        )
        if not cell["noisy"]:
            break
    best = min(tries, key=lambda c: c["other_cores"])
    best["repeats"] = len(tries) - 1
    return best


# --- summary -------------------------------------------------------------------------------------------


def _rate(count: float, seconds: float) -> float:
    return count / seconds if seconds else 0.0


def summarise(
    options: Options, systems: list[System], cells: list[dict[str, Any]]
) -> dict[str, Any]:
    table: list[dict[str, Any]] = []
    for scenario in SCENARIOS:
        for clients in options.clients:
            for system in systems:
                mine = [
                    c
                    for c in cells
                    if c["system"] == system.name
                    and c["scenario"] == scenario
                    and c["clients"] == clients
                ]
                if not mine:
                    continue
                seconds = sum(c["seconds"] for c in mine)
                requests = sum(c["requests"] for c in mine)
                whole = sum(c["whole_responses"] for c in mine)
                server_cpu = sum(c["app_cpu_s"] + c["db_cpu_s"] for c in mine)
                samples: dict[str, list[float]] = {}
                for c in mine:
                    for kind, values in c["samples"].items():
                        samples.setdefault(kind, []).extend(values)
                if scenario == "item":
                    units = len(samples.get("answer_post", []))
                    unit_name = "steps"
                elif scenario == "whole":
                    units, unit_name = whole, "responses"
                else:
                    units, unit_name = requests, "requests"
                table.append(
                    {
                        "system": system.name,
                        "scenario": scenario,
                        "clients": clients,
                        "seconds": round(seconds, 2),
                        "requests": requests,
                        "requests_per_s": round(_rate(requests, seconds), 1),
                        unit_name: units,
                        "units_per_s": round(_rate(units, seconds), 2),
                        "errors": sum(c["errors"] for c in mine),
                        "retries": sum(c["retries"] for c in mine),
                        "latency_ms": {
                            kind: {
                                "n": len(values),
                                "p50": round(percentile(values, 0.50), 2),
                                "p95": round(percentile(values, 0.95), 2),
                                "p99": round(percentile(values, 0.99), 2),
                                "p99_interval": _rounded(percentile_interval(values, 0.99)),
                            }
                            for kind, values in sorted(samples.items())
                        },
                        "server_cpu_ms_per_request": round(
                            1000 * server_cpu / requests if requests else float("nan"), 3
                        ),
                        "app_cpu_ms_per_request": round(
                            1000 * sum(c["app_cpu_s"] for c in mine) / max(requests, 1), 3
                        ),
                        "db_cpu_ms_per_request": round(
                            1000 * sum(c["db_cpu_s"] for c in mine) / max(requests, 1), 3
                        ),
                        "server_cpu_ms_per_response": (
                            round(1000 * server_cpu / whole, 1) if whole else None
                        ),
                        "whole_response_ms": (
                            _whole_latency(mine) if scenario == "whole" else None
                        ),
                        **_lock_figures(mine),
                        "other_cores_max": max(c["other_cores"] for c in mine),
                        "noisy_cells": sum(1 for c in mine if c["noisy"]),
                        "repeats": sum(c["repeats"] for c in mine),
                    }
                )
    for row in table:
        floor = _row(table, "hello", row["scenario"], row["clients"])
        stack = _row(table, f"{STACK}-{row['system']}", row["scenario"], row["clients"])
        row["ratio_to_floor"] = _ratio(row, floor, "requests_per_s", 3)
        row["cpu_to_floor"] = _ratio(row, floor, "server_cpu_ms_per_request", 1)
        row["ratio_to_stack"] = _ratio(row, stack, "requests_per_s", 3)
        row["cpu_to_stack"] = _ratio(row, stack, "server_cpu_ms_per_request", 2)
    statements = {s.name: s.statements for s in systems if s.statements is not None}
    return {
        **report.stamp(),
        "settings": {
            "gunicorn": f"{options.workers} {worker_class(options.threads)} workers x "
            f"{options.threads} thread(s), "
            "--config python:pro_app.gunicorn_conf",
            "pdf_worker": "not run (PRO_RUN_PDF_WORKER unset); PDFs: bench/pdf.py",
            "ratelimit_storage": REDIS_URL,
            "engines": options.engines,
            "seconds_per_cell": options.seconds,
            "warmup_s": options.warmup,
            "rounds": options.rounds,
            "clients": options.clients,
            "noise_cores": options.noise_cores,
            "retries": options.retries,
        },
        "table": table,
        "statements": statements,
        "targets": targets(options, table, statements),
        "cells": [
            {k: v for k, v in c.items() if k not in ("samples", "response_ms")} for c in cells
        ],
    }


def _rounded(interval: tuple[float, float | None]) -> list[float | None]:
    low, high = interval
    return [round(low, 2), None if high is None else round(high, 2)]


def _lock_figures(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Over a system's cells on PostgreSQL: backends waiting on a lock, on average over the
    samples, and the share of samples where at least one waited (None where nothing sampled)."""
    samples = sum(c.get("lock_samples", 0) for c in cells)
    if not samples:
        return {"lock_samples": 0, "lock_waiting_mean": None, "lock_wait_share": None}
    return {
        "lock_samples": samples,
        "lock_waiting_mean": round(sum(c["lock_waiting"] for c in cells) / samples, 2),
        "lock_wait_share": round(sum(c["lock_some"] for c in cells) / samples, 2),
    }


def _ratio(
    row: dict[str, Any], baseline: dict[str, Any] | None, figure: str, digits: int
) -> float | None:
    """`row`'s figure over the baseline's (None without a baseline or with a zero one)."""
    if not baseline or not baseline[figure]:
        return None
    return round(row[figure] / baseline[figure], digits)


def _whole_latency(cells: list[dict[str, Any]]) -> dict[str, float]:
    """A whole response's latency: from the landing page to the receipt, as its client timed it."""
    totals = [t for c in cells for t in c.get("response_ms", [])]
    if not totals:
        return {}
    return {
        "n": len(totals),
        "p50": round(percentile(totals, 0.5), 1),
        "p99": round(percentile(totals, 0.99), 1),
    }


def targets(
    options: Options, table: list[dict[str, Any]], statements: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each target's verdict for each engine, beside the same measure of that engine's stack floor
    from the same run (`stack`: its value and whether it meets the target; None where the floor
    has no such measure). A target the floor misses too is out of the fixed libraries' reach on
    this machine, whatever PRIME-PRO's own code does; one the floor meets is PRIME-PRO's own."""
    lines: list[dict[str, Any]] = []
    high = max(options.clients)
    for engine in options.engines:
        stack = f"{STACK}-{engine}"
        for scenario in ("landing", "item"):
            for clients in options.clients:
                row = _row(table, engine, scenario, clients)
                if row is None or row["ratio_to_floor"] is None:
                    continue
                ratio = row["ratio_to_floor"]
                floor_ratio = _field(_row(table, stack, scenario, clients), "ratio_to_floor")
                lines.append(
                    {
                        "measure": "ratio",
                        "target": f"{engine} {scenario} x{clients}: throughput per HTTP request "
                        f">= {FLOOR_RATIO}x the hello floor",
                        "value": ratio,
                        "pass": ratio >= FLOOR_RATIO,
                        "note": _hard_floor_note(ratio, floor_ratio),
                        "stack": _stack_verdict(floor_ratio, lambda v: v >= FLOOR_RATIO),
                    }
                )
        for scenario in SCENARIOS:
            row = _row(table, engine, scenario, high)
            if row is None:
                continue
            floor = _row(table, stack, scenario, high)
            floor_latency = _field(floor, "latency_ms") or {}
            for kind, figures in row["latency_ms"].items():
                lines.append(
                    {
                        "measure": "p99",
                        "target": f"{engine} {scenario} x{high}: {kind} p99 < {P99_MS:.0f} ms",
                        "value": figures["p99"],
                        "pass": figures["p99"] < P99_MS,
                        "note": _p99_note(figures),
                        "stack": _stack_verdict(
                            _field(floor_latency.get(kind), "p99"), lambda v: v < P99_MS
                        ),
                    }
                )
            lines.append(
                {
                    "measure": "errors",
                    "target": f"{engine} {scenario} x{high}: no errors",
                    "value": row["errors"],
                    "pass": row["errors"] == 0,
                    "note": "",
                    "stack": _stack_verdict(_field(floor, "errors"), lambda v: v == 0),
                }
            )
        counts = statements.get(engine)
        if counts:
            lines.append(
                {
                    "measure": "statements",
                    "target": f"{engine}: <= {STATEMENTS_PER_STEP} SQL statements per item step "
                    "(GET + POST + redirect)",
                    "value": counts["item_step"],
                    "pass": counts["item_step"] <= STATEMENTS_PER_STEP,
                    "note": "",
                    "stack": None,  # the stack floor's statements are not counted
                }
            )
        row = _row(table, engine, "whole", min(options.clients))
        if row is not None and row["server_cpu_ms_per_response"] is not None:
            value = row["server_cpu_ms_per_response"]
            floor = _row(table, stack, "whole", min(options.clients))
            lines.append(
                {
                    "measure": "cpu",
                    "target": f"{engine}: <= {CPU_PER_RESPONSE_MS:.0f} ms server CPU per whole "
                    f"21-item response (x{min(options.clients)}, no PDF)",
                    "value": value,
                    "pass": value <= CPU_PER_RESPONSE_MS,
                    "note": "",
                    "stack": _stack_verdict(
                        _field(floor, "server_cpu_ms_per_response"),
                        lambda v: v <= CPU_PER_RESPONSE_MS,
                    ),
                }
            )
    return lines


def _field(row: dict[str, Any] | None, name: str) -> Any:
    return None if row is None else row.get(name)


def _stack_verdict(value: float | None, meets: Callable[[float], bool]) -> dict[str, Any] | None:
    """The stack floor's value of a target's measure and whether it meets the target."""
    if value is None:
        return None
    return {"value": value, "pass": meets(value)}


def _hard_floor_note(ratio: float, floor_ratio: float | None) -> str:
    """A ratio under the line that must never be crossed, and whether the stack floor is too."""
    if ratio >= HARD_FLOOR_RATIO:
        return ""
    note = f"below the {HARD_FLOOR_RATIO}x floor"
    if floor_ratio is None:
        return note
    if floor_ratio < HARD_FLOOR_RATIO:
        return f"{note}, as the stack floor is"
    return f"{note}, where the stack floor is not"


def stack_summary(lines: list[dict[str, Any]]) -> str:
    """How many targets PRIME-PRO misses, how many of those its stack floor misses too, and the
    same for the line a throughput ratio must never cross."""
    missed = [line for line in lines if not line["pass"]]
    compared = [line for line in missed if line["stack"] is not None]
    floor_missed = [line for line in compared if not line["stack"]["pass"]]
    below = [
        line for line in lines if line["measure"] == "ratio" and line["value"] < HARD_FLOOR_RATIO
    ]
    floor_below = [
        line for line in below if line["stack"] and line["stack"]["value"] < HARD_FLOOR_RATIO
    ]
    return (
        f"PRIME-PRO meets {len(lines) - len(missed)} of {len(lines)} targets. Of the "
        f"{len(missed)} it misses, {len(compared)} have the same measure of the stack floor from "
        f"this run: the stack floor misses {len(floor_missed)} of them too (out of the fixed "
        f"libraries' reach on this machine), and meets the other "
        f"{len(compared) - len(floor_missed)} (PRIME-PRO's own). Throughput below the "
        f"{HARD_FLOOR_RATIO}x line: {len(below)} ratios, the stack floor's too in "
        f"{len(floor_below)} of them."
    )


def _p99_note(figures: dict[str, Any]) -> str:
    """Where the samples cannot tell which side of the line the p99 is on."""
    low, high = figures["p99_interval"]
    if low < P99_MS and (high is None or high >= P99_MS):
        return (
            f"n={figures['n']}: its 95% interval, {_interval_text([low, high])} ms, spans the line"
        )
    return ""


def _row(table: list[dict[str, Any]], system: str, scenario: str, clients: int) -> Any:
    return next(
        (
            r
            for r in table
            if r["system"] == system and r["scenario"] == scenario and r["clients"] == clients
        ),
        None,
    )


# --- report --------------------------------------------------------------------------------------------


def markdown(result: dict[str, Any]) -> str:
    settings = result["settings"]
    machine = result["machine"]
    lines = [
        f"# Load benchmark — patient requests under gunicorn ({result['when']})",
        "",
        f"Machine: {machine['cpus']} CPUs, Python {machine['python']}, load average at the end "
        f"{', '.join(f'{x:.1f}' for x in machine['load_average_at_end'])}. Gunicorn "
        f"{settings['gunicorn']} for every system; PDF worker {settings['pdf_worker']}; "
        f"PRIME-PRO's rate limits counted in {settings.get('ratelimit_storage', 'memory://')}. "
        f"{settings['rounds']} round(s) of {settings['seconds_per_cell']} s per cell after "
        f"{settings['warmup_s']} s of warm-up, systems interleaved; a cell where other processes "
        f"used more than {settings['noise_cores']} cores is repeated up to {settings['retries']} "
        "time(s) and counted noisy if it stays so.",
        "",
        "| scenario | clients | system | req/s | x floor | units/s | p50 ms | p95 ms | p99 ms | "
        "errors | retried | server CPU ms/req | of it DB, Redis | CPU x floor | CPU ms/response | "
        "others, cores |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["table"]:
        every = [v for v in row["latency_ms"].values()]
        worst = max(every, key=lambda f: f["p99"]) if every else {"p50": 0, "p95": 0, "p99": 0}
        units = row["units_per_s"]
        lines.append(
            f"| {row['scenario']} | {row['clients']} | {row['system']} | {row['requests_per_s']} | "
            f"{row['ratio_to_floor']} | {units} | {worst['p50']} | {worst['p95']} | "
            f"{worst['p99']} | {row['errors']} | {row['retries']} | "
            f"{row['server_cpu_ms_per_request']} | "
            f"{row['db_cpu_ms_per_request']} | {row['cpu_to_floor']} | "
            f"{row['server_cpu_ms_per_response'] or ''} | {row['other_cores_max']}"
            f"{' (noisy)' if row['noisy_cells'] else ''} |"
        )
    lines += [
        "",
        "Units: landing = requests, item = item steps (GET + POST + redirect), whole = whole "
        "21-item responses. Latency columns show the slowest request type of the scenario; per "
        "type:",
        "",
        "| scenario | clients | system | request type | n | p50 ms | p95 ms | p99 ms | "
        "p99's 95% interval, ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["table"]:
        for kind, figures in row["latency_ms"].items():
            lines.append(
                f"| {row['scenario']} | {row['clients']} | {row['system']} | {kind} | "
                f"{figures['n']} | {figures['p50']} | {figures['p95']} | {figures['p99']} | "
                f"{_interval_text(figures['p99_interval'])} |"
            )
    whole_rows = [r for r in result["table"] if r.get("whole_response_ms")]
    if whole_rows:
        lines += ["", "| whole response | clients | system | n | p50 ms | p99 ms |"]
        lines.append("|---|---|---|---|---|---|")
        for row in whole_rows:
            figures = row["whole_response_ms"]
            lines.append(
                f"| whole | {row['clients']} | {row['system']} | {figures['n']} | "
                f"{figures['p50']} | {figures['p99']} |"
            )
    if result["statements"]:
        kinds = list(next(iter(result["statements"].values())))
        lines += [
            "",
            "SQL statements per request (Flask test client, one unit of work per request; "
            "transaction control not counted: on SQLite each writing request also sends "
            "BEGIN IMMEDIATE, on PostgreSQL psycopg sends BEGIN):",
            "",
            "| engine | " + " | ".join(kinds) + " |",
            "|---|" + "---|" * len(kinds),
        ]
        for engine, counts in result["statements"].items():
            lines.append(f"| {engine} | " + " | ".join(str(counts[k]) for k in kinds) + " |")
    lines += _stack_lines(result["table"])
    lines += _lock_lines(result["table"])
    lines += ["", "## Targets (issue 14)", "", stack_summary(result["targets"]), ""]
    lines += report.target_lines(result["targets"])
    lines.append("")
    return "\n".join(lines)


def _stack_lines(table: list[dict[str, Any]]) -> list[str]:
    """PRIME-PRO against the stack floor of its engine: what share of the gap is the stack's."""
    rows = [r for r in table if r.get("ratio_to_stack") is not None]
    if not rows:
        return []
    lines = [
        "",
        "## Against the stack floor",
        "",
        "stack-<engine> is bench/stack_app.py: the same patient flow on the libraries PRIME-PRO "
        "must use (Flask and its session cookie, Flask-WTF's CSRF, Flask-Babel, Jinja, "
        "SQLAlchemy's ORM session, WhiteNoise), one statement a request and a commit a POST, "
        "nothing of PRIME-PRO's own. Throughput x stack above 1 means PRIME-PRO is faster than "
        "that minimal app.",
        "",
        "| scenario | clients | system | x floor | stack x floor | x stack | CPU x stack |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        stack = _row(table, f"{STACK}-{row['system']}", row["scenario"], row["clients"])
        lines.append(
            f"| {row['scenario']} | {row['clients']} | {row['system']} | "
            f"{row['ratio_to_floor']} | {stack['ratio_to_floor'] if stack else ''} | "
            f"{row['ratio_to_stack']} | {row['cpu_to_stack']} |"
        )
    return lines


def _interval_text(interval: list[float | None]) -> str:
    low, high = interval
    return f"{low} – {high}" if high is not None else f"≥ {low} (too few samples to bound)"


def _lock_lines(table: list[dict[str, Any]]) -> list[str]:
    """PostgreSQL's lock waits per cell (LockSampler)."""
    rows = [r for r in table if r.get("lock_samples")]
    if not rows:
        return []
    lines = [
        "",
        "## PostgreSQL: backends waiting on a lock",
        "",
        "Sampled every 20 ms while each cell ran (pg_stat_activity). PRIME-PRO's writers take "
        "the audit trail's head row (`FOR UPDATE`) and hold it to their commit; the stack floor "
        "has no shared row. The server runs one backend per gunicorn worker.",
        "",
        "| scenario | clients | system | samples | backends waiting, mean | samples with a waiter |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['scenario']} | {row['clients']} | {row['system']} | {row['lock_samples']} | "
            f"{row['lock_waiting_mean']} | {round(100 * row['lock_wait_share'])}% |"
        )
    return lines


def write(
    result: dict[str, Any], folder: Path = RESULTS, name: str | None = None
) -> tuple[Path, Path]:
    return report.write(result, name or f"load-{result['when'][:10]}", markdown(result), folder)


def cli(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench load")
    parser.add_argument("--quick", action="store_true", help="short cells (the smoke test)")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=float, help="measured seconds per cell")
    parser.add_argument("--rounds", type=int, help="rounds of every cell")
    parser.add_argument(
        "--workers", type=int, default=default_workers(), help="gunicorn workers (make run's)"
    )
    parser.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help="threads per worker (make run's)"
    )
    parser.add_argument("--out", help="result file name (default: load-<date>)")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    options = options_for(args.quick, engines, args.seconds)
    if args.rounds:
        options.rounds = args.rounds
    options.workers, options.threads = args.workers, args.threads
    result = run(options)
    paths = write(result, name=args.out)
    print(markdown(result))
    print(f"written: {paths[0]} and {paths[1]}")


if __name__ == "__main__":
    cli(sys.argv[1:])
