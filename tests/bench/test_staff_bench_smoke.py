"""The staff bench still seeds a trial at two sizes, counts the statements behind every staff page,
times each page for signed-in staff under gunicorn and writes its report. No timing is asserted:
`make bench` measures."""

from __future__ import annotations

import json
from pathlib import Path

from bench import staff


def test_the_staff_bench_times_every_page_and_counts_its_statements(tmp_path: Path) -> None:
    options = staff.options_for(
        quick=True, engines=["sqlite", "postgresql"], participants=30, seconds=0.3
    )
    result = staff.run(options)

    for engine in ("sqlite", "postgresql"):
        trial = result["trial"][engine]
        assert trial["participants"] == 30
        assert trial["visits"] == 30 * 6
        assert 0 < trial["records"] <= 30 * 11
        assert trial["open_queries"] >= 0
    pages = result["pages"]
    assert [(p["page"], p["engine"]) for p in pages] == [
        (name, engine) for name, _role, _path in staff.PAGES for engine in ("sqlite", "postgresql")
    ]
    for page in pages:
        # Every page answered 200 to every signed-in staff member.
        assert page["errors"] == 0, page
        assert page["requests"] > 0
        assert page["statements_small"] > 0 and page["statements_large"] > 0
        assert page["server_cpu_ms_per_request"] > 0
    assert len(result["targets"]) == 2 * len(pages)

    json_path, md_path = staff.write(result, tmp_path)
    assert json_path.name == "staff-30.json"
    assert json.loads(json_path.read_text())["pages"] == pages
    report = md_path.read_text()
    assert report.count("PASS ") + report.count("FAIL ") == len(result["targets"])
    assert "| board | sqlite |" in report and "statements at 10" in report
