"""Reading and checking worksheet answers: hard limits refuse a value, soft limits ask for a yes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pro_app.questionnaire.kinds.base import HARD, SOFT, CheckContext, Finding, RawValue

if TYPE_CHECKING:
    from pro_app.questionnaire.worksheet import RatingScale, Worksheet, WorksheetField

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
# Longer than any number or date anyone types; refused before it is parsed.
_MAX_NUMBER_TEXT = 32

__all__ = ["HARD", "SOFT", "CheckContext", "Finding", "InputError", "RawValue"]


class InputError(ValueError):
    """A value that cannot be read at all (not a number, not a date...); `code` names the fault."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _text(raw: RawValue) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InputError("unreadable")
    # Full-width digits and punctuation from Chinese keyboards become their ASCII forms.
    return unicodedata.normalize("NFKC", raw).strip()


def _number_text(raw: RawValue) -> str:
    text = _text(raw).replace(",", ".").replace("。", ".").replace(" ", "")
    if len(text) > _MAX_NUMBER_TEXT:
        raise InputError("not_a_number")
    return text


def parse(form_field: WorksheetField, raw: RawValue, scale: RatingScale | None = None) -> Any:
    """The stored (JSON) value of one field, None when left blank; InputError when unreadable."""
    kind = form_field.type
    if kind == "multi":
        return _parse_multi(form_field, raw)
    if kind == "duration":
        return _parse_duration(raw)
    text = _number_text(raw) if kind in ("integer", "decimal", "scale") else _text(raw)
    if text == "":
        return None
    if kind == "integer":
        if not _INTEGER.fullmatch(text):
            raise InputError("not_whole" if _DECIMAL.fullmatch(text) else "not_a_number")
        return int(text)
    if kind == "decimal":
        return _parse_decimal(form_field, text)
    if kind == "scale":
        assert scale is not None, f"{form_field.id} needs its rating scale"
        return _parse_scale(text, scale)
    if kind == "choice":
        if text not in form_field.option_values:
            raise InputError("unknown_option")
        return text
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise InputError("bad_date") from None
    if kind == "time":
        match = _TIME.fullmatch(text)
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise InputError("bad_time")
        return f"{int(match.group(1)):02d}:{match.group(2)}"
    if len(text) > form_field.max_length:
        raise InputError("too_long", max=form_field.max_length)
    return text


def _parse_decimal(form_field: WorksheetField, text: str) -> float:
    if not _DECIMAL.fullmatch(text):
        raise InputError("not_a_number")
    value = Decimal(text)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > form_field.decimals:
        raise InputError("too_many_decimals", decimals=form_field.decimals)
    return float(value)


def _parse_scale(text: str, scale: RatingScale) -> float:
    try:
        value = float(Decimal(text))
    except InvalidOperation:
        raise InputError("not_on_scale") from None
    if value not in scale.values:
        raise InputError("not_on_scale")
    return value


def _parse_multi(form_field: WorksheetField, raw: RawValue) -> list[str] | None:
    if raw is None or raw == "":
        return None
    chosen = [raw] if isinstance(raw, str) else list(raw)
    if not chosen:
        return None
    if any(value not in form_field.option_values for value in chosen):
        raise InputError("unknown_option")
    if form_field.exclusive in chosen and len(set(chosen)) > 1:
        raise InputError("exclusive_with_others")
    # Kept in the order of the options, so the same ticks always give the same record.
    return [value for value in form_field.option_values if value in chosen]


def _parse_duration(raw: RawValue) -> int | None:
    """(minutes, seconds) from two boxes, or "m:ss" from the timer; stored as seconds."""
    if raw is None:
        return None
    if isinstance(raw, str):
        text = _text(raw)
        if text == "":
            return None
        match = _TIME.fullmatch(text)
        if not match:
            raise InputError("bad_duration")
        minutes_text, seconds_text = match.group(1), match.group(2)
    elif isinstance(raw, tuple):
        minutes_text, seconds_text = (_number_text(part) for part in raw)
        if minutes_text == "" and seconds_text == "":
            return None
        minutes_text, seconds_text = minutes_text or "0", seconds_text or "0"
    else:
        raise InputError("unreadable")
    if not (minutes_text.isdigit() and seconds_text.isdigit()) or int(seconds_text) > 59:
        raise InputError("bad_duration")
    return int(minutes_text) * 60 + int(seconds_text)


