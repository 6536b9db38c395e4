"""One line of a dbt run's result, from its run_results.json (printed by `make demo`).

    dbt build: 33 built, 80 passed, 1 warned in 9.2 s (full log: dbt/logs/dbt.log)

dbt's own output lists every node; this keeps the terminal to one line per build while
the whole log stays in dbt/logs/dbt.log.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

#: dbt's node statuses, in the order shown, with the word for each.
WORDS = {
    "success": "built",
    "pass": "passed",
    "warn": "warned",
    "error": "errored",
    "fail": "failed",
    "skipped": "skipped",
}


def summary(run_results: dict, log: str = "dbt/logs/dbt.log") -> str:
    counts = Counter(str(result.get("status")) for result in run_results.get("results", []))
    order = list(WORDS)
    shown = sorted(counts, key=lambda status: order.index(status) if status in order else 99)
    parts = ", ".join(f"{counts[status]} {WORDS.get(status, status)}" for status in shown)
    command = (run_results.get("args") or {}).get("which") or "build"
    elapsed = float(run_results.get("elapsed_time") or 0)
    return f"dbt {command}: {parts or 'no nodes'} in {elapsed:.1f} s (full log: {log})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "run_results", type=Path, nargs="?", default=Path("dbt/target/run_results.json")
    )
    args = parser.parse_args(argv)
    try:
        run_results = json.loads(args.run_results.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(
            f"dbt_summary: cannot read {args.run_results} ({error}): run `make build` first",
            file=sys.stderr,
        )
        return 1
    print(f"    {summary(run_results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
