"""Measure a rendered prototype's pipeline: dbt against the same transformations as plain SQL.

    PROJECT/.venv/bin/python scripts/bench_dbt.py --project PROJECT --scale 1 --scale 80 \
        [--seed 42] [--json FILE]

PROJECT is a rendered prototype after `make setup` (`make prototype DEST=PROJECT`); run the
script with its Python, which has dbt and duckdb. Per scale, on fresh copies of the generated raw
data in scratch DuckDB files (the project's warehouse is not touched), it times `make demo`, the
generator, `dbt build` and `dbt run`, and the same work as plain SQL from the SQL dbt compiled:
the models alone, and the seeds, models, snapshot and data tests (dbt's unit tests have no
plain-SQL equivalent). It prints the figures and the ratios and asserts nothing: it measures what
dbt costs on top of the warehouse's own work, a figure about the template's dbt project, not
something a prototype's users need (their `make benchmark` times the pipeline's steps). Exit
status 2 when a scale is not a positive number, PROJECT is not a set-up prototype, or a tool is
missing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from graphlib import TopologicalSorter
from pathlib import Path

#: Set by main() from --project: the rendered prototype, its generator and dbt project.
ROOT = GENERATOR = DBT_DIR = Path()


def fail(message: str) -> None:
    print(f"benchmark: {message}", file=sys.stderr)
    sys.exit(2)


def positive(text: str) -> float:
    with contextlib.suppress(ValueError):
        if float(text) > 0:
            return float(text)
    raise argparse.ArgumentTypeError(
        f"--scale must be a positive number (got {text!r}): use 1 for the demo size"
    )


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
    executable = ROOT / ".venv" / "bin" / "dbt"
    if not executable.exists():
        fail(f"{executable} is missing: run `make setup` in {ROOT}")
    return [str(executable), *args, "--target", "ci"]


#: resource type -> the plain SQL that does what dbt does with such a node (a snapshot's first
#: load: its select plus the SCD2 columns; a data test: a query).
PLAIN_SQL = {
    "seed": "create or replace table {relation} as select * from read_csv('{csv}', header = true)",
    "model": "create or replace {table_or_view} {relation} as {compiled_code}",
    "snapshot": (
        "create or replace table {relation} as select *, {updated_at} as dbt_updated_at, "
        "{updated_at} as dbt_valid_from, cast(null as timestamp) as dbt_valid_to, "
        "md5(cast({unique_key} as varchar) || '|' || cast({updated_at} as varchar)) as dbt_scd_id "
        "from ({compiled_code}) as source"
    ),
    "test": "select count(*) from ({compiled_code}) as failures",
}


def plain_sql(manifest: dict) -> dict[str, list[str]]:
    """The plain SQL of every node by resource type, in dependency order, and "schema": the
    statements that create the schemas."""
    nodes = manifest["nodes"]
    graph = {uid: node["depends_on"].get("nodes", []) for uid, node in sorted(nodes.items())}
    found: dict[str, list[str]] = {kind: [] for kind in PLAIN_SQL}
    for node in (nodes[uid] for uid in TopologicalSorter(graph).static_order() if uid in nodes):
        kind, config = node["resource_type"], node["config"]
        if kind not in found or (kind == "test" and not node.get("compiled_code")):
            continue
        facts = {
            "relation": f'"{node["schema"]}"."{node["alias"] or node["name"]}"',
            "csv": DBT_DIR / node["original_file_path"],
            "table_or_view": "view" if config["materialized"] == "view" else "table",
        }
        found[kind].append(PLAIN_SQL[kind].format_map(config | node | facts))
    schemas = {
        n["schema"] for n in nodes.values() if n["resource_type"] in {"model", "seed", "snapshot"}
    }
    found["schema"] = [f'create schema if not exists "{schema}"' for schema in sorted(schemas)]
    return found


def run_plain_sql(database: Path, statements: list[str], queries: list[str] = ()) -> float:
    """Run the statements, then the queries (data tests), fetching their rows."""
    import duckdb

    started = time.perf_counter()
    with duckdb.connect(str(database)) as connection:
        for statement in statements:
            connection.execute(statement)
        for query in queries:
            connection.execute(query).fetchall()
    return time.perf_counter() - started


def measure(scale: float, seed: int, work: Path) -> dict[str, float]:
    # Every copy has the same file name: DuckDB names the catalog after the file,
    # and dbt's compiled SQL names it too.
    raw = work / "source" / "warehouse.duckdb"
    raw.parent.mkdir(parents=True)

    def fresh(name: str) -> tuple[Path, dict[str, str]]:
        """A copy of the raw data in work/<name>, and dbt's environment on it."""
        shutil.copytree(raw.parent, work / name)
        return work / name / raw.name, dbt_env(work / name / raw.name, work)

    figures = {"scale": scale}
    figures["make_demo_s"] = timed(
        ["make", "-C", str(ROOT), "demo", f"SCALE={scale:g}", f"SEED={seed}"],
        dbt_env(work / "demo" / raw.name, work),
    )
    figures["generate_s"] = timed(
        [sys.executable, str(GENERATOR), "--database", str(raw), "--scale", str(scale),
         "--seed", str(seed)],
        dbt_env(raw, work),
    )  # fmt: skip
    batch_0 = json.loads((raw.parent / "loads" / "batch_0.json").read_text())
    figures["order_items"] = batch_0["tables"]["order_items"]["rows"]

    _, build_env = fresh("build")
    figures["dbt_build_s"] = timed(dbt("build"), build_env)
    _, run_env = fresh("run")
    timed(dbt("seed"), run_env)
    figures["dbt_run_s"] = timed(dbt("run"), run_env)

    # The manifest of `dbt build` holds the compiled SQL of tests and snapshots too.
    timed(dbt("compile", "--full-refresh"), build_env)
    sql = plain_sql(json.loads((work / "target" / "manifest.json").read_text()))
    sql_db, sql_env = fresh("sql")
    timed(dbt("seed"), sql_env)
    figures["sql_models_s"] = run_plain_sql(sql_db, sql["schema"] + sql["model"])
    everything = sql["schema"] + sql["seed"] + sql["model"] + sql["snapshot"]
    figures["sql_build_s"] = run_plain_sql(fresh("same")[0], everything, sql["test"])
    figures["tests"] = len(sql["test"])
    figures["build_ratio"] = figures["dbt_build_s"] / figures["sql_build_s"]
    figures["run_ratio"] = figures["dbt_run_s"] / figures["sql_models_s"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="a rendered prototype")
    parser.add_argument("--scale", type=positive, action="append", help="repeatable; default 1")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    global ROOT, GENERATOR, DBT_DIR
    ROOT = args.project.resolve()
    GENERATOR, DBT_DIR = ROOT / "scripts" / "utilities" / "generate_data.py", ROOT / "dbt"
    if not GENERATOR.exists():
        fail(f"{ROOT} is not a rendered prototype: it has no {GENERATOR.relative_to(ROOT)}")
    try:
        import duckdb  # noqa: F401
    except ImportError:
        fail(f"duckdb is missing: run this script with {ROOT / '.venv/bin/python'}")
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
    print(header, "-" * len(header), sep="\n")
    for row in rows:
        print(
            "{scale:>6g} {order_items:>11,} {make_demo_s:>11.2f} {generate_s:>10.2f} "
            "{dbt_build_s:>11.2f} {sql_build_s:>10.2f} {build_ratio:>9.2f} {dbt_run_s:>9.2f} "
            "{sql_models_s:>12.2f} {run_ratio:>7.2f}".format_map(row)
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