def stored(form_field: WorksheetField, value: Any) -> Any:
    """A value read back from the database in its field's type. SQLite's numeric column affinity
    turns a stored 70.0 into 70; the record must not depend on the database engine."""
    if value is None or isinstance(value, bool):
        return value
    if form_field.type in ("decimal", "scale") and isinstance(value, int | float):
        return float(value)
    return value


# --- limits -------------------------------------------------------------------------------------


def applies(form_field: WorksheetField, values: Mapping[str, Any]) -> bool:
    """Whether a conditional field applies given the other answers (e.g. flow only with oxygen)."""
    if form_field.when is None:
        return True
    current = values.get(form_field.when.field)
    if isinstance(current, list):
        return form_field.when.value in current
    return bool(current == form_field.when.value)


def is_blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def missing_required(worksheet: Worksheet, values: Mapping[str, Any]) -> list[str]:
    return [
        f.id
        for f in worksheet.fields
        if f.required and applies(f, values) and is_blank(values.get(f.id))
    ]


def field_findings(form_field: WorksheetField, value: Any) -> Iterator[Finding]:
    """Hard and soft range limits of one numeric value, from the instrument file."""
    if not isinstance(value, int | float) or isinstance(value, bool) or form_field.type == "scale":
        return
    lo, hi = form_field.min, form_field.max
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        yield Finding(form_field.id, HARD, "out_of_range", {"min": lo, "max": hi}, (value,))
        return
    soft_lo, soft_hi = form_field.soft_min, form_field.soft_max
    if (soft_lo is not None and value < soft_lo) or (soft_hi is not None and value > soft_hi):
        yield Finding(
            form_field.id,
            SOFT,
            "unusual_value",
            {"soft_min": soft_lo, "soft_max": soft_hi},
            (value,),
        )


def findings(
    worksheet: Worksheet,
    values: Mapping[str, Any],
    context: CheckContext,
    timer: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Every limit the current answers break: per field, then across fields, then the
    computation's own checks (with the timer's measurement, if one was kept)."""
    found: list[Finding] = []
    for form_field in worksheet.fields:
        value = values.get(form_field.id)
        if not is_blank(value) and applies(form_field, values):
            found.extend(field_findings(form_field, value))
    hard_fields = {f.field for f in found if f.level == HARD}
    across = [*_dates(worksheet, values, context), *_cross_checks(worksheet, values)]
    found.extend(f for f in across if f.field not in hard_fields)
    found.extend(
        f
        for f in worksheet.computation.findings(values, found, timer)
        if f.field not in hard_fields
    )
    return found


def _dates(
    worksheet: Worksheet, values: Mapping[str, Any], context: CheckContext
) -> Iterator[Finding]:
    for form_field in worksheet.fields:
        value = values.get(form_field.id)
        if form_field.type != "date" or not isinstance(value, str):
            continue
        day = date.fromisoformat(value)
        if form_field.not_after_today and day > context.today:
            yield Finding(form_field.id, HARD, "date_in_future", {"today": context.today}, (value,))
        elif form_field.within_visit_window and not (
            context.window_start <= day <= context.window_end
        ):
            yield Finding(
                form_field.id,
                SOFT,
                "date_outside_window",
                {"start": context.window_start, "end": context.window_end},
                (value,),
            )


def _cross_checks(worksheet: Worksheet, values: Mapping[str, Any]) -> Iterator[Finding]:
    for check in worksheet.checks:
        value, other = values.get(check.field), values.get(check.other)
        if value is None or other is None:
            continue
        if check.rule == "less_than" and not value < other:
            yield Finding(check.field, check.level, check.code, {"limit": other}, (value, other))
        elif check.rule == "multiple_of":
            expected = Decimal(str(check.factor)) * Decimal(str(other))
            if Decimal(str(value)) != expected:
                yield Finding(
                    check.field,
                    check.level,
                    check.code,
                    {"expected": float(expected)},
                    (other, value),
                )


def unconfirmed(found: list[Finding], confirmations: Mapping[str, Any]) -> list[Finding]:
    """Soft findings without a confirmation of exactly their current values."""
    return [
        f
        for f in found
        if f.level == SOFT and list(confirmations.get(f.key) or []) != list(f.basis)
    ]


def confirmed(found: list[Finding], confirmations: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The confirmations that still hold, as sealed with the record."""
    return {
        f.key: list(f.basis)
        for f in found
        if f.level == SOFT and list(confirmations.get(f.key) or []) == list(f.basis)
    }
