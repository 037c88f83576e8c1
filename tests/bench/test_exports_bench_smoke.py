"""The export benchmark still seeds, exports every format in its own process and reports every
figure. No timing is asserted (timed tests flake on a shared machine): `make bench` measures."""

from __future__ import annotations

from bench.exports import FORMATS, markdown, run

PARTICIPANTS = 6


def test_the_export_bench_runs_a_handful_of_participants_and_reports_every_figure() -> None:
    result = run(PARTICIPANTS)
    sizes = result["sizes"]
    # A tenth first (at least one participant), then all; 11 sealed records per participant.
    assert [s["participants"] for s in sizes] == [1, PARTICIPANTS]
    assert [s["records"] for s in sizes] == [11, 11 * PARTICIPANTS]
    for size in sizes:
        assert size["database_bytes"] > 0
        assert [e["format"] for e in size["exports"]] == list(FORMATS)
        for figures in size["exports"]:
            assert figures["records"] == size["records"], figures
            assert figures["seconds_wall"] >= 0 and figures["seconds_cpu"] >= 0
            assert 0 < figures["rss_start_mib"] <= figures["rss_peak_mib"]
            assert figures["output_bytes"] > 0
    report = markdown(result)
    for fmt in FORMATS:
        assert f"| {fmt} |" in report
    assert "peak memory" in report and "RSS peak MiB" in report
