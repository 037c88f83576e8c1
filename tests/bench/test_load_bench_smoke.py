"""The load bench still serves every system under gunicorn, drives every scenario with its
browser-like client, counts statements and writes its report. No timing is asserted (timed tests
flake on a shared machine): `make bench` measures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import load


def test_the_load_bench_drives_every_system_and_reports_every_figure(tmp_path: Path) -> None:
    options = load.options_for(quick=True, engines=["sqlite", "postgresql"], seconds=0.3)
    options.clients = [1, 2]
    options.links = 40
    result = load.run(options)

    systems = ["hello", "sqlite", "stack-sqlite", "postgresql", "stack-postgresql"]
    table = result["table"]
    assert [(r["scenario"], r["clients"], r["system"]) for r in table] == [
        (scenario, clients, system)
        for scenario in load.SCENARIOS
        for clients in (1, 2)
        for system in systems
    ]
    for row in table:
        # The client walked every page as a browser would: nothing refused, nothing unexpected.
        assert row["errors"] == 0, row
        assert row["requests"] > 0
        assert row["server_cpu_ms_per_request"] > 0
        assert row["ratio_to_floor"] is not None
        kinds = set(row["latency_ms"])
        expected = {
            "landing": {"landing"},
            "item": {"item_get", "answer_post", "redirect_get"},
            "whole": {"landing", "start_post", "page_get", "answer_post", "submit_post"},
        }[row["scenario"]]
        assert kinds == expected, (row["scenario"], kinds)
        if row["scenario"] == "whole":
            assert row["responses"] >= row["clients"]
            assert row["whole_response_ms"]["n"] == row["responses"]
            assert row["server_cpu_ms_per_response"] > 0
    # The PostgreSQL backends' CPU counts as the server's.
    for system in ("postgresql", "stack-postgresql"):
        assert any(r["db_cpu_ms_per_request"] > 0 for r in table if r["system"] == system)
    # Lock waits are sampled on PostgreSQL's systems only (LockSampler), in every cell.
    for row in table:
        on_postgresql = row["system"] in ("postgresql", "stack-postgresql")
        assert (row["lock_samples"] > 0) == on_postgresql, row["system"]
        assert (row["lock_waiting_mean"] is not None) == on_postgresql, row["system"]
        if on_postgresql:
            assert 0 <= row["lock_wait_share"] <= 1
    # PRIME-PRO is set against the stack floor of its own engine, and only PRIME-PRO is.
    for row in table:
        against_stack = row["system"] in ("sqlite", "postgresql")
        assert (row["ratio_to_stack"] is not None) == against_stack, row["system"]
        assert (row["cpu_to_stack"] is not None) == against_stack, row["system"]

    assert set(result["statements"]) == {"sqlite", "postgresql"}
    for counts in result["statements"].values():
        assert counts["item_step"] >= counts["answer_post"] > 0
        assert counts["whole_response"] > counts["item_step"]
        # landing, Start, 21 answers with their redirects, review, confirmation, submit, receipt
        assert counts["whole_response_requests"] >= 2 + 21 * 2 + 3

    names = [t["target"] for t in result["targets"]]
    for engine in ("sqlite", "postgresql"):
        assert any(n.startswith(f"{engine} landing x1: throughput") for n in names)
        assert any(n.startswith(f"{engine} item x2: answer_post p99") for n in names)
        assert any(n.startswith(f"{engine}: <= 5 SQL statements per item step") for n in names)
        assert any(n.startswith(f"{engine}: <= 60 ms server CPU per whole") for n in names)
    assert all(isinstance(t["pass"], bool) for t in result["targets"])
    # Every target but the statement budget is set beside the stack floor's same measure.
    for target in result["targets"]:
        if target["measure"] == "statements":
            assert target["stack"] is None
        else:
            assert isinstance(target["stack"]["pass"], bool), target["target"]

    json_path, md_path = load.write(result, tmp_path)
    assert json.loads(json_path.read_text())["table"] == table
    report = md_path.read_text()
    assert report.count("PASS ") + report.count("FAIL ") == len(result["targets"])
    assert load.stack_summary(result["targets"]) in report
    assert report.count("; the stack floor: ") == len(result["targets"]) - 2  # 2 budgets
    assert "| item | 2 | postgresql |" in report and "SQL statements per request" in report
    assert "## Against the stack floor" in report and "| whole | 2 | stack-sqlite |" in report
    assert "## PostgreSQL: backends waiting on a lock" in report


def test_prime_pro_counts_its_rate_limits_in_redis_as_make_run_does(tmp_path: Path) -> None:
    """`make run`'s workers share their rate-limit counts in Redis; so do the bench's, and the
    Redis server's CPU counts as PRIME-PRO's. No Redis: the bench stops and says so."""
    server = load.Server("sqlite", "wsgi:app", {}, tmp_path, store=load.REDIS_URL)
    pid = load.redis_pid(load.REDIS_URL)
    assert Path(f"/proc/{pid}/comm").read_text().strip().startswith("redis-server")
    assert server.database_pids() == [pid]
    assert load.Server("hello", "bench.hello_app:app", {}, tmp_path).database_pids() == []
    with pytest.raises(load.BenchError, match=r"no Redis at redis://127\.0\.0\.1:1/0"):
        load.redis_pid("redis://127.0.0.1:1/0")
