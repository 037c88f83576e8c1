"""Typed reading of TOML data files: every fault names the file and the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

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
