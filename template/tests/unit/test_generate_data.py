"""scripts/utilities/generate_data.py lands the sample shop as the data contract says.

Sizes, determinism, referential integrity, the value domains that the dbt seeds, the Great
Expectations suites and the PII scan rely on, each increment's changes against its manifest, and
the refusals (exit status 2, one line, the database untouched).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import require

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "utilities" / "generate_data.py"
KEYS = {"customers": "customer_id", "products": "product_id", "orders": "order_id",
        "order_items": "order_item_id", "payments": "payment_id"}  # fmt: skip
LIFECYCLE = {"placed->paid", "placed->cancelled", "paid->shipped", "paid->cancelled",
             "shipped->delivered", "delivered->returned"}  # fmt: skip
REPLICATION = {"_is_deleted", "_batch_id", "_loaded_at", "updated_at"}


#: Rows that break a rule of the data contract; each must count none.
RULES = r"""
order without customer: raw.orders ANTI JOIN raw.customers USING (customer_id)
item without order: raw.order_items ANTI JOIN raw.orders USING (order_id)
item without product: raw.order_items ANTI JOIN raw.products USING (product_id)
payment without order: raw.payments ANTI JOIN raw.orders USING (order_id)
live payment of a deleted or cancelled order: raw.payments p JOIN raw.orders o USING (order_id)
  WHERE NOT p._is_deleted AND (o._is_deleted OR o.status = 'cancelled')
live order, not cancelled, without one live payment: raw.orders o WHERE NOT _is_deleted
  AND status <> 'cancelled' AND (SELECT count(*) FROM raw.payments p
  WHERE p.order_id = o.order_id AND NOT p._is_deleted) <> 1
payment other than its items: raw.payments p JOIN (SELECT order_id, sum(round(quantity
  * unit_price * (1 - discount_pct * 0.01), 2)) AS s FROM raw.order_items GROUP BY ALL)
  USING (order_id) WHERE s <> p.amount OR p.amount <= 0
order before its customer: raw.orders JOIN raw.customers c USING (customer_id)
  WHERE ordered_at < c.created_at
status outside the seed: raw.orders
  WHERE status NOT IN (SELECT status FROM 'SEEDS/order_statuses.csv')
country outside the seed: raw.customers
  WHERE country_code NOT IN (SELECT country_code FROM 'SEEDS/country_codes.csv')
shipping country outside the seed: raw.orders
  WHERE shipping_country_code NOT IN (SELECT country_code FROM 'SEEDS/country_codes.csv')
other payment method: raw.payments
  WHERE payment_method NOT IN ('card', 'paypal', 'bank_transfer', 'gift_card')
fake PII of another form: raw.customers WHERE NOT regexp_full_match(email,
  '[a-z]+[._][a-z.]+\.?[0-9]+(\.[0-9]+)?@example\.(com|org)')
  OR NOT regexp_full_match(phone, '\+1-555-01[0-9]{2}-[0-9]{4}')
  OR NOT regexp_full_match(street, '1?[0-9]{1,3} [A-Z][a-z]+ (Street|Road|Avenue|Lane|Way)')
  OR NOT regexp_full_match(first_name || ' ' || last_name, '[A-Z][a-z]+ [A-Z][a-z]+')
SKU, category or price off: raw.products WHERE NOT regexp_full_match(sku, '[A-Z]{3}-[0-9]{6}')
  OR category NOT IN ('books', 'electronics', 'home', 'toys', 'sports', 'beauty')
  OR unit_price NOT BETWEEN 0.99 AND 10000 OR unit_price % 1 <> 0.99
item out of range: raw.order_items
  WHERE quantity NOT BETWEEN 1 AND 4 OR discount_pct NOT IN (0, 5, 10, 15, 20)
items per order out of 1-4: raw.orders o WHERE (SELECT count(*) FROM raw.order_items i
  WHERE i.order_id = o.order_id) NOT BETWEEN 1 AND 4
