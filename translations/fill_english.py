"""English is the source language: an English message without its own wording reads as written.

Run by `make i18n` after `pybabel update`, so a new message never shows up empty in English.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUE = Path(__file__).parent / "en" / "LC_MESSAGES" / "messages.po"


def main() -> int:
    with CATALOGUE.open("rb") as handle:
        catalog = read_po(handle)
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings) and not message.fuzzy:
            continue
        message.string = message.id if not isinstance(message.id, tuple) else tuple(message.id)
        message.flags.discard("fuzzy")
        filled += 1
    with CATALOGUE.open("wb") as handle:
        write_po(handle, catalog, width=100)
    print(f"English catalogue: {filled} messages filled from their source text", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
