"""A pytest plugin: every log record of the test run is kept, and every visit-link token the run
issues is remembered; at the end of the run, a token found in any log fails the run.

Registered by tests/conftest.py. tests/security/test_logs.py checks the plugin itself."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from pro_app.services import links


class Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot be formatted is logging's own problem
            self.lines.append(str(record.msg))


class _RecordingTokens:
    """Stands in for `services.links.new_token`: remembers every token the run issues."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.issue: Callable[[], str] = links.new_token

    def __call__(self) -> str:
        token = self.issue()
        self.tokens.append(token)
        return token

    def forms(self, token: str) -> tuple[str, ...]:
        """How a token can appear: as issued (grouped), and typed without its dashes."""
        return (token.upper(), token.replace("-", "").upper())


COLLECTOR = Collector()
ISSUED = _RecordingTokens()


def leaks() -> list[tuple[str, str]]:
    """(token, log line) for every issued token found in a log line so far."""
    found = []
    for line in COLLECTOR.lines:
        upper = line.upper()
        for token in ISSUED.tokens:
            if any(form in upper for form in ISSUED.forms(token)):
                found.append((token, line))
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    links.new_token = ISSUED  # type: ignore[assignment]
    root = logging.getLogger()
    root.addHandler(COLLECTOR)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    # SQL statements carry no tokens (only their hashes) and are many: keep them out.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    found = leaks()
    if found:
        _token, line = found[0]
        print(f"\nA visit-link token reached a log ({len(found)} lines), e.g.: {line[:300]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
