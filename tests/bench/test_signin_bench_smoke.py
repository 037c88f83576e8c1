"""The sign-in bench still serves the app under gunicorn, keeps patients saving while staff sign
in, and gets through the app's own rate limits. No timing is asserted: `make bench` measures."""

from __future__ import annotations

from bench import signin


def test_the_signin_bench_measures_saves_alone_and_beside_sign_ins() -> None:
    figures = signin.run(seconds=1.0, patients=2, signins=2, limits=True, pause=0)
    alone, loaded = figures["alone"], figures["with_sign_ins"]
    assert alone["saves"] > 0 and alone["sign_ins"] == 0
    assert loaded["saves"] > 0 and loaded["sign_ins"] > 0  # a right password got through
    assert figures["p95_ratio"] > 0
    assert figures["rate_limits"] == "the app's defaults"
