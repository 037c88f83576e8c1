"""Staff bench: the coordinator's and the monitor's pages on a large trial, under gunicorn.

Seeds a fresh database per engine (bench/seed.py, bulk inserts) with a trial of --participants
(default 10,000 participants, 60,000 visits, about 100,000 sealed records; most participants have
finished their year, one in ten is part-way through so the due board has work on it), an open
query on about one record in a hundred and a source-data verification mark on every third. The
number of SQL statements behind each page is counted in-process (Flask test client, signed in
through the real form) at a small size (--small, default 100 participants) and again at the full
size: a page whose count grows with the trial loads rows one by one.

Then gunicorn serves the app with the `make run` settings (two workers per core x 1 thread, no PDF worker)
and --clients signed-in staff (default 5, each its own session) request one page over and over for
--seconds, page after page, engines interleaved, for --rounds rounds. Per page: requests per
second, p50/p95/p99, errors, the server's CPU per request (gunicorn master and workers, plus the
PostgreSQL backends of the bench database) and the CPU others used meanwhile (noisy cells are
repeated once and flagged). Target (issue 14): p99 under 150 ms at 5 concurrent staff, and
statement counts flat in the size of the trial.

    python -m bench staff [--quick] [--engines sqlite,postgresql] [--participants N]
                          [--small N] [--seconds S] [--rounds R] [--clients N]

Writes bench/results/staff-<participants>.md and .json.
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench import report
from bench import seed as seeding
from bench.load import (
    RESULTS,
    BenchError,
    FlaskTransport,
    HttpTransport,
    Server,
    Transport,
    _cpu_of_self,
    _delta,
    _settings_env,
    counted,
    database,
    drive,
    percentile,
)
from pro_app.cli.serve import DEFAULT_THREADS, default_workers, worker_class

P99_MS = 150.0
DEFAULT_PARTICIPANTS = 10_000
_CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')

# (name, role, path); {participant}, {record} and {site} are filled in with ids that exist at
# both sizes of the trial, so the same page is counted twice.
PAGES = [
    ("board", "coordinator", "/desk/"),
    ("participants (active)", "coordinator", "/desk/participants"),
    ("participants (all, page 3)", "coordinator", "/desk/participants?status=all&page=3"),
    ("participants (search)", "coordinator", "/desk/participants?status=all&q=PRIME-000"),
    ("participant", "coordinator", "/desk/participants/{participant}"),
    ("record (desk)", "coordinator", "/desk/records/{record}"),
    ("site audit (desk)", "coordinator", "/desk/sites/{site}/audit"),
    ("records (monitor)", "monitor", "/monitor/"),
    ("participants (monitor)", "monitor", "/monitor/participants"),
    ("participant (monitor)", "monitor", "/monitor/participants/{participant}"),
    ("record review", "monitor", "/monitor/review/records/{record}"),
    ("exports page", "monitor", "/monitor/exports"),
]


# --- the trial ------------------------------------------------------------------------------------


def _schedule_windows() -> list[tuple[int, int]]:
    """(day, days_after) of each (visit, instrument) slot, in schedule order."""
    from pro_app.questionnaire.catalog import catalog

    return [
        (visit.day, visit.days_after)
        for visit in catalog().schedule.visits
        for _instrument in visit.instruments
    ]


class Trial:
    """Who is where in the year: nine in ten have finished (every slot sealed but the last
    questionnaire, or all of them), one in ten started within the last 200 days and has sealed
    the slots whose window has closed."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.slots = _schedule_windows()

    def in_progress(self, n: int) -> bool:
        return n % 10 == 0

    def day0(self, n: int) -> date:
        if self.in_progress(n):
            return self.today - timedelta(days=(n * 7) % 200)
        return self.today - timedelta(days=380 + n % 300)

    def sealed(self, n: int) -> int:
        if self.in_progress(n):
            day0 = self.day0(n)
            return sum(
                1 for day, after in self.slots if day0 + timedelta(days=day + after) < self.today
            )
        return len(self.slots) if n % 10 in (1, 3, 5, 7, 9) else len(self.slots) - 1


