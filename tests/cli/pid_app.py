"""A WSGI app that answers with the process id of the worker serving it, after `?wait=` seconds:
for the tests of which gunicorn worker takes a connection (test_gunicorn_worker.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    wait = parse_qs(environ.get("QUERY_STRING", "")).get("wait", ["0"])[0]
    time.sleep(float(wait))
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
