"""`make bench` runs every benchmark; `python -m bench NAME [OPTIONS]` runs one.

Benchmarks measure (speed, memory) and write bench/results/; they are not tests and never run in
`make test`. Each is a module of this package with a `cli(argv)` that reads its own options:

    python -m bench                              # all, with their defaults
    python -m bench pdf [--records N]            # BENCH_RECORDS also sets it (default 1000)
    python -m bench exports [--participants N]   # default 10,000 participants
    python -m bench load [--quick] [--engines sqlite,postgresql] [--seconds S] [--rounds R]
    python -m bench staff [--quick] [--engines sqlite,postgresql] [--participants N] [--seconds S]
    python -m bench signin [--seconds S]         # 16 concurrent sign-ins vs patients' saves
"""

from __future__ import annotations

import importlib
import sys

# name -> module; each module's cli(argv) runs that benchmark (see its docstring).
BENCHES = {
    "pdf": "bench.pdf",
    "exports": "bench.exports",
    "staff": "bench.staff",
    "load": "bench.load",
    "signin": "bench.signin",
}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return
    if argv and argv[0] not in BENCHES:
        sys.exit(f"python -m bench: no benchmark {argv[0]!r}; choose from {', '.join(BENCHES)}")
    chosen = [(argv[0], argv[1:])] if argv else [(name, []) for name in BENCHES]
    for name, options in chosen:
        print(f"== bench {name} ==", flush=True)
        importlib.import_module(BENCHES[name]).cli(options)


if __name__ == "__main__":
    main()
