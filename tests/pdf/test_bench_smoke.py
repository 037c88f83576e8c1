"""The PDF benchmark still runs end to end and reports every figure it promises.

No timing is asserted here (timed tests flake on a shared machine): `make bench` measures; this only
keeps the benchmark from rotting as the pipeline changes."""

from __future__ import annotations

from bench.pdf import TARGETS, markdown, run

RECORDS = 12


def test_the_pdf_bench_runs_a_few_records_and_reports_every_figure() -> None:
    # Participants alternate Chinese and English; each has one MLHFQ record per scheduled visit.
    result = run(RECORDS)
    assert result["records"] == RECORDS
    for step in ("pipeline", "bare", "one_line"):
        assert result["timings_cpu"][step]["median_ms"] > 0
    ratios = result["ratios"]
    assert ratios["pipeline_over_bare"] > 0 and ratios["bare_over_one_line"] > 0
    assert set(ratios["by_language"]) == {"zh_Hans", "en"}
    assert 0 < result["pdf_bytes"]["max"] < TARGETS["max_pdf_bytes"]
    assert result["pages_first_record"] == 2
    assert len(result["memory_rss_kib"]["samples"]) >= 2
    report = markdown(result)
    for line in ("pipeline / bare render", "record layout / one-line render", "stored signed PDF"):
        assert line in report
