"""Security headers on every response, redaction of visit-link tokens from every log, session
cookies and proxy headers, and compression of the HTML pages that carry no secret."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_compress import Compress
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from pro_app.config import Settings

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

# A link token after /s/ (any case, %-encoded or not: "/S/", "%2Fs%2F"), up to the next blank
# or quote, whatever characters it holds; and the value of any secret-like query parameter.
# Browsers that reached us over HTTPS keep to HTTPS for a year.
HSTS = "max-age=31536000; includeSubDomains"

_TOKEN_IN_PATH = re.compile(r"((?:/|%2f)s(?:/|%2f))[^\s\"'<>]+", re.IGNORECASE)
_SECRET_IN_QUERY = re.compile(
    r"([?&;](?:token|start_token|key|secret|password|passwd|code|csrf_token)=)[^&;\s\"'<>]+",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


# What either pattern needs to match, looked for first: most log lines and access-log atoms have
# neither, and two substitutions cost several times one search.
_MAYBE_SECRET = re.compile(r"(?:/|%2f)s(?:/|%2f)|=", re.IGNORECASE)


def redact(text: str) -> str:
    """Replace any visit-link token in a path or log line (and any ?token=-like secret) with a
    fixed marker."""
    if _MAYBE_SECRET.search(text) is None:
        return text
    text = _TOKEN_IN_PATH.sub(rf"\1{REDACTED}", text)
    return _SECRET_IN_QUERY.sub(rf"\1{REDACTED}", text)


def redact_record(record: logging.LogRecord) -> None:
    """Redact a log record in place: its message with its arguments, and its traceback."""
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not fit its format: leave it to logging
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactTokens(logging.Filter):
    """Keeps tokens out of every log record it sees (the werkzeug dev server, gunicorn's access
    and error logs, the app's own logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and record.name == "gunicorn.access":
            # gunicorn's access atoms: redact each (the message is a format over them).
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        redact_record(record)
        return True


_factory_installed = False


def install_record_factory() -> None:
    """Redact every log record this process makes, whatever logger or handler it goes to."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "flask.app", "pro_app")


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS
    if request.endpoint != "static":
        # Pages carry personal answers and one-time forms: never cache them anywhere.
        headers["Cache-Control"] = "no-store"
    return response


class SessionCookies(SecureCookieSessionInterface):
    """The session cookie is Secure in production and on every HTTPS request (behind a TLS proxy
    with PRO_PROXY_FIX, the request knows it is HTTPS). Its serializer is built once for the
    app's keys: Flask builds one to read the cookie and another to write it, for every request."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or (has_request_context() and request.is_secure))


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


def init_app(app: Flask, settings: Settings) -> None:
    if settings.proxy_fix:
        # The client's address and scheme as the proxy saw them (rate limits, HSTS, cookies).
        n = settings.proxy_fix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.session_interface = SessionCookies()
    app.config.setdefault("COMPRESS_REGISTER", False)
    app.config.setdefault("COMPRESS_MIMETYPES", ["text/html"])
    _compress.init_app(app)
    app.after_request(_compress_safe_pages)
    app.after_request(_headers)
    install_record_factory()
    for logger in (*(logging.getLogger(name) for name in LOGGERS), app.logger):
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
