"""The interface every instrument kind provides, and the plain values that cross it.

A kind (a choice questionnaire, an assessor's worksheet, ...) is registered once in
`pro_app.questionnaire.kinds.registry`; the rest of the application asks the registry, never
`isinstance`. Layers above the domain attach their own part of a kind by its name: the patient
screens (`pro_app.patient.flows`) and the PDF section (`pro_app.pdf.sections`); a start-up check
refuses a kind that lacks one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from dataclasses import field as dataclass_field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from pro_app.languages import Bilingual
from pro_app.questionnaire.definitions import Instrument

if TYPE_CHECKING:
    from pro_app.questionnaire.textpacks import ScalePack, TextPack

I = TypeVar("I", bound=Instrument)  # noqa: E741

# What a browser sends for one field: text, the ticked boxes, or (minutes, seconds).
RawValue = str | list[str] | tuple[str, str] | None

HARD = "hard"
SOFT = "soft"


@dataclass(frozen=True)
class Finding:
    """A rule a value breaks. Hard: refused. Soft: kept, but needs a confirmation of `basis`."""

    field: str
    level: str
    code: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)
    # The values the finding is about; a confirmation holds for exactly these values.
    basis: tuple[Any, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.field}:{self.code}"


@dataclass(frozen=True)
class SavedAnswer:
    """One saved (not yet sealed) answer: its value, the page language, when, and by whom."""

    value: Any
    language: str
    saved_at: datetime
    # The staff user who saved it on the participant's behalf; None when the participant did.
    staff: str | None = None


Draft = Mapping[str, SavedAnswer]


@dataclass(frozen=True)
class CheckContext:
    """What checks need besides the answers: the site's today and the visit window."""

    today: date
    window_start: date
    window_end: date


# The check context `not_started` passes: an empty draft has no value to check against it.
NOTHING_TO_CHECK = CheckContext(today=date.min, window_start=date.min, window_end=date.min)

# Each definition's `not_started` progress, by the definition's identity (it is kept beside its
# progress, so its id cannot be reused while the entry stands).
_NOT_STARTED: dict[int, tuple[Instrument, Progress]] = {}


@dataclass(frozen=True)
class ParticipantFacts:
    """What a computation may know about the participant (never a name, never the arm)."""

    sex: str
    birth_year: int
    height_cm: float


@dataclass(frozen=True)
class Baseline:
    """The baseline visit of the schedule, and this instrument's latest sealed record there."""

    visit_code: str
    record_id: int | None = None
    scores: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Wording:
    """The language packs a kind needs, found in the site's folder (or the committed demo)."""

    textpacks: dict[tuple[str, str], TextPack] = field(default_factory=dict)
    scale_packs: dict[tuple[str, str], ScalePack] = field(default_factory=dict)
    # The licensed rating scales the instrument shows, whose packs may or may not be installed.
    scales: tuple[str, ...] = ()


class WordingSource(Protocol):
    """Where a kind looks packs up when sealing (the catalogue is one)."""

    def textpack(self, instrument_id: str, language: str) -> TextPack: ...

    def scale_pack(self, scale: str, language: str) -> ScalePack | None: ...


@dataclass(frozen=True)
class SealContext:
    """Everything sealing needs besides the saved answers."""

    language: str
    check: CheckContext
    participant: ParticipantFacts
    site_timezone: str
    visit_code: str
    baseline: Baseline
    wording: WordingSource


@dataclass(frozen=True)
class SealedContent:
    """The kind-specific part of a sealed record; sealing adds identity, hash and audit."""

    answers: dict[str, Any]
    scores: dict[str, Any]
    scoring_version: str
    textpack_id: str
    textpack_sha256: str
    textpack_demo: bool


@dataclass(frozen=True)
class Progress:
    """How far a visit's instrument is: for the visit page, the schedule and "continue"."""

    answered: int
    total: int
    started: bool
    # The first screen that still needs something; None when everything is ready for review.
    next_screen: str | None
    complete: bool