"""


def rules() -> dict[str, str]:
    """RULES by name, reading the dbt seeds, and a duplicate-id rule per table."""
    text = RULES.replace("SEEDS", (ROOT / "dbt" / "seeds").as_posix())
    found = dict(re.findall(r"^(\w[^:\n]*): (.*(?:\n .*)*)", text, re.MULTILINE))
    return found | {
        f"duplicate {key}": f"(SELECT {key} FROM raw.{table} GROUP BY 1 HAVING count(*) > 1)"
        for table, key in KEYS.items()
    }


def generate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, env=env)


def land(database: Path, *args: str) -> dict[str, Any]:
    """Run the generator, expect success, return its manifest (the file must agree)."""
    result = generate("--database", str(database), "--json", *args)
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert "Landed" in result.stderr and "Next: --increment" in result.stderr
    written = database.parent / "loads" / f"batch_{manifest['batch_id']}.json"
    assert json.loads(written.read_text()) == manifest
    return manifest


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    require(importlib.util.find_spec("duckdb") is not None, "duckdb")
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def snapshot(database: Path) -> dict[str, dict[int, dict[str, Any]]]:
    """Every raw table as {id: {column: value}}."""
    names = {t: [c for c, *_ in query(database, f"DESCRIBE raw.{t}")] for t in KEYS}
    return {
        table: {row[0]: dict(zip(names[table], row, strict=True))
                for row in query(database, f"SELECT * FROM raw.{table}")}
        for table in KEYS
    }  # fmt: skip


def fingerprint(database: Path) -> tuple[str, list[str]]:
    if not database.exists():
        return "", []
    loads = sorted(p.name for p in (database.parent / "loads").glob("*"))
    return hashlib.sha256(database.read_bytes()).hexdigest(), loads


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Scale 1: the initial load (kept in a copy), then increments 1 and 2."""
    database = tmp_path_factory.mktemp("series") / "warehouse.duckdb"
    manifests = [land(database, "--scale", "1", "--seed", "42")]
    initial = tmp_path_factory.mktemp("initial") / "warehouse.duckdb"
    shutil.copy(database, initial)
    snapshots = [snapshot(database)]
    for batch in ("1", "2"):
        manifests.append(land(database, "--increment", batch))
        snapshots.append(snapshot(database))
    return dict(initial=initial, database=database, manifests=manifests, snapshots=snapshots)


@pytest.mark.parametrize(("scale", "sizes"), [("1", (1000, 200, 5000)), ("0.1", (100, 20, 500))])
def test_a_scale_has_the_contract_sizes(
    series: dict[str, Any], tmp_path: Path, scale: str, sizes: tuple[int, int, int]
) -> None:
    db = series["initial"] if scale == "1" else tmp_path / "w.duckdb"
    manifest = series["manifests"][0] if scale == "1" else land(db, "--scale", scale)
    n = {t: query(db, f"SELECT count(*) FROM raw.{t}")[0][0] for t in KEYS}
    assert (n["customers"], n["products"], n["orders"]) == sizes
    assert 2.2 <= n["order_items"] / n["orders"] <= 2.8  # 1-4 items, 2.5 on average
    assert (
        n["payments"]
        == query(db, "SELECT count(*) FROM raw.orders WHERE status <> 'cancelled'")[0][0]
    )
    assert query(db, "SELECT min(ordered_at) >= '2025-01-01', max(ordered_at) < '2026-01-01' "
                     "FROM raw.orders") == [(True, True)]  # fmt: skip
    for table in KEYS:
        assert query(db, f"SELECT DISTINCT _batch_id, _is_deleted FROM raw.{table}") == [(0, False)]
        entry = manifest["tables"][table]
        assert (entry["inserted"], entry["updated"], entry["soft_deleted"]) == (n[table], 0, 0)
        assert entry["rows"] == entry["live_rows"] == n[table]
        assert entry["inserted_id_range"] == [1, n[table]] and not entry["ids_truncated"]
    assert (manifest["batch_id"], manifest["kind"], manifest["seed"]) == (0, "initial", 42)
    assert query(db, "SELECT batch_id, kind, seed, scale, business_date FROM raw._load_log") == [
        (0, "initial", 42, float(scale), None)
    ]


