"""scripts/utilities/generate_data.py lands the sample shop as the data contract says.

Sizes at scale 1 and 0.1, determinism, referential integrity and value domains, the changes of
each increment against its manifest, and the refusals (exit status 2, database untouched).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import require

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "utilities" / "generate_data.py"
KEYS = {
    "customers": "customer_id",
    "products": "product_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "payments": "payment_id",
}
COUNTRIES = {"US", "CA", "GB", "DE", "FR", "NL", "ES", "IT", "SE", "AU"}
STATUSES = {"placed", "paid", "shipped", "delivered", "cancelled", "returned"}
METHODS = {"card", "paypal", "bank_transfer", "gift_card"}
#: The status changes an increment may make.
LIFECYCLE = {
    ("placed", "paid"),
    ("placed", "cancelled"),
    ("paid", "shipped"),
    ("paid", "cancelled"),
    ("shipped", "delivered"),
    ("delivered", "returned"),
}
REPLICATION = {"_is_deleted", "_batch_id", "_loaded_at", "updated_at"}


def duckdb_module() -> Any:
    require(importlib.util.find_spec("duckdb") is not None, "duckdb")
    import duckdb

    return duckdb


def generate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def land(database: Path, *args: str) -> dict[str, Any]:
    """Run the generator, expect success, return its manifest (and check the file agrees)."""
    result = generate("--database", str(database), "--json", *args)
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    written = database.parent / "loads" / f"batch_{manifest['batch_id']}.json"
    assert json.loads(written.read_text()) == manifest
    return manifest


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb_module().connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def scalar(database: Path, sql: str) -> Any:
    return query(database, sql)[0][0]


def snapshot(database: Path) -> dict[str, dict[int, dict[str, Any]]]:
    """Every raw table as {id: {column: value}}."""
    con = duckdb_module().connect(str(database), read_only=True)
    try:
        tables = {}
        for table in KEYS:
            cursor = con.execute(f"SELECT * FROM raw.{table}")
            columns = [d[0] for d in cursor.description]
            tables[table] = {
                row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()
            }
        return tables
    finally:
        con.close()


def fingerprint(database: Path) -> tuple[str, list[str]]:
    loads = database.parent / "loads"
    names = sorted(p.name for p in loads.iterdir()) if loads.exists() else []
    return hashlib.sha256(database.read_bytes()).hexdigest(), names


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Scale 1: the initial load (kept in a copy), then increments 1 and 2."""
    duckdb_module()
    folder = tmp_path_factory.mktemp("series")
    database = folder / "warehouse.duckdb"
    manifests = [land(database, "--scale", "1", "--seed", "42")]
    initial = tmp_path_factory.mktemp("initial") / "warehouse.duckdb"
    shutil.copy(database, initial)
    snapshots = [snapshot(database)]
    for batch in (1, 2):
        manifests.append(land(database, "--increment", str(batch)))
        snapshots.append(snapshot(database))
    return {
        "initial": initial,
        "database": database,
        "manifests": manifests,
        "snapshots": snapshots,
    }


def test_scale_one_has_the_contract_sizes(series: dict[str, Any]) -> None:
    db, manifest = series["initial"], series["manifests"][0]
    counts = {t: scalar(db, f"SELECT count(*) FROM raw.{t}") for t in KEYS}
    assert counts["customers"] == 1000
    assert counts["products"] == 200
    assert counts["orders"] == 5000
    assert 12_000 <= counts["order_items"] <= 13_000
    assert query(db, "SELECT min(n), max(n) FROM (SELECT count(*) AS n FROM raw.order_items "
                     "GROUP BY order_id)") == [(1, 4)]  # fmt: skip
    assert scalar(db, "SELECT count(DISTINCT order_id) FROM raw.order_items") == 5000
    not_cancelled = scalar(db, "SELECT count(*) FROM raw.orders WHERE status <> 'cancelled'")
    assert counts["payments"] == not_cancelled
    assert scalar(db, "SELECT count(DISTINCT order_id) FROM raw.payments") == not_cancelled
    for table in KEYS:
        assert query(db, f"SELECT DISTINCT _batch_id, _is_deleted FROM raw.{table}") == [(0, False)]
        entry = manifest["tables"][table]
        assert (entry["inserted"], entry["updated"], entry["soft_deleted"]) == (counts[table], 0, 0)
        assert entry["rows"] == entry["live_rows"] == counts[table]
        assert entry["inserted_id_range"] == [1, counts[table]]
    assert (manifest["batch_id"], manifest["seed"], manifest["scale"]) == (0, 42, 1.0)
    assert query(db, "SELECT batch_id, kind, seed, scale FROM raw._load_log") == [
        (0, "initial", 42, 1.0)
    ]
    first, last = query(db, "SELECT min(ordered_at), max(ordered_at) FROM raw.orders")[0]
    assert datetime(2025, 1, 1) <= first and last < datetime(2026, 1, 1)


