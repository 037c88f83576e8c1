"""Choice-questionnaire scoring: a pure function of the answers and the instrument definition."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pro_app.questionnaire.kinds.choice import ChoiceQuestionnaire, ScoreDefinition


@dataclass(frozen=True)
class ScoreResult:
    id: str
    value: float | None  # None when too many items are missing
    missing: int
    imputed: bool

    def as_dict(self) -> dict[str, object]:
        return {"value": self.value, "missing": self.missing, "imputed": self.imputed}


def score(
    instrument: ChoiceQuestionnaire, answers: Mapping[str, int | None]
) -> dict[str, ScoreResult]:
    """Every score of the instrument. A blank is never 0: it counts as missing."""
    by_number = instrument.item_by_number()
    results = {}
    for definition in instrument.scoring.scores:
        values = [answers.get(by_number[n].id) for n in definition.items]
        results[definition.id] = _one(instrument, definition, values)
    return results


def _one(
    instrument: ChoiceQuestionnaire, definition: ScoreDefinition, values: list[int | None]
) -> ScoreResult:
    answered = [v for v in values if v is not None]
    missing = len(values) - len(answered)
    if missing == 0:
        return ScoreResult(definition.id, sum(answered), 0, imputed=False)
    rule = instrument.scoring
    if rule.missing_rule == "mean_impute" and missing <= rule.max_missing and answered:
        mean = sum(answered) / len(answered)
        return ScoreResult(definition.id, round(sum(answered) + mean * missing, 2), missing, True)
    return ScoreResult(definition.id, None, missing, imputed=False)
