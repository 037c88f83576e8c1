"""The load bench's targets set beside its stack floor (bench/load.py::targets): each verdict
carries the same measure of the engine's stack floor from the same run, so the report can say
which misses are out of the fixed libraries' reach and which are PRIME-PRO's own."""

from __future__ import annotations

from typing import Any

from bench import load, report

OPTIONS = load.Options(["postgresql"], 8.0, 1.5, 3, [1, 20], 100, 0.25, 1)


def _latency(p99: float) -> dict[str, Any]:
    return {"n": 400, "p50": p99 / 2, "p95": p99 * 0.9, "p99": p99, "p99_interval": [p99, p99]}


def _row(system: str, scenario: str, clients: int, ratio: float, **extra: Any) -> dict[str, Any]:
    return {
        "system": system,
        "scenario": scenario,
        "clients": clients,
        "ratio_to_floor": ratio,
        "errors": 0,
        "latency_ms": {},
        "server_cpu_ms_per_response": None,
        **extra,
    }


def _table() -> list[dict[str, Any]]:
    """PostgreSQL and its stack floor: landing at one patient below 0.25 where the floor is not;
    an item step at one patient below it with the floor; the landing's p99 under the line where
    the floor's is over it; the answer's p99 over the line where the floor's is under it; the
    submit's over it for both; CPU over 60 ms for both."""
    rows = []
    for system, landing, item, landing_p99, answer, submit, cpu in (
        ("postgresql", 0.22, 0.15, 60.0, 124.5, 186.1, 255.3),
        ("stack-postgresql", 0.27, 0.17, 105.0, 90.0, 117.8, 216.7),
    ):
        rows += [
            _row(system, "landing", 1, landing),
            _row(system, "landing", 20, 0.3, latency_ms={"landing": _latency(landing_p99)}),
            _row(system, "item", 1, item),
            _row(system, "item", 20, 0.3, latency_ms={"answer_post": _latency(answer)}),
            _row(system, "whole", 1, 0.15, server_cpu_ms_per_response=cpu),
            _row(system, "whole", 20, 0.2, latency_ms={"submit_post": _latency(submit)}),
        ]
    return rows


def _targets() -> dict[str, dict[str, Any]]:
    lines = load.targets(OPTIONS, _table(), {"postgresql": {"item_step": 5}})
    return {line["target"]: line for line in lines}


def test_each_verdict_carries_the_stack_floors_value_and_verdict() -> None:
    lines = _targets()
    answer = lines["postgresql item x20: answer_post p99 < 100 ms"]
    assert (answer["value"], answer["pass"]) == (124.5, False)
    assert answer["stack"] == {"value": 90.0, "pass": True}
    submit = lines["postgresql whole x20: submit_post p99 < 100 ms"]
    assert submit["stack"] == {"value": 117.8, "pass": False}
    cpu = lines["postgresql: <= 60 ms server CPU per whole 21-item response (x1, no PDF)"]
    assert cpu["stack"] == {"value": 216.7, "pass": False}
    errors = lines["postgresql item x20: no errors"]
    assert errors["stack"] == {"value": 0, "pass": True}
    # The floor's statements are not counted: nothing to set beside the budget.
    statements = lines["postgresql: <= 5 SQL statements per item step (GET + POST + redirect)"]
    assert statements["stack"] is None and statements["pass"]
    assert {line["measure"] for line in lines.values()} == {
        "ratio",
        "p99",
        "errors",
        "statements",
        "cpu",
    }


def test_a_ratio_below_the_line_says_whether_the_stack_floor_is_below_it_too() -> None:
    lines = _targets()
    landing = lines["postgresql landing x1: throughput per HTTP request >= 0.5x the hello floor"]
    assert landing["note"] == "below the 0.25x floor, where the stack floor is not"
    item = lines["postgresql item x1: throughput per HTTP request >= 0.5x the hello floor"]
    assert item["note"] == "below the 0.25x floor, as the stack floor is"
    above = lines["postgresql item x20: throughput per HTTP request >= 0.5x the hello floor"]
    assert above["note"] == ""


def test_a_system_without_a_stack_floor_in_the_run_is_judged_alone() -> None:
    table = [row for row in _table() if not row["system"].startswith("stack-")]
    lines = load.targets(OPTIONS, table, {})
    assert lines and all(line["stack"] is None for line in lines)
    landing = next(line for line in lines if line["target"].startswith("postgresql landing x1"))
    assert landing["note"] == "below the 0.25x floor"
    # A ratio below the line counts as such with no floor to set it beside.
    assert load.stack_summary(lines).endswith(
        "Throughput below the 0.25x line: 2 ratios, the stack floor's too in 0 of them."
    )


def test_the_summary_splits_the_misses_between_the_stack_and_prime_pro() -> None:
    lines = list(_targets().values())
    # Misses: 4 ratios (all under 0.5; the floor misses 0.5 in each), the answer's p99 (the floor
    # meets it), the submit's p99 and the CPU (the floor misses both).
    assert load.stack_summary(lines) == (
        f"PRIME-PRO meets {len(lines) - 7} of {len(lines)} targets. Of the 7 it misses, 7 have "
        "the same measure of the stack floor from this run: the stack floor misses 6 of them too "
        "(out of the fixed libraries' reach on this machine), and meets the other 1 "
        "(PRIME-PRO's own). Throughput below the 0.25x line: 2 ratios, the stack floor's too in "
        "1 of them."
    )


def test_each_report_line_names_the_stack_floors_value_and_whether_it_misses_too() -> None:
    text = "\n".join(report.target_lines(list(_targets().values())))
    assert (
        "- FAIL postgresql item x20: answer_post p99 < 100 ms: 124.5; "
        "the stack floor: 90.0, which meets it"
    ) in text
    assert (
        "- FAIL postgresql whole x20: submit_post p99 < 100 ms: 186.1; "
        "the stack floor: 117.8, which misses it too"
    ) in text
    assert (
        "- PASS postgresql landing x20: landing p99 < 100 ms: 60.0; "
        "the stack floor: 105.0, which misses it\n"
    ) in text
    assert "- PASS postgresql: <= 5 SQL statements per item step (GET + POST + redirect): 5\n" in (
        text + "\n"
    )
