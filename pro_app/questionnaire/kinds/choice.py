"""The choice questionnaire kind (the MLHFQ): items each answered with one whole number from a
fixed range, one item per screen, scored by summing items (pro_app/questionnaire/scoring.py).
The item wording is licensed and comes from a text pack per language (see textpacks.py)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pro_app.errors import InvalidAnswer
from pro_app.languages import LANGUAGES, Bilingual
from pro_app.questionnaire import scoring, tomlfile
from pro_app.questionnaire.definitions import Instrument, head
from pro_app.questionnaire.errors import DefinitionError
from pro_app.questionnaire.kinds.base import (
    HARD,
    CheckContext,
    Column,
    Draft,
    EditField,
    Finding,
    InstrumentKind,
    Measure,
    OdmForm,
    OdmGroup,
    Progress,
    RawValue,
    Revision,
    SavedAnswer,
    SdtmFinding,
    SdtmTest,
    SealContext,
    SealedContent,
    Wording,
)
from pro_app.questionnaire.kinds.standards import (
    LOINC,
    NOT_DONE,
    fhir_text,
    number_text,
    test_name,
)
from pro_app.questionnaire.textpacks import find_textpack_file, load_textpack
from pro_app.questionnaire.tomlfile import field, unique

MISSING_RULES = ("complete", "mean_impute")
# A blank answer in a correction form.
BLANK = Bilingual("（空）", "(blank)")


@dataclass(frozen=True)
class ChoiceItem:
    number: int
    id: str
    # Sponsor-defined CDISC QS test code (e.g. MLHF0101); LOINC of the item where one exists.
    qstestcd: str
    topic: Bilingual
    loinc: str = ""


@dataclass(frozen=True)
class ScoreDefinition:
    id: str
    label: Bilingual
    items: tuple[int, ...]
    min: int
    max: int
    loinc: str
    qstestcd: str
    # The minimal clinically important difference of this score, if known (instrument data).
    mcid: float | None = None


@dataclass(frozen=True)
class Scoring:
    version: str
    missing_rule: str
    max_missing: int
    scores: tuple[ScoreDefinition, ...]
    # Higher is worse (MLHFQ) or better: how a change reads.
    higher_is_worse: bool = True


@dataclass(frozen=True)
class ChoiceQuestionnaire(Instrument):
    """A questionnaire whose every item is answered with one integer from a fixed range."""

    recall_period_days: int
    loinc_panel: str
    cdisc_qscat: str
    choice_min: int
    choice_max: int
    anchored: tuple[int, ...]
    not_applicable_value: int
    items: tuple[ChoiceItem, ...]
    scoring: Scoring

    @property
    def choices(self) -> range:
        return range(self.choice_min, self.choice_max + 1)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    def item(self, number: int) -> ChoiceItem:
        return self.items[number - 1]

    def item_by_number(self) -> dict[int, ChoiceItem]:
        return {item.number: item for item in self.items}

    def item_by_id(self, item_id: str) -> ChoiceItem:
        return self.items[self.item_ids.index(item_id)]


def parse_answer(definition: ChoiceQuestionnaire, item_id: str, raw: str | None) -> int:
    """A submitted choice as an int in the instrument's range, or InvalidAnswer."""
    try:
        value = int(raw or "")
    except ValueError:
        raise InvalidAnswer(item_id) from None
    if value not in definition.choices or item_id not in definition.item_ids:
        raise InvalidAnswer(item_id)
    return value