def test_scale_a_tenth_keeps_the_proportions(tmp_path: Path) -> None:
    duckdb_module()
    database = tmp_path / "tenth.duckdb"
    manifest = land(database, "--scale", "0.1")
    counts = {t: scalar(database, f"SELECT count(*) FROM raw.{t}") for t in KEYS}
    assert (counts["customers"], counts["products"], counts["orders"]) == (100, 20, 500)
    assert 1_100 <= counts["order_items"] <= 1_400
    assert counts["payments"] == scalar(
        database, "SELECT count(*) FROM raw.orders WHERE status <> 'cancelled'"
    )
    assert {t: e["inserted"] for t, e in manifest["tables"].items()} == counts


@pytest.mark.parametrize("state", ["initial", "database"], ids=["batch 0", "after increments"])
def test_references_and_value_domains_hold(series: dict[str, Any], state: str) -> None:
    db = series[state]
    orphans = {
        "order without customer": "SELECT count(*) FROM raw.orders o "
        "ANTI JOIN raw.customers c ON c.customer_id = o.customer_id",
        "item without order": "SELECT count(*) FROM raw.order_items i "
        "ANTI JOIN raw.orders o ON o.order_id = i.order_id",
        "item without product": "SELECT count(*) FROM raw.order_items i "
        "ANTI JOIN raw.products p ON p.product_id = i.product_id",
        "payment without order": "SELECT count(*) FROM raw.payments p "
        "ANTI JOIN raw.orders o ON o.order_id = p.order_id",
        "live payment of a deleted or cancelled order": "SELECT count(*) FROM raw.payments p "
        "JOIN raw.orders o USING (order_id) WHERE NOT p._is_deleted "
        "AND (o._is_deleted OR o.status = 'cancelled')",
        "live order, not cancelled, without a live payment": "SELECT count(*) FROM raw.orders o "
        "WHERE NOT o._is_deleted AND o.status <> 'cancelled' AND NOT EXISTS (SELECT 1 FROM "
        "raw.payments p WHERE p.order_id = o.order_id AND NOT p._is_deleted)",
        "payment amount other than its items": "SELECT count(*) FROM raw.payments p JOIN ("
        "SELECT order_id, sum(round(quantity * unit_price * (1 - discount_pct * 0.01), 2)) AS s "
        "FROM raw.order_items GROUP BY order_id) USING (order_id) WHERE s <> p.amount",
        "order before its customer signed up": "SELECT count(*) FROM raw.orders o "
        "JOIN raw.customers c USING (customer_id) WHERE o.ordered_at < c.created_at",
        "duplicate id": " UNION ALL ".join(
            f"SELECT count(*) - count(DISTINCT {key}) FROM raw.{table}"
            for table, key in KEYS.items()
        ),
    }
    problems = {
        name: n for name, sql in orphans.items() if (n := sum(r[0] for r in query(db, sql)))
    }
    assert not problems
    values = {
        "country_code": "SELECT DISTINCT country_code FROM raw.customers",
        "shipping_country_code": "SELECT DISTINCT shipping_country_code FROM raw.orders",
        "status": "SELECT DISTINCT status FROM raw.orders",
        "payment_method": "SELECT DISTINCT payment_method FROM raw.payments",
    }
    found = {name: {r[0] for r in query(db, sql)} for name, sql in values.items()}
    assert found["country_code"] <= COUNTRIES
    assert found["shipping_country_code"] <= COUNTRIES
    assert found["status"] <= STATUSES
    assert found["payment_method"] <= METHODS
    assert (
        scalar(
            db,
            "SELECT count(*) FROM raw.customers WHERE NOT regexp_full_match(email, "
            "'[a-z.]+(_[a-z]+)?\\.?[0-9]+(\\.[0-9]+)?@example\\.(com|org)') "
            "OR NOT regexp_full_match(phone, '\\+1-555-01[0-9]{2}-[0-9]{4}')",
        )
        == 0
    )
    types = dict(
        query(
            db,
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND column_name IN "
            "('unit_price', 'amount', 'discount_pct', '_batch_id', '_is_deleted')",
        )
    )
    assert types["products.unit_price"] == types["order_items.unit_price"] == "DECIMAL(12,2)"
    assert types["payments.amount"] == "DECIMAL(12,2)"
    assert types["order_items.discount_pct"] == "DECIMAL(5,2)"
    assert types["orders._batch_id"] == "INTEGER" and types["orders._is_deleted"] == "BOOLEAN"


