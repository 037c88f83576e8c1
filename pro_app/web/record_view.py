"""What a staff member sees of one sealed record: its values with their words, its scores or
computed values, who entered it and why, its times, hash, versions with what changed, its signed
PDF, its verification mark and queries. The coordinator's and the monitor's record pages both
render this (templates/staff/record.html) and add their own actions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale

from pro_app.languages import Bilingual, is_chinese
from pro_app.models import DataQuery, Response, SdvMark
from pro_app.pdf.sections.worksheet import confirmed_words
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.definitions import Instrument
from pro_app.questionnaire.kinds.base import (
    HOLDS_CONFIRMED_WARNINGS,
    HOLDS_VISIT_CODE,
    Column,
    EditField,
    InstrumentKind,
)
from pro_app.questionnaire.kinds.registry import kind_of
from pro_app.services import corrections, pdf_copies, review


@dataclass(frozen=True)
class ShownValue:
    id: str
    label: Bilingual
    group: Bilingual | None
    text: str
    entered_by: str  # "participant" or "staff:<username>"


@dataclass(frozen=True)
class Change:
    field: str
    label: Bilingual
    old: str
    new: str


@dataclass(frozen=True)
class VersionRow:
    record: Response
    changes: list[Change]


@dataclass(frozen=True)
class RecordView:
    record: Response
    instrument_title: Bilingual
    visit_name: Bilingual
    values: list[ShownValue]
    computed: list[tuple[Bilingual, str]]
    versions: list[VersionRow]
    current: bool
    pdf_status: str
    mark: SdvMark | None
    queries: list[DataQuery]
    fields: list[EditField]
    hash_holds: bool
    reason_label: Bilingual | None

    def field_label(self, field_id: str) -> Bilingual:
        """The words of a field a query is about (its id if the instrument no longer has it)."""
        for field in self.fields:
            if field.id == field_id:
                return field.label
        return Bilingual(field_id, field_id)


def _shown(field: EditField, value: Any, locale: str) -> str:
    """A sealed value as staff read it: a choice with its words, a number with its unit."""
    if value is None or value == "" or value == []:
        return "—"
    labels = dict(field.options)
    if isinstance(value, list):
        return "、".join(labels[v](locale) if v in labels else str(v) for v in value)
    if field.input == "duration":
        return f"{value // 60}:{value % 60:02d}"
    text = str(field.text)
    if text in labels and labels[text](locale) != text:
        return labels[text](locale)
    unit = f" {field.unit(locale)}" if field.unit else ""
    return f"{text}{unit}"


_YES = Bilingual("是", "Yes")
_NO = Bilingual("否", "No")


def _cell(value: Any, locale: str, labels: Mapping[str, Bilingual] | None = None) -> str:
    """An exported cell as staff read it: yes or no, a code in words (`Column.labels`)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return (_YES if value else _NO)(locale)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        separator = "、" if is_chinese(locale) else ", "
        return separator.join(_cell(v, locale, labels) for v in value)
    known = (labels or {}).get(str(value))
    return known(locale) if known is not None else str(value)


def _computed(
    column: Column, value: Any, locale: str, catalog: Catalog, fields: list[EditField]
) -> str:
    """A computed or record-level cell in words: a visit by its name, a confirmed warning by
    its field and what was confirmed (as the PDF words it), a number with its unit."""
    if column.holds == HOLDS_VISIT_CODE:
        names = {planned.code: planned.name for planned in catalog.schedule.visits}
        return _cell(value, locale, names)
    if column.holds == HOLDS_CONFIRMED_WARNINGS and value:
        labels = {field.id: field.label(locale) for field in fields}
        colon, semicolon = ("：", "；") if is_chinese(locale) else (": ", "; ")
        with force_locale(locale):
            return semicolon.join(
                f"{labels.get(field_id, field_id)}{colon}{confirmed_words(code)}"
                for field_id, _sep, code in (str(key).partition(":") for key in value)
            )
    text = _cell(value, locale, dict(column.labels))
    if (
        column.unit_label is not None
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return f"{text} {column.unit_label(locale)}"
    return text


def _authors(
    chain: list[Response], kind: InstrumentKind[Any], instrument: Instrument
) -> dict[str, str]:
    """Who entered each value of the newest version in `chain` (oldest first). A correction seals
    every value again but changes only some: a value carried unchanged from an earlier version
    keeps that version's author, so a participant's own answers stay theirs."""

    def by_version(version: Response) -> tuple[dict[str, Any], dict[str, str], str]:
        answers = version.answers if isinstance(version.answers, dict) else {}
        default = f"staff:{version.staff.username}" if version.staff else "participant"
        values = {field.id: field.value for field in kind.edit_fields(instrument, answers)}
        return values, answers.get("entered_by") or {}, default

    read = [by_version(version) for version in chain]
    newest_values = read[-1][0]
    authors = {}
    for field_id, value in newest_values.items():
        index = len(read) - 1
        while index > 0 and read[index - 1][0].get(field_id) == value:
            index -= 1
        _values, explicit, default = read[index]
        authors[field_id] = explicit.get(field_id, default)
    return authors


def build(record: Response, catalog: Catalog, locale: str) -> RecordView:
    instrument = catalog.instrument(record.instrument_id)
    kind = kind_of(instrument)
    fields = list(kind.edit_fields(instrument, record.answers))
    history = corrections.history(record)
    authors = _authors([v for v in history if v.version <= record.version], kind, instrument)
    values = [
        ShownValue(
            id=field.id,
            label=field.label,
            group=field.group,
            text=_shown(field, field.value, locale),
            entered_by=authors.get(field.id, "participant"),
        )
        for field in fields
    ]
    field_ids = {field.id for field in fields}
    prefix = f"{instrument.id}."
    cells = kind.export_cells(instrument, record.answers, record.scores)
    columns = {
        column.name.removeprefix(prefix): column for column in kind.export_columns(instrument)
    }
    computed = [
        (column.label, _computed(column, cells.get(column.name), locale, catalog, fields))
        for name, column in columns.items()
        if name not in field_ids
    ]

    def change(field: str, old: Any, new: Any) -> Change:
        column = columns.get(field)
        if column is None:
            return Change(field, Bilingual(field, field), _cell(old, locale), _cell(new, locale))
        labels = dict(column.labels)
        return Change(field, column.label, _cell(old, locale, labels), _cell(new, locale, labels))

    versions = []
    for older, newer in zip([None, *history], history, strict=False):
        changes = (
            [
                change(field, old, new)
                for field, old, new in corrections.differences(older, newer, catalog)
            ]
            if older is not None
            else []
        )
        versions.append(VersionRow(newer, changes))
    try:
        visit_name = catalog.schedule.visit(record.visit.code).name
    except KeyError:
        visit_name = Bilingual(record.visit.code, record.visit.code)
    return RecordView(
        record=record,
        instrument_title=instrument.title,
        visit_name=visit_name,
        values=values,
        computed=computed,
        versions=versions,
        current=history[-1].id == record.id and not record.voided,
        pdf_status=pdf_copies.status_of(record),
        mark=review.mark(record),
        queries=review.queries_of([record])[record.id],
        fields=fields,
        hash_holds=record.hash_holds,
        reason_label=catalog.change_reasons.label(record.correction_reason_code or ""),
    )
