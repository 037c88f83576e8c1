"""The worksheet kind (the 6MWT log): typed fields on a few screens, checked as they are saved,
sealed with the values its computation derives. Usually administered by an assessor."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pro_app import formatting
from pro_app.errors import RecordIncomplete
from pro_app.languages import LANGUAGES, Bilingual
from pro_app.questionnaire import formcheck
from pro_app.questionnaire.formcheck import InputError
from pro_app.questionnaire.kinds.base import (
    HARD,
    HOLDS_CONFIRMED_WARNINGS,
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
from pro_app.questionnaire.kinds.standards import NOT_DONE, fhir_text, number_text
from pro_app.questionnaire.textpacks import find_scale_pack_file, load_scale_pack
from pro_app.questionnaire.worksheet import Screen, Worksheet, WorksheetField, load_worksheet

# Draft rows besides the fields: confirmed unusual values, and a timer's raw result.
CONFIRMATIONS = "confirmations"
TIMER = "timer"

_DATATYPES = {
    "date": "date",
    "time": "time",
    "integer": "integer",
    "decimal": "decimal",
    "choice": "text",
    "multi": "list",
    "text": "text",
    "duration": "integer",
    "scale": "decimal",
}
# FHIR Questionnaire item types of field types and of computed values' datatypes.
_FHIR_TYPES = {
    "date": "date",
    "time": "time",
    "integer": "integer",
    "duration": "integer",
    "decimal": "decimal",
    "scale": "decimal",
    "choice": "choice",
    "multi": "choice",
    "text": "string",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class WorksheetState:
    """The saved answers of a worksheet and everything still standing between them and a seal."""

    values: dict[str, Any]
    confirmations: dict[str, Any]
    timer: dict[str, Any] | None
    findings: list[Finding]
    missing: list[str]
    started: bool

    @property
    def refused(self) -> list[Finding]:
        return [f for f in self.findings if f.level == HARD]

    @property
    def unconfirmed(self) -> list[Finding]:
        return formcheck.unconfirmed(self.findings, self.confirmations)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.refused and not self.unconfirmed

    def problems_on(self, screen: Screen) -> bool:
        on_screen = set(screen.field_ids)
        return any(f in on_screen for f in self.missing) or any(
            f.field in on_screen for f in self.refused + self.unconfirmed
        )


def state(worksheet: Worksheet, draft: Draft, check: CheckContext) -> WorksheetState:
    values = {
        f.id: formcheck.stored(f, draft[f.id].value) if f.id in draft else None
        for f in worksheet.fields
    }
    confirmations = draft[CONFIRMATIONS].value if CONFIRMATIONS in draft else {}
    timer = draft[TIMER].value if TIMER in draft else None
    return WorksheetState(
        values=values,
        confirmations=dict(confirmations or {}),
        timer=timer,
        findings=formcheck.findings(worksheet, values, check, timer),
        missing=formcheck.missing_required(worksheet, values),
        started=bool(draft),
    )


def first_screen_to_finish(worksheet: Worksheet, current: WorksheetState) -> Screen | None:
    for screen in worksheet.screens:
        if current.problems_on(screen):
            return screen
    return None


@dataclass(frozen=True)
class Applied:
    """Typed values applied to a worksheet's state, checked as at entry."""

    # The new values that were readable and within the hard limits (a cleared field is None).
    parsed: dict[str, Any]
    errors: dict[str, Finding]
    values: dict[str, Any]
    confirmations: dict[str, Any]
    warnings: list[Finding]


