"""The catalogue: every instrument, its language packs and the visit plan, loaded and validated
once at start-up (a broken file stops the app, naming the file and the fault)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

from pro_app.config import REPO_ROOT
from pro_app.questionnaire.definitions import Instrument, load_instrument
from pro_app.questionnaire.errors import DefinitionError
from pro_app.questionnaire.kinds.base import InstrumentKind
from pro_app.questionnaire.kinds.registry import kind_of
from pro_app.questionnaire.reasons import ChangeReasons, load_reasons
from pro_app.questionnaire.schedule import Schedule, load_schedule
from pro_app.questionnaire.textpacks import ScalePack, TextPack

INSTRUMENTS_DIR = REPO_ROOT / "instruments"


@dataclass(frozen=True)
class Catalog:
    instruments: dict[str, Instrument]
    textpacks: dict[tuple[str, str], TextPack]
    schedule: Schedule
    # Licensed rating-scale wording (Borg CR10) by (scale, language); absent when not installed.
    scale_packs: dict[tuple[str, str], ScalePack] = field(default_factory=dict)
    # Which rating scales each instrument shows.
    scales: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The fixed lists of reasons for correcting or voiding a sealed record.
    reasons: ChangeReasons | None = None

    @property
    def change_reasons(self) -> ChangeReasons:
        assert self.reasons is not None
        return self.reasons

    def instrument(self, instrument_id: str) -> Instrument:
        return self.instruments[instrument_id]

    def kind(self, instrument_id: str) -> InstrumentKind[Any]:
        return kind_of(self.instruments[instrument_id])

    def textpack(self, instrument_id: str, language: str) -> TextPack:
        return self.textpacks[(instrument_id, language)]

    def scale_pack(self, scale: str, language: str) -> ScalePack | None:
        return self.scale_packs.get((scale, language))

    @property
    def demo_packs(self) -> list[TextPack]:
        return [pack for pack in self.textpacks.values() if pack.demo]


def load_catalog(textpack_dir: Path, instruments_dir: Path = INSTRUMENTS_DIR) -> Catalog:
    """Load everything; a broken file raises DefinitionError naming the file and the fault."""
    instruments: dict[str, Instrument] = {}
    for definition in sorted(instruments_dir.glob("*/instrument.toml")):
        instrument = load_instrument(definition)
        instruments[instrument.id] = instrument
    if not instruments:
        raise DefinitionError(instruments_dir, "no instrument definitions found")
    textpacks: dict[tuple[str, str], TextPack] = {}
    scale_packs: dict[tuple[str, str], ScalePack] = {}
    scales: dict[str, tuple[str, ...]] = {}
    for instrument in instruments.values():
        wording = kind_of(instrument).wording(instrument, textpack_dir)
        textpacks.update(wording.textpacks)
        scale_packs.update(wording.scale_packs)
        scales[instrument.id] = wording.scales
    schedule = load_schedule(
        instruments_dir / "schedule" / "schedule.toml",
        set(instruments),
        frozenset(i.id for i in instruments.values() if i.patient_administered),
    )
    reasons = load_reasons(instruments_dir / "lifecycle" / "reasons.toml")
    return Catalog(
        instruments=instruments,
        textpacks=textpacks,
        schedule=schedule,
        scale_packs=scale_packs,
        scales=scales,
        reasons=reasons,
    )


def catalog() -> Catalog:
    """The running app's catalogue."""
    loaded: Catalog = current_app.extensions["pro_catalog"]
    return loaded
