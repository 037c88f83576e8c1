"""Security headers on every response, redaction of visit-link tokens from access logs, and
compression of the HTML pages that carry no secret."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, g, request
from flask_compress import Compress

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

# Everything after /s/ up to the end of the path: a token may arrive %-encoded or with spaces
# typed by hand (%20), so any character but a path, query or field end is part of it.
_TOKEN_IN_PATH = re.compile(r"(/s/)[^/?#\s\"']+")


def redact(text: str) -> str:
    """Replace any visit-link token in a path or log line with a fixed marker."""
    return _TOKEN_IN_PATH.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Keeps tokens out of access logs (the werkzeug dev server and gunicorn alike)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            if isinstance(record.args, dict):
                record.args = {
                    k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
                }
            else:
                record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint != "static":
        # Pages carry personal answers and one-time forms: never cache them anywhere.
        headers["Cache-Control"] = "no-store"
    return response


# BREACH: a compressed page that holds a secret beside text an attacker can make it reflect
# (?lang=, a typed value) leaks the secret through its length. So only pages without a CSRF token,
# a link-bound token or a participant's answers are compressed.
_PERSONAL = {"patient.landing", "patient.review", "patient.receipt", "patient.submit"}
_compress = Compress()


def carries_secret() -> bool:
    return "csrf_token" in g or request.endpoint in _PERSONAL or bool(g.get("page_secret"))


def _compress_safe_pages(response: Response) -> Response:
    if response.mimetype == "text/html" and not carries_secret():
        return _compress.after_request(response)
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_REGISTER", False)
    app.config.setdefault("COMPRESS_MIMETYPES", ["text/html"])
    _compress.init_app(app)
    app.after_request(_compress_safe_pages)
    app.after_request(_headers)
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