@dataclass
class Prepared:
    url: str
    pg_name: str | None
    instance: Path
    counts_small: dict[str, int]
    counts_large: dict[str, int]
    records: int
    visits: int
    queries: int
    seed_seconds: float
    ids: dict[str, int]


def _app(url: str, instance: Path) -> Any:
    from pro_app import create_app
    from pro_app.config import Settings

    return create_app({}, settings=Settings.from_env(_settings_env(url, instance)))


def _ids(small: int) -> dict[str, int]:
    from sqlalchemy import select

    from pro_app.extensions import db
    from pro_app.models import Response, Site, Visit

    participant = max(1, small // 2)
    record = db.session.scalar(
        select(Response.id)
        .join(Visit, Visit.id == Response.visit_id)
        .where(Visit.participant_id == participant)
        .order_by(Response.id)
        .limit(1)
    )
    site = db.session.scalar(select(Site.id).where(Site.code == seeding.SITE_CODE))
    assert record is not None and site is not None
    return {"participant": participant, "record": record, "site": site}


def sign_in(transport: Transport, username: str) -> None:
    page = transport.request("GET", "/staff/login")
    found = _CSRF.search(page.body)
    if page.status != 200 or found is None:
        raise BenchError(f"sign-in page: {page.status}")
    done = transport.request(
        "POST",
        "/staff/login",
        {"csrf_token": found.group(1), "username": username, "password": seeding.STAFF_PASSWORD},
    )
    if done.status != 303:
        raise BenchError(f"sign-in of {username}: {done.status}")


def count_pages(app: Any, ids: dict[str, int]) -> dict[str, int]:
    """Statements behind each page, for a signed-in coordinator and monitor."""
    from pro_app.extensions import db

    with app.app_context():
        engines = list(db.engines.values())
    browsers = {}
    for role in ("coordinator", "monitor"):
        transport = FlaskTransport(app.test_client())
        sign_in(transport, f"bench-{role}-0")
        browsers[role] = transport
    counts = {}
    for name, role, path in PAGES:
        url = path.format(**ids)
        browsers[role].request("GET", url)  # the first visit warms caches (catalogue, templates)
        with counted(engines) as statements:
            page = browsers[role].request("GET", url)
        if page.status != 200:
            raise BenchError(f"{url}: {page.status}")
        counts[name] = len(statements)
    return counts


def prepare(engine: str, url: str, pg_name: str | None, instance: Path, options: Options) -> Any:
    import flask_migrate

    from pro_app.extensions import db
    from pro_app.models import Role

    app = _app(url, instance)
    rng = random.Random(141)
    started = time.perf_counter()
    with app.app_context():
        trial = Trial(seeding.today_in_site())
        flask_migrate.upgrade()
        records = seeding.seed(1, options.small, rng, day0_of=trial.day0, sealed_slots=trial.sealed)
        for role in (Role.COORDINATOR, Role.MONITOR):
            for number in range(options.clients):
                seeding.add_staff(f"bench-{role.value}-{number}", role)
        queries = seeding.add_review("bench-monitor-0")
        ids = _ids(options.small)
        last_small = _max_response_id()
        db.session.remove()
        db.engine.dispose()
    counts_small = count_pages(app, ids)
    with app.app_context():
        records += seeding.seed(
            options.small + 1,
            options.participants,
            rng,
            day0_of=trial.day0,
            sealed_slots=trial.sealed,
        )
        queries += seeding.add_review("bench-monitor-0", after_response_id=last_small)
        seeding.analyze()  # the reviews' rows too, not only the seed's
        db.session.remove()
        db.engine.dispose()
    seed_seconds = time.perf_counter() - started
    counts_large = count_pages(app, ids)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    visits = options.participants * seeding_visits(app)
    return Prepared(
        url,
        pg_name,
        instance,
        counts_small,
        counts_large,
        records,
        visits,
        queries,
        seed_seconds,
        ids,
    )


def seeding_visits(app: Any) -> int:
    with app.app_context():
        return seeding.visits_per_participant()


def _max_response_id() -> int:
    from sqlalchemy import func, select

    from pro_app.extensions import db
    from pro_app.models import Response

    return int(db.session.scalar(select(func.max(Response.id))) or 0)


# --- the clients ----------------------------------------------------------------------------------


def _staff_client(
    port: int,
    path: str,
    cookies: dict[str, str],
    warmup_s: float,
    barrier: Any,
    deadline: Any,
    out: Any,
) -> None:
    transport = HttpTransport("127.0.0.1", port)
    transport.cookies = dict(cookies)
    samples: list[float] = []
    errors: list[str] = []

    def one() -> None:
        began = time.perf_counter()
        page = transport.request("GET", path)
        samples.append((time.perf_counter() - began) * 1000)
        if page.status != 200:
            raise BenchError(f"GET {path}: {page.status}")

    warm_until = time.monotonic() + warmup_s
    while time.monotonic() < warm_until:
        try:
            one()
        except (BenchError, OSError, http.client.HTTPException) as error:
            errors.append(f"warm-up: {error}")
    samples.clear()
    transport.retries = 0
    barrier.wait()
    barrier.wait()
    cpu_start = _cpu_of_self()
    started = time.monotonic()
    failed = 0
    while True:  # at least one request each, however late the scheduler woke this process
        try:
            one()
        except (BenchError, OSError, http.client.HTTPException) as error:
            failed += 1
            errors.append(str(error))
        if time.monotonic() >= deadline.value:
            break
    out.send(
        {
            "samples": samples,
            "errors": failed,
            "retries": transport.retries,
            "error_examples": errors[:3],
            "cpu_s": _cpu_of_self() - cpu_start,
            "started": started,
            "finished": time.monotonic(),
        }
    )
    out.close()


def run_page(
    server: Server, path: str, sessions: list[dict[str, str]], options: Options
) -> dict[str, Any]:
    clients = [(server.port, path, cookies, options.warmup) for cookies in sessions]
    reports, before, after = drive(server, _staff_client, clients, options.seconds)
    elapsed = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
    samples = [s for r in reports for s in r["samples"]]
    app_cpu = _delta(before.server, after.server)
    db_cpu = _delta(before.database, after.database)
    client_cpu = sum(r["cpu_s"] for r in reports)
    other = max(after.busy_s - before.busy_s - app_cpu - db_cpu - client_cpu, 0.0)
    return {
        "seconds": elapsed,
        "samples": samples,
        "errors": sum(r["errors"] for r in reports),
        "retries": sum(r["retries"] for r in reports),
        "error_examples": [e for r in reports for e in r["error_examples"]][:3],
        "server_cpu_s": app_cpu + db_cpu,
        "db_cpu_s": db_cpu,
        "other_cores": other / max(elapsed, 1e-9),
    }


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Options:
    engines: list[str]
    participants: int
    small: int
    clients: int
    seconds: float
    warmup: float
    rounds: int
    noise_cores: float
    retries: int


def options_for(
    quick: bool, engines: list[str], participants: int | None, seconds: float | None
) -> Options:
    if quick:
        return Options(engines, participants or 40, 10, 2, seconds or 0.5, 0.2, 1, 0.5, 0)
    return Options(
        engines, participants or DEFAULT_PARTICIPANTS, 100, 5, seconds or 5.0, 1.0, 2, 0.25, 1
    )


def run(options: Options) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="prime-staff-bench-"))
    stack: list[Any] = []
    servers: dict[str, Server] = {}
    prepared: dict[str, Prepared] = {}
    cells: list[dict[str, Any]] = []
    try:
        for engine in options.engines:
            instance = workdir / engine
            instance.mkdir()
            manager = database(engine, workdir)
            url, pg_name = manager.__enter__()
            stack.append(manager)
            prepared[engine] = prepare(engine, url, pg_name, instance, options)
            print(
                f"  {engine}: {options.participants:,} participants, "
                f"{prepared[engine].records:,} records seeded in "
                f"{prepared[engine].seed_seconds:.0f} s",
                flush=True,
            )
            servers[engine] = Server(
                f"staff-{engine}", "wsgi:app", _settings_env(url, instance), workdir, pg_name
            )
        sessions: dict[str, dict[str, list[dict[str, str]]]] = {}
        for engine, server in servers.items():
            server.start()
            sessions[engine] = {}
            for role in ("coordinator", "monitor"):
                signed = []
                for number in range(options.clients):
                    transport = HttpTransport("127.0.0.1", server.port)
                    sign_in(transport, f"bench-{role}-{number}")
                    signed.append(dict(transport.cookies))
                    transport.close()
                sessions[engine][role] = signed
        for round_number in range(1, options.rounds + 1):
            for name, role, path in PAGES:
                for engine, server in servers.items():
                    url = path.format(**prepared[engine].ids)
                    tries = []
                    for _attempt in range(options.retries + 1):
                        cell = run_page(server, url, sessions[engine][role], options)
                        cell["noisy"] = cell["other_cores"] > options.noise_cores
                        tries.append(cell)
                        if not cell["noisy"]:
                            break
                    best = min(tries, key=lambda c: c["other_cores"])
                    best.update(
                        engine=engine,
                        page=name,
                        path=url,
                        round=round_number,
                        repeats=len(tries) - 1,
                    )
                    cells.append(best)
                    print(
                        f"  round {round_number} {engine:10} {name:28} "
                        f"p99 {percentile(best['samples'], 0.99):7.1f} ms  "
                        f"errors {best['errors']}  others {best['other_cores']:.2f} cores"
                        f"{'  NOISY' if best['noisy'] else ''}",
                        flush=True,
                    )
    finally:
        for server in servers.values():
            server.stop()
        for manager in reversed(stack):
            manager.__exit__(None, None, None)
        shutil.rmtree(workdir, ignore_errors=True)
    return summarise(options, prepared, cells)


