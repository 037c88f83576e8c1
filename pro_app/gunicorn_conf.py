"""gunicorn settings: access and error logs without visit-link tokens; each worker's garbage
collector leaves alone what the loaded application will keep for the life of the process."""

from __future__ import annotations

import functools
import gc
import logging
import re
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from pro_app.web.security import LOGGERS, RedactTokens, install_record_factory, redact

accesslog = "-"
# %(U)s is the path without the query; the filter below removes tokens from it.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'


class AccessLogger(Logger):
    """gunicorn's logger, whose access-log line gets only the atoms its format names, each
    already redacted. gunicorn passes an atom for every request header, response header and
    environ key (about 60), and redacting each of them cost more than the rest of the line
    (docs/performance.md). The line is still redacted as a whole by RedactTokens and the
    record factory below."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: timedelta) -> dict[str, Any]:
        every = super().atoms(resp, req, environ, request_time)
        return {
            name: redact(value) if isinstance(value, str) else value
            for name in _named_atoms(self.cfg.access_log_format)
            if (value := every.get(name)) is not None
        }


@functools.cache
def _named_atoms(access_format: str) -> tuple[str, ...]:
    """The atoms a format names (a header's or environ key's as gunicorn keys it: lower case)."""
    found = re.findall(r"%\(([^)]*)\)", access_format)
    return tuple(dict.fromkeys(n.lower() if n.startswith("{") else n for n in found))


logger_class = AccessLogger


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
