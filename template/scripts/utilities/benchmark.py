"""Time the demo pipeline at the scales given: how long each step takes as the data grows.

    python scripts/utilities/benchmark.py --scale 1 --scale 80 [--seed 42] [--json FILE]

Per scale, in a scratch DuckDB file (the dev warehouse is not touched), it times the steps of
`make demo`: the initial load, `dbt build`, increment 1 and the incremental `dbt build`, and
prints them with the rows landed. It asserts nothing. Exit status 2 when a scale is not a
positive number or a step fails (its output is shown).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "utilities" / "generate_data.py"
STEPS = ("load_s", "build_s", "increment_s", "incremental_build_s")


def fail(message: str) -> None:
    print(f"benchmark: {message}", file=sys.stderr)
    sys.exit(2)


def positive(text: str) -> float:
    try:
        if float(text) > 0:
            return float(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        f"--scale must be a positive number (got {text!r}): use 1 for the demo size"
    )


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        fail(f"{' '.join(cmd[:4])} ... failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return time.perf_counter() - started


def measure(scale: float, seed: int, work: Path) -> dict[str, float]:
    database = work / "warehouse.duckdb"
    env = {
        **os.environ,
        "DBT_DUCKDB_PATH": str(database),
        "DBT_PROFILES_DIR": str(ROOT / "dbt"),
        "DBT_PROJECT_DIR": str(ROOT / "dbt"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    dbt = shutil.which("dbt") or fail("dbt is not on PATH: run `make setup`, then `make benchmark`")
    generate = [sys.executable, str(GENERATOR), "--database", str(database)]
    build = [str(dbt), "build", "--target", "ci"]
    load = [*generate, "--scale", f"{scale:g}", "--seed", str(seed)]
    times = [timed(step, env) for step in (load, build, [*generate, "--increment", "1"], build)]
    manifest = json.loads((work / "loads" / "batch_0.json").read_text())
    return {"scale": scale, "order_items": manifest["tables"]["order_items"]["rows"]} | dict(
        zip(STEPS, times, strict=True)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=positive, action="append", help="repeatable; default 1")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="benchmark-") as scratch:
        for index, scale in enumerate(args.scale or [1.0]):
            print(f"benchmark: scale {scale:g} ...", file=sys.stderr, flush=True)
            rows.append(measure(scale, args.seed, Path(scratch) / str(index)))
    header = "scale  order_items  load s  dbt build s  increment s  incremental build s"
    print(header, "-" * len(header), sep="\n")
    for row in rows:
        print(
            "{scale:>5g} {order_items:>12,} {load_s:>7.2f} {build_s:>12.2f} {increment_s:>12.2f} "
            "{incremental_build_s:>20.2f}".format_map(row)
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
