"""Measure the demo pipeline: dbt against the same transformations as plain SQL.

    python scripts/utilities/benchmark.py --scale 1 --scale 80 [--seed 42] [--runs 1]

For each scale, in a scratch DuckDB file (the dev warehouse is not touched):

0. `make demo SCALE=<scale>` end to end: initial load, dbt build, increment 1,
   dbt build again (timed);
1. the generator lands the initial load (timed);
2. `dbt build` runs the whole project: seeds, models, snapshot, tests (timed),
   then `dbt run` the models alone on a fresh copy of the raw data (timed);
3. the same work as plain SQL through the duckdb Python API, on fresh copies of
   the raw data, from the SQL dbt compiled (manifest `compiled_code`):
   - models only: every model in dependency order with
     `CREATE OR REPLACE TABLE|VIEW ... AS` (compare with `dbt run`);
   - everything `dbt build` does: the seeds loaded from their CSV files, the
     models, the snapshot's first load (its select plus the SCD2 columns), and
     every data test run as a query (compare with `dbt build`; dbt's unit tests
     have no plain-SQL equivalent and are left out);
4. a table of the figures and the ratios dbt build / plain SQL (same work) and
   dbt run / plain SQL (models).

It prints figures; it asserts nothing (use the tests for that). Exit status 2
when a scale is not a positive number or a tool is missing.
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
DBT_DIR = ROOT / "dbt"


def fail(message: str) -> None:
    print(f"benchmark: {message}", file=sys.stderr)
    sys.exit(2)


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f"--scale must be a positive number (got {text!r}): use 1 for the demo size"
        )
    return value


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        fail(f"{' '.join(cmd[:4])} ... failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return elapsed


def dbt_env(database: Path, work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DBT_DUCKDB_PATH": str(database),
        "DBT_PROFILES_DIR": str(DBT_DIR),
        "DBT_PROJECT_DIR": str(DBT_DIR),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def dbt(*args: str) -> list[str]:
    executable = shutil.which("dbt")
    if executable is None:
        fail("dbt is not on PATH: run `make setup` and use `uv run` or .venv/bin/python")
    return [executable, *args, "--target", "ci"]


def relation_of(node: dict) -> str:
    return f'"{node["schema"]}"."{node["alias"] or node["name"]}"'


def plain_sql_plan(manifest: dict) -> list[tuple[str, str, str]]:
    """(relation, materialization, compiled SQL) of every model, in dependency order."""
    nodes = {
        uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"
    }
    order: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in nodes:
            return
        seen.add(uid)
        for parent in nodes[uid]["depends_on"]["nodes"]:
            visit(parent)
        order.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    plan = []
    for uid in order:
        node = nodes[uid]
        kind = "view" if node["config"]["materialized"] == "view" else "table"
        plan.append((relation_of(node), kind, node["compiled_code"]))
    return plan


def build_extras(manifest: dict) -> tuple[list[str], list[str], list[str]]:
    """Plain SQL for what dbt build adds to the models: seeds, snapshots, data tests."""
    nodes = manifest["nodes"].values()
    seeds = [
        f"create or replace table {relation_of(n)} as select * from "
        f"read_csv('{DBT_DIR / n['original_file_path']}', header = true)"
        for n in nodes
        if n["resource_type"] == "seed"
    ]
    snapshots = [
        f"create or replace table {relation_of(n)} as select *, "
        f"{n['config']['updated_at']} as dbt_updated_at, "
        f"{n['config']['updated_at']} as dbt_valid_from, "
        f"cast(null as timestamp) as dbt_valid_to, "
        f"md5(cast({n['config']['unique_key']} as varchar) || '|' || "
        f"cast({n['config']['updated_at']} as varchar)) as dbt_scd_id "
        f"from ({n['compiled_code']}) as source"
        for n in nodes
        if n["resource_type"] == "snapshot"
    ]
    tests = [
        f"select count(*) from ({n['compiled_code']}) as failures"
        for n in nodes
        if n["resource_type"] == "test" and n.get("compiled_code")
    ]
    return seeds, snapshots, tests


def run_plain_sql(
    database: Path,
    plan: list[tuple[str, str, str]],
    schemas: set[str],
    before: list[str] = (),
    after: list[str] = (),
) -> float:
    """Run the statements; `after` ones are queries (data tests) whose rows are fetched."""
    import duckdb

    started = time.perf_counter()
    with duckdb.connect(str(database)) as connection:
        for schema in sorted(schemas):
            connection.execute(f'create schema if not exists "{schema}"')
        for statement in before:
            connection.execute(statement)
        for relation, kind, sql in plan:
            connection.execute(f"create or replace {kind} {relation} as {sql}")
        for statement in after:
            connection.execute(statement).fetchall()
    return time.perf_counter() - started


def measure(scale: float, seed: int, work: Path) -> dict[str, float]:
    work.mkdir(parents=True)
    # Every copy has the same file name: DuckDB names the catalog after the file,
    # and dbt's compiled SQL names it too.
    raw = work / "source" / "warehouse.duckdb"
    raw.parent.mkdir()
    env = dbt_env(raw, work)
    figures = {"scale": scale}
    demo_env = {**env, "DBT_DUCKDB_PATH": str(work / "demo" / "warehouse.duckdb")}
    figures["make_demo_s"] = timed(
        ["make", "-C", str(ROOT), "demo", f"SCALE={scale:g}", f"SEED={seed}"], demo_env
    )
    figures["generate_s"] = timed(
        [sys.executable, str(GENERATOR), "--database", str(raw), "--scale", str(scale),
         "--seed", str(seed)],
        env,
    )  # fmt: skip
    import duckdb

    with duckdb.connect(str(raw), read_only=True) as connection:
        figures["order_items"] = connection.execute(
            "select count(*) from raw.order_items"
        ).fetchone()[0]

    build_db = work / "build" / "warehouse.duckdb"
    shutil.copytree(raw.parent, build_db.parent)
    figures["dbt_build_s"] = timed(dbt("build"), dbt_env(build_db, work))

    run_db = work / "run" / "warehouse.duckdb"
    shutil.copytree(raw.parent, run_db.parent)
    run_env = dbt_env(run_db, work)
    timed(dbt("seed"), run_env)
    figures["dbt_run_s"] = timed(dbt("run"), run_env)

    # The manifest of `dbt build` holds the compiled SQL of tests and snapshots too.
    timed(dbt("compile", "--full-refresh"), dbt_env(build_db, work))
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    plan = plain_sql_plan(manifest)
    seeds, snapshots, tests = build_extras(manifest)
    schemas = {
        node["schema"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed", "snapshot"}
    }
    sql_db = work / "sql" / "warehouse.duckdb"
    shutil.copytree(raw.parent, sql_db.parent)
    timed(dbt("seed"), dbt_env(sql_db, work))
    figures["sql_models_s"] = run_plain_sql(sql_db, plan, schemas)
    same_db = work / "same" / "warehouse.duckdb"
    shutil.copytree(raw.parent, same_db.parent)
    figures["sql_build_s"] = run_plain_sql(
        same_db, plan, schemas, before=seeds, after=snapshots + tests
    )
    figures["tests"] = len(tests)
    figures["build_ratio"] = figures["dbt_build_s"] / figures["sql_build_s"]
    figures["run_ratio"] = figures["dbt_run_s"] / figures["sql_models_s"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=positive, action="append", help="repeatable; default 1")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not GENERATOR.exists():
        fail(f"{GENERATOR.relative_to(ROOT)} is missing")
    rows = []
    with tempfile.TemporaryDirectory(prefix="benchmark-") as scratch:
        for index, scale in enumerate(args.scale or [1.0]):
            print(f"benchmark: scale {scale:g} ...", file=sys.stderr, flush=True)
            rows.append(measure(scale, args.seed, Path(scratch) / str(index)))
    print(
        "dbt build vs the same work as plain SQL (seeds, models, snapshot, "
        f"{rows[0]['tests']} data tests); dbt run vs the models alone as plain SQL"
    )
    header = (
        f"{'scale':>6} {'order_items':>11} {'make demo s':>11} {'generate s':>10} "
        f"{'dbt build s':>11} {'SQL same s':>10} {'build/SQL':>9} "
        f"{'dbt run s':>9} {'SQL models s':>12} {'run/SQL':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['scale']:>6g} {row['order_items']:>11,} {row['make_demo_s']:>11.2f} "
            f"{row['generate_s']:>10.2f} {row['dbt_build_s']:>11.2f} "
            f"{row['sql_build_s']:>10.2f} {row['build_ratio']:>9.2f} "
            f"{row['dbt_run_s']:>9.2f} {row['sql_models_s']:>12.2f} {row['run_ratio']:>7.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
