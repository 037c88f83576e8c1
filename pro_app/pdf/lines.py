"""Text in the record's language with its English alongside: the two ways a PDF line is made."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import force_locale

from pro_app.languages import ENGLISH, Bilingual
from pro_app.pdf.document import Line


def both(language: str, make: Callable[[], str]) -> Line:
    """`make()` (which calls gettext) in the record's language, and in English alongside."""
    with force_locale(language):
        text = make()
    if language.startswith(ENGLISH):
        return Line(text)
    with force_locale(ENGLISH):
        return Line(text, make())


def pair(language: str, text: Bilingual, prefix: str = "") -> Line:
    """A data-file string that comes in both languages (site names, item topics, score labels)."""
    if language.startswith(ENGLISH):
        return Line(prefix + text.en)
    return Line(prefix + text.zh, prefix + text.en)
