"""The load bench's interval for a percentile (bench/load.py::percentile_interval): how far the
p99 of a cell's samples can be trusted, and the note a target gets when its interval spans the
line."""

from __future__ import annotations

import math
from fractions import Fraction

from bench import load


def _ranks(n: int, q: float) -> tuple[float, float | None]:
    # Samples 1..n: each order statistic is its own rank.
    return load.percentile_interval([float(rank) for rank in range(n, 0, -1)], q)


def _coverage(n: int, q: float, low: int, high: int) -> float:
    """P(low <= Binomial(n, q) < high): how often [x(low), x(high)] holds the true quantile
    (in exact integers: q = a/b)."""
    a, b = Fraction(q).limit_denominator(1000).as_integer_ratio()
    hits = sum(math.comb(n, k) * a**k * (b - a) ** (n - k) for k in range(low, high))
    return float(Fraction(hits, b**n))


def test_the_median_of_a_thousand_samples_has_the_textbook_interval() -> None:
    assert _ranks(1000, 0.5) == (469, 532)


def test_each_end_misses_the_quantile_at_most_2_5_times_in_100_and_is_the_tightest() -> None:
    for n, q in ((1000, 0.99), (500, 0.95), (2000, 0.99), (400, 0.5)):
        low, high = _ranks(n, q)
        assert high is not None
        lower, upper = int(low), int(high)
        assert _coverage(n, q, 0, lower) <= 0.025 < _coverage(n, q, 0, lower + 1)
        assert _coverage(n, q, upper, n + 1) <= 0.025 < _coverage(n, q, upper - 1, n + 1)
        assert _coverage(n, q, lower, upper) >= 0.95


def test_a_p99_from_a_few_hundred_samples_has_no_upper_bound() -> None:
    low, high = _ranks(240, 0.99)
    assert high is None
    assert _coverage(240, 0.99, int(low), 241) >= 0.95


def test_a_target_says_when_its_samples_cannot_tell_the_side_of_the_line() -> None:
    spanning = {"n": 240, "p99": 105.6, "p99_interval": [81.3, None]}
    assert load._p99_note(spanning) == (
        "n=240: its 95% interval, ≥ 81.3 (too few samples to bound) ms, spans the line"
    )
    assert load._p99_note({"n": 5000, "p99": 64.4, "p99_interval": [61.0, 68.2]}) == ""
    assert load._p99_note({"n": 5000, "p99": 120.0, "p99_interval": [110.0, 130.0]}) == ""
    assert "spans the line" in load._p99_note({"n": 900, "p99": 99.0, "p99_interval": [95, 104]})


def test_no_samples_no_interval() -> None:
    low, high = load.percentile_interval([], 0.99)
    assert math.isnan(low) and high is None
