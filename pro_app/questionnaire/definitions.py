"""Instrument definitions, read from instruments/<id>/instrument.toml as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pro_app.questionnaire import tomlfile
from pro_app.questionnaire.errors import DefinitionError
from pro_app.questionnaire.tomlfile import field

MISSING_RULES = ("complete", "mean_impute")


@dataclass(frozen=True)
class ChoiceItem:
    number: int
    id: str
    qstestcd: str
    topic_en: str
    topic_zh: str

    def topic(self, locale: str) -> str:
        return self.topic_zh if locale.startswith("zh") else self.topic_en


@dataclass(frozen=True)
class ScoreDefinition:
    id: str
    label_en: str
    label_zh: str
    items: tuple[int, ...]
    min: int
    max: int
    loinc: str
    qstestcd: str

    def label(self, locale: str) -> str:
        return self.label_zh if locale.startswith("zh") else self.label_en


@dataclass(frozen=True)
class Scoring:
    version: str
    missing_rule: str
    max_missing: int
    scores: tuple[ScoreDefinition, ...]


@dataclass(frozen=True)
class ChoiceInstrument:
    """A questionnaire whose every item is answered with one integer from a fixed range."""

    id: str
    version: str
    title_en: str
    title_zh: str
    patient_title_en: str
    patient_title_zh: str
    recall_period_days: int
    loinc_panel: str
    cdisc_qscat: str
    copyright: str
    choice_min: int
    choice_max: int
    anchored: tuple[int, ...]
    not_applicable_value: int
    items: tuple[ChoiceItem, ...]
    scoring: Scoring
    path: Path

    @property
    def choices(self) -> range:
        return range(self.choice_min, self.choice_max + 1)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    def title(self, locale: str) -> str:
        return self.title_zh if locale.startswith("zh") else self.title_en

    def patient_title(self, locale: str) -> str:
        return self.patient_title_zh if locale.startswith("zh") else self.patient_title_en

    def item(self, number: int) -> ChoiceItem:
        return self.items[number - 1]

    def item_by_number(self) -> dict[int, ChoiceItem]:
        return {item.number: item for item in self.items}


Instrument = ChoiceInstrument


def load_choice_instrument(path: Path) -> ChoiceInstrument:
    data = tomlfile.load(path)
    choices = field(path, data, "choices", dict)
    choice_min = field(path, choices, "min", int, "choices.")
    choice_max = field(path, choices, "max", int, "choices.")
    if choice_min >= choice_max:
        raise DefinitionError(path, "'choices.min' must be below 'choices.max'")
    allowed = range(choice_min, choice_max + 1)
    anchored = tuple(field(path, choices, "anchored", list, "choices."))
    if any(value not in allowed for value in anchored):
        raise DefinitionError(path, "'choices.anchored' lists a value outside min..max")
    not_applicable = field(path, choices, "not_applicable_value", int, "choices.")
    if not_applicable not in allowed:
        raise DefinitionError(path, "'choices.not_applicable_value' is outside min..max")

    items = tuple(_item(path, raw, index) for index, raw in enumerate(data.get("items", []), 1))
    if not items:
        raise DefinitionError(path, "no [[items]]")
    _unique(path, [item.id for item in items], "item id")
    instrument = ChoiceInstrument(
        id=field(path, data, "id", str),
        version=field(path, data, "version", str),
        title_en=field(path, data, "title_en", str),
        title_zh=field(path, data, "title_zh", str),
        patient_title_en=field(path, data, "patient_title_en", str),
        patient_title_zh=field(path, data, "patient_title_zh", str),
        recall_period_days=field(path, data, "recall_period_days", int),
        loinc_panel=field(path, data, "loinc_panel", str),
        cdisc_qscat=field(path, data, "cdisc_qscat", str),
        copyright=field(path, data, "copyright", str),
        choice_min=choice_min,
        choice_max=choice_max,
        anchored=anchored,
        not_applicable_value=not_applicable,
        items=items,
        scoring=_scoring(path, field(path, data, "scoring", dict), items, choice_min, choice_max),
        path=path,
    )
    if instrument.id != path.parent.name:
        raise DefinitionError(path, f"id '{instrument.id}' does not match its folder")
    return instrument


def _item(path: Path, raw: dict[str, Any], index: int) -> ChoiceItem:
    where = f"items[{index}]."
    number = field(path, raw, "number", int, where)
    if number != index:
        raise DefinitionError(path, f"'{where}number' is {number}, expected {index} (in order)")
    return ChoiceItem(
        number=number,
        id=field(path, raw, "id", str, where),
        qstestcd=field(path, raw, "qstestcd", str, where),
        topic_en=field(path, raw, "topic_en", str, where),
        topic_zh=field(path, raw, "topic_zh", str, where),
    )


def _scoring(
    path: Path, raw: dict[str, Any], items: tuple[ChoiceItem, ...], lo: int, hi: int
) -> Scoring:
    rule = field(path, raw, "missing_rule", str, "scoring.")
    if rule not in MISSING_RULES:
        raise DefinitionError(path, f"'scoring.missing_rule' must be one of {MISSING_RULES}")
    max_missing = field(path, raw, "max_missing", int, "scoring.")
    if max_missing < 0 or (rule == "complete" and max_missing != 0):
        raise DefinitionError(path, "'scoring.max_missing' must be 0 with the 'complete' rule")
    scores = []
    for index, score in enumerate(raw.get("scores", []), 1):
        where = f"scoring.scores[{index}]."
        numbers = tuple(field(path, score, "items", list, where))
        if not numbers or any(n not in range(1, len(items) + 1) for n in numbers):
            raise DefinitionError(path, f"'{where}items' must list item numbers 1..{len(items)}")
        _unique(path, [str(n) for n in numbers], f"{where}items entry")
        definition = ScoreDefinition(
            id=field(path, score, "id", str, where),
            label_en=field(path, score, "label_en", str, where),
            label_zh=field(path, score, "label_zh", str, where),
            items=numbers,
            min=field(path, score, "min", int, where),
            max=field(path, score, "max", int, where),
            loinc=field(path, score, "loinc", str, where),
            qstestcd=field(path, score, "qstestcd", str, where),
        )
        if (definition.min, definition.max) != (lo * len(numbers), hi * len(numbers)):
            raise DefinitionError(path, f"'{where}min/max' do not match its items' range")
        scores.append(definition)
    if not scores:
        raise DefinitionError(path, "no [[scoring.scores]]")
    _unique(path, [s.id for s in scores], "score id")
    return Scoring(
        version=field(path, raw, "version", str, "scoring."),
        missing_rule=rule,
        max_missing=max_missing,
        scores=tuple(scores),
    )


def _unique(path: Path, values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise DefinitionError(path, f"duplicate {what} '{value}'")
        seen.add(value)
