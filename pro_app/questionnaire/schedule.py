"""The visit plan: which visits, on which day after Day 0, with which window and instruments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

from pro_app.languages import Bilingual
from pro_app.questionnaire import tomlfile
from pro_app.questionnaire.errors import DefinitionError
from pro_app.questionnaire.tomlfile import field


@dataclass(frozen=True)
class PlannedVisit:
    code: str
    day: int
    days_before: int
    days_after: int
    instruments: tuple[str, ...]
    # Staff wording (基线（第0天）) and the plain name patients see (首次随访（治疗开始前）).
    name: Bilingual
    patient_name: Bilingual
    # The instruments the participant answers on their own phone (administered_by = "patient");
    # the others (the 6MWT log) are done at the clinic by staff.
    patient_instruments: tuple[str, ...] = ()

    def dates(self, day0: date) -> tuple[date, date, date]:
        """(target, window start, window end) for a participant whose Day 0 is `day0`."""
        target = day0 + timedelta(days=self.day)
        return (
            target,
            target - timedelta(days=self.days_before),
            target + timedelta(days=self.days_after),
        )


@dataclass(frozen=True)
class Schedule:
    version: str
    visits: tuple[PlannedVisit, ...]
    path: Path

    def visit(self, code: str) -> PlannedVisit:
        for visit in self.visits:
            if visit.code == code:
                return visit
        raise KeyError(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(v.code for v in self.visits)


def load_schedule(
    path: Path, known_instruments: set[str], patient_administered: frozenset[str] = frozenset()
) -> Schedule:
    """The visit plan; `patient_administered` names the instruments a patient answers alone."""
    data = tomlfile.load(path)
    visits = []
    for index, raw in enumerate(data.get("visits", []), 1):
        where = f"visits[{index}]."
        instruments = tuple(field(path, raw, "instruments", list, where))
        for instrument in instruments:
            if instrument not in known_instruments:
                raise DefinitionError(path, f"'{where}instruments' names unknown '{instrument}'")
        visit = PlannedVisit(
            code=field(path, raw, "code", str, where),
            day=field(path, raw, "day", int, where),
            days_before=field(path, raw, "days_before", int, where),
            days_after=field(path, raw, "days_after", int, where),
            instruments=instruments,
            patient_instruments=tuple(i for i in instruments if i in patient_administered),
            name=tomlfile.bilingual(path, raw, "name", where),
            patient_name=tomlfile.optional_bilingual(
                path, raw, "patient_name", tomlfile.bilingual(path, raw, "name", where)
            ),
        )
        if visit.days_before < 0 or visit.days_after < 0:
            raise DefinitionError(path, f"'{where}days_before/days_after' must not be negative")
        visits.append(visit)
    if not visits:
        raise DefinitionError(path, "no [[visits]]")
    codes = [v.code for v in visits]
    if len(set(codes)) != len(codes):
        raise DefinitionError(path, "visit codes must be unique")
    if [v.day for v in visits] != sorted({v.day for v in visits}):
        raise DefinitionError(path, "visits must be in order of day, each on its own day")
    for earlier, later in pairwise(visits):
        if earlier.day + earlier.days_after >= later.day - later.days_before:
            raise DefinitionError(path, f"windows of '{earlier.code}' and '{later.code}' overlap")
    return Schedule(version=field(path, data, "version", str), visits=tuple(visits), path=path)
