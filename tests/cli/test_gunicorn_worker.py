"""`make run`'s gunicorn worker (pro_app/gunicorn_worker.py): a connection wakes one idle worker,
the same one while it stays idle, and never waits while another worker is free."""

from __future__ import annotations

import http.client
import os
import select
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from gunicorn.util import load_class

from pro_app import gunicorn_worker
from pro_app.cli import serve
from pro_app.config import REPO_ROOT
from tests.security.live import free_port

exclusive_only = pytest.mark.skipif(
    not hasattr(select, "EPOLLEXCLUSIVE"), reason="no exclusive wake-ups on this platform"
)


def _pid_of_worker(port: int, wait: float = 0.0) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", f"/?wait={wait}")
        response = connection.getresponse()
        assert response.status == 200
        return int(response.read())
    finally:
        connection.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """gunicorn as `make run` starts it (its worker class and settings), three workers serving
    tests/cli/pid_app.py; yields the port."""
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--worker-class",
            serve.worker_class(threads=1),
            "--config",
            "python:pro_app.gunicorn_conf",
            "tests.cli.pid_app:app",
        ],
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _pid_of_worker(port)
                break
            except OSError as refused:
                if time.monotonic() > deadline or process.poll() is not None:
                    log_path = tmp_path / "gunicorn.log"
                    raise RuntimeError(f"gunicorn did not start: {log_path}") from refused
                time.sleep(0.1)
        time.sleep(1.0)  # every worker booted and waiting
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_make_run_serves_with_the_exclusive_sync_worker() -> None:
    assert serve.worker_class(threads=1) == "pro_app.gunicorn_worker.ExclusiveSyncWorker"
    # the name gunicorn is given loads this very class
    assert load_class(serve.worker_class(threads=1)) is gunicorn_worker.ExclusiveSyncWorker
    assert serve.worker_class(threads=4) == "gthread"


@exclusive_only
def test_a_quiet_server_answers_from_one_warm_worker(served: int) -> None:
    """One request at a time, each after the last has finished: the same idle worker is woken for
    each (gunicorn's own sync workers all wake, and whichever is first takes it)."""
    served_by: Counter[int] = Counter()
    for _ in range(40):
        served_by[_pid_of_worker(served)] += 1
        time.sleep(0.03)  # the worker is back waiting before the next connection
    (_, most), *_ = served_by.most_common(1)
    assert most >= 36, served_by


def test_connections_at_once_go_to_different_workers(served: int) -> None:
    """Three slow requests at once are served side by side by three workers: a connection never
    waits behind a busy worker while another is idle."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        pids = list(pool.map(lambda _: _pid_of_worker(served, wait=0.5), range(3)))
    assert len(set(pids)) == 3, pids


def _bare_worker(listener: socket.socket) -> gunicorn_worker.ExclusiveSyncWorker:
    """The worker's waiting part alone: its listening socket, signal pipe and heartbeat."""
    worker = object.__new__(gunicorn_worker.ExclusiveSyncWorker)
    worker.sockets = [listener]
    worker.PIPE = list(os.pipe())
    worker.wait_fds = [listener, worker.PIPE[0]]  # what gunicorn's own wait selects on
    worker.nr = 0
    worker.notify = lambda: None
    worker._poller = worker._exclusive_poller()  # what `run` does before the worker's loop
    return worker


@pytest.mark.parametrize("exclusive", [True, False], ids=["exclusive", "without the flag"])
def test_a_worker_wakes_for_a_connection_and_for_a_signal(
    exclusive: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if exclusive and not hasattr(select, "EPOLLEXCLUSIVE"):
        pytest.skip("no exclusive wake-ups on this platform")
    if not exclusive:  # macOS, or a kernel before 4.5: gunicorn's own wait
        monkeypatch.setattr(gunicorn_worker, "_EXCLUSIVE", None)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        worker = _bare_worker(listener)
        try:
            assert not worker.wait(0.05)  # nothing came: the timeout
            os.write(worker.PIPE[1], b"1")  # a signal's wake-up byte
            assert worker.wait(1.0) == [worker.PIPE[0]]
            assert not worker.wait(0.05)  # the byte was read
            with socket.create_connection(listener.getsockname()):
                assert worker.wait(1.0) == [listener]
            assert (worker._poller is not None) is exclusive
        finally:
            os.close(worker.PIPE[0])
            os.close(worker.PIPE[1])
            if worker._poller:
                worker._poller.close()
