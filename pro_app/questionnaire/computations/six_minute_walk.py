"""The 6-minute walk test computation: distance, reference equation, change from baseline, and
the walk timer's result. Pure functions of data (ATS 2002; Enright & Sherrill 1998)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pro_app.languages import Bilingual
from pro_app.questionnaire import tomlfile
from pro_app.questionnaire.computations import Computation, Phrase, Timer
from pro_app.questionnaire.errors import DefinitionError
from pro_app.questionnaire.kinds.base import (
    HARD,
    HOLDS_VISIT_CODE,
    SOFT,
    Baseline,
    Column,
    Finding,
    ParticipantFacts,
    SdtmFinding,
    SdtmTest,
)
from pro_app.questionnaire.kinds.standards import NOT_DONE, number_text
from pro_app.questionnaire.tomlfile import field

if TYPE_CHECKING:
    from pro_app.questionnaire.worksheet import WorksheetField

SEXES = ("male", "female")

# Why a reference value or a change is empty (stored in the record, so a blank is never silent).
AGE_OUTSIDE_RANGE = "age_outside_reference_range"
MISSING_INPUT = "missing_input"
THIS_IS_BASELINE = "this_is_the_baseline_visit"
NO_BASELINE_RECORD = "no_sealed_baseline_record"

# How these codes read to staff on a record's page (the exports keep the codes).
SEX_LABELS = {"male": Bilingual("男", "Male"), "female": Bilingual("女", "Female")}
NOTE_LABELS = {  # worded as the PDF copy words them
    AGE_OUTSIDE_RANGE: Bilingual(
        "年龄不在方程适用年龄范围内", "Age outside the ages of the equation"
    ),
    MISSING_INPUT: Bilingual("计算所需的数据缺失", "Data the calculation needs is missing"),
    THIS_IS_BASELINE: Bilingual("本次即为基线访视", "This is the baseline visit"),
    NO_BASELINE_RECORD: Bilingual(
        "本记录封存时尚无已封存的基线6分钟步行试验记录",
        "No sealed baseline 6MWT record when this record was sealed",
    ),
}

# Columns of the computed part of a sealed 6MWT record, in export order.
COMPUTED_KEYS = (
    "distance_m",
    "age_years",
    "age_rule",
    "sex",
    "height_cm",
    "weight_kg",
    "reference_equation",
    "reference_population",
    "reference_applicable",
    "reference_note",
    "predicted_m",
    "lln_m",
    "percent_predicted",
    "below_lln",
    "baseline_visit",
    "baseline_record_id",
    "baseline_distance_m",
    "change_from_baseline_m",
    "change_note",
)

_COLUMN_TYPES = {
    "distance_m": ("decimal", "m", "6-minute walk distance", "6分钟步行距离"),
    "age_years": ("integer", "years", "Age at the test", "试验时年龄"),
    "age_rule": ("text", "", "How age was counted", "年龄计算方法"),
    "sex": ("text", "", "Sex", "性别"),
    "height_cm": ("decimal", "cm", "Height", "身高"),
    "weight_kg": ("decimal", "kg", "Weight at the test", "试验时体重"),
    "reference_equation": ("text", "", "Reference equation", "参考方程"),
    "reference_population": ("text", "", "Reference population", "参考人群"),
    "reference_applicable": ("boolean", "", "Reference equation applies", "参考方程是否适用"),
    "reference_note": ("text", "", "Why no reference value", "无参考值的原因"),
    "predicted_m": ("decimal", "m", "Predicted distance", "预计值"),
    "lln_m": ("decimal", "m", "Lower limit of normal", "正常下限"),
    "percent_predicted": ("decimal", "%", "Percent of predicted", "占预计值百分比"),
    "below_lln": ("boolean", "", "Below the lower limit of normal", "是否低于正常下限"),
    "baseline_visit": ("text", "", "Baseline visit", "基线访视"),
    "baseline_record_id": ("integer", "", "Baseline record id", "基线记录编号"),
    "baseline_distance_m": ("decimal", "m", "Baseline distance", "基线步行距离"),
    "change_from_baseline_m": ("decimal", "m", "Change from baseline", "较基线变化"),
    "change_note": ("text", "", "Why no change from baseline", "无较基线变化的原因"),
}

# Units as staff read them where Chinese words them (as the log's own fields do: 米); kg, cm
# and % read the same in both.
_UNIT_WORDS = {"m": Bilingual("米", "m"), "years": Bilingual("岁", "years")}


# The CDISC test name of SIXMW106 (controlled terminology C115805).
DISTANCE_TEST = "SIXMW1-Distance at 6 Minutes"
# Supplemental qualifiers of the FT row (SUPPFT): the conditions and the course of the walk that
# SDTM's FT variables have no place for. (field, QNAM, QLABEL); yes/no choices become Y/N.
SUPPLEMENTAL = (
    ("stopped_early", "STOPEARL", "Stopped or Paused Before 6 Minutes"),
    ("stop_time_s", "STOPTIM", "Time Stopped or First Paused (s)"),
    ("practice_test", "PRACTST", "Practice Test"),
    ("test_number", "TESTNUM", "Test Number at This Visit"),
    ("lap_length_m", "LAPLEN", "Lap Length (m)"),
    ("supplemental_o2", "SUPPO2", "Supplemental Oxygen During Test"),
    ("o2_flow_l_min", "O2FLOW", "Oxygen Flow (L/min)"),
    ("assistive_device", "WALKAID", "Walking Aid Used"),
)


def _dec(value: float | int) -> Decimal:
    return Decimal(str(value))


def _tenth(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# --- the reference equation ---------------------------------------------------------------------


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
    label: Bilingual
    min_age: int
    max_age: int
    male: SexEquation
    female: SexEquation
    checks: tuple[ReferenceCheck, ...]

    def for_sex(self, sex: str) -> SexEquation:
        return self.male if sex == "male" else self.female


@dataclass(frozen=True)
class Reference:
    applicable: bool
    note: str | None
    predicted_m: float | None = None
    lln_m: float | None = None
    percent_predicted: float | None = None
    below_lln: bool | None = None


def total_distance(
    laps: int | None, lap_length_m: float | None, partial_m: float | None
) -> float | None:
    """Completed laps x lap length + final partial lap, in metres (None if any input is missing)."""
    if laps is None or lap_length_m is None or partial_m is None:
        return None
    return _tenth(_dec(laps) * _dec(lap_length_m) + _dec(partial_m))


def age_at_test(test_date: date, birth_year: int) -> int:
    """Only the birth year is collected: age = year of the test date - birth year."""
    return test_date.year - birth_year


def reference_values(
    equation: ReferenceEquation,
    *,
    sex: str,
    age: int,
    height_cm: float,
    weight_kg: float | None,
    distance_m: float | None,
) -> Reference:
    """Predicted distance, lower limit of normal and percent predicted; only for ages in range."""
    if not equation.min_age <= age <= equation.max_age:
        return Reference(applicable=False, note=AGE_OUTSIDE_RANGE)
    if weight_kg is None:
        return Reference(applicable=False, note=MISSING_INPUT)
    chosen = equation.for_sex(sex)
    predicted = chosen.predicted(age=age, height_cm=height_cm, weight_kg=weight_kg)
    lln = predicted - _dec(chosen.lln_below)
    if distance_m is None:
        return Reference(True, MISSING_INPUT, _tenth(predicted), _tenth(lln))
    percent = _dec(distance_m) / predicted * 100 if predicted > 0 else None
    return Reference(
        applicable=True,
        note=None,
        predicted_m=_tenth(predicted),
        lln_m=_tenth(lln),
        percent_predicted=_tenth(percent) if percent is not None else None,
        below_lln=_dec(distance_m) < lln,
    )


def change_from_baseline(
    distance_m: float | None, visit_code: str, baseline: Baseline
) -> tuple[float | None, str | None]:
    """(change in metres, why it is empty)."""
    if visit_code == baseline.visit_code:
        return None, THIS_IS_BASELINE
    if baseline.record_id is None:
        return None, NO_BASELINE_RECORD
    baseline_distance = baseline.scores.get("distance_m")
    if distance_m is None or baseline_distance is None:
        return None, MISSING_INPUT
    return _tenth(_dec(distance_m) - _dec(baseline_distance)), None


# --- the computation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SixMinuteWalk(Computation):
    method: ClassVar[str] = "six_minute_walk"

    version: str
    age_rule: str
    age_rule_zh: str  # the same rule in Chinese, for a record's page (the record keeps age_rule)
    distance_max_m: float
    distance_soft_min_m: float
    distance_soft_max_m: float
    mcid_m: float | None
    cdisc_distance_testcd: str
    reference: ReferenceEquation
    timer: Timer | None

    # The fields this computation and the walk timer read, by id.
    FIELDS: ClassVar[dict[str, str]] = {
        "test_date": "date",
        "course_length_m": "decimal",
        "lap_length_m": "decimal",
        "laps": "integer",
        "partial_lap_m": "decimal",
        "weight_kg": "decimal",
        "stopped_early": "choice",
        "stop_time_s": "duration",
    }

    @classmethod
    def load(cls, path: Path, table: dict[str, Any]) -> SixMinuteWalk:
        where = "computation."
        computation = cls(
            version=field(path, table, "version", str, where),
            age_rule=field(path, table, "age_rule", str, where),
            age_rule_zh=tomlfile.optional(
                path, table, "age_rule_zh", str, str(table.get("age_rule", ""))
            ),
            distance_max_m=field(path, table, "distance_max_m", float, where),
            distance_soft_min_m=field(path, table, "distance_soft_min_m", float, where),
            distance_soft_max_m=field(path, table, "distance_soft_max_m", float, where),
            mcid_m=float(table["mcid_m"]) if "mcid_m" in table else None,
            cdisc_distance_testcd=tomlfile.optional(
                path, table, "cdisc_distance_testcd", str, "SIXMW106"
            ),
            reference=_reference(path, field(path, table, "reference", dict, where)),
            timer=_timer(path, table["timer"]) if "timer" in table else None,
        )
        if not (
            0
            <= computation.distance_soft_min_m
            < computation.distance_soft_max_m
            <= computation.distance_max_m
        ):
            raise DefinitionError(
                path, "'computation' needs 0 <= soft min < soft max <= max distance"
            )
        return computation

    def required_fields(self) -> Mapping[str, str]:
        return self.FIELDS

    def check_fields(self, path: Path, fields: Mapping[str, WorksheetField]) -> None:
        super().check_fields(path, fields)
        # The walk timer answers "stopped early?" with these two values.
        if set(fields["stopped_early"].option_values) != {"yes", "no"}:
            raise DefinitionError(path, "'stopped_early' must have the options yes and no")

    @property
    def headline(self) -> str:
        return "distance_m"

    @property
    def mcid(self) -> float | None:
        return self.mcid_m

    def preview(self, values: Mapping[str, Any]) -> float | None:
        """The distance so far, shown while the worksheet is filled in."""
        return total_distance(
            values.get("laps"), values.get("lap_length_m"), values.get("partial_lap_m")
        )

    def findings(
        self,
        values: Mapping[str, Any],
        found: list[Finding],
        timer: Mapping[str, Any] | None = None,
    ) -> Iterator[Finding]:
        yield from self._distance(values, found)
        yield from _stop_not_answered(values, timer)

    def _distance(self, values: Mapping[str, Any], found: list[Finding]) -> Iterator[Finding]:
        """The total distance must be possible in 6 minutes, and is usually within a range."""
        if any(f.field == "partial_lap_m" and f.level == HARD for f in found):
            return
        laps, lap, partial = (values.get(k) for k in ("laps", "lap_length_m", "partial_lap_m"))
        if laps is None or lap is None:
            return
        # Checked as soon as laps and lap length are known; the partial lap adds less than one lap.
        distance = _dec(laps) * _dec(lap) + _dec(partial or 0)
        basis = (laps, lap, partial)
        if distance > _dec(self.distance_max_m):
            yield Finding(
                "laps",
                HARD,
                "distance_over_max",
                {"distance": float(distance), "max": self.distance_max_m},
                basis,
            )
        elif partial is not None and not (
            self.distance_soft_min_m <= distance <= self.distance_soft_max_m
        ):
            yield Finding(
                "laps",
                SOFT,
                "distance_unusual",
                {
                    "distance": float(distance),
                    "soft_min": self.distance_soft_min_m,
                    "soft_max": self.distance_soft_max_m,
                },
                basis,
            )

    def compute(
        self,
        values: Mapping[str, Any],
        participant: ParticipantFacts,
        visit_code: str,
        baseline: Baseline,
    ) -> dict[str, Any]:
        """Every computed value of a 6MWT record, keyed as COMPUTED_KEYS."""
        distance = total_distance(
            values.get("laps"), values.get("lap_length_m"), values.get("partial_lap_m")
        )
        test_date = values.get("test_date")
        age = (
            age_at_test(date.fromisoformat(test_date), participant.birth_year)
            if test_date
            else None
        )
        weight = values.get("weight_kg")
        if age is None:
            reference = Reference(applicable=False, note=MISSING_INPUT)
        else:
            reference = reference_values(
                self.reference,
                sex=participant.sex,
                age=age,
                height_cm=participant.height_cm,
                weight_kg=weight,
                distance_m=distance,
            )
        change, change_note = change_from_baseline(distance, visit_code, baseline)
        return {
            "distance_m": distance,
            "age_years": age,
            "age_rule": self.age_rule,
            "sex": participant.sex,
            "height_cm": participant.height_cm,
            "weight_kg": weight,
            "reference_equation": self.reference.id,
            "reference_population": self.reference.label.en,
            "reference_applicable": reference.applicable,
            "reference_note": reference.note,
            "predicted_m": reference.predicted_m,
            "lln_m": reference.lln_m,
            "percent_predicted": reference.percent_predicted,
            "below_lln": reference.below_lln,
            "baseline_visit": baseline.visit_code,
            "baseline_record_id": baseline.record_id,
            "baseline_distance_m": baseline.scores.get("distance_m")
            if baseline.record_id is not None
            else None,
            "change_from_baseline_m": change,
            "change_note": change_note,
        }

    def columns(self) -> tuple[Column, ...]:
        labels = self._value_labels()
        return tuple(
            Column(
                key,
                Bilingual(zh, en),
                datatype,
                unit,
                labels=labels.get(key, ()),
                unit_label=_UNIT_WORDS.get(unit, Bilingual(unit, unit)) if unit else None,
                holds=HOLDS_VISIT_CODE if key == "baseline_visit" else "",
            )
            for key, (datatype, unit, en, zh) in _COLUMN_TYPES.items()
        )

    def _value_labels(self) -> dict[str, tuple[tuple[str, Bilingual], ...]]:
        """How the coded values of the computed columns read to staff."""
        reference = ((self.reference.id, self.reference.label),)
        return {
            "sex": tuple(SEX_LABELS.items()),
            "age_rule": ((self.age_rule, Bilingual(self.age_rule_zh, self.age_rule)),),
            "reference_equation": reference,
            "reference_population": ((self.reference.label.en, self.reference.label),),
            "reference_note": tuple(NOTE_LABELS.items()),
            "change_note": tuple(NOTE_LABELS.items()),
        }

    def odm_aliases(self) -> Mapping[str, tuple[tuple[str, str], ...]]:
        return {"distance_m": (("CDISC FTTESTCD", self.cdisc_distance_testcd),)}

    def sdtm_tests(self, category: str) -> tuple[SdtmTest, ...]:
        return (SdtmTest("FT", self.cdisc_distance_testcd, DISTANCE_TEST, category),)

    def sdtm_findings(
        self,
        values: Mapping[str, Any],
        scores: Mapping[str, Any],
        category: str,
        when: str | None,
    ) -> list[SdtmFinding]:
        """SIXMW106 carries the total distance (the walk lasts 6 minutes even when the patient
        stops: ATS 2002 keeps the timer running), with how the walk went in SUPPFT. The minute-
        by-minute distances SIXMW101-105 are not captured, so they are not made up here."""
        supp = []
        for field_id, qnam, qlabel in SUPPLEMENTAL:
            value = values.get(field_id)
            if value is None or value == "":
                continue
            if value in ("yes", "no"):
                text = "Y" if value == "yes" else "N"
            elif isinstance(value, int | float):
                text = number_text(value)
            else:
                text = str(value).upper()
            supp.append((qnam, qlabel, text))
        distance = scores.get("distance_m")
        row = SdtmFinding(
            "FT", self.cdisc_distance_testcd, DISTANCE_TEST, category, when=when, supp=tuple(supp)
        )
        if distance is None:
            return [replace(row, stat=NOT_DONE, reasnd="DISTANCE NOT RECORDED")]
        text = number_text(distance)
        return [
            replace(row, orres=text, orresu="m", stresc=text, stresn=float(distance), stresu="m")
        ]


def _timer(path: Path, raw: Any) -> Timer:
    where = "computation.timer."
    if not isinstance(raw, dict):
        raise DefinitionError(path, "'computation.timer' must be a table")
    duration = field(path, raw, "duration_s", int, where)
    phrases = tuple(
        Phrase(
            at_s=field(path, phrase, "at_s", int, f"{where}phrases[{n}]."),
            text=Bilingual(
                zh=field(path, phrase, "zh", str, f"{where}phrases[{n}]."),
                en=field(path, phrase, "en", str, f"{where}phrases[{n}]."),
            ),
        )
        for n, phrase in enumerate(raw.get("phrases", []), 1)
    )
    times = [p.at_s for p in phrases]
    if not phrases or times != sorted(set(times)) or not times[0] > 0 or times[-1] != duration:
        raise DefinitionError(
            path,
            "'computation.timer.phrases' must be in time order, after 0 s, and end with the stop "
            "at duration_s",
        )
    return Timer(
        screen=field(path, raw, "screen", str, where),
        duration_s=duration,
        phrases=phrases,
        pause=tomlfile.bilingual(path, raw, "pause", where),
        stop_criteria=tomlfile.bilingual(path, raw, "stop_criteria", where),
    )


def _reference(path: Path, raw: dict[str, Any]) -> ReferenceEquation:
    where = "computation.reference."
    equations = {}
    for sex in SEXES:
        table = field(path, raw, sex, dict, where)
        inner = f"{where}{sex}."
        equations[sex] = SexEquation(
            height_cm=field(path, table, "height_cm", float, inner),
            age=field(path, table, "age", float, inner),
            weight_kg=field(path, table, "weight_kg", float, inner),
            constant=field(path, table, "constant", float, inner),
            lln_below=field(path, table, "lln_below", float, inner),
        )
    checks = []
    for n, check in enumerate(raw.get("checks", []), 1):
        inner = f"{where}checks[{n}]."
        sex = field(path, check, "sex", str, inner)
        if sex not in SEXES:
            raise DefinitionError(path, f"'{inner}sex' must be one of {SEXES}")
        checks.append(
            ReferenceCheck(
                sex=sex,
                age=field(path, check, "age", int, inner),
                height_cm=field(path, check, "height_cm", float, inner),
                weight_kg=field(path, check, "weight_kg", float, inner),
                predicted_m=field(path, check, "predicted_m", float, inner),
            )
        )
    reference = ReferenceEquation(
        id=field(path, raw, "id", str, where),
        label=tomlfile.bilingual(path, raw, "label", where),
        min_age=field(path, raw, "min_age", int, where),
        max_age=field(path, raw, "max_age", int, where),
        male=equations["male"],
        female=equations["female"],
        checks=tuple(checks),
    )
    if {c.sex for c in checks} != set(SEXES):
        raise DefinitionError(path, f"'{where}checks' needs a worked check for each sex")
    for n, check in enumerate(checks, 1):
        got = reference.for_sex(check.sex).predicted(
            age=check.age, height_cm=check.height_cm, weight_kg=check.weight_kg
        )
        if got != _dec(check.predicted_m):
            raise DefinitionError(
                path,
                f"'{where}checks[{n}]' expects {check.predicted_m} m, the equation gives {got} m",
            )
    return reference


def _stop_not_answered(
    values: Mapping[str, Any], timer: Mapping[str, Any] | None
) -> Iterator[Finding]:
    """The timer recorded a stop (a pause, or an early end) but "stopped or paused?" says no: a
    monitor would query it, so the person entering confirms it (the timer answers yes itself; a
    no typed over it, or a pause tapped by mistake, comes here). The yes covers this answer and
    this timing: another timing asks again."""
    if values.get("stopped_early") != "no" or not timer:
        return
    at = stop_time(bool(timer.get("ended_early")), timer["elapsed_s"], timer.get("pauses") or ())
    if at is not None:
        yield Finding(
            "stopped_early",
            SOFT,
            "timer_recorded_stop",
            {"at_s": at},
            ("no", str(timer.get("run_id", ""))),
        )


def stop_time(
    ended_early: bool, elapsed_s: float, pauses: Sequence[Sequence[float | None]]
) -> int | None:
    """When a timed walk stopped, in whole seconds: its early end, else the patient's first pause;
    None when it did neither."""
    if ended_early:
        return int(elapsed_s)
    if pauses:
        return int(pauses[0][0] or 0)
    return None


# --- the walk timer's result ------------------------------------------------------------------

_RUN_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
MAX_PAUSES = 50
MAX_LAPS = 200


class TimerResultInvalid(ValueError):
    """The timer's result is not well formed (a bug or a forged request, never a user's typo)."""


@dataclass(frozen=True)
class TimerResult:
    """What the walk timer measured: laps with their times, pauses, and when the walk ended."""

    run_id: str
    laps: int
    lap_times_s: tuple[float, ...]
    pauses: tuple[tuple[float, float | None], ...]
    elapsed_s: float
    ended_early: bool
    partial_lap: str

    @property
    def stopped_early(self) -> bool:
        return self.ended_early or bool(self.pauses)

    @property
    def stop_time_s(self) -> int | None:
        return stop_time(self.ended_early, self.elapsed_s, self.pauses)

    def record(self) -> dict[str, Any]:
        """The raw timing, sealed with the log as its source."""
        return {
            "run_id": self.run_id,
            "laps": self.laps,
            "lap_times_s": list(self.lap_times_s),
            "pauses": [list(pause) for pause in self.pauses],
            "elapsed_s": self.elapsed_s,
            "ended_early": self.ended_early,
        }

    def worksheet_values(self) -> dict[str, str]:
        """What the timer fills in on its screen, as a browser would post it."""
        stop = self.stop_time_s
        raw = {
            "laps": str(self.laps),
            "partial_lap_m": self.partial_lap,
            "stopped_early": "yes" if self.stopped_early else "no",
        }
        if stop is not None:
            raw["stop_time_s"] = f"{stop // 60}:{stop % 60:02d}"
        return raw


def _seconds(value: Any, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= upper:
        raise TimerResultInvalid(f"time {value!r} is outside 0..{upper}")
    return round(float(value), 1)


def _json_list(text: str, limit: int) -> list[Any]:
    """A short JSON list; anything else (or anything long or deeply nested) is refused."""
    if len(text) > 20 * limit + 20:
        raise TimerResultInvalid("too long")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise TimerResultInvalid("not JSON") from None
    if not isinstance(value, list) or len(value) > limit:
        raise TimerResultInvalid("not a short list")
    return value


def read_timer(form: Mapping[str, str], duration_s: int) -> TimerResult:
    """Check and read the timer's form post (JSON lists inside form fields)."""
    run_id = form.get("run_id", "")
    if not _RUN_ID.fullmatch(run_id):
        raise TimerResultInvalid("run_id")
    lap_times = _json_list(form.get("lap_times", "[]"), MAX_LAPS)
    pauses = _json_list(form.get("pauses", "[]"), MAX_PAUSES)
    try:
        elapsed = float(form.get("elapsed_s", ""))
        laps = int(form.get("laps", ""))
    except ValueError:
        raise TimerResultInvalid("unreadable numbers") from None
    ended_early = form.get("ended_early") == "1"
    elapsed = _seconds(elapsed, duration_s)
    if not ended_early and elapsed != duration_s:
        raise TimerResultInvalid("a walk that was not ended early lasts the full duration")
    if len(lap_times) != laps:
        raise TimerResultInvalid("laps do not match their times")
    times = tuple(_seconds(t, elapsed) for t in lap_times)
    if list(times) != sorted(times):
        raise TimerResultInvalid("lap times are not in order")
    read_pauses: list[tuple[float, float | None]] = []
    previous_end = 0.0
    for number, pause in enumerate(pauses, 1):
        if not isinstance(pause, list) or len(pause) != 2:
            raise TimerResultInvalid("a pause is [start, end]")
        if pause[1] is None and number != len(pauses):
            raise TimerResultInvalid("only the last pause can last until the end")
        start = _seconds(pause[0], elapsed)
        end = None if pause[1] is None else _seconds(pause[1], elapsed)
        if start < previous_end or (end is not None and end < start):
            raise TimerResultInvalid("pauses overlap or run backwards")
        read_pauses.append((start, end))
        previous_end = end if end is not None else elapsed
    return TimerResult(
        run_id=run_id,
        laps=laps,
        lap_times_s=times,
        pauses=tuple(read_pauses),
        elapsed_s=elapsed,
        ended_early=ended_early,
        partial_lap=form.get("partial_lap_m", ""),
    )
