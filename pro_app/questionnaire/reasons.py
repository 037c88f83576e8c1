"""The fixed lists of reasons for changing a sealed record (instruments/lifecycle/reasons.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pro_app.languages import Bilingual
from pro_app.questionnaire import tomlfile
from pro_app.questionnaire.errors import DefinitionError


@dataclass(frozen=True)
class Reason:
    code: str
    label: Bilingual


@dataclass(frozen=True)
class ChangeReasons:
    version: str
    correction: tuple[Reason, ...]
    void: tuple[Reason, ...]

    def find(self, kind: str, code: str) -> Reason | None:
        return next((r for r in getattr(self, kind) if r.code == code), None)

    def label(self, code: str) -> Bilingual | None:
        found = self.find("correction", code) or self.find("void", code)
        return found.label if found else None


def load_reasons(path: Path) -> ChangeReasons:
    data = tomlfile.load(path)
    lists: dict[str, tuple[Reason, ...]] = {}
    for kind in ("correction", "void"):
        raw: list[dict[str, Any]] = data.get(kind, [])
        reasons = tuple(
            Reason(
                code=tomlfile.field(path, entry, "code", str, f"{kind}[{n}]."),
                label=tomlfile.bilingual(path, entry, "label", f"{kind}[{n}]."),
            )
            for n, entry in enumerate(raw, 1)
        )
        if not reasons:
            raise DefinitionError(path, f"no [[{kind}]] reasons")
        tomlfile.unique(path, [r.code for r in reasons], f"{kind} code")
        lists[kind] = reasons
    return ChangeReasons(
        version=tomlfile.field(path, data, "version", str),
        correction=lists["correction"],
        void=lists["void"],
    )
