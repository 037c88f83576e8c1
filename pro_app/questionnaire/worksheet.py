"""Worksheets (kind "worksheet", e.g. the 6MWT log) as validated, frozen dataclasses: typed fields
on a few screens, with hard and soft limits, checks across fields, rating scales whose wording is a
site pack, and a pluggable computation (pro_app/questionnaire/computations/)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pro_app.languages import Bilingual
from pro_app.questionnaire import tomlfile
from pro_app.questionnaire.computations import Computation, Timer, load_computation
from pro_app.questionnaire.definitions import Instrument, head
from pro_app.questionnaire.errors import DefinitionError
from pro_app.questionnaire.tomlfile import field, unique

FIELD_TYPES = ("date", "time", "integer", "decimal", "choice", "multi", "text", "duration", "scale")
NUMERIC_TYPES = ("integer", "decimal", "duration")
CHECK_RULES = ("less_than", "multiple_of")
# The SDTM findings domains a worksheet field can be tabulated in (see docs/exports.md).
SDTM_DOMAINS = ("QS", "VS")
LEVELS = ("hard", "soft")


@dataclass(frozen=True)
class Option:
    value: str
    label: Bilingual


@dataclass(frozen=True)
class Condition:
    """The field applies only when `field` has `value` (or, for a multi field, contains it)."""

    field: str
    value: str


@dataclass(frozen=True)
class SdtmMapping:
    """Where a field's value goes in SDTM: a findings test, with its category and time point."""

    domain: str
    testcd: str
    test: str
    category: str = ""
    subcategory: str = ""
    evaluator: str = ""
    tpt: str = ""
    tptnum: int | None = None


@dataclass(frozen=True)
class WorksheetSdtm:
    """Which fields date and time the assessment, and the time point reference of its rows."""

    date_field: str
    time_field: str
    tptref: str


@dataclass(frozen=True)
class WorksheetField:
    id: str
    type: str
    screen: str
    # Staff wording (GCP terms), and plain wording for patient pages.
    label: Bilingual
    patient_label: Bilingual
    hint: Bilingual
    # Units by audience: staff pages and the PDF use `unit` (kg, mmHg), patient pages may use
    # plainer words (公斤, 毫米汞柱).
    unit: Bilingual
    patient_unit: Bilingual
    required: bool
    assessor: bool
    multiline: bool
    min: float | None
    max: float | None
    soft_min: float | None
    soft_max: float | None
    decimals: int
    max_length: int
    options: tuple[Option, ...]
    exclusive: str | None
    when: Condition | None
    # A "scale" field: which rating scale (e.g. "borg_cr10").
    scale: str | None
    # A "date" field: refuse a date after today; ask about a date outside the visit window.
    not_after_today: bool
    within_visit_window: bool
    # Where the value goes in SDTM, if anywhere (instrument data, so a new worksheet needs no code).
    sdtm: SdtmMapping | None = None

    def option(self, value: str) -> Option | None:
        return next((option for option in self.options if option.value == value), None)

    def wording(self, patient: bool) -> Bilingual:
        """The field's label for its audience: plain words for a patient, GCP terms for staff."""
        return self.patient_label if patient else self.label

    def unit_for(self, patient: bool) -> Bilingual:
        return self.patient_unit if patient else self.unit

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)


@dataclass(frozen=True)
class Section:
    title: Bilingual
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Screen:
    id: str
    number: int
    title: Bilingual
    sections: tuple[Section, ...]

    @property
    def field_ids(self) -> tuple[str, ...]:
        return tuple(field_id for section in self.sections for field_id in section.fields)


@dataclass(frozen=True)
class RatingScale:
    """A numeric rating scale (Borg CR10): its wording is licensed, shown only from a site pack."""

    id: str
    name: str
    # What the scale is called on forms and in the PDF ("Borg scale" / "Borg量表").
    title: Bilingual
    min: float
    max: float
    step: float
    # Recorded as the scale version when no site pack (with its own `scale_version`) is installed.
    version_without_pack: str
    # How that stored version reads to people (the record page, the PDF).
    version_words: Bilingual

    @property
    def values(self) -> tuple[float, ...]:
        count = round((self.max - self.min) / self.step)
        return tuple(self.min + i * self.step for i in range(count + 1))


@dataclass(frozen=True)
class CrossCheck:
    """A rule between two fields: `field` < `other`, or `field` = factor × `other`."""

    rule: str
    field: str
    other: str
    level: str
    code: str
    factor: float = 1.0


