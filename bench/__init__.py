"""Benchmarks (not tests): `make bench` runs `python -m bench`. Results go to bench/results/."""
