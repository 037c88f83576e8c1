"""`python -m pro_app.cli.serve`: what `make run` serves. One command starts the web server
(gunicorn) and a separate PDF worker process (`flask pdf worker`), and stops both.

PDFs are rendered and signed outside the processes that serve patients: rendering a record costs
about 200 ms of CPU, which would otherwise compete with patients' requests. Ctrl-C (or SIGTERM)
asks both to stop gracefully (gunicorn finishes its requests, the worker its current job); if
either process ends on its own, the other is stopped too and the command exits with its status.
The children run in sessions of their own, so a Ctrl-C in the terminal reaches only this
supervisor, which then stops each child once.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

# How long each child may take to stop gracefully before it is killed.
STOP_TIMEOUT = 30.0

# The rate limits' shared count when more than one worker serves and none is configured: the
# machine's Redis, which `make run` starts (Makefile: redis). In memory each worker would count
# on its own, and the real limit would be the setting times the workers (docs/security.md).
LOCAL_REDIS = "redis://127.0.0.1:6379/0"

# One request at a time per worker process. A request is CPU-bound Python under one interpreter
# lock: threads in one process only take turns (each request then waits for its neighbours' work
# and the lock's hand-overs), while separate processes use every core. Measured on this app's
# patient requests at 20 patients (docs/performance.md): 2 workers x 4 threads, answer POST p99
# 106 ms (SQLite) and 144 ms (PostgreSQL); 4 sync workers, 57 and 60 ms. Two processes per core
# keep every core busy while one of them waits on PostgreSQL or the network.
DEFAULT_THREADS = 1


# gunicorn's sync worker, woken alone per connection (pro_app/gunicorn_worker.py).
SYNC_WORKER = "pro_app.gunicorn_worker.ExclusiveSyncWorker"


def worker_class(threads: int) -> str:
    """gunicorn's worker for `threads` threads. One thread: a sync worker, one request at a time.
    Each request then goes to whichever worker is free (the kernel's accept queue is shared), where
    keep-alive connections would pin a client to one worker's queue and lengthen the tail
    (docs/performance.md). It closes the connection after each response: behind the production
    proxy the phones keep theirs. It is gunicorn's own sync worker, except that a connection wakes
    one idle worker instead of all of them."""
    return "gthread" if threads > 1 else SYNC_WORKER


def default_workers() -> int:
    """Two gunicorn worker processes per CPU core (at least two)."""
    return max(2, 2 * (os.cpu_count() or 1))


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def commands(
    bind: str, workers: int, threads: int, pdf_workers: int
) -> list[tuple[str, list[str]]]:
    python = sys.executable
    web = [
        python,
        "-m",
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        worker_class(threads),
        "--config",
        "python:pro_app.gunicorn_conf",
        "wsgi:app",
    ]
    pdf = [python, "-m", "flask", "--app", "wsgi", "pdf", "worker"]
    return [("web", web)] + [(f"pdf-{n}", pdf) for n in range(1, pdf_workers + 1)]


def _environment(workers: int, threads: int) -> dict[str, str]:
    env = dict(os.environ)
    # The web processes never render PDFs here: the worker processes do.
    env["PRO_RUN_PDF_WORKER"] = "0"
    # The database pool of each web process holds one connection per thread.
    env.setdefault("PRO_DB_POOL_SIZE", str(threads))
    env.setdefault("PYTHONUNBUFFERED", "1")
    if workers > 1:
        env.setdefault("PRO_RATELIMIT_STORAGE_URI", LOCAL_REDIS)
        if env["PRO_RATELIMIT_STORAGE_URI"].startswith("memory://"):
            print(
                f"serve: warning: rate limits are counted in memory by each of {workers} workers,"
                f" so each limit lets {workers} times its setting through; set"
                " PRO_RATELIMIT_STORAGE_URI to a shared Redis",
                file=sys.stderr,
            )
    return env


def _stop(children: Sequence[Child]) -> None:
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        try:
            child.process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            print(f"serve: {child.name} did not stop in time; killing it", file=sys.stderr)
            child.process.kill()
            child.process.wait()


def supervise(children: Sequence[Child], poll: float = 0.5) -> int:
    """Wait until a signal arrives or a child ends; then stop the rest. The exit status is the
    first ended child's (0 after a signal)."""
    stopping: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stopping.append(signum)

    previous = {
        signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    status = 0
    try:
        while not stopping:
            ended = [child for child in children if child.process.poll() is not None]
            if ended:
                status = ended[0].process.returncode or 1
                print(
                    f"serve: {ended[0].name} exited ({ended[0].process.returncode}); stopping",
                    file=sys.stderr,
                )
                break
            time.sleep(poll)
    finally:
        _stop(children)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pro_app.cli.serve",
        description="Serve PRIME-PRO: gunicorn plus separate PDF worker processes.",
    )
    parser.add_argument("--bind", default="127.0.0.1:5000")
    parser.add_argument(
        "--workers", type=int, default=default_workers(), help="gunicorn worker processes"
    )
    parser.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help="threads per gunicorn worker"
    )
    parser.add_argument("--pdf-workers", type=int, default=1, help="PDF worker processes")
    args = parser.parse_args(argv)
    env = _environment(args.workers, args.threads)
    children: list[Child] = []
    try:
        for name, command in commands(args.bind, args.workers, args.threads, args.pdf_workers):
            process = subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603
            children.append(Child(name, process))
            print(f"serve: started {name} (pid {process.pid})", file=sys.stderr)
    except BaseException:
        _stop(children)
        raise
    print(f"serve: http://{args.bind}/ ; Ctrl-C stops everything", file=sys.stderr)
    return supervise(children)


if __name__ == "__main__":
    sys.exit(main())
