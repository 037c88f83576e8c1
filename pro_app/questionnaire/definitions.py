"""What every instrument definition has, whatever its kind; `load_instrument` reads one file.

An instrument file names its `kind`; the kind (pro_app/questionnaire/kinds/) builds and checks the
rest. Who fills it in is data too: `administered_by = "patient"` (the participant, on their own
phone) or `"assessor"` (study staff at the clinic, e.g. the 6-minute walk test).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pro_app.languages import Bilingual
from pro_app.questionnaire import tomlfile
from pro_app.questionnaire.errors import DefinitionError

ADMINISTERED_BY = ("patient", "assessor")


@dataclass(frozen=True)
class Instrument:
    """The common head of an instrument definition; each kind adds its own structure."""

    id: str
    version: str
    kind: str
    administered_by: str
    title: Bilingual
    patient_title: Bilingual
    # The abbreviation staff know it by (tables, lists); the title when none is given.
    short_title: Bilingual
    path: Path
    # Whose instrument it is and under what licence (empty for our own worksheets).
    copyright: str

    @property
    def item_ids(self) -> tuple[str, ...]:
        """The ids of what is answered (items, fields), in order: the keys of saved answers."""
        raise NotImplementedError

    @property
    def patient_administered(self) -> bool:
        return self.administered_by == "patient"


def head(path: Path, data: dict[str, Any], kind: str) -> dict[str, Any]:
    """The common fields of a definition, checked, as keyword arguments for the kind's class."""
    administered_by = tomlfile.field(path, data, "administered_by", str)
    if administered_by not in ADMINISTERED_BY:
        raise DefinitionError(path, f"'administered_by' must be one of {ADMINISTERED_BY}")
    instrument_id = tomlfile.field(path, data, "id", str)
    if instrument_id != path.parent.name:
        raise DefinitionError(path, f"id '{instrument_id}' does not match its folder")
    return {
        "id": instrument_id,
        "version": tomlfile.field(path, data, "version", str),
        "kind": kind,
        "administered_by": administered_by,
        "title": (title := tomlfile.bilingual(path, data, "title")),
        "patient_title": tomlfile.bilingual(path, data, "patient_title"),
        "short_title": tomlfile.optional_bilingual(path, data, "short_title", title),
        "path": path,
        "copyright": tomlfile.optional(path, data, "copyright", str, ""),
    }


def load_instrument(path: Path) -> Instrument:
    """Read an instrument file and build it by its `kind` (see pro_app/questionnaire/kinds/)."""
    from pro_app.questionnaire.kinds import registry

    data = tomlfile.load(path)
    kind = tomlfile.field(path, data, "kind", str)
    if kind not in registry.KINDS:
        raise DefinitionError(path, f"'kind' must be one of {tuple(registry.KINDS)}, not '{kind}'")
    return registry.KINDS[kind].load(path, data)
