"""The sample pipeline end to end, on a scratch DuckDB file (your warehouse is not touched).

The generator lands the initial load, `dbt build --target ci` builds everything, the
generator lands increment 1, `dbt build` runs again. The marts must then agree with the
raw tables and with the generator's manifest of increment 1 (loads/batch_1.json): new
orders are in, changed orders carry their new status, soft-deleted orders are flagged,
fct_orders was merged rather than rebuilt, and the snapshot holds a second version of
every customer the increment changed. The catalog checks read dbt's manifest.json.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require

SCALE = "0.2"  # 200 customers, 1,000 orders: the whole module runs in about 20 s
SEED = "42"
#: Raw table -> the mart that holds one row per raw row (soft-deleted rows included).
MART_OF = {
    "customers": "marts.dim_customers",
    "products": "marts.dim_products",
    "orders": "marts.fct_orders",
    "order_items": "marts.fct_order_items",
}
CLASSIFICATIONS = {"pii", "confidential", "internal", "public"}


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    import duckdb

    # Read-only and closed at once: dbt needs the file for itself in the next step.
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def count(database: Path, relation: str) -> int:
    return query(database, f"select count(*) from {relation}")[0][0]


class Pipeline:
    """Runs the steps in one scratch folder and keeps what the tests look at."""

    def __init__(self, root: Path, work: Path, dbt: str) -> None:
        self.root = root
        self.work = work
        self.dbt = dbt
        self.database = work / "warehouse.duckdb"
        self.target = work / "target"
        self.env = {
            **os.environ,
            "DBT_PROFILES_DIR": str(root / "dbt"),
            "DBT_DUCKDB_PATH": str(self.database),
            "DBT_TARGET_PATH": str(self.target),
            "DBT_LOG_PATH": str(work / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        }
        # Schema names must be the plain ones the assertions use.
        self.env.pop("DBT_SCHEMA_PREFIX", None)

    def run(self, *cmd: str) -> str:
        result = subprocess.run(
            cmd, env=self.env, cwd=self.root, capture_output=True, text=True, check=False
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{' '.join(cmd[:3])} ... failed:\n{output[-6000:]}"
        return output

    def generate(self, *args: str) -> dict[str, Any]:
        script = str(self.root / "scripts" / "utilities" / "generate_data.py")
        self.run(sys.executable, script, "--database", str(self.database), *args)
        batch = 0 if "--increment" not in args else int(args[args.index("--increment") + 1])
        return json.loads((self.work / "loads" / f"batch_{batch}.json").read_text())

    def build(self) -> str:
        project = str(self.root / "dbt")
        return self.run(self.dbt, "build", "--project-dir", project, "--target", "ci")

    def compiled_run_sql(self, model: str) -> str:
        return next(self.target.glob(f"run/*/models/**/{model}.sql")).read_text()


@pytest.fixture(scope="module")
def pipeline(root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    dbt = shutil.which("dbt")
    require(dbt is not None, "dbt")
    require(importlib.util.find_spec("duckdb") is not None, "duckdb")
    steps = Pipeline(root, tmp_path_factory.mktemp("pipeline"), dbt)

    initial = steps.generate("--scale", SCALE, "--seed", SEED)
    steps.build()
    db = steps.database
    counts_0 = {raw: (count(db, f"raw.{raw}"), count(db, mart)) for raw, mart in MART_OF.items()}
    snapshot_0 = count(db, "snapshots.snap_customers")
    first_run_sql = steps.compiled_run_sql("fct_orders")

    increment = steps.generate("--increment", "1")
    steps.build()
    return {
        "steps": steps,
        "database": db,
        "initial": initial,
        "increment": increment["tables"],
        "counts_0": counts_0,
        "snapshot_0": snapshot_0,
        "first_run_sql": first_run_sql,
        "second_run_sql": steps.compiled_run_sql("fct_orders"),
        "manifest": json.loads((steps.target / "manifest.json").read_text()),
    }


def test_initial_build_has_a_mart_row_per_raw_row(pipeline: dict[str, Any]) -> None:
    assert pipeline["initial"]["tables"]["orders"]["rows"] > 0
    for raw, (raw_rows, mart_rows) in pipeline["counts_0"].items():
        assert mart_rows == raw_rows, f"{MART_OF[raw]} has {mart_rows} rows, raw.{raw} {raw_rows}"
    customers = pipeline["counts_0"]["customers"][0]
    assert pipeline["snapshot_0"] == customers, "the first snapshot holds one version each"


def test_after_the_increment_every_raw_row_is_in_its_mart(pipeline: dict[str, Any]) -> None:
    db = pipeline["database"]
    for raw, mart in MART_OF.items():
        assert count(db, mart) == count(db, f"raw.{raw}"), f"{mart} and raw.{raw} differ"
        assert count(db, mart) == pipeline["increment"][raw]["rows"]


def test_fct_orders_was_merged_not_rebuilt(pipeline: dict[str, Any]) -> None:
    assert "merge into" not in pipeline["first_run_sql"].lower()
    assert "merge into" in pipeline["second_run_sql"].lower(), (
        "the second build did not merge into fct_orders: is it still incremental?"
    )


def test_new_orders_appear(pipeline: dict[str, Any]) -> None:
    first, last = pipeline["increment"]["orders"]["inserted_id_range"]
    rows = query(
        pipeline["database"],
        f"select count(*), min(batch_id), max(batch_id) from marts.fct_orders "
        f"where order_id between {first} and {last}",
    )
    assert rows == [(last - first + 1, 1, 1)]


def test_changed_orders_have_their_new_status(pipeline: dict[str, Any]) -> None:
    orders = pipeline["increment"]["orders"]
    expected = {int(order_id): status for order_id, status in orders["new_status"].items()}
    assert expected, "increment 1 changed no order status: the check would prove nothing"
    ids = ", ".join(map(str, expected))
    built = dict(
        query(
            pipeline["database"],
            f"select order_id, status from marts.fct_orders where order_id in ({ids})",
        )
    )
    assert built == expected


def test_soft_deleted_rows_are_flagged_not_dropped(pipeline: dict[str, Any]) -> None:
    db = pipeline["database"]
    for table, mart, key in (
        ("orders", "marts.fct_orders", "order_id"),
        ("order_items", "marts.fct_order_items", "order_item_id"),
    ):
        deleted = pipeline["increment"][table]["soft_deleted_ids"]
        assert deleted, f"increment 1 soft-deleted no {table}: the check would prove nothing"
        ids = ", ".join(map(str, deleted))
        rows = query(db, f"select {key}, is_deleted from {mart} where {key} in ({ids})")
        assert sorted(rows) == [(i, True) for i in sorted(deleted)], f"{mart}: {rows}"


def test_live_orders_per_status_match_the_generator(pipeline: dict[str, Any]) -> None:
    rows = query(
        pipeline["database"],
        "select status, count(*) from marts.fct_orders where not is_deleted group by status",
    )
    assert dict(rows) == pipeline["increment"]["orders"]["live_status_counts"]


def test_snapshot_has_a_second_version_of_each_changed_customer(
    pipeline: dict[str, Any],
) -> None:
    customers = pipeline["increment"]["customers"]
    changed = customers["updated_ids"]
    assert changed and not customers["ids_truncated"]
    versions = dict(
        query(
            pipeline["database"],
            "select customer_id, count(*) from snapshots.snap_customers group by customer_id",
        )
    )
    assert {customer: versions.get(customer) for customer in changed} == dict.fromkeys(changed, 2)
    assert sum(versions.values()) == customers["rows"] + len(changed)
    current = query(
        pipeline["database"],
        "select count(*) from snapshots.snap_customers where dbt_valid_to is null",
    )
    assert current == [(customers["rows"],)]


def test_every_model_and_column_is_described(pipeline: dict[str, Any]) -> None:
    manifest = pipeline["manifest"]
    nodes = [
        node
        for node in [*manifest["nodes"].values(), *manifest["sources"].values()]
        if node["resource_type"] in {"model", "seed", "snapshot", "source"}
    ]
    undocumented = [
        f"{node['name']}.{column}" if column else node["name"]
        for node in nodes
        for column, description in [
            (None, node["description"]),
            *((name, c["description"]) for name, c in node["columns"].items()),
        ]
        if not description.strip()
    ]
    assert not undocumented, f"describe them in the YAML next to the SQL: {undocumented}"


def test_catalog_columns_carry_owner_and_classification(
    root: Path, pipeline: dict[str, Any]
) -> None:
    owner = yaml.safe_load((root / ".copier-answers.yml").read_text())["owner"]
    manifest = pipeline["manifest"]
    catalog = [
        node
        for node in [*manifest["nodes"].values(), *manifest["sources"].values()]
        if node["resource_type"] in {"seed", "snapshot", "source"}
        or (node["resource_type"] == "model" and node["config"].get("schema") == "marts")
    ]
    assert {node["name"] for node in catalog} >= {
        "dim_customers",
        "dim_products",
        "fct_orders",
        "fct_order_items",
    }
    problems = []
    for node in catalog:
        if node["meta"].get("owner") != owner:
            problems.append(f"{node['name']}: meta owner {node['meta'].get('owner')!r}")
        # The SQL's columns are the contract's (marts) or the YAML's (the others).
        for name, column in node["columns"].items():
            meta = column["meta"]
            if meta.get("owner") != owner or meta.get("classification") not in CLASSIFICATIONS:
                problems.append(f"{node['name']}.{name}: meta {meta}")
    assert not problems, (
        f"every catalog column needs meta owner {owner!r} and a classification in "
        f"{sorted(CLASSIFICATIONS)}: {problems}"
    )
