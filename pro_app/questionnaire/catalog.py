"""The catalogue: every instrument, its text packs and the visit plan, loaded and validated once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from pro_app.config import REPO_ROOT
from pro_app.questionnaire.definitions import ChoiceInstrument, Instrument, load_instrument
from pro_app.questionnaire.errors import DefinitionError
from pro_app.questionnaire.form_definitions import FormInstrument
from pro_app.questionnaire.schedule import Schedule, load_schedule
from pro_app.questionnaire.textpacks import (
    LANGUAGES,
    ScalePack,
    TextPack,
    find_scale_pack_file,
    find_textpack_file,
    load_scale_pack,
    load_textpack,
)

INSTRUMENTS_DIR = REPO_ROOT / "instruments"


@dataclass(frozen=True)
class Catalog:
    instruments: dict[str, Instrument]
    textpacks: dict[tuple[str, str], TextPack]
    schedule: Schedule
    # Licensed rating-scale wording (Borg CR10) by (scale, language); absent when not installed.
    scale_packs: dict[tuple[str, str], ScalePack] = field(default_factory=dict)

    def instrument(self, instrument_id: str) -> Instrument:
        return self.instruments[instrument_id]

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
    textpacks = {}
    scale_packs = {}
    for instrument in instruments.values():
        for language in LANGUAGES:
            if isinstance(instrument, ChoiceInstrument):
                path = find_textpack_file(
                    textpack_dir, instrument.path.parent / "textpack-demo", instrument.id, language
                )
                textpacks[(instrument.id, language)] = load_textpack(
                    path, instrument.id, language, instrument.item_ids
                )
            elif isinstance(instrument, FormInstrument):
                borg = instrument.borg
                found = find_scale_pack_file(textpack_dir, borg.scale, language)
                if found is not None:
                    scale_packs[(borg.scale, language)] = load_scale_pack(
                        found, borg.scale, language, borg.values
                    )
    schedule = load_schedule(instruments_dir / "schedule" / "schedule.toml", set(instruments))
    return Catalog(
        instruments=instruments, textpacks=textpacks, schedule=schedule, scale_packs=scale_packs
    )


def catalog() -> Catalog:
    """The running app's catalogue."""
    loaded: Catalog = current_app.extensions["pro_catalog"]
    return loaded