def apply(
    worksheet: Worksheet,
    current: WorksheetState,
    raw: Mapping[str, RawValue],
    confirm: Collection[str],
    check: CheckContext,
    fields: Collection[WorksheetField],
) -> Applied:
    """Read `fields` from `raw` and apply them to `current`. Unreadable values and values beyond a
    hard limit are refused (the current value stays); a field that no longer applies (oxygen flow
    after "no oxygen") is cleared; a "yes, this is correct" for an unusual value holds for exactly
    the values it was given for."""
    errors: dict[str, Finding] = {}
    parsed: dict[str, Any] = {}
    for form_field in fields:
        scale = worksheet.scale(form_field.scale) if form_field.scale else None
        try:
            parsed[form_field.id] = formcheck.parse(form_field, raw.get(form_field.id), scale)
        except InputError as fault:
            errors[form_field.id] = Finding(form_field.id, HARD, fault.code, fault.params)
    merged = {**current.values, **parsed}
    for form_field in fields:
        if not formcheck.applies(form_field, merged) and not formcheck.is_blank(
            merged[form_field.id]
        ):
            merged[form_field.id] = parsed[form_field.id] = None
    for finding in formcheck.findings(worksheet, merged, check, current.timer):
        if finding.level == HARD and finding.field in parsed and finding.field not in errors:
            errors[finding.field] = finding
    accepted = {key: value for key, value in parsed.items() if key not in errors}
    values = {**current.values, **accepted}
    found = formcheck.findings(worksheet, values, check, current.timer)
    on_form = {form_field.id for form_field in fields}
    confirmations = dict(current.confirmations)
    for finding in found:
        if finding.field in on_form and confirm_token(finding) in confirm:
            confirmations[finding.key] = list(finding.basis)
    warnings = [
        w
        for w in formcheck.unconfirmed(found, confirmations)
        if w.field in on_form and w.field not in errors
    ]
    return Applied(accepted, errors, values, confirmations, warnings)


def confirm_token(finding: Finding) -> str:
    """What the "yes, this is correct" box posts: the finding and the exact values it is about."""
    return f"{finding.key}|{json.dumps(list(finding.basis))}"