@dataclass(frozen=True)
class Column:
    """One column of the flat export: its name, what it holds, its type and unit, its codes."""

    name: str
    label: Bilingual
    datatype: str  # "integer", "decimal", "text", "date", "time", "boolean", "list"
    unit: str = ""
    codes: tuple[tuple[str, str], ...] = ()
    # How a coded value reads to staff, in each language (a record's page shows these, the
    # exports keep the codes).
    labels: tuple[tuple[str, Bilingual], ...] = ()
    # How the unit reads to staff ("years" is 岁), when it has one.
    unit_label: Bilingual | None = None
    # What a record's page must look up to word the value: HOLDS_VISIT_CODE (a visit of the
    # schedule, shown by its name) or HOLDS_CONFIRMED_WARNINGS ("field:code" keys, shown as the
    # field's label and the warning in words); empty for a value that reads as it is.
    holds: str = ""


HOLDS_VISIT_CODE = "visit_code"
HOLDS_CONFIRMED_WARNINGS = "confirmed_warnings"


@dataclass(frozen=True)
class Measure:
    """A value of a sealed record worth following across visits (a score, the walk distance),
    with the smallest change that matters to patients when the instrument's data gives one."""

    key: str
    label: Bilingual
    unit: Bilingual
    # The score's range (for a chart's axis), when it has one.
    low: float | None
    high: float | None
    higher_is_worse: bool
    mcid: float | None

    def value(self, scores: Mapping[str, Any]) -> float | None:
        found = scores.get(self.key)
        if isinstance(found, dict):
            found = found.get("value")
        return float(found) if isinstance(found, int | float) else None


@dataclass(frozen=True)
class EditField:
    """One value of a sealed record as a correction form shows it: the sealed value, how to
    enter a new one, and its choices."""

    id: str
    label: Bilingual
    input: str  # "choice", "number", "text", "textarea", "date", "time", "multi", "duration"
    value: Any  # as sealed (None when blank)
    text: Any  # as it goes back into the input ("" when blank; a list for "multi")
    options: tuple[tuple[str, Bilingual], ...] = ()
    unit: Bilingual | None = None
    group: Bilingual | None = None


@dataclass(frozen=True)
class Revision:
    """A sealed record's content with typed changes applied: the draft to seal again, what changed
    (old, new), values refused and unusual values still waiting for a yes."""

    draft: Draft
    changed: dict[str, tuple[Any, Any]]
    errors: dict[str, Finding]
    warnings: list[Finding]


@dataclass(frozen=True)
class OdmGroup:
    """An item group of an instrument's ODM form: an id unique in the form, and its columns."""

    id: str
    label: Bilingual
    columns: tuple[str, ...]


@dataclass(frozen=True)
class OdmForm:
    """How an instrument's export columns are grouped in CDISC ODM, and the codes they carry."""

    groups: tuple[OdmGroup, ...]
    # Standard codes of a column (e.g. ("LOINC", "71938-5"), ("CDISC QSTESTCD", "MLHF0122")).
    aliases: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    form_aliases: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SdtmTest:
    """One SDTM test an instrument contributes (for Define-XML's code lists and methods)."""

    domain: str
    testcd: str
    test: str
    category: str
    # A derived result (a score): how it is computed, in words, for Define-XML.
    method: str = ""


@dataclass(frozen=True)
class SdtmFinding:
    """One SDTM findings row of a record, before identity, sequence and timing are added.

    Variables are named without their domain prefix: `orres` becomes QSORRES, FTORRES or VSORRES.
    """

    domain: str
    testcd: str
    test: str
    category: str = ""
    subcategory: str = ""
    orres: str = ""
    orresu: str = ""
    stresc: str = ""
    stresn: float | None = None
    stresu: str = ""
    # "NOT DONE" with a reason when there is no result (a blank item, an uncomputable score).
    stat: str = ""
    reasnd: str = ""
    derived: bool = False
    evaluator: str = ""
    tpt: str = ""
    tptnum: int | None = None
    tptref: str = ""
    # When it was assessed (local ISO 8601, site time); None: when the record was sealed.
    when: str | None = None
    # The date and time of the time point reference (e.g. the walk's start), local ISO 8601.
    reference_when: str | None = None
    # Supplemental qualifiers (SUPP--): (QNAM, QLABEL, QVAL).
    supp: tuple[tuple[str, str, str], ...] = ()


