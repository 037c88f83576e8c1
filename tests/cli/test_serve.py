"""`make run`'s supervisor: the web server and the PDF worker are separate processes, started by
one command and stopped together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from pro_app.cli import serve

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def _child(name: str, command: list[str]) -> serve.Child:
    return serve.Child(name, subprocess.Popen(command, start_new_session=True))


def test_the_web_processes_never_render_pdfs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRO_RUN_PDF_WORKER", "1")
    monkeypatch.delenv("PRO_DB_POOL_SIZE", raising=False)
    env = serve._environment(workers=2, threads=8)
    assert env["PRO_RUN_PDF_WORKER"] == "0"
    assert env["PRO_DB_POOL_SIZE"] == "8"
    started = dict(serve.commands("127.0.0.1:5000", workers=2, threads=8, pdf_workers=2))
    assert started["web"][1:3] == ["-m", "gunicorn"]
    assert "--threads" in started["web"] and "8" in started["web"]
    assert started["pdf-1"][-2:] == ["pdf", "worker"] == started["pdf-2"][-2:]


def test_several_workers_share_one_rate_limit_count(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In memory each worker would count alone: four workers would let four times each limit
    through. `make run` starts the machine's Redis, and its workers count there."""
    monkeypatch.delenv("PRO_RATELIMIT_STORAGE_URI", raising=False)
    assert serve._environment(workers=4, threads=1)["PRO_RATELIMIT_STORAGE_URI"] == (
        "redis://127.0.0.1:6379/0"
    )
    assert "PRO_RATELIMIT_STORAGE_URI" not in serve._environment(workers=1, threads=4)
    monkeypatch.setenv("PRO_RATELIMIT_STORAGE_URI", "redis://redis-host:6379/2")
    assert serve._environment(workers=4, threads=1)["PRO_RATELIMIT_STORAGE_URI"] == (
        "redis://redis-host:6379/2"
    )
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("PRO_RATELIMIT_STORAGE_URI", "memory://")
    serve._environment(workers=4, threads=1)
    assert "each limit lets 4 times its setting through" in capsys.readouterr().err


def test_when_one_process_ends_the_other_is_stopped() -> None:
    web = _child("web", SLEEPER)
    pdf = _child("pdf-1", [sys.executable, "-c", "raise SystemExit(3)"])
    assert serve.supervise([web, pdf], poll=0.05) == 3
    assert web.process.poll() is not None  # stopped, not left running


def test_a_signal_stops_both_gracefully() -> None:
    children = [_child("web", SLEEPER), _child("pdf-1", SLEEPER)]
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        assert serve.supervise(children, poll=0.05) == 0
    finally:
        timer.cancel()
    assert [child.process.returncode for child in children] == [-signal.SIGTERM] * 2


def test_make_run_serves_two_processes_per_core_one_request_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(serve.os, "cpu_count", lambda: 3)
    assert serve.default_workers() == 6
    monkeypatch.setattr(serve.os, "cpu_count", lambda: None)
    assert serve.default_workers() == 2  # at least two, even when the cores are unknown

    monkeypatch.setattr(serve.os, "cpu_count", lambda: 2)
    monkeypatch.delenv("PRO_DB_POOL_SIZE", raising=False)
    started: dict[str, tuple[list[str], dict[str, str]]] = {}

    class Started:
        pid = 1

        def __init__(self, command: list[str], env: dict[str, str], **_: object) -> None:
            started["web" if "gunicorn" in command else "pdf"] = (command, env)

    monkeypatch.setattr(serve.subprocess, "Popen", Started)
    monkeypatch.setattr(serve, "supervise", lambda children: 0)
    assert serve.main([]) == 0
    web, env = started["web"]
    assert web[web.index("--workers") + 1] == "4"
    assert web[web.index("--threads") + 1] == "1"
    # A shared accept queue; a connection wakes one idle worker (pro_app/gunicorn_worker.py).
    assert web[web.index("--worker-class") + 1] == serve.SYNC_WORKER
    threaded = dict(serve.commands("127.0.0.1:5000", workers=2, threads=4, pdf_workers=1))["web"]
    assert threaded[threaded.index("--worker-class") + 1] == "gthread"
    assert env["PRO_DB_POOL_SIZE"] == "1"  # one connection per thread
