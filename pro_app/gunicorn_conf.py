"""gunicorn settings: access and error logs without visit-link tokens; each worker's garbage
collector leaves alone what the loaded application will keep for the life of the process."""

from __future__ import annotations

import gc
import logging
from typing import Any

from pro_app.web.security import LOGGERS, RedactTokens, install_record_factory

accesslog = "-"
# %(U)s is the path without the query; the filter below removes tokens from it.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'


def on_starting(server: Any) -> None:
    install_record_factory()
    for name in LOGGERS:
        logging.getLogger(name).addFilter(RedactTokens())


def post_fork(server: Any, worker: Any) -> None:
    install_record_factory()


def post_worker_init(worker: Any) -> None:
    """The application is loaded: its modules, mappers, templates and catalogues stay until the
    worker exits, yet each full collection would walk all of them again (130,000 objects, about
    35 ms, a pause in whichever request triggers it). Frozen, they are never scanned; what
    requests create is collected as before."""
    gc.freeze()