class InstrumentKind(ABC, Generic[I]):
    """What a kind of instrument provides, once. Pure functions of plain values."""

    name: ClassVar[str]

    @abstractmethod
    def load(self, path: Path, data: dict[str, Any]) -> I:
        """Build and check a definition from its parsed file; faults name the file and key."""

    @abstractmethod
    def wording(self, definition: I, textpack_dir: Path) -> Wording:
        """The language packs this instrument shows, from the site's folder (or its demo)."""

    @abstractmethod
    def screen_ids(self, definition: I) -> tuple[str, ...]:
        """The patient screens in order (item numbers, worksheet parts...)."""

    @abstractmethod
    def progress(self, definition: I, draft: Draft, check: CheckContext) -> Progress:
        """What is answered, what is left, and where to continue. For a draft with nothing
        saved it must not depend on `check` (no answer, so no limit, date or window to check):
        see `not_started`."""

    def not_started(self, definition: I) -> Progress:
        """`progress` of a draft with nothing saved: it depends on the definition alone, so it is
        worked out once per definition. A landing worked it out for each of the visit's
        instruments (the walk test's worksheet runs its 49 limit checks on nothing)."""
        held = _NOT_STARTED.get(id(definition))
        if held is None or held[0] is not definition:
            held = (definition, self.progress(definition, {}, NOTHING_TO_CHECK))
            _NOT_STARTED[id(definition)] = held
        return held[1]

    @abstractmethod
    def seal(self, definition: I, draft: Draft, context: SealContext) -> SealedContent:
        """Validate the whole draft and compute its scores or values; raise if it cannot seal."""

    @abstractmethod
    def measures(self, definition: I) -> tuple[Measure, ...]:
        """The values a trend follows across visits (scores, a computation's headline)."""

    # --- corrections of a sealed record -----------------------------------------------------

    @abstractmethod
    def reopen(
        self,
        definition: I,
        answers: Mapping[str, Any],
        item_languages: Mapping[str, str],
        sealed_at: datetime,
    ) -> Draft:
        """A sealed record's content as a draft again, each value with who entered it."""

    @abstractmethod
    def edit_fields(self, definition: I, answers: Mapping[str, Any]) -> tuple[EditField, ...]:
        """The values of a sealed record as a correction form shows them."""

    @abstractmethod
    def revise(
        self,
        definition: I,
        draft: Draft,
        raw: Mapping[str, RawValue],
        confirm: Collection[str],
        *,
        check: CheckContext,
        staff: str,
        at: datetime,
    ) -> Revision:
        """Apply typed values (only those that differ count as changes), checked as at entry."""

    @abstractmethod
    def export_columns(self, definition: I) -> tuple[Column, ...]:
        """The columns of one record of this instrument in a flat export, coded values."""

    @abstractmethod
    def export_cells(
        self, definition: I, answers: Mapping[str, Any], scores: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A sealed record's values by column name (None for a blank)."""

    @abstractmethod
    def odm_form(self, definition: I) -> OdmForm:
        """The export columns grouped into ODM item groups, with their LOINC and CDISC codes."""

    @abstractmethod
    def sdtm_tests(self, definition: I) -> tuple[SdtmTest, ...]:
        """Every SDTM test code a record of this instrument can produce."""

    @abstractmethod
    def sdtm_findings(
        self, definition: I, answers: Mapping[str, Any], scores: Mapping[str, Any]
    ) -> list[SdtmFinding]:
        """A sealed record as SDTM findings rows (QS, FT, VS...), blanks included with a status."""

    @abstractmethod
    def fhir_items(self, definition: I, codes_url: str) -> list[dict[str, Any]]:
        """The FHIR R4 Questionnaire items (structure, codes, our short labels; never the
        licensed wording). `codes_url` prefixes the code systems of the instrument's own choices."""

    @abstractmethod
    def fhir_answers(
        self,
        definition: I,
        answers: Mapping[str, Any],
        scores: Mapping[str, Any],
        codes_url: str,
    ) -> list[dict[str, Any]]:
        """A sealed record as FHIR R4 QuestionnaireResponse items (blanks are left out)."""