@dataclass(frozen=True)
class Worksheet(Instrument):
    """A worksheet of typed fields on a few screens, with limits and computed values."""

    standard: str
    cdisc_category: str
    screens: tuple[Screen, ...]
    fields: tuple[WorksheetField, ...]
    scales: tuple[RatingScale, ...]
    checks: tuple[CrossCheck, ...]
    computation: Computation
    sdtm: WorksheetSdtm | None = None

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.fields)

    @property
    def timer(self) -> Timer | None:
        return self.computation.timer

    def field(self, field_id: str) -> WorksheetField:
        for candidate in self.fields:
            if candidate.id == field_id:
                return candidate
        raise KeyError(field_id)

    def screen(self, screen_id: str) -> Screen:
        for candidate in self.screens:
            if candidate.id == screen_id:
                return candidate
        raise KeyError(screen_id)

    def fields_of(self, screen: Screen) -> tuple[WorksheetField, ...]:
        return tuple(self.field(field_id) for field_id in screen.field_ids)

    def scale(self, scale_id: str) -> RatingScale:
        for candidate in self.scales:
            if candidate.id == scale_id:
                return candidate
        raise KeyError(scale_id)

    def scale_fields(self) -> tuple[WorksheetField, ...]:
        return tuple(f for f in self.fields if f.type == "scale")


# --- loading ------------------------------------------------------------------------------------


def load_worksheet(path: Path, data: dict[str, Any], kind: str) -> Worksheet:
    """Build and check a worksheet from its parsed TOML; faults name the file and the key."""
    screens = _screens(path, data.get("screens", []))
    scales = _scales(path, data.get("scales", {}))
    placement = {f: s.id for s in screens for f in s.field_ids}
    fields = tuple(
        _field(path, raw, index, placement, {s.id for s in scales})
        for index, raw in enumerate(data.get("fields", []), 1)
    )
    if not fields:
        raise DefinitionError(path, "no [[fields]]")
    ids = [f.id for f in fields]
    unique(path, ids, "field id")
    placed = [f for s in screens for f in s.field_ids]
    unique(path, placed, "field placed in a section:")
    for field_id in placed:
        if field_id not in ids:
            raise DefinitionError(path, f"a section lists unknown field '{field_id}'")
    by_id = {f.id: f for f in fields}
    for candidate in fields:
        _check_condition(path, candidate, by_id)
    computation = load_computation(path, field(path, data, "computation", dict))
    computation.check_fields(path, by_id)
    if computation.timer is not None and computation.timer.screen not in {s.id for s in screens}:
        raise DefinitionError(path, "'computation.timer.screen' names no screen")
    return Worksheet(
        **head(path, data, kind),
        standard=tomlfile.optional(path, data, "standard", str, ""),
        cdisc_category=tomlfile.optional(path, data, "cdisc_category", str, ""),
        screens=screens,
        fields=fields,
        scales=scales,
        checks=_checks(path, data.get("checks", []), by_id),
        computation=computation,
        sdtm=_worksheet_sdtm(path, data.get("sdtm"), by_id),
    )


def _worksheet_sdtm(path: Path, raw: Any, by_id: dict[str, WorksheetField]) -> WorksheetSdtm | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DefinitionError(path, "'sdtm' must be a table")
    mapping = WorksheetSdtm(
        date_field=field(path, raw, "date_field", str, "sdtm."),
        time_field=field(path, raw, "time_field", str, "sdtm."),
        tptref=field(path, raw, "tptref", str, "sdtm."),
    )
    for key, kind in (("date_field", "date"), ("time_field", "time")):
        named = by_id.get(getattr(mapping, key))
        if named is None or named.type != kind:
            raise DefinitionError(path, f"'sdtm.{key}' must name a {kind} field")
    return mapping


def _field_sdtm(path: Path, raw: Any, where: str, kind: str) -> SdtmMapping | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DefinitionError(path, f"'{where}sdtm' must be a table")
    inner = f"{where}sdtm."
    mapping = SdtmMapping(
        domain=field(path, raw, "domain", str, inner),
        testcd=field(path, raw, "testcd", str, inner),
        test=field(path, raw, "test", str, inner),
        category=tomlfile.optional(path, raw, "cat", str, ""),
        subcategory=tomlfile.optional(path, raw, "scat", str, ""),
        evaluator=tomlfile.optional(path, raw, "eval", str, ""),
        tpt=tomlfile.optional(path, raw, "tpt", str, ""),
        tptnum=raw.get("tptnum"),
    )
    if mapping.domain not in SDTM_DOMAINS:
        raise DefinitionError(path, f"'{inner}domain' must be one of {SDTM_DOMAINS}")
    if len(mapping.testcd) > 8 or not mapping.testcd.isalnum() or len(mapping.test) > 40:
        raise DefinitionError(path, f"'{inner}' testcd is 8 letters or digits, test 40 at most")
    if kind not in (*NUMERIC_TYPES, "scale"):
        raise DefinitionError(path, f"'{inner}' fits numeric and scale fields only")
    if mapping.tptnum is not None and (
        isinstance(mapping.tptnum, bool) or not isinstance(mapping.tptnum, int)
    ):
        raise DefinitionError(path, f"'{inner}tptnum' must be a whole number")
    return mapping


