"""Form instruments (kind "form", e.g. the 6MWT worksheet) as validated, frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from pro_app.questionnaire.errors import DefinitionError
from pro_app.questionnaire.tomlfile import field

FIELD_TYPES = ("date", "time", "integer", "decimal", "choice", "multi", "text", "duration", "borg")
NUMERIC_TYPES = ("integer", "decimal", "duration")
SEXES = ("male", "female")


def _pick(locale: str, en: str, zh: str) -> str:
    return zh if locale.startswith("zh") else en


@dataclass(frozen=True)
class Option:
    value: str
    en: str
    zh: str

    def label(self, locale: str) -> str:
        return _pick(locale, self.en, self.zh)


@dataclass(frozen=True)
class Condition:
    """The field applies only when `field` has `value` (or, for a multi field, contains it)."""

    field: str
    value: str


@dataclass(frozen=True)
class FormField:
    id: str
    type: str
    screen: str
    label_en: str
    label_zh: str
    patient_en: str
    patient_zh: str
    hint_en: str
    hint_zh: str
    unit_en: str
    unit_zh: str
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

    def label(self, locale: str) -> str:
        """Staff wording (GCP terms)."""
        return _pick(locale, self.label_en, self.label_zh)

    def patient_label(self, locale: str) -> str:
        """Plain wording for patient pages."""
        return _pick(locale, self.patient_en, self.patient_zh)

    def hint(self, locale: str) -> str:
        return _pick(locale, self.hint_en, self.hint_zh)

    def unit(self, locale: str) -> str:
        return _pick(locale, self.unit_en, self.unit_zh)

    def option(self, value: str) -> Option | None:
        return next((option for option in self.options if option.value == value), None)

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)


@dataclass(frozen=True)
class Section:
    title_en: str
    title_zh: str
    fields: tuple[str, ...]

    def title(self, locale: str) -> str:
        return _pick(locale, self.title_en, self.title_zh)


@dataclass(frozen=True)
class Screen:
    id: str
    number: int
    title_en: str
    title_zh: str
    sections: tuple[Section, ...]

    def title(self, locale: str) -> str:
        return _pick(locale, self.title_en, self.title_zh)

    @property
    def field_ids(self) -> tuple[str, ...]:
        return tuple(field_id for section in self.sections for field_id in section.fields)


@dataclass(frozen=True)
class Phrase:
    at_s: int
    en: str
    zh: str

    def text(self, locale: str) -> str:
        return _pick(locale, self.en, self.zh)


@dataclass(frozen=True)
class WalkProtocol:
    duration_s: int
    phrases: tuple[Phrase, ...]
    pause_en: str
    pause_zh: str
    stop_criteria_en: str
    stop_criteria_zh: str

    def pause(self, locale: str) -> str:
        return _pick(locale, self.pause_en, self.pause_zh)

    def stop_criteria(self, locale: str) -> str:
        return _pick(locale, self.stop_criteria_en, self.stop_criteria_zh)


@dataclass(frozen=True)
class BorgScale:
    scale: str
    name: str
    min: float
    max: float
    step: float
    version_without_pack: str

    @property
    def values(self) -> tuple[float, ...]:
        count = round((self.max - self.min) / self.step)
        return tuple(self.min + i * self.step for i in range(count + 1))


@dataclass(frozen=True)
class Computation:
    version: str
    age_rule: str
    distance_max_m: float
    distance_soft_min_m: float
    distance_soft_max_m: float


@dataclass(frozen=True)
class SexEquation:
    height_cm: float
    age: float
    weight_kg: float
    constant: float
    lln_below: float

    def predicted(self, *, age: int, height_cm: float, weight_kg: float) -> Decimal:
        """Predicted distance in metres, rounded half-up to 0.1 m (exact decimal arithmetic)."""
        total = (
            _dec(self.height_cm) * _dec(height_cm)
            + _dec(self.age) * _dec(age)
            + _dec(self.weight_kg) * _dec(weight_kg)
            + _dec(self.constant)
        )
        return total.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _dec(value: float | int) -> Decimal:
    return Decimal(str(value))


@dataclass(frozen=True)
class ReferenceCheck:
    sex: str
    age: int
    height_cm: float
    weight_kg: float
    predicted_m: float


@dataclass(frozen=True)
class ReferenceEquation:
    id: str
    label_en: str
    label_zh: str
    min_age: int
    max_age: int
    male: SexEquation
    female: SexEquation
    checks: tuple[ReferenceCheck, ...]

    def label(self, locale: str) -> str:
        return _pick(locale, self.label_en, self.label_zh)

    def for_sex(self, sex: str) -> SexEquation:
        return self.male if sex == "male" else self.female


@dataclass(frozen=True)
class FormInstrument:
    """A worksheet of typed fields on a few screens, with range limits and computed values."""

    id: str
    version: str
    title_en: str
    title_zh: str
    patient_title_en: str
    patient_title_zh: str
    standard: str
    cdisc_ftcat: str
    cdisc_distance_testcd: str
    walk: WalkProtocol
    borg: BorgScale
    computation: Computation
    reference: ReferenceEquation
    screens: tuple[Screen, ...]
    fields: tuple[FormField, ...]
    path: Path

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.fields)

    def title(self, locale: str) -> str:
        return _pick(locale, self.title_en, self.title_zh)

    def patient_title(self, locale: str) -> str:
        return _pick(locale, self.patient_title_en, self.patient_title_zh)

    def field(self, field_id: str) -> FormField:
        for candidate in self.fields:
            if candidate.id == field_id:
                return candidate
        raise KeyError(field_id)

    def screen(self, screen_id: str) -> Screen:
        for candidate in self.screens:
            if candidate.id == screen_id:
                return candidate
        raise KeyError(screen_id)

    def fields_of(self, screen: Screen) -> tuple[FormField, ...]:
        return tuple(self.field(field_id) for field_id in screen.field_ids)


# --- loading ------------------------------------------------------------------------------------


def load_form_instrument(path: Path, data: dict[str, Any]) -> FormInstrument:
    """Build and check a form instrument from its parsed TOML; faults name the file and the key."""
    screens = _screens(path, data.get("screens", []))
    placement = {f: s.id for s in screens for f in s.field_ids}
    fields = tuple(
        _field(path, raw, index, placement) for index, raw in enumerate(data.get("fields", []), 1)
    )
    if not fields:
        raise DefinitionError(path, "no [[fields]]")
    ids = [f.id for f in fields]
    _unique(path, ids, "field id")
    placed = [f for s in screens for f in s.field_ids]
    _unique(path, placed, "field placed in a section:")
    for field_id in placed:
        if field_id not in ids:
            raise DefinitionError(path, f"a section lists unknown field '{field_id}'")
    by_id = {f.id: f for f in fields}
    for candidate in fields:
        _check_condition(path, candidate, by_id)
    instrument = FormInstrument(
        id=field(path, data, "id", str),
        version=field(path, data, "version", str),
        title_en=field(path, data, "title_en", str),
        title_zh=field(path, data, "title_zh", str),
        patient_title_en=field(path, data, "patient_title_en", str),
        patient_title_zh=field(path, data, "patient_title_zh", str),
        standard=field(path, data, "standard", str),
        cdisc_ftcat=field(path, data, "cdisc_ftcat", str),
        cdisc_distance_testcd=field(path, data, "cdisc_distance_testcd", str),
        walk=_walk(path, field(path, data, "walk", dict)),
        borg=_borg(path, field(path, data, "borg", dict)),
        computation=_computation(path, field(path, data, "computation", dict)),
        reference=_reference(path, field(path, data, "reference", dict)),
        screens=screens,
        fields=fields,
        path=path,
    )
    if instrument.id != path.parent.name:
        raise DefinitionError(path, f"id '{instrument.id}' does not match its folder")
    for needed, kind in _FIELDS_THE_CODE_READS.items():
        if needed not in by_id or by_id[needed].type != kind:
            raise DefinitionError(path, f"the computation needs a {kind} field '{needed}'")
    if set(by_id["stopped_early"].option_values) != {"yes", "no"}:
        raise DefinitionError(path, "'stopped_early' must have the options yes and no")
    return instrument


# The walk computation, the cross-field checks and the timer read these fields by id.
_FIELDS_THE_CODE_READS = {
    "test_date": "date",
    "course_length_m": "decimal",
    "lap_length_m": "decimal",
    "laps": "integer",
    "partial_lap_m": "decimal",
    "weight_kg": "decimal",
    "stopped_early": "choice",
    "stop_time_s": "duration",
    "resting_sbp": "integer",
    "resting_dbp": "integer",
}


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
                Section(
                    title_en=field(path, section, "title_en", str, inner),
                    title_zh=field(path, section, "title_zh", str, inner),
                    fields=names,
                )
            )
        if not sections:
            raise DefinitionError(path, f"'{where}sections' is empty")
        screens.append(
            Screen(
                id=field(path, raw, "id", str, where),
                number=number,
                title_en=field(path, raw, "title_en", str, where),
                title_zh=field(path, raw, "title_zh", str, where),
                sections=tuple(sections),
            )
        )
    if not screens:
        raise DefinitionError(path, "no [[screens]]")
    _unique(path, [s.id for s in screens], "screen id")
    return tuple(screens)


def _optional_number(path: Path, raw: dict[str, Any], key: str, where: str) -> float | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DefinitionError(path, f"'{where}{key}' must be a number")
    return float(value)


def _field(path: Path, raw: dict[str, Any], index: int, placement: dict[str, str]) -> FormField:
    where = f"fields[{index}]."
    field_id = field(path, raw, "id", str, where)
    where = f"fields[{index}] ({field_id})."
    kind = field(path, raw, "type", str, where)
    if kind not in FIELD_TYPES:
        raise DefinitionError(path, f"'{where}type' must be one of {FIELD_TYPES}")
    if field_id not in placement:
        raise DefinitionError(path, f"field '{field_id}' is in no screen section")
    label_en = field(path, raw, "label_en", str, where)
    label_zh = field(path, raw, "label_zh", str, where)
    options = tuple(
        Option(
            value=field(path, option, "value", str, f"{where}options[{n}]."),
            en=field(path, option, "en", str, f"{where}options[{n}]."),
            zh=field(path, option, "zh", str, f"{where}options[{n}]."),
        )
        for n, option in enumerate(raw.get("options", []), 1)
    )
    if kind in ("choice", "multi") and len(options) < 2:
        raise DefinitionError(path, f"'{where}options' needs at least two options")
    if kind not in ("choice", "multi") and options:
        raise DefinitionError(path, f"'{where}options' only fits choice and multi fields")
    _unique(path, [o.value for o in options], f"option value in {field_id}:")
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
    return FormField(
        id=field_id,
        type=kind,
        screen=placement[field_id],
        label_en=label_en,
        label_zh=label_zh,
        patient_en=str(raw.get("patient_en", label_en)),
        patient_zh=str(raw.get("patient_zh", label_zh)),
        hint_en=str(raw.get("hint_en", "")),
        hint_zh=str(raw.get("hint_zh", "")),
        unit_en=str(raw.get("unit_en", "")),
        unit_zh=str(raw.get("unit_zh", "")),
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


def _check_condition(path: Path, candidate: FormField, by_id: dict[str, FormField]) -> None:
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


def _walk(path: Path, raw: dict[str, Any]) -> WalkProtocol:
    duration = field(path, raw, "duration_s", int, "walk.")
    phrases = tuple(
        Phrase(
            at_s=field(path, phrase, "at_s", int, f"walk.phrases[{n}]."),
            en=field(path, phrase, "en", str, f"walk.phrases[{n}]."),
            zh=field(path, phrase, "zh", str, f"walk.phrases[{n}]."),
        )
        for n, phrase in enumerate(raw.get("phrases", []), 1)
    )
    times = [p.at_s for p in phrases]
    if not phrases or times != sorted(set(times)) or not times[0] > 0 or times[-1] != duration:
        raise DefinitionError(
            path,
            "'walk.phrases' must be in time order, after 0 s, and end with the stop at duration_s",
        )
    return WalkProtocol(
        duration_s=duration,
        phrases=phrases,
        pause_en=field(path, raw, "pause_en", str, "walk."),
        pause_zh=field(path, raw, "pause_zh", str, "walk."),
        stop_criteria_en=field(path, raw, "stop_criteria_en", str, "walk."),
        stop_criteria_zh=field(path, raw, "stop_criteria_zh", str, "walk."),
    )


def _borg(path: Path, raw: dict[str, Any]) -> BorgScale:
    scale = BorgScale(
        scale=field(path, raw, "scale", str, "borg."),
        name=field(path, raw, "name", str, "borg."),
        min=field(path, raw, "min", float, "borg."),
        max=field(path, raw, "max", float, "borg."),
        step=field(path, raw, "step", float, "borg."),
        version_without_pack=field(path, raw, "version_without_pack", str, "borg."),
    )
    steps = (scale.max - scale.min) / scale.step if scale.step > 0 else -1
    if scale.step <= 0 or scale.min >= scale.max or abs(steps - round(steps)) > 1e-9:
        raise DefinitionError(path, "'borg' min..max must be a whole number of steps")
    return scale


def _computation(path: Path, raw: dict[str, Any]) -> Computation:
    computation = Computation(
        version=field(path, raw, "version", str, "computation."),
        age_rule=field(path, raw, "age_rule", str, "computation."),
        distance_max_m=field(path, raw, "distance_max_m", float, "computation."),
        distance_soft_min_m=field(path, raw, "distance_soft_min_m", float, "computation."),
        distance_soft_max_m=field(path, raw, "distance_soft_max_m", float, "computation."),
    )
    if (
        not 0
        <= computation.distance_soft_min_m
        < computation.distance_soft_max_m
        <= computation.distance_max_m
    ):
        raise DefinitionError(path, "'computation' needs 0 <= soft min < soft max <= max distance")
    return computation


def _reference(path: Path, raw: dict[str, Any]) -> ReferenceEquation:
    equations = {}
    for sex in SEXES:
        table = field(path, raw, sex, dict, "reference.")
        where = f"reference.{sex}."
        equations[sex] = SexEquation(
            height_cm=field(path, table, "height_cm", float, where),
            age=field(path, table, "age", float, where),
            weight_kg=field(path, table, "weight_kg", float, where),
            constant=field(path, table, "constant", float, where),
            lln_below=field(path, table, "lln_below", float, where),
        )
    checks = []
    for n, check in enumerate(raw.get("checks", []), 1):
        where = f"reference.checks[{n}]."
        sex = field(path, check, "sex", str, where)
        if sex not in SEXES:
            raise DefinitionError(path, f"'{where}sex' must be one of {SEXES}")
        checks.append(
            ReferenceCheck(
                sex=sex,
                age=field(path, check, "age", int, where),
                height_cm=field(path, check, "height_cm", float, where),
                weight_kg=field(path, check, "weight_kg", float, where),
                predicted_m=field(path, check, "predicted_m", float, where),
            )
        )
    reference = ReferenceEquation(
        id=field(path, raw, "id", str, "reference."),
        label_en=field(path, raw, "label_en", str, "reference."),
        label_zh=field(path, raw, "label_zh", str, "reference."),
        min_age=field(path, raw, "min_age", int, "reference."),
        max_age=field(path, raw, "max_age", int, "reference."),
        male=equations["male"],
        female=equations["female"],
        checks=tuple(checks),
    )
    if {c.sex for c in checks} != set(SEXES):
        raise DefinitionError(path, "'reference.checks' needs a worked check for each sex")
    for n, check in enumerate(checks, 1):
        got = reference.for_sex(check.sex).predicted(
            age=check.age, height_cm=check.height_cm, weight_kg=check.weight_kg
        )
        if got != _dec(check.predicted_m):
            raise DefinitionError(
                path,
                f"'reference.checks[{n}]' expects {check.predicted_m} m, "
                f"the equation gives {got} m",
            )
    return reference


def _unique(path: Path, values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise DefinitionError(path, f"duplicate {what} '{value}'")
        seen.add(value)
