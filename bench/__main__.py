"""`make bench` runs every benchmark; `python -m bench NAME ...` runs some of them.

Benchmarks measure (speed, memory) and write bench/results/; they are not tests and never run in
`make test`. Each is a module of this package with a `main()`.
"""

from __future__ import annotations

import argparse
import importlib

# name -> module; each module's main() runs that benchmark with its own defaults (see its docstring).
BENCHES = {
    "pdf": "bench.pdf",
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(BENCHES)}")
    names = parser.parse_args().names or list(BENCHES)
    unknown = sorted(set(names) - set(BENCHES))
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}")
    for name in names:
        print(f"== bench {name} ==", flush=True)
        importlib.import_module(BENCHES[name]).main()


if __name__ == "__main__":
    main()
