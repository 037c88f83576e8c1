"""A real gunicorn serving the app on a database of its own, for what only shows there: its
logs, malformed chunked bodies, and being killed (the soak). Used by test_live.py and
test_soak.py."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import flask_migrate
from flask import Flask

from pro_app import create_app
from pro_app.config import REPO_ROOT
from pro_app.extensions import db
from tests.conftest import make_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Gunicorn:
    database_url: str
    instance: Path
    workers: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.instance / "gunicorn.log"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PRO_INSTANCE_DIR": str(self.instance),
            "PRO_DATABASE_URL": self.database_url,
            "PRO_SECRET_KEY": "test-secret-key",
            "PRO_TEXTPACK_DIR": str(self.instance / "textpacks"),
            "PRO_BASE_URL": self.base,
            **self.extra_env,
        }

    def app(self) -> Flask:
        """The same app in this process (to migrate, seed and check the database)."""
        settings = make_settings(self.database_url, self.instance, **self.extra_env)
        return create_app({"TESTING": True}, settings=settings)

    def migrate(self) -> None:
        app = self.app()
        with app.app_context():
            flask_migrate.upgrade()
            db.session.remove()
            db.engine.dispose()

    def start(self, timeout: float = 30) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(self.workers),
                    "--threads",
                    "4",
                    "--graceful-timeout",
                    "2",
                    "--error-logfile",
                    "-",
                    "--config",
                    "python:pro_app.gunicorn_conf",
                    "wsgi:app",
                ],
                cwd=REPO_ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start; see {self.log}")

    def kill(self) -> None:
        """SIGKILL to gunicorn and its workers at once: no clean shutdown of anything."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def raw(self, request: bytes, timeout: float = 5) -> bytes:
        """Send bytes as they are (a malformed body no client library would send)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as conn:
            conn.sendall(request)
            chunks = []
            try:
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            except TimeoutError:
                pass
        return b"".join(chunks)
