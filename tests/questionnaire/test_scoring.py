"""MLHFQ scoring: integer sums by the instrument file's subscales; a blank is never 0."""

from __future__ import annotations

import dataclasses

import pytest

from pro_app.questionnaire.catalog import INSTRUMENTS_DIR
from pro_app.questionnaire.definitions import load_instrument
from pro_app.questionnaire.kinds.choice import ChoiceQuestionnaire
from pro_app.questionnaire.scoring import score

MLHFQ = load_instrument(INSTRUMENTS_DIR / "mlhfq" / "instrument.toml")
assert isinstance(MLHFQ, ChoiceQuestionnaire)
PHYSICAL = {2, 3, 4, 5, 6, 7, 12, 13}
EMOTIONAL = {17, 18, 19, 20, 21}


def answers(**by_number: int | None) -> dict[str, int | None]:
    """All 21 items answered 0 unless given, e.g. answers(n7=5)."""
    values: dict[str, int | None] = {item.id: 0 for item in MLHFQ.items}
    for key, value in by_number.items():
        values[f"mlhf{int(key[1:]):02d}"] = value
    return values


def values(result: dict) -> dict[str, float | None]:
    return {key: r.value for key, r in result.items()}


def test_all_zero_scores_zero() -> None:
    assert values(score(MLHFQ, answers())) == {"total": 0, "physical": 0, "emotional": 0}


def test_all_five_scores_the_maxima() -> None:
    all_five = {item.id: 5 for item in MLHFQ.items}
    assert values(score(MLHFQ, all_five)) == {"total": 105, "physical": 40, "emotional": 25}


def test_item_7_counts_in_physical_not_emotional() -> None:
    assert values(score(MLHFQ, answers(n7=4))) == {"total": 4, "physical": 4, "emotional": 0}


@pytest.mark.parametrize("number", [1, 8, 9, 10, 11, 14, 15, 16])
def test_total_only_items(number: int) -> None:
    result = values(score(MLHFQ, answers(**{f"n{number}": 3})))
    assert result == {"total": 3, "physical": 0, "emotional": 0}


def test_each_item_lands_in_its_subscales() -> None:
    for item in MLHFQ.items:
        result = values(score(MLHFQ, answers(**{f"n{item.number}": 1})))
        assert result["physical"] == (1 if item.number in PHYSICAL else 0)
        assert result["emotional"] == (1 if item.number in EMOTIONAL else 0)
        assert result["total"] == 1


def test_missing_physical_item_empties_physical_and_total_only() -> None:
    result = score(MLHFQ, answers(n3=None, n19=2))
    assert result["physical"].value is None and result["physical"].missing == 1
    assert result["total"].value is None and result["total"].missing == 1
    assert result["emotional"].value == 2 and result["emotional"].missing == 0


def test_missing_emotional_item_empties_emotional_and_total_only() -> None:
    result = score(MLHFQ, answers(n21=None, n2=5))
    assert result["emotional"].value is None and result["emotional"].missing == 1
    assert result["physical"].value == 5
    assert result["total"].value is None


def test_missing_total_only_item_keeps_subscales() -> None:
    result = score(MLHFQ, answers(n1=None, n12=3, n18=2))
    assert result["total"].value is None and result["total"].missing == 1
    assert result["physical"].value == 3 and result["emotional"].value == 2


def test_a_blank_is_not_zero_even_when_every_item_is_blank() -> None:
    result = score(MLHFQ, {item.id: None for item in MLHFQ.items})
    assert result["total"].value is None and result["total"].missing == 21


def test_mean_imputation_can_be_switched_on_as_data() -> None:
    imputing = dataclasses.replace(
        MLHFQ, scoring=dataclasses.replace(MLHFQ.scoring, missing_rule="mean_impute", max_missing=1)
    )
    assert isinstance(imputing, ChoiceQuestionnaire)
    emotional = score(imputing, answers(n17=4, n18=4, n19=4, n20=4, n21=None))["emotional"]
    assert (emotional.value, emotional.missing, emotional.imputed) == (20, 1, True)
    two_missing = score(imputing, answers(n20=None, n21=None))["emotional"]
    assert two_missing.value is None and two_missing.missing == 2