def business(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in REPLICATION}


@pytest.mark.parametrize("batch", [1, 2])
def test_an_increment_changes_what_its_manifest_says(series: dict[str, Any], batch: int) -> None:
    before, after = series["snapshots"][batch - 1], series["snapshots"][batch]
    manifest = series["manifests"][batch]
    assert manifest["batch_id"] == batch and manifest["kind"] == "increment"
    assert manifest["business_date"] == f"2026-01-0{batch}"
    loaded_at = datetime.fromisoformat(manifest["loaded_at"])
    for table, key in KEYS.items():
        entry, old, new = manifest["tables"][table], before[table], after[table]
        assert not entry["ids_truncated"]
        inserted = set(new) - set(old)
        assert not set(old) - set(new), f"{table}: rows vanished instead of being soft-deleted"
        assert len(inserted) == entry["inserted"] == len(new) - len(old)
        if inserted:
            assert [min(inserted), max(inserted)] == entry["inserted_id_range"]
            assert min(inserted) > max(old)
        deleted = {i for i in old if new[i]["_is_deleted"] and not old[i]["_is_deleted"]}
        updated = {i for i in old if business(old[i]) != business(new[i])}
        assert (
            sorted(deleted) == entry["soft_deleted_ids"] and len(deleted) == entry["soft_deleted"]
        )
        assert sorted(updated) == entry["updated_ids"] and len(updated) == entry["updated"]
        assert entry["rows"] == len(new)
        assert entry["live_rows"] == sum(not r["_is_deleted"] for r in new.values())
        touched = inserted | deleted | updated
        for i in touched:
            assert new[i]["_batch_id"] == batch, (table, key, i)
            assert new[i]["_loaded_at"] == loaded_at, (table, key, i)
            if i in old:
                assert new[i]["updated_at"] > old[i]["updated_at"], (table, key, i)
        unchanged = [i for i in old if i not in touched and old[i] != new[i]]
        assert not unchanged, f"{table}: rows changed without a reason: {unchanged[:5]}"
        assert all(not new[i]["_is_deleted"] for i in inserted)
    orders = manifest["tables"]["orders"]
    old, new = before["orders"], after["orders"]
    assert orders["new_status"] == {str(i): new[i]["status"] for i in orders["updated_ids"]}
    moves = {(old[i]["status"], new[i]["status"]) for i in orders["updated_ids"]}
    assert moves <= LIFECYCLE
    assert sum(orders["status_changes"].values()) == orders["updated"] > 0
    assert all(old[i]["status"] == new[i]["status"] for i in orders["soft_deleted_ids"])
    gone = set(orders["soft_deleted_ids"])
    items = after["order_items"].values()
    assert all(r["_is_deleted"] for r in items if r["order_id"] in gone)
    assert all(new[r["order_id"]]["_is_deleted"] for r in items if r["_is_deleted"])
    customers = manifest["tables"]["customers"]
    assert customers["updated"] > 0
    for i in customers["updated_ids"]:
        was, now = before["customers"][i], after["customers"][i]
        changed = {c for c in business(was) if was[c] != now[c]}
        assert changed and changed <= {"email", "street", "city"}, (i, changed)
        assert now["country_code"] == was["country_code"]
    products = manifest["tables"]["products"]
    assert products["new_unit_price"] == {
        str(i): str(after["products"][i]["unit_price"]) for i in products["updated_ids"]
    }
    log = query(series["database"], f"SELECT kind, seed, scale FROM raw._load_log "
                                    f"WHERE batch_id = {batch}")  # fmt: skip
    assert log == [("increment", 42, 1.0)]


