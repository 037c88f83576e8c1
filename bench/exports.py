"""Export benchmark: time and peak memory of each export format against the size of the data.

Seeds a SQLite database with participants whose every scheduled record is sealed (5 MLHFQ and
6 6MWT logs each: 11 records per participant), in two steps (a tenth, then all of them), and after
each step runs every export format in a fresh process that reports its wall time, CPU time, the
memory it started with and its peak (ru_maxrss), and the bytes it wrote. Constant-memory exports
show the same peak at both sizes.

The seed is bench/seed.py: bulk inserts of records built the way sealing builds them (answers,
scores from the real scoring and 6MWT computation, canonical hash), not through the web flow.

    python -m bench exports [--participants N]     (default 10,000)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import report
from bench.seed import seed

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_PARTICIPANTS = 10_000
FORMATS = ("csv", "odm", "sdtm", "fhir")


def rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def _settings(workdir: Path) -> Any:
    from pro_app.config import Settings

    return Settings.from_env(
        {
            "PRO_INSTANCE_DIR": str(workdir),
            "PRO_SECRET_KEY": "bench",
            "PRO_DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "PRO_BASE_URL": "https://prime-pro.invalid",
        }
    )


# --- one export, in a process of its own -----------------------------------------------------------


class RssSampler:
    """The highest resident set seen while a block runs, read from /proc every few milliseconds
    (ru_maxrss would report the process's start-up peak, not the export's)."""

    def __init__(self, every_s: float = 0.005) -> None:
        import threading

        self.every_s = every_s
        self.peak_kib = rss_kib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak_kib = max(self.peak_kib, rss_kib())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, rss_kib())


def export_once(fmt: str, workdir: Path, out: Path) -> dict[str, Any]:
    """Run in a fresh process: one export, with its time and memory."""
    from pro_app import create_app

    app = create_app({"TESTING": True}, settings=_settings(workdir))
    with app.app_context():
        from pro_app.extensions import db
        from pro_app.questionnaire.catalog import catalog
        from pro_app.services import exports
        from pro_app.services.exports.targets import FolderTarget, StreamTarget

        if fmt == "sdtm":
            import pandas  # noqa: F401  (imported before the baseline: a fixed cost)
            import pyreadstat  # noqa: F401
        request = exports.ExportRequest(fmt, None, False, "https://prime-pro.invalid")
        loaded = catalog()
        import gc

        gc.collect()
        start_rss = rss_kib()
        wall, cpu = time.perf_counter(), time.process_time()
        with RssSampler() as sampler:
            if fmt == "odm":
                with out.open("wb") as stream:
                    summary = exports.write(
                        request, StreamTarget(stream), loaded, actor="bench", destination=str(out)
                    )
            else:
                summary = exports.write(
                    request, FolderTarget(out), loaded, actor="bench", destination=str(out)
                )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        db.session.rollback()
    size = out.stat().st_size if out.is_file() else sum(p.stat().st_size for p in out.iterdir())
    return {
        "format": fmt,
        "records": summary.records,
        "seconds_wall": round(wall, 2),
        "seconds_cpu": round(cpu, 2),
        "rss_start_mib": round(start_rss / 1024, 1),
        "rss_peak_mib": round(sampler.peak_kib / 1024, 1),
        "process_maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "output_bytes": size,
    }


def _measure(fmt: str, workdir: Path) -> dict[str, Any]:
    out = workdir / ("odm.xml" if fmt == "odm" else fmt)
    if out.is_dir():
        shutil.rmtree(out)
    done = subprocess.run(
        [sys.executable, "-m", "bench.exports", "--one", fmt, str(workdir), str(out)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if out.is_dir():
        shutil.rmtree(out)
    else:
        out.unlink()
    return result


def run(participants: int) -> dict[str, Any]:
    """Seed in two steps (a tenth, then all) and export every format after each."""
    import flask_migrate

    from pro_app import create_app
    from pro_app.extensions import db

    workdir = Path(tempfile.mkdtemp(prefix="prime-export-bench-"))
    rng = random.Random(20261125)
    steps = sorted({max(participants // 10, 1), participants})
    sizes = []
    try:
        app = create_app({"TESTING": True}, settings=_settings(workdir))
        seeded = 0
        records_total = 0
        with app.app_context():
            flask_migrate.upgrade()
        for step in steps:
            with app.app_context():
                started = time.perf_counter()
                records_total += seed(seeded + 1, step, rng)
                seed_seconds = time.perf_counter() - started
                db.engine.dispose()
            seeded = step
            database = workdir / "bench.sqlite3"
            sizes.append(
                {
                    "participants": step,
                    "records": records_total,
                    "database_bytes": database.stat().st_size,
                    "seed_seconds": round(seed_seconds, 1),
                    "exports": [_measure(fmt, workdir) for fmt in FORMATS],
                }
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        **report.stamp(),
        "participants": participants,
        "sizes": sizes,
    }


def markdown(result: dict[str, Any]) -> str:
    sizes = result["sizes"]
    lines = [
        f"# Export benchmark — up to {result['participants']:,} participants ({result['when']})",
        "",
        f"Machine: {result['machine']['cpus']} CPUs, Python {result['machine']['python']}, load "
        f"average at the end {', '.join(f'{x:.1f}' for x in result['machine']['load_average_at_end'])}. "
        "Each export runs in a fresh process on a SQLite database. Start = its resident set just "
        "before the export began (app, catalogue and the format's libraries loaded); peak = the "
        "highest resident set sampled every 5 ms while it ran.",
        "",
        "| participants | records | database MB | format | wall s | CPU s | records/s | "
        "RSS start MiB | RSS peak MiB | peak - start MiB | output MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        for row in size["exports"]:
            rate = row["records"] / row["seconds_wall"] if row["seconds_wall"] else 0
            lines.append(
                f"| {size['participants']:,} | {size['records']:,} | "
                f"{size['database_bytes'] / 1e6:.1f} | {row['format']} | {row['seconds_wall']} | "
                f"{row['seconds_cpu']} | {rate:,.0f} | {row['rss_start_mib']} | "
                f"{row['rss_peak_mib']} | {row['rss_peak_mib'] - row['rss_start_mib']:.1f} | "
                f"{row['output_bytes'] / 1e6:.1f} |"
            )
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        growth = large["records"] / small["records"]
        lines += ["", f"From {small['records']:,} to {large['records']:,} records ({growth:.0f}x):"]
        for a, b in zip(small["exports"], large["exports"], strict=True):
            lines.append(
                f"- {a['format']}: time x{b['seconds_wall'] / max(a['seconds_wall'], 0.01):.1f}, "
                f"peak memory {a['rss_peak_mib']} → {b['rss_peak_mib']} MiB"
            )
    lines.append("")
    return "\n".join(lines)


def main(participants: int = DEFAULT_PARTICIPANTS) -> None:
    result = run(participants)
    RESULTS.mkdir(exist_ok=True)
    stem = f"exports-{participants}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    summary = markdown(result)
    (RESULTS / f"{stem}.md").write_text(summary)
    print(summary)


def cli(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench exports")
    parser.add_argument(
        "--participants",
        type=int,
        default=DEFAULT_PARTICIPANTS,
        help="participants at the largest size",
    )
    main(parser.parse_args(argv).participants)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        print(json.dumps(export_once(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PARTICIPANTS)