@pytest.mark.parametrize("state", ["initial", "database"], ids=["batch 0", "after increments"])
def test_references_value_domains_and_types_hold(series: dict[str, Any], state: str) -> None:
    db = series[state]
    counts = {rule: query(db, f"SELECT count(*) FROM {sql}")[0][0] for rule, sql in rules().items()}
    assert len(counts) == 21 and not {rule: n for rule, n in counts.items() if n}
    for table, columns in runpy.run_path(str(SCRIPT))[
        "TABLES"
    ].items():  # what the qlik mappings compare with
        landed = [(c, t) for c, t, *_ in query(db, f"DESCRIBE raw.{table}")]
        assert landed == [(c, t.replace("VARCHAR(2)", "VARCHAR")) for c, t in columns]


def business(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in REPLICATION}


@pytest.mark.parametrize("batch", [1, 2])
def test_an_increment_changes_what_its_manifest_says(series: dict[str, Any], batch: int) -> None:
    before, after = series["snapshots"][batch - 1], series["snapshots"][batch]
    manifest = series["manifests"][batch]
    assert (manifest["batch_id"], manifest["kind"]) == (batch, "increment")
    assert manifest["business_date"] == f"2026-01-0{batch}"
    loaded_at = datetime.fromisoformat(manifest["loaded_at"])
    for table in KEYS:
        entry, old, new = manifest["tables"][table], before[table], after[table]
        assert not set(old) - set(new), f"{table}: rows vanished instead of being soft-deleted"
        inserted = set(new) - set(old)
        assert len(inserted) == entry["inserted"] > 0 and min(inserted) > max(old)
        assert [min(inserted), max(inserted)] == entry["inserted_id_range"]
        deleted = {i for i in old if new[i]["_is_deleted"] and not old[i]["_is_deleted"]}
        updated = {i for i in old if business(old[i]) != business(new[i])}
        assert (sorted(deleted), len(deleted)) == (entry["soft_deleted_ids"], entry["soft_deleted"])
        assert (sorted(updated), len(updated)) == (entry["updated_ids"], entry["updated"])
        assert (entry["rows"], entry["live_rows"], entry["ids_truncated"]) == (
            len(new), sum(not r["_is_deleted"] for r in new.values()), False)  # fmt: skip
        for i in inserted | deleted | updated:
            assert (new[i]["_batch_id"], new[i]["_loaded_at"]) == (batch, loaded_at), (table, i)
            assert i in inserted or new[i]["updated_at"] > old[i]["updated_at"], (table, i)
            assert new[i]["updated_at"].date().isoformat() == manifest["business_date"]
        unchanged = [i for i in old if i not in deleted | updated and old[i] != new[i]]
        assert not unchanged, f"{table}: rows changed without a reason: {unchanged[:5]}"
        assert not any(new[i]["_is_deleted"] for i in inserted)
    orders, old, new = manifest["tables"]["orders"], before["orders"], after["orders"]
    assert orders["new_status"] == {str(i): new[i]["status"] for i in orders["updated_ids"]}
    moves = [f"{old[i]['status']}->{new[i]['status']}" for i in orders["updated_ids"]]
    assert set(moves) <= LIFECYCLE
    assert orders["status_changes"] == {m: moves.count(m) for m in moves}
    assert orders["updated_columns"] == {"status": orders["updated"]} and orders["updated"] > 0
    live = [r["status"] for r in new.values() if not r["_is_deleted"]]
    assert orders["live_status_counts"] == {s: live.count(s) for s in live}
    assert all(old[i]["status"] == new[i]["status"] for i in orders["soft_deleted_ids"])
    items, gone = after["order_items"].values(), set(orders["soft_deleted_ids"])
    assert all(r["_is_deleted"] for r in items if r["order_id"] in gone)
    assert all(new[r["order_id"]]["_is_deleted"] for r in items if r["_is_deleted"])
    payments = manifest["tables"]["payments"]
    assert sum(payments["soft_deleted_reasons"].values()) == payments["soft_deleted"]
    customers = manifest["tables"]["customers"]
    changed = {c: 0 for c in ("email", "street", "city")}
    for i in customers["updated_ids"]:
        was, now = before["customers"][i], after["customers"][i]
        diff = {c for c in business(was) if was[c] != now[c]}
        assert diff and diff <= set(changed) and now["country_code"] == was["country_code"], i
        changed.update({c: changed[c] + 1 for c in diff})
    assert customers["updated_columns"] == changed and customers["updated"] > 0
    products = manifest["tables"]["products"]
    assert products["new_unit_price"] == {
        str(i): str(after["products"][i]["unit_price"]) for i in products["updated_ids"]
    }
    log = query(series["database"], f"SELECT kind, seed, scale, counts FROM raw._load_log "
                                    f"WHERE batch_id = {batch}")  # fmt: skip
    counts = {t: {k: e[k] for k in ("inserted", "updated", "soft_deleted")}
              for t, e in manifest["tables"].items()}  # fmt: skip
    assert log == [("increment", 42, 1.0, json.dumps(counts, sort_keys=True))]


