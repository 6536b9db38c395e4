"""The sample pipeline end to end, on a scratch DuckDB file (your warehouse is not touched).

The generator lands the initial load, `dbt build --target ci` builds everything, the
generator lands increment 1, `dbt build` runs again (the session's sample warehouse,
`sample_warehouse` of conftest.py). The marts must then agree with the
raw tables and with the generator's manifest of increment 1 (loads/batch_1.json): new
orders are in, changed orders carry their new status, soft-deleted orders are flagged,
fct_orders was merged rather than rebuilt, and the snapshot holds a second version of
every customer the increment changed. The catalog checks read dbt's manifest.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SampleWarehouse

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


@pytest.fixture(scope="module")
def pipeline(sample_warehouse: SampleWarehouse) -> dict[str, Any]:
    """What the tests look at, from the session's sample warehouse (conftest.py)."""
    initial, latest = sample_warehouse.initial, sample_warehouse.latest

    def batch(stage: Path, number: int) -> tuple[dict[str, Any], str]:
        """The batch's manifest and the SQL that dbt ran for fct_orders."""
        manifest = json.loads((stage / "loads" / f"batch_{number}.json").read_text())
        return manifest, next(stage.glob("target/run/*/models/**/fct_orders.sql")).read_text()

    initial_db = initial / "warehouse.duckdb"
    first, first_run_sql = batch(initial, 0)
    increment, second_run_sql = batch(latest, 1)
    manifest = json.loads((latest / "target" / "manifest.json").read_text())
    return {
        "database": latest / "warehouse.duckdb",
        "initial": first,
        "increment": increment["tables"],
        "counts_0": {
            raw: (count(initial_db, f"raw.{raw}"), count(initial_db, mart))
            for raw, mart in MART_OF.items()
        },
        "snapshot_0": count(initial_db, "snapshots.snap_customers"),
        "first_run_sql": first_run_sql,
        "second_run_sql": second_run_sql,
        "nodes": [*manifest["nodes"].values(), *manifest["sources"].values()],
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
    sql = f"select order_id, status from marts.fct_orders where order_id in ({ids})"
    assert dict(query(pipeline["database"], sql)) == expected


@pytest.mark.parametrize(
    ("table", "mart", "key"),
    [("orders", "fct_orders", "order_id"), ("order_items", "fct_order_items", "order_item_id")],
)
def test_soft_deleted_rows_are_flagged_not_dropped(
    pipeline: dict[str, Any], table: str, mart: str, key: str
) -> None:
    deleted = pipeline["increment"][table]["soft_deleted_ids"]
    assert deleted, f"increment 1 soft-deleted no {table}: the check would prove nothing"
    ids = ", ".join(map(str, deleted))
    sql = f"select {key}, is_deleted from marts.{mart} where {key} in ({ids})"
    rows = query(pipeline["database"], sql)
    assert sorted(rows) == [(i, True) for i in sorted(deleted)], f"marts.{mart}: {rows}"


def test_live_orders_per_status_match_the_generator(pipeline: dict[str, Any]) -> None:
    sql = "select status, count(*) from marts.fct_orders where not is_deleted group by status"
    rows = query(pipeline["database"], sql)
    assert dict(rows) == pipeline["increment"]["orders"]["live_status_counts"]


def test_snapshot_has_a_second_version_of_each_changed_customer(
    pipeline: dict[str, Any],
) -> None:
    customers = pipeline["increment"]["customers"]
    changed = customers["updated_ids"]
    assert changed and not customers["ids_truncated"]
    sql = "select customer_id, count(*) from snapshots.snap_customers group by customer_id"
    versions = dict(query(pipeline["database"], sql))
    assert {customer: versions.get(customer) for customer in changed} == dict.fromkeys(changed, 2)
    assert sum(versions.values()) == customers["rows"] + len(changed)
    sql = "select count(*) from snapshots.snap_customers where dbt_valid_to is null"
    assert query(pipeline["database"], sql) == [(customers["rows"],)]


def test_every_model_and_column_is_described(pipeline: dict[str, Any]) -> None:
    undocumented = [
        f"{node['name']}.{column}" if column else node["name"]
        for node in pipeline["nodes"]
        if node["resource_type"] in {"model", "seed", "snapshot", "source"}
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
    catalog = [
        node
        for node in pipeline["nodes"]
        if node["resource_type"] in {"seed", "snapshot", "source"}
        or (node["resource_type"] == "model" and node["config"].get("schema") == "marts")
    ]
    marts = {"dim_customers", "dim_products", "fct_orders", "fct_order_items"}
    assert {node["name"] for node in catalog} >= marts
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
