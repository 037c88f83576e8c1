"""Message catalogues: one per audience, each turning codes and their parameters into words.

A refusal (pro_app/errors.py), a worksheet finding (questionnaire/formcheck.py) or a finding of
the PDF check (pdf/problems.py) carries a code and the values its message needs; the catalogue of
whoever reads it (patient.py, staff.py, monitor.py) picks the gettext message and fills it in.
Rewording a message never breaks a lookup, and a test proves every code has an English and a
Chinese message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias

from flask_babel.speaklater import LazyString

from pro_app import formatting

FALLBACK = "error"


def shown(value: Any) -> Any:
    """A parameter as it reads in a message: dates as people write them, 60.0 as 60."""
    if isinstance(value, datetime):
        return formatting.day(value.date())
    if isinstance(value, date):
        return formatting.day(value)
    if isinstance(value, float):
        return formatting.number(value)
    return value


# A message, or for a whole page (patients' error pages) a title and a message.
Message: TypeAlias = LazyString | tuple[LazyString, LazyString]


@dataclass(frozen=True)
class Catalogue:
    """Codes to messages for one audience. A code "field.rule" falls back to "*.rule"."""

    audience: str
    messages: Mapping[str, Message]

    def __contains__(self, code: str) -> bool:
        return self._key(code) is not None

    def _key(self, code: str) -> str | None:
        if code in self.messages:
            return code
        _field, _sep, rule = code.rpartition(".")
        wildcard = f"*.{rule}"
        return wildcard if wildcard in self.messages else None

    def text(self, code: str, params: Mapping[str, Any] | None = None) -> str:
        """The message of `code` in the current language, with its parameters filled in."""
        message = self.messages[self._key(code) or FALLBACK]
        return _filled(message[1] if isinstance(message, tuple) else message, params)

    def title(self, code: str, params: Mapping[str, Any] | None = None) -> str:
        """The title of a page message (the message itself when it has none)."""
        message = self.messages[self._key(code) or FALLBACK]
        return _filled(message[0] if isinstance(message, tuple) else message, params)


def _filled(message: LazyString, params: Mapping[str, Any] | None) -> str:
    text = str(message)
    values = {key: shown(value) for key, value in (params or {}).items()}
    # Messages without placeholders are used as they are (a stray % stays a %).
    return text % values if "%(" in text else text