def _screens(path: Path, raw_screens: list[dict[str, Any]]) -> tuple[Screen, ...]:
    screens = []
    for number, raw in enumerate(raw_screens, 1):
        where = f"screens[{number}]."
        sections = []
        for index, section in enumerate(raw.get("sections", []), 1):
            inner = f"{where}sections[{index}]."
            names = tuple(field(path, section, "fields", list, inner))
            if not names or not all(isinstance(n, str) for n in names):
                raise DefinitionError(path, f"'{inner}fields' must list field ids")
            sections.append(
                Section(title=tomlfile.bilingual(path, section, "title", inner), fields=names)
            )
        if not sections:
            raise DefinitionError(path, f"'{where}sections' is empty")
        screens.append(
            Screen(
                id=field(path, raw, "id", str, where),
                number=number,
                title=tomlfile.bilingual(path, raw, "title", where),
                sections=tuple(sections),
            )
        )
    if not screens:
        raise DefinitionError(path, "no [[screens]]")
    unique(path, [s.id for s in screens], "screen id")
    return tuple(screens)


def _scales(path: Path, raw: Any) -> tuple[RatingScale, ...]:
    if not isinstance(raw, dict):
        raise DefinitionError(path, "'scales' must be a table of scales")
    scales = []
    for scale_id, table in raw.items():
        where = f"scales.{scale_id}."
        if not isinstance(table, dict):
            raise DefinitionError(path, f"'scales.{scale_id}' must be a table")
        scale = RatingScale(
            id=scale_id,
            name=field(path, table, "name", str, where),
            title=tomlfile.bilingual(path, table, "title", where),
            min=field(path, table, "min", float, where),
            max=field(path, table, "max", float, where),
            step=field(path, table, "step", float, where),
            version_without_pack=field(path, table, "version_without_pack", str, where),
            version_words=tomlfile.bilingual(path, table, "version_words", where),
        )
        steps = (scale.max - scale.min) / scale.step if scale.step > 0 else -1
        if scale.step <= 0 or scale.min >= scale.max or abs(steps - round(steps)) > 1e-9:
            raise DefinitionError(
                path, f"'scales.{scale_id}' min..max must be a whole number of steps"
            )
        scales.append(scale)
    return tuple(scales)


def _optional_number(path: Path, raw: dict[str, Any], key: str, where: str) -> float | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DefinitionError(path, f"'{where}{key}' must be a number")
    return float(value)


def _field(
    path: Path, raw: dict[str, Any], index: int, placement: dict[str, str], scales: set[str]
) -> WorksheetField:
    where = f"fields[{index}]."
    field_id = field(path, raw, "id", str, where)
    where = f"fields[{index}] ({field_id})."
    kind = field(path, raw, "type", str, where)
    if kind not in FIELD_TYPES:
        raise DefinitionError(path, f"'{where}type' must be one of {FIELD_TYPES}")
    if field_id not in placement:
        raise DefinitionError(path, f"field '{field_id}' is in no screen section")
    label = tomlfile.bilingual(path, raw, "label", where)
    options = tuple(
        Option(
            value=field(path, option, "value", str, f"{where}options[{n}]."),
            label=Bilingual(
                zh=field(path, option, "zh", str, f"{where}options[{n}]."),
                en=field(path, option, "en", str, f"{where}options[{n}]."),
            ),
        )
        for n, option in enumerate(raw.get("options", []), 1)
    )
    if kind in ("choice", "multi") and len(options) < 2:
        raise DefinitionError(path, f"'{where}options' needs at least two options")
    if kind not in ("choice", "multi") and options:
        raise DefinitionError(path, f"'{where}options' only fits choice and multi fields")
    unique(path, [o.value for o in options], f"option value in {field_id}:")
    limits = {
        k: _optional_number(path, raw, k, where) for k in ("min", "max", "soft_min", "soft_max")
    }
    _check_limits(path, where, kind, limits)
    decimals = int(raw.get("decimals", 0))
    if kind == "decimal" and decimals < 1:
        raise DefinitionError(path, f"'{where}decimals' must be at least 1 for a decimal field")
    exclusive = raw.get("exclusive")
    if exclusive is not None and (kind != "multi" or exclusive not in [o.value for o in options]):
        raise DefinitionError(path, f"'{where}exclusive' must name an option of a multi field")
    when = raw.get("when")
    condition = None
    if when is not None:
        if not isinstance(when, dict):
            raise DefinitionError(path, f"'{where}when' must be a table {{ field, value }}")
        condition = Condition(
            field=field(path, when, "field", str, f"{where}when."),
            value=field(path, when, "value", str, f"{where}when."),
        )
    max_length = int(raw.get("max_length", 0))
    if kind == "text" and max_length <= 0:
        raise DefinitionError(path, f"'{where}max_length' is required for a text field")
    scale = raw.get("scale")
    if kind == "scale" and scale not in scales:
        raise DefinitionError(path, f"'{where}scale' must name one of the [scales]")
    if kind != "scale" and scale is not None:
        raise DefinitionError(path, f"'{where}scale' only fits scale fields")
    date_rules = {k: bool(raw.get(k, False)) for k in ("not_after_today", "within_visit_window")}
    if kind != "date" and any(date_rules.values()):
        raise DefinitionError(path, f"'{where}not_after_today/within_visit_window' fit date fields")
    unit = tomlfile.optional_bilingual(path, raw, "unit")
    return WorksheetField(
        id=field_id,
        type=kind,
        screen=placement[field_id],
        label=label,
        patient_label=tomlfile.optional_bilingual(path, raw, "patient", label),
        hint=tomlfile.optional_bilingual(path, raw, "hint"),
        unit=unit,
        patient_unit=tomlfile.optional_bilingual(path, raw, "patient_unit", unit),
        required=bool(raw.get("required", False)),
        assessor=bool(raw.get("assessor", False)),
        multiline=bool(raw.get("multiline", False)),
        min=limits["min"],
        max=limits["max"],
        soft_min=limits["soft_min"],
        soft_max=limits["soft_max"],
        decimals=decimals,
        max_length=max_length,
        options=options,
        exclusive=exclusive,
        when=condition,
        scale=scale if kind == "scale" else None,
        **date_rules,
        sdtm=_field_sdtm(path, raw.get("sdtm"), where, kind),
    )