class ChoiceKind(InstrumentKind[ChoiceQuestionnaire]):
    name = "choice"

    def load(self, path: Path, data: dict[str, Any]) -> ChoiceQuestionnaire:
        return load_choice_questionnaire(path, data)

    def wording(self, definition: ChoiceQuestionnaire, textpack_dir: Path) -> Wording:
        """A pack per language is required: the site's licensed one, else the committed demo."""
        packs = {}
        for language in LANGUAGES:
            found = find_textpack_file(
                textpack_dir, definition.path.parent / "textpack-demo", definition.id, language
            )
            packs[(definition.id, language)] = load_textpack(
                found, definition.id, language, definition.item_ids
            )
        return Wording(textpacks=packs)

    def screen_ids(self, definition: ChoiceQuestionnaire) -> tuple[str, ...]:
        return tuple(str(item.number) for item in definition.items)

    def progress(
        self, definition: ChoiceQuestionnaire, draft: Draft, check: CheckContext
    ) -> Progress:
        # A skipped item is saved as a blank: it counts as seen, not as answered.
        first_unseen = next((item for item in definition.items if item.id not in draft), None)
        return Progress(
            answered=sum(
                1 for item_id in definition.item_ids if _value(draft, item_id) is not None
            ),
            total=len(definition.items),
            started=bool(draft),
            next_screen=str(first_unseen.number) if first_unseen else None,
            complete=True,
        )

    def seal(
        self, definition: ChoiceQuestionnaire, draft: Draft, context: SealContext
    ) -> SealedContent:
        answers = {item_id: _value(draft, item_id) for item_id in definition.item_ids}
        for item_id, value in answers.items():
            if value is not None and (isinstance(value, bool) or value not in definition.choices):
                raise InvalidAnswer(item_id)
        pack = context.wording.textpack(definition.id, context.language)
        return SealedContent(
            answers=answers,
            scores={
                key: result.as_dict() for key, result in scoring.score(definition, answers).items()
            },
            scoring_version=definition.scoring.version,
            textpack_id=pack.pack_id,
            textpack_sha256=pack.sha256,
            textpack_demo=pack.demo,
        )

    def measures(self, definition: ChoiceQuestionnaire) -> tuple[Measure, ...]:
        return tuple(
            Measure(
                key=score.id,
                label=score.label,
                unit=Bilingual("分", "points"),
                low=float(score.min),
                high=float(score.max),
                higher_is_worse=definition.scoring.higher_is_worse,
                mcid=score.mcid,
            )
            for score in definition.scoring.scores
        )

    def reopen(
        self,
        definition: ChoiceQuestionnaire,
        answers: Mapping[str, Any],
        item_languages: Mapping[str, str],
        sealed_at: datetime,
    ) -> Draft:
        return {
            item_id: SavedAnswer(answers.get(item_id), item_languages.get(item_id, ""), sealed_at)
            for item_id in definition.item_ids
        }

    def edit_fields(
        self, definition: ChoiceQuestionnaire, answers: Mapping[str, Any]
    ) -> tuple[EditField, ...]:
        options = (("", BLANK), *((str(v), Bilingual(str(v), str(v))) for v in definition.choices))
        return tuple(
            EditField(
                id=item.id,
                label=Bilingual(
                    f"{item.number}. {item.topic.zh}", f"{item.number}. {item.topic.en}"
                ),
                input="choice",
                value=answers.get(item.id),
                text="" if answers.get(item.id) is None else str(answers[item.id]),
                options=options,
            )
            for item in definition.items
        )

    def revise(
        self,
        definition: ChoiceQuestionnaire,
        draft: Draft,
        raw: Mapping[str, RawValue],
        confirm: Collection[str],
        *,
        check: CheckContext,
        staff: str,
        at: datetime,
    ) -> Revision:
        revised = dict(draft)
        changed: dict[str, tuple[Any, Any]] = {}
        errors: dict[str, Finding] = {}
        for item_id in definition.item_ids:
            if item_id not in raw:
                continue
            text = raw[item_id]
            try:
                new = None if text in ("", None) else parse_answer(definition, item_id, str(text))
            except InvalidAnswer as refusal:
                errors[item_id] = Finding(item_id, HARD, refusal.code)
                continue
            old = _value(draft, item_id)
            if new != old:
                changed[item_id] = (old, new)
                language = draft[item_id].language if item_id in draft else ""
                revised[item_id] = SavedAnswer(new, language, at, staff)
        return Revision(draft=revised, changed=changed, errors=errors, warnings=[])

    def export_columns(self, definition: ChoiceQuestionnaire) -> tuple[Column, ...]:
        codes = tuple((str(value), str(value)) for value in definition.choices)
        items = tuple(
            Column(f"{definition.id}.{item.id}", item.topic, "integer", codes=codes)
            for item in definition.items
        )
        scores = tuple(
            column
            for score in definition.scoring.scores
            for column in (
                Column(f"{definition.id}.score.{score.id}", score.label, "decimal"),
                Column(
                    f"{definition.id}.score.{score.id}.missing",
                    Bilingual(
                        f"{score.label.zh}：未回答条目数", f"{score.label.en}: items unanswered"
                    ),
                    "integer",
                ),
            )
        )
        return items + scores

    def export_cells(
        self,
        definition: ChoiceQuestionnaire,
        answers: Mapping[str, Any],
        scores: Mapping[str, Any],
    ) -> dict[str, Any]:
        cells: dict[str, Any] = {
            f"{definition.id}.{item_id}": answers.get(item_id) for item_id in definition.item_ids
        }
        for score in definition.scoring.scores:
            result = scores.get(score.id) or {}
            cells[f"{definition.id}.score.{score.id}"] = result.get("value")
            cells[f"{definition.id}.score.{score.id}.missing"] = result.get("missing")
        return cells

    # --- data standards ---------------------------------------------------------------------

    def odm_form(self, definition: ChoiceQuestionnaire) -> OdmForm:
        prefix = definition.id
        aliases: dict[str, tuple[tuple[str, str], ...]] = {}
        for item in definition.items:
            codes = [("CDISC QSTESTCD", item.qstestcd)]
            if item.loinc:
                codes.insert(0, ("LOINC", item.loinc))
            aliases[f"{prefix}.{item.id}"] = tuple(codes)
        for score in definition.scoring.scores:
            codes = [("CDISC QSTESTCD", score.qstestcd)]
            if score.loinc:
                codes.insert(0, ("LOINC", score.loinc))
            aliases[f"{prefix}.score.{score.id}"] = tuple(codes)
        form_aliases = [("CDISC QSCAT", definition.cdisc_qscat)]
        if definition.loinc_panel:
            form_aliases.insert(0, ("LOINC", definition.loinc_panel))
        return OdmForm(
            groups=(
                OdmGroup(
                    "ITEMS",
                    Bilingual("条目", "Items"),
                    tuple(f"{prefix}.{item_id}" for item_id in definition.item_ids),
                ),
                OdmGroup(
                    "SCORES",
                    Bilingual("评分", "Scores"),
                    tuple(
                        name
                        for score in definition.scoring.scores
                        for name in (
                            f"{prefix}.score.{score.id}",
                            f"{prefix}.score.{score.id}.missing",
                        )
                    ),
                ),
            ),
            aliases=aliases,
            form_aliases=tuple(form_aliases),
        )

    def sdtm_tests(self, definition: ChoiceQuestionnaire) -> tuple[SdtmTest, ...]:
        items = tuple(
            SdtmTest("QS", item.qstestcd, test_name(item.topic.en), definition.cdisc_qscat)
            for item in definition.items
        )
        return items + tuple(
            SdtmTest(
                "QS",
                score.qstestcd,
                test_name(f"{definition.cdisc_qscat} {score.label.en}"),
                definition.cdisc_qscat,
                method=_score_method(definition, score),
            )
            for score in definition.scoring.scores
        )

    def sdtm_findings(
        self,
        definition: ChoiceQuestionnaire,
        answers: Mapping[str, Any],
        scores: Mapping[str, Any],
    ) -> list[SdtmFinding]:
        # The participant answers for themselves (a paper form transcribed by staff included).
        category = definition.cdisc_qscat
        rows = []
        for item in definition.items:
            rows.append(
                _finding(
                    item.qstestcd,
                    test_name(item.topic.en),
                    category,
                    answers.get(item.id),
                    "NOT ANSWERED",
                    derived=False,
                )
            )
        for score in definition.scoring.scores:
            result = scores.get(score.id) or {}
            rows.append(
                _finding(
                    score.qstestcd,
                    test_name(f"{category} {score.label.en}"),
                    category,
                    result.get("value"),
                    f"NOT COMPUTED: {result.get('missing')} ITEM(S) NOT ANSWERED",
                    derived=True,
                )
            )
        return rows

    def fhir_items(self, definition: ChoiceQuestionnaire, codes_url: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for item in definition.items:
            entry: dict[str, Any] = {
                "linkId": item.id,
                "prefix": str(item.number),
                **fhir_text(item.topic),
                "type": "choice",
                "answerOption": [{"valueInteger": value} for value in definition.choices],
            }
            if item.loinc:
                entry["code"] = [{"system": LOINC, "code": item.loinc}]
            items.append(entry)
        for score in definition.scoring.scores:
            entry = {
                "linkId": f"score.{score.id}",
                **fhir_text(score.label),
                "type": "decimal",
                "readOnly": True,
            }
            if score.loinc:
                entry["code"] = [{"system": LOINC, "code": score.loinc}]
            items.append(entry)
        return items

    def fhir_answers(
        self,
        definition: ChoiceQuestionnaire,
        answers: Mapping[str, Any],
        scores: Mapping[str, Any],
        codes_url: str,
    ) -> list[dict[str, Any]]:
        items = [
            {"linkId": item_id, "answer": [{"valueInteger": answers[item_id]}]}
            for item_id in definition.item_ids
            if answers.get(item_id) is not None
        ]
        for score in definition.scoring.scores:
            value = (scores.get(score.id) or {}).get("value")
            if value is not None:
                items.append({"linkId": f"score.{score.id}", "answer": [{"valueDecimal": value}]})
        return items


def _finding(
    testcd: str, test: str, category: str, value: float | None, why_blank: str, *, derived: bool
) -> SdtmFinding:
    if value is None:
        return SdtmFinding(
            "QS",
            testcd,
            test,
            category,
            stat=NOT_DONE,
            reasnd=why_blank,
            derived=derived,
            evaluator="STUDY SUBJECT",
        )
    text = number_text(value)
    return SdtmFinding(
        "QS",
        testcd,
        test,
        category,
        orres=text,
        stresc=text,
        stresn=value,
        derived=derived,
        evaluator="STUDY SUBJECT",
    )


def _score_method(definition: ChoiceQuestionnaire, score: ScoreDefinition) -> str:
    rule = definition.scoring
    if rule.missing_rule == "mean_impute":
        blanks = (
            f"up to {rule.max_missing} unanswered item(s) are filled with the mean of the "
            "answered items of this score; with more, no score"
        )
    else:
        blanks = "computed only when every one of these items is answered; a blank is never 0"
    items = ", ".join(str(n) for n in score.items)
    return (
        f"Sum of items {items} ({score.min}-{score.max}); {blanks}. Scoring version {rule.version}."
    )


def _value(draft: Draft, item_id: str) -> Any:
    saved = draft.get(item_id)
    return saved.value if saved is not None else None


# --- loading ------------------------------------------------------------------------------------


def load_choice_questionnaire(path: Path, data: dict[str, Any]) -> ChoiceQuestionnaire:
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
    unique(path, [item.id for item in items], "item id")
    return ChoiceQuestionnaire(
        **head(path, data, ChoiceKind.name),
        recall_period_days=field(path, data, "recall_period_days", int),
        loinc_panel=tomlfile.optional(path, data, "loinc_panel", str, ""),
        cdisc_qscat=field(path, data, "cdisc_qscat", str),
        choice_min=choice_min,
        choice_max=choice_max,
        anchored=anchored,
        not_applicable_value=not_applicable,
        items=items,
        scoring=_scoring(path, field(path, data, "scoring", dict), items, choice_min, choice_max),
    )


def _item(path: Path, raw: dict[str, Any], index: int) -> ChoiceItem:
    where = f"items[{index}]."
    number = field(path, raw, "number", int, where)
    if number != index:
        raise DefinitionError(path, f"'{where}number' is {number}, expected {index} (in order)")
    return ChoiceItem(
        number=number,
        id=field(path, raw, "id", str, where),
        qstestcd=field(path, raw, "qstestcd", str, where),
        topic=tomlfile.bilingual(path, raw, "topic", where),
        loinc=str(raw.get("loinc", "")),
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
        unique(path, [str(n) for n in numbers], f"{where}items entry")
        mcid = score.get("mcid")
        if mcid is not None and (isinstance(mcid, bool) or not isinstance(mcid, int | float)):
            raise DefinitionError(path, f"'{where}mcid' must be a number")
        definition = ScoreDefinition(
            id=field(path, score, "id", str, where),
            label=tomlfile.bilingual(path, score, "label", where),
            items=numbers,
            min=field(path, score, "min", int, where),
            max=field(path, score, "max", int, where),
            loinc=str(score.get("loinc", "")),
            qstestcd=field(path, score, "qstestcd", str, where),
            mcid=float(mcid) if mcid is not None else None,
        )
        if (definition.min, definition.max) != (lo * len(numbers), hi * len(numbers)):
            raise DefinitionError(path, f"'{where}min/max' do not match its items' range")
        scores.append(definition)
    if not scores:
        raise DefinitionError(path, "no [[scoring.scores]]")
    unique(path, [s.id for s in scores], "score id")
    return Scoring(
        version=field(path, raw, "version", str, "scoring."),
        missing_rule=rule,
        max_missing=max_missing,
        scores=tuple(scores),
        higher_is_worse=tomlfile.optional(path, raw, "higher_is_worse", bool, True),
    )
