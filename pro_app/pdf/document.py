"""The plain data a PDF is rendered from: no ORM objects, nothing that can reach the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# Bump when the layout or the content of the document changes; stored with every PDF.
TEMPLATE_VERSION = "pdf-1.2"

TRIAL_ID = "NCT04992832"
PROTOCOL_ID = "DFSC-2018(CR)-08"


@dataclass(frozen=True)
class Line:
    """Text in the record's language, and its English alongside when the record is not in English."""

    text: str
    en: str | None = None


@dataclass(frozen=True)
class Row:
    """One answered item (or, for a log such as the 6MWT, one field) of the record."""

    number: str
    text: Line
    answer: str
    answer_note: Line | None = None
    missing: bool = False
    # In a correction: the answer in the version it replaces, when it differs.
    previous: str | None = None
    # Set when this item was answered in a language other than the record's.
    answered_in: str | None = None


@dataclass(frozen=True)
class ScoreLine:
    """A score or a computed value: its label, value (None when not computable) and range."""

    label: Line
    value: str | None
    range: str
    note: Line | None = None
    # The items the score sums, e.g. "2–7, 12, 13".
    items: str = ""


@dataclass(frozen=True)
class FieldLine:
    """One field of a log (or one computed value): its label, its value as read, and notes.

    `state` is "answered", "blank" (shown as —) or "not_applicable" (the field did not apply);
    `flag` marks a value to look at (an unusual value confirmed at entry, a value below a limit);
    `main` prints a key result (the distance, the reference values) larger."""

    label: Line
    value: Line
    state: str = "answered"
    notes: tuple[Line, ...] = ()
    flag: bool = False
    main: bool = False


@dataclass(frozen=True)
class FieldGroup:
    """Fields under one title, as grouped on the form."""

    title: Line
    fields: tuple[FieldLine, ...]


@dataclass(frozen=True)
class Part:
    """One screen of a log (before the walk, the walk, after the walk) with its groups."""

    heading: Line
    groups: tuple[FieldGroup, ...]


@dataclass(frozen=True)
class Section:
    """The instrument-specific part of a record; built by one function per kind of instrument."""

    kind: str
    heading: Line
    notes: tuple[Line, ...]
    answer_heading: Line
    rows: tuple[Row, ...]
    scores_heading: Line
    scores: tuple[ScoreLine, ...]
    score_notes: tuple[Line, ...] = ()
    # A worksheet (kind "worksheet"): the worksheet by screen, and the computed values, instead of rows/scores.
    parts: tuple[Part, ...] = ()
    computed: tuple[FieldGroup, ...] = ()


@dataclass(frozen=True)
class Signer:
    subject: str
    fingerprint: str
    demo: bool


@dataclass(frozen=True)
class RecordDocument:
    """Everything the signed copy of one sealed record shows, already chosen and translated."""

    language: str
    trial_title: Line
    site_name: Line
    site_code: str
    timezone: str
    study_id: str
    visit_name: Line
    visit_code: str
    visit_target: date
    window_start: date
    window_end: date
    instrument_title: Line
    instrument_id: str
    instrument_version: str
    scoring_version: str
    textpack_id: str
    textpack_sha256: str
    demo_wording: bool
    wording_available: bool
    languages: tuple[str, ...]
    entered_by: str  # "participant" or "staff"
    staff_username: str | None
    entry_reason: str | None
    record_version: int
    supersedes_version: int | None
    correction_reason: str | None
    # The reason from the fixed list, as it reads (a correction of participant answers, a void).
    correction_reason_label: Line | None
    voided: bool
    started_at: datetime | None
    submitted_at: datetime
    receipt_number: str
    record_id: int
    record_sha256: str
    record_json: bytes
    section: Section
    copyright: str | None
    signer: Signer
    template_version: str = TEMPLATE_VERSION
    trial_id: str = TRIAL_ID
    protocol_id: str = PROTOCOL_ID

    @property
    def bilingual(self) -> bool:
        return not self.language.startswith("en")

    @property
    def is_correction(self) -> bool:
        """A later version of a record (a correction or a void), not a first submission."""
        return self.supersedes_version is not None