class WorksheetKind(InstrumentKind[Worksheet]):
    name = "worksheet"

    def load(self, path: Path, data: dict[str, Any]) -> Worksheet:
        return load_worksheet(path, data, self.name)

    def wording(self, definition: Worksheet, textpack_dir: Path) -> Wording:
        """Rating-scale wording is licensed: only a site-installed pack shows it."""
        packs = {}
        for scale in definition.scales:
            for language in LANGUAGES:
                found = find_scale_pack_file(textpack_dir, scale.id, language)
                if found is not None:
                    packs[(scale.id, language)] = load_scale_pack(
                        found, scale.id, language, scale.values
                    )
        return Wording(scale_packs=packs, scales=tuple(scale.id for scale in definition.scales))

    def screen_ids(self, definition: Worksheet) -> tuple[str, ...]:
        return tuple(screen.id for screen in definition.screens)

    def progress(self, definition: Worksheet, draft: Draft, check: CheckContext) -> Progress:
        current = state(definition, draft, check)
        applying = [f for f in definition.fields if formcheck.applies(f, current.values)]
        screen = first_screen_to_finish(definition, current)
        return Progress(
            answered=sum(1 for f in applying if not formcheck.is_blank(current.values[f.id])),
            total=len(applying),
            started=current.started,
            next_screen=screen.id if screen else None,
            complete=current.complete,
        )

    def seal(self, definition: Worksheet, draft: Draft, context: SealContext) -> SealedContent:
        """Check the whole worksheet and compute its values; refuse an incomplete one."""
        current = state(definition, draft, context.check)
        if not current.complete:
            raise RecordIncomplete(
                missing=current.missing,
                refused=[f.key for f in current.refused],
                unconfirmed=[f.key for f in current.unconfirmed],
            )
        scores = definition.computation.compute(
            current.values, context.participant, context.visit_code, context.baseline
        )
        answers = {
            "worksheet": current.values,
            "confirmed_warnings": formcheck.confirmed(current.findings, current.confirmations),
            "timer": current.timer,
            "scales": _scales_record(definition, draft, context),
            "entered_by": _entered_by(definition, draft),
            "site_timezone": context.site_timezone,
        }
        # The wording of the first rating scale shown is what identifies the record's text pack.
        shown = [
            pack
            for scale in definition.scales
            if (pack := context.wording.scale_pack(scale.id, context.language)) is not None
        ]
        return SealedContent(
            answers=answers,
            scores=scores,
            scoring_version=definition.computation.version,
            textpack_id=shown[0].pack_id if shown else "none",
            textpack_sha256=shown[0].sha256 if shown else "",
            # A missing scale pack shows numbers, never demo words.
            textpack_demo=False,
        )

    def measures(self, definition: Worksheet) -> tuple[Measure, ...]:
        computation = definition.computation
        headline = next(c for c in computation.columns() if c.name == computation.headline)
        return (
            Measure(
                key=headline.name,
                label=headline.label,
                unit=Bilingual("米", headline.unit)
                if headline.unit == "m"
                else Bilingual(headline.unit, headline.unit),
                low=0.0,
                high=None,
                higher_is_worse=False,
                mcid=computation.mcid,
            ),
        )

    def reopen(
        self,
        definition: Worksheet,
        answers: Mapping[str, Any],
        item_languages: Mapping[str, str],
        sealed_at: datetime,
    ) -> Draft:
        entered_by: Mapping[str, str] = answers.get("entered_by") or {}

        def saved(item_id: str, value: Any) -> SavedAnswer:
            who = entered_by.get(item_id, "participant")
            staff = who.removeprefix("staff:") if who.startswith("staff:") else None
            return SavedAnswer(value, item_languages.get(item_id, ""), sealed_at, staff)

        worksheet: Mapping[str, Any] = answers.get("worksheet") or {}
        draft = {
            field_id: saved(field_id, value)
            for field_id, value in worksheet.items()
            if field_id in item_languages or value is not None
        }
        draft[CONFIRMATIONS] = saved(CONFIRMATIONS, answers.get("confirmed_warnings") or {})
        if answers.get("timer") is not None:
            draft[TIMER] = saved(TIMER, answers["timer"])
        return draft

    def edit_fields(
        self, definition: Worksheet, answers: Mapping[str, Any]
    ) -> tuple[EditField, ...]:
        worksheet: Mapping[str, Any] = answers.get("worksheet") or {}
        fields = []
        for screen in definition.screens:
            for form_field in definition.fields_of(screen):
                value = worksheet.get(form_field.id)
                fields.append(_edit_field(definition, form_field, value, screen.title))
        return tuple(fields)

    def revise(
        self,
        definition: Worksheet,
        draft: Draft,
        raw: Mapping[str, RawValue],
        confirm: Collection[str],
        *,
        check: CheckContext,
        staff: str,
        at: datetime,
    ) -> Revision:
        current = state(definition, draft, check)
        fields = [f for f in definition.fields if f.id in raw or f"{f.id}_min" in raw]
        applied = apply(definition, current, raw, confirm, check, fields)
        revised = dict(draft)
        changed: dict[str, tuple[Any, Any]] = {}
        for field_id, new in applied.parsed.items():
            old = current.values.get(field_id)
            if new != old:
                changed[field_id] = (old, new)
                language = draft[field_id].language if field_id in draft else ""
                revised[field_id] = SavedAnswer(new, language, at, staff)
        if applied.confirmations != current.confirmations:
            revised[CONFIRMATIONS] = SavedAnswer(applied.confirmations, "", at, staff)
        return Revision(revised, changed, applied.errors, applied.warnings)

    def export_columns(self, definition: Worksheet) -> tuple[Column, ...]:
        prefix = definition.id
        fields = tuple(
            Column(
                f"{prefix}.{f.id}",
                f.label,
                _DATATYPES[f.type],
                unit=f.unit.en,
                codes=tuple((o.value, o.label.en) for o in f.options),
                labels=tuple((o.value, o.label) for o in f.options),
            )
            for f in definition.fields
        )
        computed = tuple(
            replace(c, name=f"{prefix}.{c.name}") for c in definition.computation.columns()
        )
        record = (
            *(
                Column(
                    f"{prefix}.{scale.id}_version",
                    Bilingual(f"{scale.name}量表版本", f"{scale.name} scale version"),
                    "text",
                    labels=((scale.version_without_pack, scale.version_words),),
                )
                for scale in definition.scales
            ),
            Column(f"{prefix}.timer_used", Bilingual("是否使用计时器", "Timer used"), "boolean"),
            Column(
                f"{prefix}.confirmed_warnings",
                Bilingual("录入时确认的提示", "Warnings confirmed at entry"),
                "list",
                holds=HOLDS_CONFIRMED_WARNINGS,
            ),
        )
        return fields + computed + record

    def export_cells(
        self, definition: Worksheet, answers: Mapping[str, Any], scores: Mapping[str, Any]
    ) -> dict[str, Any]:
        prefix = definition.id
        worksheet = answers.get("worksheet") or {}
        cells: dict[str, Any] = {f"{prefix}.{f.id}": worksheet.get(f.id) for f in definition.fields}
        for column in definition.computation.columns():
            cells[f"{prefix}.{column.name}"] = scores.get(column.name)
        scales = answers.get("scales") or {}
        for scale in definition.scales:
            cells[f"{prefix}.{scale.id}_version"] = (scales.get(scale.id) or {}).get("version")
        cells[f"{prefix}.timer_used"] = answers.get("timer") is not None
        cells[f"{prefix}.confirmed_warnings"] = sorted(answers.get("confirmed_warnings") or {})
        return cells

    # --- data standards ---------------------------------------------------------------------

    def odm_form(self, definition: Worksheet) -> OdmForm:
        prefix = definition.id
        record = self.export_columns(definition)[
            len(definition.fields) + len(definition.computation.columns()) :
        ]
        groups = (
            *(
                OdmGroup(
                    screen.id.upper(),
                    screen.title,
                    tuple(f"{prefix}.{field_id}" for field_id in screen.field_ids),
                )
                for screen in definition.screens
            ),
            OdmGroup(
                "COMPUTED",
                Bilingual("计算值", "Computed values"),
                tuple(f"{prefix}.{c.name}" for c in definition.computation.columns()),
            ),
            OdmGroup(
                "RECORD", Bilingual("记录信息", "About the record"), tuple(c.name for c in record)
            ),
        )
        aliases: dict[str, tuple[tuple[str, str], ...]] = {
            f"{prefix}.{f.id}": ((f"CDISC {f.sdtm.domain}TESTCD", f.sdtm.testcd),)
            for f in definition.fields
            if f.sdtm is not None
        }
        for name, codes in definition.computation.odm_aliases().items():
            aliases[f"{prefix}.{name}"] = codes
        form_aliases = (
            (("CDISC FTCAT", definition.cdisc_category),) if definition.cdisc_category else ()
        )
        return OdmForm(groups=groups, aliases=aliases, form_aliases=form_aliases)

    def sdtm_tests(self, definition: Worksheet) -> tuple[SdtmTest, ...]:
        seen: dict[tuple[str, str], SdtmTest] = {}
        for f in definition.fields:
            if f.sdtm is not None:
                test = SdtmTest(f.sdtm.domain, f.sdtm.testcd, f.sdtm.test, f.sdtm.category)
                seen.setdefault((test.domain, test.testcd), test)
        return tuple(seen.values()) + definition.computation.sdtm_tests(definition.cdisc_category)

    def sdtm_findings(
        self, definition: Worksheet, answers: Mapping[str, Any], scores: Mapping[str, Any]
    ) -> list[SdtmFinding]:
        values = answers.get("worksheet") or {}
        when = _assessed_at(definition, values)
        # Measurements before and after the walk have no time of their own: their date, and the
        # walk's start as the time point reference.
        day = when[:10] if when else None
        tptref = definition.sdtm.tptref if definition.sdtm else ""
        rows = []
        for f in definition.fields:
            mapping = f.sdtm
            if mapping is None:
                continue
            row = SdtmFinding(
                mapping.domain,
                mapping.testcd,
                mapping.test,
                mapping.category,
                subcategory=mapping.subcategory,
                evaluator=mapping.evaluator,
                tpt=mapping.tpt,
                tptnum=mapping.tptnum,
                tptref=tptref if mapping.tpt else "",
                when=day if mapping.tpt else when,
                reference_when=when if mapping.tpt else None,
            )
            value = values.get(f.id)
            if value is None:
                rows.append(replace(row, stat=NOT_DONE, reasnd="NOT RECORDED"))
                continue
            unit = f.unit.en if f.type != "scale" else ""
            text = number_text(value)
            rows.append(
                replace(
                    row,
                    orres=text,
                    orresu=unit,
                    stresc=text,
                    stresn=float(value),
                    stresu=unit,
                )
            )
        rows += definition.computation.sdtm_findings(
            values, scores, definition.cdisc_category, when
        )
        return rows

    def fhir_items(self, definition: Worksheet, codes_url: str) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = [
            {
                "linkId": screen.id,
                **fhir_text(screen.title),
                "type": "group",
                "item": [
                    _fhir_field(definition, f, codes_url) for f in definition.fields_of(screen)
                ],
            }
            for screen in definition.screens
        ]
        groups.append(
            {
                "linkId": "computed",
                **fhir_text(Bilingual("计算值", "Computed values")),
                "type": "group",
                "item": [
                    {
                        "linkId": f"computed.{c.name}",
                        **fhir_text(c.label),
                        "type": _FHIR_TYPES[c.datatype] if c.datatype != "text" else "string",
                        "readOnly": True,
                    }
                    for c in definition.computation.columns()
                ],
            }
        )
        return groups

    def fhir_answers(
        self,
        definition: Worksheet,
        answers: Mapping[str, Any],
        scores: Mapping[str, Any],
        codes_url: str,
    ) -> list[dict[str, Any]]:
        values = answers.get("worksheet") or {}
        groups: list[dict[str, Any]] = []
        for screen in definition.screens:
            items = []
            for f in definition.fields_of(screen):
                answer = _fhir_answer(definition, f, values.get(f.id), codes_url)
                if answer:
                    items.append({"linkId": f.id, "answer": answer})
            if items:
                groups.append({"linkId": screen.id, "item": items})
        computed = []
        for column in definition.computation.columns():
            value = scores.get(column.name)
            if value is None or value == "":
                continue
            computed.append(
                {
                    "linkId": f"computed.{column.name}",
                    "answer": [_fhir_value(column.datatype, value)],
                }
            )
        if computed:
            groups.append({"linkId": "computed", "item": computed})
        return groups