def summarise(
    options: Options, prepared: dict[str, Prepared], cells: list[dict[str, Any]]
) -> dict[str, Any]:
    pages = []
    for name, role, _path in PAGES:
        for engine in options.engines:
            mine = [c for c in cells if c["engine"] == engine and c["page"] == name]
            samples = [s for c in mine for s in c["samples"]]
            seconds = sum(c["seconds"] for c in mine)
            requests = len(samples)
            counts = prepared[engine]
            pages.append(
                {
                    "page": name,
                    "role": role,
                    "engine": engine,
                    "path": mine[0]["path"] if mine else "",
                    "requests": requests,
                    "requests_per_s": round(requests / seconds, 1) if seconds else 0.0,
                    "p50_ms": round(percentile(samples, 0.5), 1),
                    "p95_ms": round(percentile(samples, 0.95), 1),
                    "p99_ms": round(percentile(samples, 0.99), 1),
                    "errors": sum(c["errors"] for c in mine),
                    "retries": sum(c["retries"] for c in mine),
                    "error_examples": [e for c in mine for e in c["error_examples"]][:3],
                    "server_cpu_ms_per_request": round(
                        1000 * sum(c["server_cpu_s"] for c in mine) / max(requests, 1), 2
                    ),
                    "db_cpu_ms_per_request": round(
                        1000 * sum(c["db_cpu_s"] for c in mine) / max(requests, 1), 2
                    ),
                    "other_cores_max": round(max((c["other_cores"] for c in mine), default=0), 2),
                    "noisy_cells": sum(1 for c in mine if c["noisy"]),
                    "statements_small": counts.counts_small[name],
                    "statements_large": counts.counts_large[name],
                }
            )
    targets = []
    for row in pages:
        targets.append(
            {
                "target": f"{row['engine']} {row['page']}: p99 < {P99_MS:.0f} ms at "
                f"{options.clients} staff, no errors",
                "value": row["p99_ms"],
                "pass": row["p99_ms"] < P99_MS and row["errors"] == 0,
            }
        )
        targets.append(
            {
                "target": f"{row['engine']} {row['page']}: statements flat from "
                f"{options.small:,} to {options.participants:,} participants",
                "value": f"{row['statements_small']} -> {row['statements_large']}",
                "pass": row["statements_small"] == row["statements_large"],
            }
        )
    return {
        **report.stamp(),
        "settings": {
            "gunicorn": f"{default_workers()} {worker_class(DEFAULT_THREADS)} workers x "
            f"{DEFAULT_THREADS} thread(s), "
            "--config python:pro_app.gunicorn_conf",
            "pdf_worker": "not run (PRO_RUN_PDF_WORKER unset)",
            "engines": options.engines,
            "participants": options.participants,
            "small": options.small,
            "clients": options.clients,
            "seconds_per_cell": options.seconds,
            "warmup_s": options.warmup,
            "rounds": options.rounds,
            "noise_cores": options.noise_cores,
            "retries": options.retries,
        },
        "trial": {
            engine: {
                "participants": options.participants,
                "visits": p.visits,
                "records": p.records,
                "open_queries": p.queries,
                "seed_seconds": round(p.seed_seconds, 1),
                "ids": p.ids,
            }
            for engine, p in prepared.items()
        },
        "pages": pages,
        "targets": targets,
    }


