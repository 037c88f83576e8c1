"""What every bench writes: when and where it ran, and its result as JSON beside a Markdown report."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def stamp() -> dict[str, Any]:
    """The run's time and machine (the load average tells how busy the shared machine was)."""
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
        },
    }


def target_lines(targets: list[dict[str, Any]]) -> list[str]:
    """One PASS/FAIL line per target, with its measured value (and a note, if any; and the same
    measure of a floor built on the same libraries, where the bench has one: `stack`)."""
    lines = []
    for target in targets:
        verdict = "PASS" if target["pass"] else "FAIL"
        note = f" ({target['note']})" if target.get("note") else ""
        stack = target.get("stack")
        if stack is not None:
            if stack["pass"]:
                meets = "which meets it"
            else:
                meets = "which misses it" if target["pass"] else "which misses it too"
            note += f"; the stack floor: {stack['value']}, {meets}"
        lines.append(f"- {verdict} {target['target']}: {target['value']}{note}")
    return lines


def write(
    result: dict[str, Any], stem: str, markdown: str, folder: Path = RESULTS
) -> tuple[Path, Path]:
    """`<stem>.json` and `<stem>.md` in bench/results/."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / f"{stem}.json", folder / f"{stem}.md"
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    md_path.write_text(markdown)
    return json_path, md_path