def _assessed_at(definition: Worksheet, values: Mapping[str, Any]) -> str | None:
    """The local date and time of the assessment (ISO 8601), from the worksheet's own fields."""
    if definition.sdtm is None:
        return None
    day = values.get(definition.sdtm.date_field)
    at = values.get(definition.sdtm.time_field)
    if not day:
        return None
    return f"{day}T{at}" if at else str(day)


def _fhir_field(definition: Worksheet, f: WorksheetField, codes_url: str) -> dict[str, Any]:
    kind = "text" if f.type == "text" and f.multiline else _FHIR_TYPES[f.type]
    item: dict[str, Any] = {"linkId": f.id, **fhir_text(f.label), "type": kind}
    if f.required and f.when is None:
        item["required"] = True
    if f.type == "multi":
        item["repeats"] = True
    if f.options:
        item["answerOption"] = [
            {
                "valueCoding": {
                    "system": f"{codes_url}/{definition.id}-{f.id}",
                    "code": option.value,
                    "display": option.label.en,
                }
            }
            for option in f.options
        ]
    if f.type == "text":
        item["maxLength"] = f.max_length
    return item


def _fhir_answer(
    definition: Worksheet, f: WorksheetField, value: Any, codes_url: str
) -> list[dict[str, Any]]:
    if value is None or value == "" or value == []:
        return []
    if f.type in ("choice", "multi"):
        chosen = value if isinstance(value, list) else [value]
        return [
            {
                "valueCoding": {
                    "system": f"{codes_url}/{definition.id}-{f.id}",
                    "code": code,
                    "display": option.label.en if (option := f.option(code)) else code,
                }
            }
            for code in chosen
        ]
    return [_fhir_value(_DATATYPES[f.type], value)]


