"""The PDF section of a choice questionnaire (the MLHFQ): every item with its answer, the scores."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from pro_app.languages import ENGLISH, LANGUAGE_NAMES, Bilingual
from pro_app.models import Response
from pro_app.pdf.document import Line, Row, ScoreLine, Section
from pro_app.pdf.lines import both, pair
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.kinds.choice import ChoiceQuestionnaire, ScoreDefinition
from pro_app.questionnaire.textpacks import TextPack


def choice_section(
    instrument: ChoiceQuestionnaire, response: Response, catalog: Catalog, wording_available: bool
) -> Section:
    """A questionnaire answered item by item (MLHFQ): every item with its answer, then the scores."""
    language = response.language
    pack = catalog.textpacks.get((instrument.id, language)) if wording_available else None
    english = (
        None if language.startswith(ENGLISH) else catalog.textpacks.get((instrument.id, ENGLISH))
    )
    # A correction marks each answer that differs from the version it replaces.
    superseded = response.supersedes
    rows = []
    for item in instrument.items:
        value = response.answers.get(item.id)
        answered_in = response.item_languages.get(item.id)
        before = superseded.answers.get(item.id) if superseded is not None else value
        rows.append(
            Row(
                number=str(item.number),
                text=_item_text(item.id, item.topic, language, pack, english),
                answer="—" if value is None else str(value),
                answer_note=None if value is None else _anchor(value, language, pack, english),
                missing=value is None,
                previous=None if before == value else ("—" if before is None else str(before)),
                answered_in=(
                    LANGUAGE_NAMES.get(answered_in, answered_in)
                    if answered_in and answered_in != language
                    else None
                ),
            )
        )
    notes: list[Line] = []
    if pack is not None:
        for key in ("instructions", "recall", "stem"):
            text = getattr(pack, key)
            if text:
                notes.append(Line(text, getattr(english, key, None) if english else None))
    else:
        notes.append(
            both(
                language,
                lambda: _(
                    "The wording of text pack %(pack)s is not installed on this server any more, so "
                    "items are shown by their short topic labels.",
                    pack=response.textpack_id,
                ),
            )
        )
    notes.append(
        both(
            language,
            lambda: _(
                "Each item is answered with a number from %(low)s to %(high)s. An item that does not apply "
                "is answered %(na)s; an unanswered item is blank, never 0.",
                low=instrument.choice_min,
                high=instrument.choice_max,
                na=instrument.not_applicable_value,
            ),
        )
    )
    return Section(
        kind="choice",
        heading=pair(language, instrument.title),
        notes=tuple(notes),
        answer_heading=both(language, lambda: _("Answers")),
        rows=tuple(rows),
        scores_heading=both(language, lambda: _("Scores")),
        scores=tuple(
            _score_line(definition, response.scores.get(definition.id), language)
            for definition in instrument.scoring.scores
        ),
        score_notes=(
            both(language, lambda: _("Higher scores mean a worse quality of life.")),
            _missing_rule(instrument, response.scoring_version, language),
        ),
    )


def _item_text(
    item_id: str,
    topic: Bilingual,
    language: str,
    pack: TextPack | None,
    english: TextPack | None,
) -> Line:
    if pack is None:
        return pair(language, topic)
    return Line(pack.item(item_id), english.items.get(item_id) if english else None)


def _anchor(
    value: int, language: str, pack: TextPack | None, english: TextPack | None
) -> Line | None:
    if pack is None or value not in pack.anchors:
        return None
    return Line(pack.anchors[value], english.anchors.get(value) if english else None)


def item_ranges(numbers: list[int] | tuple[int, ...]) -> str:
    """[2, 3, 4, 5, 6, 7, 12, 13] -> "2–7, 12, 13": the items a score sums, as a monitor reads them."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(
        str(a) if a == b else f"{a}, {b}" if b == a + 1 else f"{a}–{b}" for a, b in spans
    )


def _score_line(
    definition: ScoreDefinition, result: dict[str, Any] | None, language: str
) -> ScoreLine:
    label = pair(language, definition.label)
    score_range = f"{definition.min}–{definition.max}"
    items = item_ranges(definition.items)
    if result is None:
        return ScoreLine(label, None, score_range, both(language, lambda: _("Not scored")), items)
    value, missing = result.get("value"), int(result.get("missing", 0))
    if value is None:
        unanswered = both(
            language, lambda: _("Not computed: %(num)s of its items are unanswered.", num=missing)
        )
        return ScoreLine(label, None, score_range, unanswered, items)
    shown = str(int(value)) if float(value).is_integer() else f"{value:.2f}"
    note = None
    if result.get("imputed"):
        note = both(
            language,
            lambda: _(
                "%(num)s unanswered items were filled with the mean of the answered ones.",
                num=missing,
            ),
        )
    return ScoreLine(label, shown, score_range, note, items)


def _missing_rule(instrument: ChoiceQuestionnaire, recorded_version: str, language: str) -> Line:
    scoring = instrument.scoring
    if scoring.version != recorded_version:
        return both(
            language,
            lambda: _(
                "Scored with %(version)s, as sealed in the record.", version=recorded_version
            ),
        )
    if scoring.missing_rule == "mean_impute":
        return both(
            language,
            lambda: _(
                "Scoring %(version)s: up to %(num)s unanswered items of a score are filled with the "
                "mean of its answered items; with more, the score is not computed.",
                version=scoring.version,
                num=scoring.max_missing,
            ),
        )
    return both(
        language,
        lambda: _(
            "Scoring %(version)s: a score is computed only when all of its items are answered.",
            version=scoring.version,
        ),
    )
