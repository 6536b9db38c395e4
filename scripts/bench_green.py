#!/usr/bin/env python3
"""Benchmark a newcomer's first run: copy to green, step by step.

Usage::

    python scripts/bench_green.py [--variant defaults] [--variant full] [--json PATH]
    make bench-green [VARIANTS="defaults full"]

For each variant of ``extensions/catalog.py`` (default: defaults and full) it does what
README.md tells a new user to do, in a temporary folder, and times each step: render
(``copier copy --defaults --vcs-ref HEAD`` of this work tree, committed as it is on
disk), ``git init`` and ``git add -A``, ``make setup``, ``make lint``, ``make test``. The
package cache is whatever uv has (run it twice for the warm-cache figure). It prints each
step's wall time, copy to green in all, the number of tests, and the 10 slowest tests
(from the junit XML that ``make test`` writes). The goals: 3 minutes for defaults and 6
for full, on a quiet two-core machine with a warm package cache.

This is a measurement, not a test: it exits 0 when every step passed, 1 when a step
failed (the step and the end of its output are printed), 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "extensions"))
sys.path.insert(0, str(ROOT / "tests"))

from catalog import named_variants  # noqa: E402

GOALS_S = {"defaults": 180, "full": 360}
STEPS = (
    ("git init", ["sh", "-c", "git init -q && git add -A"]),
    ("make setup", ["make", "setup"]),
    ("make lint", ["make", "lint"]),
    ("make test", ["make", "test"]),
)


def slowest(junit: Path, count: int = 10) -> tuple[int, list[tuple[float, str]]]:
    cases = ET.parse(junit).getroot().iter("testcase")
    timed = [(float(c.get("time") or 0), f"{c.get('classname')}::{c.get('name')}") for c in cases]
    return len(timed), sorted(timed, reverse=True)[:count]


def measure(variant: str, work: Path) -> dict[str, object]:
    from rendering import render, snapshot

    template = snapshot(work / "template")
    project = work / variant
    started = time.perf_counter()
    render(template, project, named_variants()[variant])
    steps = {"render": time.perf_counter() - started}
    for name, command in STEPS:
        started = time.perf_counter()
        print(f"bench-green: {variant}: {name} ...", file=sys.stderr, flush=True)
        result = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
        steps[name] = time.perf_counter() - started
        if result.returncode != 0:
            tail = (result.stdout + result.stderr)[-3000:]
            return {"variant": variant, "steps_s": steps, "failed": name, "output": tail}
    tests, slow = slowest(project / ".local" / "test-results.xml")
    return {"variant": variant, "steps_s": steps, "total_s": sum(steps.values()),
            "tests": tests, "slowest": slow}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", choices=sorted(named_variants()))
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    if not shutil.which("make") or not shutil.which("git"):
        print("bench-green: make and git are needed", file=sys.stderr)
        return 2
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-green-") as folder:
        for variant in args.variant or ["defaults", "full"]:
            figures.append(measure(variant, Path(folder) / variant))
    failed = False
    for entry in figures:
        steps = ", ".join(f"{name} {s:.1f} s" for name, s in entry["steps_s"].items())
        if "failed" in entry:
            failed = True
            print(f"{entry['variant']}: FAILED at {entry['failed']} ({steps})\n{entry['output']}")
            continue
        goal = GOALS_S.get(entry["variant"])
        passed = goal is not None and entry["total_s"] <= goal
        verdict = f", goal {goal} s: {'PASS' if passed else 'FAIL'}" if goal else ""
        print(f"{entry['variant']}: copy to green {entry['total_s']:.0f} s{verdict} ({steps})")
        print(f"  {entry['tests']} tests; the 10 slowest:")
        for seconds, test in entry["slowest"]:
            print(f"  {seconds:7.1f} s  {test}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