def _check_limits(path: Path, where: str, kind: str, limits: dict[str, float | None]) -> None:
    lo, hi, soft_lo, soft_hi = (limits[k] for k in ("min", "max", "soft_min", "soft_max"))
    if kind in NUMERIC_TYPES:
        if lo is None or hi is None:
            raise DefinitionError(path, f"'{where}min' and 'max' (hard limits) are required")
        if lo >= hi:
            raise DefinitionError(path, f"'{where}min' must be below 'max'")
        for name, soft in (("soft_min", soft_lo), ("soft_max", soft_hi)):
            if soft is not None and not lo <= soft <= hi:
                raise DefinitionError(path, f"'{where}{name}' must lie within min..max")
        if soft_lo is not None and soft_hi is not None and soft_lo >= soft_hi:
            raise DefinitionError(path, f"'{where}soft_min' must be below 'soft_max'")
    elif any(value is not None for value in limits.values()):
        raise DefinitionError(path, f"'{where}min/max' only fit numeric fields")


def _check_condition(
    path: Path, candidate: WorksheetField, by_id: dict[str, WorksheetField]
) -> None:
    if candidate.when is None:
        return
    target = by_id.get(candidate.when.field)
    where = f"fields ({candidate.id}).when"
    if target is None or target.type not in ("choice", "multi"):
        raise DefinitionError(path, f"'{where}' must name a choice or multi field")
    if candidate.when.value not in target.option_values:
        raise DefinitionError(path, f"'{where}.value' is not an option of '{target.id}'")
    if target.screen != candidate.screen:
        raise DefinitionError(path, f"'{where}' must name a field on the same screen")


def _checks(
    path: Path, raw_checks: list[dict[str, Any]], by_id: dict[str, WorksheetField]
) -> tuple[CrossCheck, ...]:
    checks = []
    for index, raw in enumerate(raw_checks, 1):
        where = f"checks[{index}]."
        check = CrossCheck(
            rule=field(path, raw, "rule", str, where),
            field=field(path, raw, "field", str, where),
            other=field(path, raw, "other", str, where),
            level=tomlfile.optional(path, raw, "level", str, "hard"),
            code=field(path, raw, "code", str, where),
            factor=float(raw.get("factor", 1.0)),
        )
        if check.rule not in CHECK_RULES:
            raise DefinitionError(path, f"'{where}rule' must be one of {CHECK_RULES}")
        if check.level not in LEVELS:
            raise DefinitionError(path, f"'{where}level' must be one of {LEVELS}")
        for name in (check.field, check.other):
            if name not in by_id or by_id[name].type not in NUMERIC_TYPES:
                raise DefinitionError(path, f"'{where}' must name numeric fields, not '{name}'")
        checks.append(check)
    return tuple(checks)
