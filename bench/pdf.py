"""PDF benchmark: render + sign + store records in one warm worker, against bare WeasyPrint renders.

In the same run and interleaved record by record (so drift hits all three alike) it times:
  pipeline  - the worker's whole job: claim, read the record, template, WeasyPrint (PDF/A-3b with
              the record attached), pyHanko signature, store bytes + hash, commit;
  bare      - WeasyPrint alone on the same HTML with the same stylesheet and fonts (plain PDF);
  one-line  - WeasyPrint on a one-line HTML document with the same stylesheet and fonts.
and reports pipeline/bare, bare/one-line, the stored PDF sizes and the worker's memory (RSS).

BENCH_RECORDS (default 1000) sets how many records; BENCH_RECORDS=50 is a quick run.
Run it alone with `python -m bench pdf [--records N]`.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench import report

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"pipeline_over_bare": 1.3, "bare_over_one_line": 10.0, "max_pdf_bytes": 150 * 1024}
ONE_LINE = '<html lang="zh-Hans"><body><p>PRIME-PRO 受试者编号 PRIME-001</p></body></html>'


def rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def make_records(count: int) -> list[int]:
    """Sealed records as the patient flow makes them (drafts, then submit), alternating zh / en."""
    from pro_app import clock
    from pro_app.extensions import db
    from pro_app.models import DraftAnswer, EnteredBy, Sex, Site
    from pro_app.questionnaire.catalog import catalog
    from pro_app.services import enrolment, sealing

    loaded = catalog()
    instrument = loaded.instrument("mlhfq")
    site = Site(
        code="SEH",
        name_en="Shanghai East Hospital, Heart Failure Department",
        name_zh="上海市东方医院 心力衰竭科",
        timezone="Asia/Shanghai",
        study_id_pattern=r"^PRIME-\d{4}$",
    )
    db.session.add(site)
    db.session.flush()
    visits_per_participant = [v for v in loaded.schedule.visits if "mlhfq" in v.instruments]
    ids: list[int] = []
    number = 0
    while len(ids) < count:
        number += 1
        language = "zh_Hans" if number % 2 else "en"
        participant = enrolment.enrol(
            site=site,
            study_id=f"PRIME-{number:04d}",
            sex=Sex.FEMALE if number % 3 else Sex.MALE,
            birth_year=1955,
            height_cm=160,
            preferred_language=language,
            day0=date(2026, 11, 25),
            schedule=loaded.schedule,
            actor="bench",
        )
        for planned in visits_per_participant:
            if len(ids) == count:
                break
            visit = next(v for v in participant.visits if v.code == planned.code)
            for index, item_id in enumerate(instrument.item_ids):
                db.session.add(
                    DraftAnswer(
                        visit_id=visit.id,
                        instrument_id="mlhfq",
                        item_id=item_id,
                        value=(index + number) % 6,
                        language=language,
                        saved_at=clock.utcnow(),
                        entered_by=EnteredBy.PARTICIPANT,
                    )
                )
            db.session.flush()
            ids.append(
                sealing.submit(visit, instrument, loaded, language=language, actor="bench").id
            )
        db.session.commit()
    return ids


def run(count: int) -> dict[str, Any]:
    from weasyprint import HTML

    from pro_app import create_app
    from pro_app.config import Settings
    from pro_app.extensions import db
    from pro_app.models import PdfDocument, Response
    from pro_app.pdf.worker import RenderAndSign, Worker

    workdir = Path(tempfile.mkdtemp(prefix="prime-bench-"))
    settings = Settings.from_env(
        {
            "PRO_INSTANCE_DIR": str(workdir),
            "PRO_SECRET_KEY": "bench",
            "PRO_DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        }
    )
    app = create_app({"TESTING": True}, settings=settings)
    with app.app_context():
        import flask_migrate

        flask_migrate.upgrade()
        started = time.perf_counter()
        make_records(count)
        setup_seconds = time.perf_counter() - started

        started = time.perf_counter()
        pipeline = RenderAndSign(settings)
        pipeline.warm_up()
        warm_up_seconds = time.perf_counter() - started
        worker = Worker(pipeline)
        renderer = pipeline.renderer

        def bare(html: str) -> bytes:
            return HTML(
                string=html, base_url=renderer.base_url, url_fetcher=renderer.fetcher
            ).write_pdf(font_config=renderer.font_config, stylesheets=[renderer.stylesheet])

        bare(ONE_LINE)
        # Wall time and this process's CPU time: on a shared 2-core machine other processes stretch
        # wall time unevenly, so the ratios are taken on CPU time (the pipeline's disk I/O is small).
        wall: dict[str, list[float]] = {"pipeline": [], "bare": [], "one_line": []}
        cpu: dict[str, list[float]] = {"pipeline": [], "bare": [], "one_line": []}
        memory: list[tuple[int, int]] = []
        languages: list[str] = []

        def timed(step: str, call: Callable[[], object]) -> object:
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            outcome = call()
            wall[step].append(time.perf_counter() - wall_start)
            cpu[step].append(time.process_time() - cpu_start)
            return outcome

        gc.collect()
        memory.append((0, rss_kib()))
        for done in range(1, count + 1):
            outcome = timed("pipeline", worker.run_one)
            if outcome != "done":
                raise SystemExit(f"record {done}: worker said {outcome!r}")
            # The same record's HTML, rendered bare (the template step is not timed here).
            response = db.session.scalars(
                db.select(Response)
                .join(PdfDocument, PdfDocument.response_id == Response.id)
                .order_by(PdfDocument.id.desc())
                .limit(1)
            ).one()
            languages.append(response.language)
            html = renderer.html(pipeline.prepare(response))
            db.session.rollback()
            timed("bare", lambda html=html: bare(html))
            timed("one_line", lambda: bare(ONE_LINE))
            if done % max(count // 20, 1) == 0 or done == count:
                memory.append((done, rss_kib()))
        sizes = [size for (size,) in db.session.execute(db.select(PdfDocument.size_bytes))]
        by_language = {
            language: [
                s
                for (s,) in db.session.execute(
                    db.select(PdfDocument.size_bytes)
                    .join(Response, PdfDocument.response_id == Response.id)
                    .where(Response.language == language)
                )
            ]
            for language in ("zh_Hans", "en")
        }
        pages = _pages(db.session.scalar(db.select(PdfDocument.content).limit(1)))
        db.engine.dispose()
    shutil.rmtree(workdir, ignore_errors=True)
    return _report(
        count,
        wall,
        cpu,
        languages,
        sizes,
        by_language,
        memory,
        setup_seconds,
        warm_up_seconds,
        pages,
    )


def _pages(data: bytes | None) -> int:
    if not data:
        return 0
    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(io.BytesIO(data)).root["/Pages"]["/Count"])


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
        "median_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2)
        if len(ordered) > 1
        else round(ordered[0] * 1000, 2),
    }


def _report(
    count: int,
    wall: dict[str, list[float]],
    cpu: dict[str, list[float]],
    languages: list[str],
    sizes: list[int],
    by_language: dict[str, list[int]],
    memory: list[tuple[int, int]],
    setup_seconds: float,
    warm_up_seconds: float,
    pages: int,
) -> dict[str, Any]:
    summary = {name: _summary(values) for name, values in cpu.items()}
    wall_summary = {name: _summary(values) for name, values in wall.items()}
    pipeline_over_bare = summary["pipeline"]["median_ms"] / summary["bare"]["median_ms"]
    bare_over_one_line = summary["bare"]["median_ms"] / summary["one_line"]["median_ms"]
    # The same per record language (participants alternate Chinese and English).
    by_lang_ratio = {}
    for name in ("zh_Hans", "en"):
        picked = [i for i, language in enumerate(languages) if language == name]
        if not picked:
            continue
        bare_median = statistics.median(cpu["bare"][i] for i in picked)
        by_lang_ratio[name] = {
            "pipeline_over_bare": round(
                statistics.median(cpu["pipeline"][i] for i in picked) / bare_median, 2
            ),
            "bare_over_one_line": round(bare_median / statistics.median(cpu["one_line"]), 2),
        }
    tail = memory[len(memory) // 2 :]
    growth_per_100 = 0.0
    if len(tail) > 1 and tail[-1][0] > tail[0][0]:
        growth_per_100 = (tail[-1][1] - tail[0][1]) / (tail[-1][0] - tail[0][0]) * 100
    return {
        **report.stamp(),
        "records": count,
        "setup_seconds": round(setup_seconds, 1),
        "worker_warm_up_seconds": round(warm_up_seconds, 2),
        "timings_cpu": summary,
        "timings_wall": wall_summary,
        "ratios": {
            "pipeline_over_bare": round(pipeline_over_bare, 2),
            "bare_over_one_line": round(bare_over_one_line, 2),
            "by_language": by_lang_ratio,
        },
        "pdf_bytes": {
            "mean": round(statistics.fmean(sizes)),
            "max": max(sizes),
            "max_zh_Hans": max(by_language["zh_Hans"], default=0),
            "max_en": max(by_language["en"], default=0),
        },
        "pages_first_record": pages,
        "memory_rss_kib": {
            "samples": memory,
            "first": memory[0][1],
            "last": memory[-1][1],
            "max": max(kib for _n, kib in memory),
            "second_half_growth_kib_per_100_records": round(growth_per_100, 1),
        },
        "targets": TARGETS,
        "met": {
            "pipeline_over_bare": pipeline_over_bare <= TARGETS["pipeline_over_bare"],
            "bare_over_one_line": bare_over_one_line <= TARGETS["bare_over_one_line"],
            "max_pdf_bytes": max(sizes) <= TARGETS["max_pdf_bytes"],
        },
    }


def markdown(result: dict[str, Any]) -> str:
    t, w = result["timings_cpu"], result["timings_wall"]
    r, b, m = result["ratios"], result["pdf_bytes"], result["memory_rss_kib"]
    met = result["met"]
    mark = {True: "met", False: "MISSED"}
    return "\n".join(
        [
            f"# PDF benchmark — {result['records']} records ({result['when']})",
            "",
            f"Machine: {result['machine']['cpus']} CPUs, Python {result['machine']['python']}, "
            f"load average at the end {', '.join(f'{x:.1f}' for x in result['machine']['load_average_at_end'])}. "
            f"Worker warm-up (fonts, stylesheet, key, first render): {result['worker_warm_up_seconds']} s.",
            "",
            "| step | CPU median ms | CPU mean ms | CPU p95 ms | wall median ms |",
            "|---|---|---|---|---|",
            *(
                f"| {name} | {v['median_ms']} | {v['mean_ms']} | {v['p95_ms']} | {w[name]['median_ms']} |"
                for name, v in t.items()
            ),
            "",
            "Ratios are of CPU-time medians (wall time on this shared machine varies with other load).",
            "",
            f"- pipeline / bare render of the same HTML: **{r['pipeline_over_bare']}x** "
            f"(target ≤ {result['targets']['pipeline_over_bare']}x, {mark[met['pipeline_over_bare']]})",
            f"- record layout / one-line render: **{r['bare_over_one_line']}x** "
            f"(target ≤ {result['targets']['bare_over_one_line']}x, {mark[met['bare_over_one_line']]}); "
            f"Chinese records {r['by_language']['zh_Hans']['bare_over_one_line']}x, English "
            f"{r['by_language']['en']['bare_over_one_line']}x",
            f"- stored signed PDF: mean {b['mean'] / 1024:.1f} KB, max {b['max'] / 1024:.1f} KB "
            f"(Chinese {b['max_zh_Hans'] / 1024:.1f} KB, English {b['max_en'] / 1024:.1f} KB; "
            f"target < 150 KB, {mark[met['max_pdf_bytes']]}), {result['pages_first_record']} pages",
            f"- worker RSS: {m['first'] / 1024:.1f} MiB after warm-up, {m['last'] / 1024:.1f} MiB after "
            f"{result['records']} records (max {m['max'] / 1024:.1f} MiB); second-half growth "
            f"{m['second_half_growth_kib_per_100_records']} KiB per 100 records",
            "",
        ]
    )


def main(count: int | None = None) -> None:
    count = count or int(os.environ.get("BENCH_RECORDS", "1000"))
    result = run(count)
    RESULTS.mkdir(exist_ok=True)
    stem = f"pdf-{count}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    summary = markdown(result)
    (RESULTS / f"{stem}.md").write_text(summary)
    print(summary)


def cli(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench pdf")
    parser.add_argument("--records", type=int, default=None, help="sealed records (default 1000)")
    main(parser.parse_args(argv).records)