def markdown(result: dict[str, Any]) -> str:
    settings = result["settings"]
    machine = result["machine"]
    lines = [
        f"# Staff pages benchmark — {settings['participants']:,} participants ({result['when']})",
        "",
        f"Machine: {machine['cpus']} CPUs, Python {machine['python']}, load average at the end "
        f"{', '.join(f'{x:.1f}' for x in machine['load_average_at_end'])}. Gunicorn "
        f"{settings['gunicorn']}; PDF worker {settings['pdf_worker']}. {settings['clients']} "
        f"signed-in staff request the same page for {settings['seconds_per_cell']} s after "
        f"{settings['warmup_s']} s of warm-up; {settings['rounds']} round(s), engines "
        "interleaved.",
        "",
    ]
    for engine, trial in result["trial"].items():
        lines.append(
            f"- {engine}: {trial['participants']:,} participants, {trial['visits']:,} visits, "
            f"{trial['records']:,} sealed records, {trial['open_queries']:,} open queries "
            f"(seeded in {trial['seed_seconds']} s)"
        )
    lines += [
        "",
        f"| page | engine | req/s | p50 ms | p95 ms | p99 ms | errors | retried | "
        "server CPU ms/req | "
        f"of it DB | statements at {settings['small']:,} | at {settings['participants']:,} | "
        "others, cores |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["pages"]:
        lines.append(
            f"| {row['page']} | {row['engine']} | {row['requests_per_s']} | {row['p50_ms']} | "
            f"{row['p95_ms']} | {row['p99_ms']} | {row['errors']} | {row['retries']} | "
            f"{row['server_cpu_ms_per_request']} | {row['db_cpu_ms_per_request']} | "
            f"{row['statements_small']} | {row['statements_large']} | {row['other_cores_max']}"
            f"{' (noisy)' if row['noisy_cells'] else ''} |"
        )
    lines += ["", "## Targets (issue 14)", ""]
    lines += report.target_lines(result["targets"])
    lines.append("")
    return "\n".join(lines)


def write(result: dict[str, Any], folder: Path = RESULTS) -> tuple[Path, Path]:
    return report.write(
        result, f"staff-{result['settings']['participants']}", markdown(result), folder
    )


def cli(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench staff")
    parser.add_argument("--quick", action="store_true", help="a tiny trial, short cells")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--participants", type=int, help="participants in the large trial")
    parser.add_argument("--small", type=int, help="participants in the small trial")
    parser.add_argument("--seconds", type=float, help="measured seconds per page")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--clients", type=int, help="concurrent signed-in staff")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    options = options_for(args.quick, engines, args.participants, args.seconds)
    for name in ("small", "rounds", "clients"):
        if getattr(args, name):
            setattr(options, name, getattr(args, name))
    if options.small >= options.participants:
        parser.error("--small must be below --participants")
    result = run(options)
    paths = write(result)
    print(markdown(result))
    print(f"written: {paths[0]} and {paths[1]}")


if __name__ == "__main__":
    cli(sys.argv[1:])
