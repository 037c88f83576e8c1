"""gunicorn settings: access and error logs without visit-link tokens."""

from __future__ import annotations

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
