"""The instrument-specific section of a record's PDF, one builder per instrument kind.

Each builder turns a sealed record into plain `Section` data (pro_app/pdf/document.py) in the
record's language with English alongside; it reads only the record and the instrument's data.
"""

from __future__ import annotations

from collections.abc import Callable

from pro_app.pdf.document import Section
from pro_app.pdf.sections.choice import choice_section
from pro_app.pdf.sections.worksheet import worksheet_section
from pro_app.questionnaire.definitions import Instrument
from pro_app.questionnaire.kinds.choice import ChoiceKind
from pro_app.questionnaire.kinds.registry import require_parts
from pro_app.questionnaire.kinds.worksheet import WorksheetKind

SectionBuilder = Callable[..., Section]

SECTIONS: dict[str, SectionBuilder] = {
    ChoiceKind.name: choice_section,
    WorksheetKind.name: worksheet_section,
}
require_parts("the PDF (pro_app.pdf.sections)", SECTIONS)


def section_builder(instrument: Instrument) -> SectionBuilder:
    """The builder for this instrument's kind: (instrument, response, catalog, wording) -> Section."""
    return SECTIONS[instrument.kind]
