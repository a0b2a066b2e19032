"""`python -m bench [--quick] [area ...]`: runs every benchmark module and prints one table."""

from __future__ import annotations

import argparse
import sys
import traceback

from bench import discover, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples (CI smoke run)")
    parser.add_argument("areas", nargs="*", help="only these areas (e.g. simulator)")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, str, str]] = []
    failed = False
    for area, run in discover():
        if args.areas and area not in args.areas:
            continue
        print(f"running {area} ...", file=sys.stderr, flush=True)
        try:
            rows += [(area, *row) for row in run(args.quick)]
        except Exception:  # one broken benchmark must not hide the others' numbers
            failed = True
            traceback.print_exc()
            rows.append((area, "FAILED", "see stderr", ""))
    if not rows:
        print("no benchmarks found", file=sys.stderr)
        return 1
    print(render(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
