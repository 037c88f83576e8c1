"""Text in the record's language with its English alongside: the two ways a PDF line is made."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import force_locale

from pro_app.pdf.document import Line

ENGLISH = "en"


def both(language: str, make: Callable[[], str]) -> Line:
    """`make()` (which calls gettext) in the record's language, and in English alongside."""
    with force_locale(language):
        text = make()
    if language.startswith(ENGLISH):
        return Line(text)
    with force_locale(ENGLISH):
        return Line(text, make())


def pair(language: str, zh: str, en: str) -> Line:
    """A data-file string that comes in both languages (site names, item topics, score labels)."""
    return Line(en) if language.startswith(ENGLISH) else Line(zh, en)