def test_same_seed_same_rows_other_seed_other_rows(tmp_path: Path) -> None:
    duckdb_module()

    def rows(database: Path) -> dict[str, list[tuple[Any, ...]]]:
        return {
            table: query(database, f"SELECT * EXCLUDE (_loaded_at) FROM raw.{table} ORDER BY {key}")
            for table, key in KEYS.items()
        }

    runs = []
    for name in ("a", "b"):
        database = tmp_path / name / "warehouse.duckdb"
        first = land(database, "--scale", "0.1", "--seed", "7")
        second = land(database, "--increment", "1")
        runs.append((rows(database), first, second))
    assert runs[0][0] == runs[1][0]
    volatile = {"loaded_at", "seconds", "database"}
    for i in (1, 2):
        a, b = ({k: v for k, v in run[i].items() if k not in volatile} for run in runs)
        assert a == b
    other = tmp_path / "c" / "warehouse.duckdb"
    land(other, "--scale", "0.1", "--seed", "8")
    changed = rows(other)
    for table in ("customers", "products", "orders", "order_items"):
        assert changed[table] != runs[0][0][table], table


@pytest.mark.parametrize("scale", ["-1", "0", "abc", "nan"])
def test_a_bad_scale_is_refused_and_writes_nothing(tmp_path: Path, scale: str) -> None:
    database = tmp_path / "new" / "warehouse.duckdb"
    result = generate("--database", str(database), f"--scale={scale}")
    assert result.returncode == 2
    message = result.stderr.strip()
    assert "\n" not in message
    assert f"--scale must be a positive number (got {scale})" in message
    assert "use 1 for the demo size" in message
    assert not (tmp_path / "new").exists()


def test_a_file_named_like_a_schema_is_refused(tmp_path: Path) -> None:
    database = tmp_path / "new" / "raw.duckdb"
    result = generate("--database", str(database))
    assert result.returncode == 2
    assert "raw.duckdb would clash with schema raw" in result.stderr
    assert not (tmp_path / "new").exists()


def test_loads_out_of_order_are_refused_and_leave_the_database_untouched(
    tmp_path: Path,
) -> None:
    duckdb_module()
    missing = tmp_path / "missing" / "warehouse.duckdb"
    result = generate("--database", str(missing), "--increment", "1")
    assert result.returncode == 2 and "land the initial load first" in result.stderr
    assert not missing.parent.exists()

    database = tmp_path / "wh" / "warehouse.duckdb"
    land(database, "--scale", "0.05")
    untouched = fingerprint(database)
    refusals = {
        ("--increment", "2"): "increment 2 needs increment 1 first",
        ("--increment", "0"): "--increment must be a whole number >= 1",
        ("--increment", "1", "--seed", "8"): "--seed 8 differs from the initial load's 42",
        ("--increment", "1", "--scale", "2"): "--scale 2 differs from the initial load's 0.05",
        ("--scale", "-1"): "--scale must be a positive number (got -1)",
    }
    for args, expected in refusals.items():
        result = generate("--database", str(database), *args)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr, (args, result.stderr)
        assert fingerprint(database) == untouched, args

    land(database, "--increment", "1")
    untouched = fingerprint(database)
    result = generate("--database", str(database), "--increment", "1")
    assert result.returncode == 2 and "increment 1 is already landed" in result.stderr
    assert fingerprint(database) == untouched

    foreign = tmp_path / "foreign.duckdb"
    con = duckdb_module().connect(str(foreign))
    con.execute("CREATE SCHEMA raw; CREATE TABLE raw.orders (order_id BIGINT)")
    con.close()
    untouched = fingerprint(foreign)
    result = generate("--database", str(foreign), "--increment", "1")
    assert result.returncode == 2 and "no raw._load_log" in result.stderr
    assert fingerprint(foreign) == untouched


def test_the_database_defaults_to_dbt_duckdb_path(tmp_path: Path) -> None:
    duckdb_module()
    database = tmp_path / "from_env" / "dev.duckdb"
    env = {**os.environ, "DBT_DUCKDB_PATH": str(database)}
    result = generate("--scale", "0.01", env=env)
    assert result.returncode == 0, result.stderr
    assert "customers" in result.stdout and str(database) in result.stdout
    assert scalar(database, "SELECT count(*) FROM raw.customers") == 10
    assert (database.parent / "loads" / "batch_0.json").exists()


def test_help_documents_the_options() -> None:
    result = generate("--help")
    assert result.returncode == 0
    for option in ("--database", "--scale", "--seed", "--increment", "--json", "DBT_DUCKDB_PATH"):
        assert option in result.stdout
