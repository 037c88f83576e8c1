"""gunicorn settings: access logs without visit-link tokens."""

from __future__ import annotations

import logging
from typing import Any

from pro_app.web.security import RedactTokens

accesslog = "-"
# %(U)s is the path without the query; the filter below removes tokens from it.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'


def on_starting(server: Any) -> None:
    logging.getLogger("gunicorn.access").addFilter(RedactTokens())