def test_same_seed_same_rows_other_seed_other_rows(tmp_path: Path) -> None:
    def rows(database: Path) -> dict[str, list[tuple[Any, ...]]]:
        sql = "SELECT * EXCLUDE (_loaded_at) FROM raw.{} ORDER BY 1"
        return {table: query(database, sql.format(table)) for table in KEYS}

    runs = []
    for name in ("a", "b"):
        database = tmp_path / name / "warehouse.duckdb"
        manifests = [
            land(database, "--scale", "0.1", "--seed", "7"),
            land(database, "--increment", "1"),
        ]
        for manifest in manifests:
            for volatile in ("loaded_at", "seconds", "database"):
                manifest.pop(volatile)
        runs.append((rows(database), manifests))
    assert runs[0] == runs[1]
    other = tmp_path / "c" / "warehouse.duckdb"
    land(other, "--scale", "0.1", "--seed", "8")
    for table, found in rows(other).items():
        assert found != runs[0][0][table], table
    land(other, "--increment", "1")
    land(other, "--scale", "0.1", "--seed", "7")  # a new series replaces the old one
    initial = {t: e["rows"] for t, e in runs[0][1][0]["tables"].items()}
    assert {t: len(found) for t, found in rows(other).items()} == initial
    assert query(other, "SELECT batch_id, seed FROM raw._load_log") == [(0, 7)]
    assert sorted(p.name for p in (other.parent / "loads").iterdir()) == ["batch_0.json"]


#: arguments | the one-line error they get
REFUSALS = """
--scale -1 | --scale must be a positive number (got -1): use 1 for the demo size
--scale nan | --scale must be a positive number (got nan)
--scale abc | --scale must be a positive number (got abc)
--scale 1001 | --scale must be at most 1000 (got 1001): use 80
--seed -3 | --seed must be a whole number from 0 to 2**63-1 (got -3): e.g. --seed 42
--increment 0 | --increment must be a whole number >= 1 (got 0): leave --increment out
--increment 2 | increment 2 needs increment 1 first
--increment 1 --seed 8 | --seed 8 differs from the initial load's 42
--increment 1 --scale 2 | --scale 2 differs from the initial load's 0.05
--database {dir}/raw.duckdb | raw.duckdb would clash with schema raw
--database {dir}/new/w.duckdb --increment 1 | no warehouse at
--database {dir}/foreign.duckdb --increment 1 | has raw tables but no raw._load_log
--database {dir}/altered.duckdb --increment 1 | raw.orders in
"""


