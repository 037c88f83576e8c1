"""`make bench` runs `python -m bench`: every benchmark, results in bench/results/.

python -m bench                       # the PDF bench (BENCH_RECORDS, default 1000), then exports
python -m bench pdf [--records N]
python -m bench exports [--participants N]   # default 10,000 participants
"""

from __future__ import annotations

import argparse

from bench import exports, pdf


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("which", nargs="?", choices=["all", "pdf", "exports"], default="all")
    parser.add_argument("--records", type=int, default=None, help="PDF bench: sealed records")
    parser.add_argument(
        "--participants",
        type=int,
        default=exports.DEFAULT_PARTICIPANTS,
        help="export bench: participants at the largest size",
    )
    args = parser.parse_args()
    if args.which in ("all", "pdf"):
        pdf.main(args.records)
    if args.which in ("all", "exports"):
        exports.main(args.participants)


if __name__ == "__main__":
    main()
