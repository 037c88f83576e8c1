"""The PDF font: one face, a compact subset of Noto Sans CJK SC built from the system font at set-up.

Why a subset of our own: WeasyPrint subsets an embedded font but keeps every glyph id up to the
highest one used, and Simplified Chinese glyphs sit high in Noto Sans CJK's 65,000-glyph order, so a
Chinese record embedded about 190 KB of font. Built once from the installed font (Debian
fonts-noto-cjk), keeping GB 2312 (all 6,763 hanzi of everyday Simplified Chinese), Latin and the
punctuation and symbols a record uses, the face has ~7,700 glyphs in a compact order and a record's
embedded subset stays small. Characters outside it fall back to the full system face, so a rare
character in free text still prints (at a size cost); one in neither font fails the render.

Run `python -m pro_app.pdf.fonts` (the Makefile does) to build it; the renderer builds it on first
use when it is missing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
FONT_DIR = ASSETS_DIR / "fonts"
FONT_FILE = FONT_DIR / "PrimeProSansSC-Regular.otf"
STAMP_FILE = FONT_DIR / "PrimeProSansSC-Regular.json"
# The @font-face name the stylesheet uses, and the system family it falls back to.
FAMILY = "PRIME-PRO Sans SC"
SYSTEM_FAMILY = "Noto Sans CJK SC"
# Bump when the character set or the build options change, so installed copies are rebuilt.
SUBSET_VERSION = "1"

_DEBIAN_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")

# Beyond GB 2312: symbols a record, a score range or a 6MWT log may print.
_EXTRA = "×÷±≤≥–—‐…·°²³µ√∞≈≠←→↑↓©®™€•‘’“”‹›«»"


class FontError(RuntimeError):
    """The CJK font is not installed or the subset could not be built."""


def character_set() -> set[str]:
    """GB 2312 (hanzi and its symbol rows), printable Latin, CJK and general punctuation."""
    chars: set[str] = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    ranges = [(0x20, 0x7F), (0xA0, 0x180), (0x2000, 0x2070), (0x3000, 0x3040), (0xFF00, 0xFF66)]
    for start, end in ranges:
        chars.update(chr(code) for code in range(start, end))
    chars.update(_EXTRA)
    return chars


def system_font() -> tuple[Path, int]:
    """(file, face index) of Noto Sans CJK SC Regular, as fontconfig finds it."""
    fc_match = shutil.which("fc-match")
    try:
        if fc_match is None:
            raise OSError("fc-match not found")
        # A fixed argument list, no shell and no user input.
        found = subprocess.run(  # noqa: S603
            [fc_match, "-f", "%{file}\t%{index}\t%{family}", f"{SYSTEM_FAMILY}:style=Regular"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        path, index, families = found.split("\t")
        if SYSTEM_FAMILY in families.split(","):
            return Path(path), int(index)
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    if _DEBIAN_FONT.exists():
        return _DEBIAN_FONT, 2
    raise FontError(
        f"the font '{SYSTEM_FAMILY}' is not installed: install the Debian package fonts-noto-cjk "
        "(`make system-deps` does)"
    )


def _source_fingerprint(path: Path, index: int) -> dict[str, str]:
    stat = path.stat()
    return {
        "source": str(path),
        "index": str(index),
        "source_size": str(stat.st_size),
        "source_mtime": str(int(stat.st_mtime)),
        "subset_version": SUBSET_VERSION,
    }


def is_current() -> bool:
    if not FONT_FILE.exists() or not STAMP_FILE.exists():
        return False
    try:
        recorded = json.loads(STAMP_FILE.read_text())
        path, index = system_font()
    except (ValueError, FontError):
        return FONT_FILE.exists()
    return all(recorded.get(k) == v for k, v in _source_fingerprint(path, index).items())


def build(target: Path = FONT_FILE) -> Path:
    """Subset the system face into `target` (atomically: a concurrent reader never sees half a file)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    source, index = system_font()
    font = TTFont(source, fontNumber=index, lazy=True)
    options = subset.Options()
    # Shaping only needs Latin kerning; the SC face's cmap already maps to Simplified glyphs.
    options.layout_features = ["kern"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.drop_tables += ["vhea", "vmtx", "VORG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in character_set()))
    subsetter.subset(font)
    _rename(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".tmp", delete=False) as handle:
        temporary = Path(handle.name)
    try:
        font.save(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    stamp = _source_fingerprint(source, index)
    stamp["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    STAMP_FILE.write_text(json.dumps(stamp, indent=2) + "\n")
    return target


def _rename(font: object) -> None:
    """A modified font gets its own name (SIL OFL 1.1); copyright and licence records stay."""
    names = font["name"]  # type: ignore[index]
    for record in names.names:
        if record.nameID in (1, 4, 16):
            record.string = FAMILY
        elif record.nameID == 6:
            record.string = "PRIMEPROSansSC-Regular"
        elif record.nameID == 3:
            record.string = f"PRIME-PRO subset {SUBSET_VERSION} of {record.toUnicode()}"


def ensure() -> Path:
    """The subset font, built first if missing or stale; one process builds while others wait."""
    if is_current():
        return FONT_FILE
    FONT_DIR.mkdir(parents=True, exist_ok=True)
    with (FONT_DIR / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_current():
            build()
    return FONT_FILE


def main() -> None:
    path = ensure()
    print(f"PDF font: {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