def test_refusals_are_one_line_and_leave_everything_untouched(tmp_path: Path) -> None:
    database = tmp_path / "wh" / "warehouse.duckdb"
    land(database, "--scale", "0.05")
    import duckdb

    shutil.copy(database, tmp_path / "altered.duckdb")
    for name, sql in (("foreign", "CREATE SCHEMA raw; CREATE TABLE raw.orders (order_id BIGINT)"),
                      ("altered", "ALTER TABLE raw.orders ADD COLUMN note VARCHAR")):  # fmt: skip
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as con:
            con.execute(sql)
    for line in REFUSALS.strip().splitlines():
        args, expected = line.format(dir=tmp_path).split(" | ")
        args = args.split()
        target = Path(args[1]) if args[0] == "--database" else database
        untouched = fingerprint(target)
        result = generate("--database", str(target), *args)
        assert (result.returncode, result.stdout) == (2, ""), (args, result.stderr)
        assert (
            result.stderr.startswith("generate_data.py: error: ") and result.stderr.count("\n") == 1
        )
        assert expected in result.stderr, (args, result.stderr)
        assert fingerprint(target) == untouched, args
    assert not (tmp_path / "new").exists()
    land(database, "--increment", "1")
    result = generate("--database", str(database), "--increment", "1")
    assert result.returncode == 2 and "increment 1 is already landed" in result.stderr
    assert "land --increment 2" in result.stderr
    with duckdb.connect(str(database)):  # another program holds the file: exit status 1
        result = generate("--database", str(database), "--increment", "2")
    assert result.returncode == 1 and "Close the program that holds it" in result.stderr
    alone = shutil.copy(SCRIPT, tmp_path)  # the script without its generate_data.sql: status 1
    args = [sys.executable, alone, "--database", str(tmp_path / "lone" / "w.duckdb")]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr.count("\n")) == (1, 1), result.stderr
    assert "generate_data.sql (No such file" in result.stderr and not (tmp_path / "lone").exists()


def test_the_database_defaults_to_dbt_duckdb_path_and_help_lists_the_options(
    tmp_path: Path,
) -> None:
    database = tmp_path / "from_env" / "dev.duckdb"
    result = generate("--scale", "0.01", env={**os.environ, "DBT_DUCKDB_PATH": str(database)})
    assert result.returncode == 0, result.stderr
    assert (
        f"into {database} (schema raw)" in result.stdout and "Next: --increment 1." in result.stdout
    )
    assert query(database, "SELECT count(*) FROM raw.customers") == [(10,)]
    assert (database.parent / "loads" / "batch_0.json").exists()
    result = generate("--help")
    assert result.returncode == 0
    for option in ("--database", "--scale", "--seed", "--increment", "--json", "DBT_DUCKDB_PATH"):
        assert option in result.stdout


def test_make_generate_starts_over_on_a_warehouse_with_increments(tmp_path: Path) -> None:
    """`make generate` after increments (and a dbt build) replaces the warehouse, saying so:
    re-landing batch 0 under marts built from later batches broke the next build."""
    import duckdb

    require(shutil.which("make") is not None, "make")
    database = tmp_path / "warehouse.duckdb"

    def make(target: str) -> str:
        result = subprocess.run(
            ["make", "--no-print-directory", target, "SCALE=0.02", f"DBT_DUCKDB_PATH={database}"],
            cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        return result.stdout

    assert "Starting over" not in make("generate"), "a first load has nothing to replace"
    make("increment")
    with duckdb.connect(str(database)) as db:  # what `make build` leaves next to raw
        db.execute("create schema marts; create table marts.fct_orders as select 1 as order_id")
    output = make("generate")
    assert "==> Starting over:" in output and "rebuilds every model" in output, output
    assert output.count("Starting over") == 1, "said in one line"
    with duckdb.connect(str(database), read_only=True) as db:
        rows = db.execute("select schema_name from duckdb_schemas()").fetchall()
        schemas = {row[0] for row in rows}
        batches = db.execute("select batch_id from raw._load_log").fetchall()
    assert "marts" not in schemas, "the marts built on the old batches must be gone"
    assert batches == [(0,)], batches
    assert sorted(p.name for p in (tmp_path / "loads").iterdir()) == ["batch_0.json"]
