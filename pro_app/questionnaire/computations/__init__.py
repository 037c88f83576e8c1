"""Computations a worksheet can plug in (`[computation] method = "..."` in its file).

A computation reads some fields of a worksheet, adds its own checks across them, computes the
values sealed with the record (e.g. the 6-minute walk distance and reference values) and may bring
a timer for one screen. `load_computation` knows each by its method name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pro_app.languages import Bilingual
from pro_app.questionnaire.errors import DefinitionError
from pro_app.questionnaire.kinds.base import (
    Baseline,
    Column,
    ParticipantFacts,
    SdtmFinding,
    SdtmTest,
)

if TYPE_CHECKING:
    from pro_app.questionnaire.kinds.base import Finding
    from pro_app.questionnaire.worksheet import WorksheetField


@dataclass(frozen=True)
class Phrase:
    at_s: int
    text: Bilingual


@dataclass(frozen=True)
class Timer:
    """A timed task on one screen of the worksheet (the walk): what is said when, and how long."""

    screen: str
    duration_s: int
    phrases: tuple[Phrase, ...]
    pause: Bilingual
    stop_criteria: Bilingual


class Computation(ABC):
    """Values a worksheet computes from its fields when it is sealed."""

    method: ClassVar[str]
    version: str
    timer: Timer | None

    @classmethod
    @abstractmethod
    def load(cls, path: Path, table: dict[str, Any]) -> Computation:
        """Build from the file's [computation] table; faults name the file and key."""

    @abstractmethod
    def required_fields(self) -> Mapping[str, str]:
        """The fields this computation reads, by id, with the type each must have."""

    def check_fields(self, path: Path, fields: Mapping[str, WorksheetField]) -> None:
        """Refuse a worksheet that lacks a field this computation reads (or has the wrong type)."""
        for needed, kind in self.required_fields().items():
            if needed not in fields or fields[needed].type != kind:
                raise DefinitionError(path, f"the computation needs a {kind} field '{needed}'")

    @abstractmethod
    def findings(
        self,
        values: Mapping[str, Any],
        found: list[Finding],
        timer: Mapping[str, Any] | None = None,
    ) -> Iterator[Finding]:
        """Checks across fields that belong to the computation (e.g. a plausible distance), and
        against what a timer on its screen measured (`timer`: the raw timing kept with the
        answers, if any)."""

    @abstractmethod
    def compute(
        self,
        values: Mapping[str, Any],
        participant: ParticipantFacts,
        visit_code: str,
        baseline: Baseline,
    ) -> dict[str, Any]:
        """Every computed value, keyed as `columns()`; a blank value carries its reason."""

    @abstractmethod
    def preview(self, values: Mapping[str, Any]) -> Any:
        """The headline value so far, shown while the worksheet is filled in (None if unknown).
        Its page part is templates/patient/computations/<method>.html."""

    @abstractmethod
    def columns(self) -> tuple[Column, ...]:
        """The computed values as export columns (names without the instrument prefix)."""

    @abstractmethod
    def odm_aliases(self) -> Mapping[str, tuple[tuple[str, str], ...]]:
        """Standard codes of computed values, by column name (without the instrument prefix)."""

    @abstractmethod
    def sdtm_tests(self, category: str) -> tuple[SdtmTest, ...]:
        """The SDTM tests the computed values are tabulated as."""

    @abstractmethod
    def sdtm_findings(
        self,
        values: Mapping[str, Any],
        scores: Mapping[str, Any],
        category: str,
        when: str | None,
    ) -> list[SdtmFinding]:
        """The computed values of a sealed record as SDTM findings rows."""

    @property
    @abstractmethod
    def headline(self) -> str:
        """The key of the main result (the one shown in trends), e.g. "distance_m"."""

    @property
    def mcid(self) -> float | None:
        """The minimal clinically important change of the headline value, if known."""
        return None


def load_computation(path: Path, table: dict[str, Any]) -> Computation:
    from pro_app.questionnaire.computations.six_minute_walk import SixMinuteWalk

    known: dict[str, type[Computation]] = {SixMinuteWalk.method: SixMinuteWalk}
    method = table.get("method")
    if method not in known:
        raise DefinitionError(path, f"'computation.method' must be one of {tuple(known)}")
    return known[method].load(path, table)
