"""Text packs: an instrument's licensed wording in one language, installed by the site outside git.

A pack is `<PRO_TEXTPACK_DIR>/<instrument>.<language>.toml`. Without one, the committed demo pack
under instruments/<id>/textpack-demo/ is used and everything it touches is marked as demo wording.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pro_app.questionnaire import tomlfile
from pro_app.questionnaire.errors import DefinitionError
from pro_app.questionnaire.tomlfile import field


@dataclass(frozen=True)
class TextPack:
    pack_id: str
    instrument: str
    language: str
    demo: bool
    sha256: str
    title: str
    instructions: str
    recall: str
    stem: str
    anchors: dict[int, str]
    items: dict[str, str]
    extra: dict[str, Any]
    path: Path

    def item(self, item_id: str) -> str:
        return self.items[item_id]


def load_textpack(
    path: Path, instrument_id: str, language: str, item_ids: tuple[str, ...]
) -> TextPack:
    raw = path.read_bytes()
    data = tomlfile.load(path)
    pack = TextPack(
        pack_id=field(path, data, "pack_id", str),
        instrument=field(path, data, "instrument", str),
        language=field(path, data, "language", str),
        demo=field(path, data, "demo", bool),
        sha256=hashlib.sha256(raw).hexdigest(),
        title=field(path, data, "title", str),
        instructions=field(path, data, "instructions", str),
        recall=str(data.get("recall", "")),
        stem=str(data.get("stem", "")),
        anchors={int(k): str(v) for k, v in dict(data.get("anchors", {})).items()},
        items={str(k): str(v) for k, v in dict(data.get("items", {})).items()},
        extra={k: v for k, v in data.items() if k not in _KNOWN_KEYS},
        path=path,
    )
    if pack.instrument != instrument_id or pack.language != language:
        raise DefinitionError(path, f"pack is for {pack.instrument}/{pack.language}")
    missing = [item for item in item_ids if item not in pack.items]
    if missing:
        raise DefinitionError(path, f"no wording for items {', '.join(missing)}")
    return pack


_KNOWN_KEYS = {
    "pack_id",
    "instrument",
    "language",
    "demo",
    "title",
    "instructions",
    "recall",
    "stem",
    "anchors",
    "items",
}


def find_textpack_file(site_dir: Path, demo_dir: Path, instrument_id: str, language: str) -> Path:
    """The site's installed pack if there is one, else the committed demo pack."""
    name = f"{instrument_id}.{language}.toml"
    installed = site_dir / name
    return installed if installed.exists() else demo_dir / name


@dataclass(frozen=True)
class ScalePack:
    """The licensed wording of a rating scale (Borg CR10) in one language: site-installed only.

    A pack is `<PRO_TEXTPACK_DIR>/<scale>.<language>.toml`. There is no committed demo pack: without
    one, pages show the numbers alone and the record says so.
    """

    pack_id: str
    scale: str
    language: str
    scale_version: str
    sha256: str
    anchors: dict[float, str]
    instructions: str
    path: Path

    def anchor(self, value: float) -> str:
        return self.anchors.get(float(value), "")


def load_scale_pack(path: Path, scale: str, language: str, values: tuple[float, ...]) -> ScalePack:
    raw = path.read_bytes()
    data = tomlfile.load(path)
    anchors: dict[float, str] = {}
    for key, text in dict(field(path, data, "anchors", dict)).items():
        try:
            value = float(key)
        except ValueError:
            raise DefinitionError(path, f"anchor '{key}' is not a number") from None
        if value not in values:
            raise DefinitionError(path, f"anchor '{key}' is not a value of the scale")
        anchors[value] = str(text)
    if not anchors:
        raise DefinitionError(path, "no [anchors]")
    pack = ScalePack(
        pack_id=field(path, data, "pack_id", str),
        scale=field(path, data, "scale", str),
        language=field(path, data, "language", str),
        scale_version=field(path, data, "scale_version", str),
        sha256=hashlib.sha256(raw).hexdigest(),
        anchors=anchors,
        instructions=str(data.get("instructions", "")),
        path=path,
    )
    if pack.scale != scale or pack.language != language:
        raise DefinitionError(path, f"pack is for {pack.scale}/{pack.language}")
    return pack


def find_scale_pack_file(site_dir: Path, scale: str, language: str) -> Path | None:
    """The site's installed pack for a licensed scale, or None (then only numbers are shown)."""
    installed = site_dir / f"{scale}.{language}.toml"
    return installed if installed.exists() else None
