"""From a sealed record to the plain data of its PDF. One section builder per kind of instrument.

This is the only step of the pipeline that reads ORM objects; what it returns holds none. It refuses
a record whose stored hash no longer matches its content, so a PDF never certifies an altered row.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from flask_babel import gettext as _

from pro_app.extensions import db
from pro_app.i18n import LANGUAGE_NAMES
from pro_app.models import Response, StaffUser
from pro_app.pdf.document import Line, RecordDocument, Row, ScoreLine, Section, Signer
from pro_app.pdf.form_section import form_section
from pro_app.pdf.lines import ENGLISH, both, pair
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.definitions import ChoiceInstrument
from pro_app.questionnaire.form_definitions import FormInstrument
from pro_app.questionnaire.textpacks import TextPack
from pro_app.services.canonical import canonical_json, sha256_of
from pro_app.services.sealing import canonical_record


class RecordAltered(RuntimeError):
    """The stored record no longer hashes to its sealed SHA-256: it must not be certified."""


class UnsupportedInstrument(RuntimeError):
    """No section builder is registered for this kind of instrument."""


def record_document(response: Response, catalog: Catalog, signer: Signer) -> RecordDocument:
    """The plain data of one sealed record's PDF."""
    visit = response.visit
    participant = visit.participant
    site = participant.site
    staff = db.session.get(StaffUser, response.staff_id) if response.staff_id else None
    canonical = canonical_record(response, visit, staff.username if staff else None)
    if sha256_of(canonical) != response.record_sha256:
        raise RecordAltered(
            f"record {response.id}: stored content does not match its sealed SHA-256"
        )
    superseded = _superseded(response)
    instrument = catalog.instrument(response.instrument_id)
    language = response.language
    try:
        planned = catalog.schedule.visit(visit.code)
        visit_name = pair(language, planned.name_zh, planned.name_en)
    except KeyError:  # a visit that a later protocol amendment removed from the schedule
        visit_name = Line(visit.code)
    pack = catalog.textpacks.get((instrument.id, language))
    wording_available = pack is not None and pack.sha256 == response.textpack_sha256
    return RecordDocument(
        language=language,
        trial_title=both(language, trial_title),
        site_name=pair(language, site.name_zh, site.name_en),
        site_code=site.code,
        timezone=site.timezone,
        study_id=participant.study_id,
        visit_name=visit_name,
        visit_code=visit.code,
        visit_target=visit.target_date,
        window_start=visit.window_start,
        window_end=visit.window_end,
        instrument_title=pair(language, instrument.title_zh, instrument.title_en),
        instrument_id=instrument.id,
        instrument_version=response.instrument_version,
        scoring_version=response.scoring_version,
        textpack_id=response.textpack_id,
        textpack_sha256=response.textpack_sha256,
        demo_wording=response.textpack_demo,
        wording_available=wording_available,
        languages=tuple(LANGUAGE_NAMES.get(code, code) for code in response.languages),
        entered_by=response.entered_by.value,
        staff_username=staff.username if staff else None,
        entry_reason=response.entry_reason,
        record_version=response.version,
        supersedes_version=superseded.version if superseded else None,
        correction_reason=response.correction_reason,
        started_at=response.started_at,
        submitted_at=response.submitted_at,
        receipt_number=response.receipt_number,
        record_id=response.id,
        record_sha256=response.record_sha256,
        record_json=canonical_json(canonical),
        section=build_section(instrument, response, catalog, wording_available),
        copyright=None if response.textpack_demo else getattr(instrument, "copyright", None),
        signer=signer,
    )


def trial_title() -> str:
    return _(
        "Multiple intravenous infusions of umbilical cord mesenchymal stem cells in heart failure "
        "with reduced ejection fraction (PRIME-HFrEF)"
    )


@singledispatch
def build_section(
    instrument: Any, response: Response, catalog: Catalog, wording_available: bool
) -> Section:
    """The instrument-specific part of the PDF. Register one builder per instrument class:

    @build_section.register
    def _(instrument: WalkTestInstrument, response, catalog, wording_available) -> Section: ...
    """
    raise UnsupportedInstrument(f"no PDF section for instrument {type(instrument).__name__}")


# A log such as the 6MWT: the worksheet by screen, the walk timer, then the computed values.
build_section.register(FormInstrument, form_section)


@build_section.register
def _choice_section(
    instrument: ChoiceInstrument, response: Response, catalog: Catalog, wording_available: bool
) -> Section:
    """A questionnaire answered item by item (MLHFQ): every item with its answer, then the scores."""
    language = response.language
    pack = catalog.textpacks.get((instrument.id, language)) if wording_available else None
    english = (
        None if language.startswith(ENGLISH) else catalog.textpacks.get((instrument.id, ENGLISH))
    )
    # A correction marks each answer that differs from the version it replaces.
    superseded = _superseded(response)
    rows = []
    for item in instrument.items:
        value = response.answers.get(item.id)
        answered_in = response.item_languages.get(item.id)
        before = superseded.answers.get(item.id) if superseded is not None else value
        rows.append(
            Row(
                number=str(item.number),
                text=_item_text(item.id, item.topic_zh, item.topic_en, language, pack, english),
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
        heading=pair(language, instrument.title_zh, instrument.title_en),
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


def _superseded(response: Response) -> Response | None:
    """The version a correction replaces (None for an original record)."""
    return db.session.get(Response, response.supersedes_id) if response.supersedes_id else None


def _item_text(
    item_id: str,
    topic_zh: str,
    topic_en: str,
    language: str,
    pack: TextPack | None,
    english: TextPack | None,
) -> Line:
    if pack is None:
        return pair(language, topic_zh, topic_en)
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


def _score_line(definition: Any, result: dict[str, Any] | None, language: str) -> ScoreLine:
    label = pair(language, definition.label_zh, definition.label_en)
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


def _missing_rule(instrument: ChoiceInstrument, recorded_version: str, language: str) -> Line:
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
