"""Typed reading of TOML data files: every fault names the file and the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pro_app.languages import Bilingual
from pro_app.questionnaire.errors import DefinitionError

T = TypeVar("T")


def load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise DefinitionError(path, "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(path, f"not valid TOML ({exc})") from None


def field(path: Path, table: dict[str, Any], key: str, kind: type[T], where: str = "") -> T:
    """table[key], checked to be of `kind` (bool is not accepted as int)."""
    label = f"{where}{key}"
    if key not in table:
        raise DefinitionError(path, f"missing '{label}'")
    value = table[key]
    if kind is int and isinstance(value, bool):
        raise DefinitionError(path, f"'{label}' must be an integer")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind):
        raise DefinitionError(path, f"'{label}' must be of type {kind.__name__}")
    return value


def optional(path: Path, table: dict[str, Any], key: str, kind: type[T], default: T) -> T:
    """table[key] checked like `field`, or `default` when absent."""
    return field(path, table, key, kind) if key in table else default


def bilingual(path: Path, table: dict[str, Any], key: str, where: str = "") -> Bilingual:
    """`<key>_zh` and `<key>_en`, both required."""
    return Bilingual(
        zh=field(path, table, f"{key}_zh", str, where),
        en=field(path, table, f"{key}_en", str, where),
    )


def optional_bilingual(
    path: Path, table: dict[str, Any], key: str, fallback: Bilingual | None = None
) -> Bilingual:
    """`<key>_zh` / `<key>_en` where given, else the fallback's (or empty) text."""
    base = fallback or Bilingual("", "")
    return Bilingual(
        zh=str(table.get(f"{key}_zh", base.zh)), en=str(table.get(f"{key}_en", base.en))
    )


def unique(path: Path, values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise DefinitionError(path, f"duplicate {what} '{value}'")
        seen.add(value)