def _fhir_value(datatype: str, value: Any) -> dict[str, Any]:
    if datatype == "date":
        return {"valueDate": value}
    if datatype == "time":
        return {"valueTime": value if len(value) > 5 else f"{value}:00"}
    if datatype == "integer":
        return {"valueInteger": int(value)}
    if datatype == "decimal":
        return {"valueDecimal": value}
    if datatype == "boolean":
        return {"valueBoolean": bool(value)}
    return {"valueString": str(value)}


_INPUTS = {
    "integer": "number",
    "decimal": "number",
    "text": "text",
    "date": "date",
    "time": "time",
    "choice": "choice",
    "multi": "multi",
    "duration": "duration",
    "scale": "choice",
}


def _edit_field(
    definition: Worksheet, form_field: WorksheetField, value: Any, group: Bilingual
) -> EditField:
    kind = _INPUTS[form_field.type]
    options: tuple[tuple[str, Bilingual], ...] = tuple(
        (option.value, option.label) for option in form_field.options
    )
    text: Any = formatting.input_text(form_field, value)
    if form_field.type == "scale" and form_field.scale:
        numbers = (formatting.number(v) for v in definition.scale(form_field.scale).values)
        options = tuple((n, Bilingual(n, n)) for n in numbers)
    if form_field.type in ("choice", "scale"):
        options = (("", Bilingual("（空）", "(blank)")), *options)
    if form_field.type == "multi":
        text = list(value or [])
    if form_field.type == "duration":
        text = ("", "") if value is None else (str(value // 60), str(value % 60))
    if form_field.type == "text" and form_field.multiline:
        kind = "textarea"
    return EditField(
        id=form_field.id,
        label=form_field.label,
        input=kind,
        value=value,
        text=text,
        options=options,
        unit=form_field.unit if form_field.unit.en else None,
        group=group,
    )


def _scales_record(
    definition: Worksheet, draft: Draft, context: SealContext
) -> dict[str, dict[str, Any]]:
    """Per rating scale: which version and wording were shown, per language of its answers."""
    record = {}
    for scale in definition.scales:
        answered = {
            draft[f.id].language
            for f in definition.scale_fields()
            if f.scale == scale.id and f.id in draft
        }
        wording = {}
        for used in sorted(answered | {context.language}):
            pack = context.wording.scale_pack(scale.id, used)
            wording[used] = (
                {
                    "pack_id": pack.pack_id,
                    "sha256": pack.sha256,
                    "scale_version": pack.scale_version,
                }
                if pack
                else None
            )
        shown = context.wording.scale_pack(scale.id, context.language)
        record[scale.id] = {
            "scale": scale.id,
            "name": scale.name,
            "version": shown.scale_version if shown else scale.version_without_pack,
            "wording": wording,
        }
    return record


def _entered_by(definition: Worksheet, draft: Draft) -> dict[str, str]:
    """Who saved each field last: the participant, or a named staff user."""
    result = {}
    for item_id in (*definition.item_ids, TIMER):
        saved = draft.get(item_id)
        if saved is not None:
            result[item_id] = f"staff:{saved.staff}" if saved.staff else "participant"
    return result
