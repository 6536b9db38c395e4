"""The dbt project builds on Snowflake, emulated offline by fakesnow, twice.

The generator lands the initial load in a scratch DuckDB file; the test copies its raw tables
into the emulated database's schema RAW through the Snowflake connector (as the loader role
would), runs `dbt build --target prod` with dbt-snowflake, applies increment 1 to RAW as
upserts, and builds again: the second build merges into fct_orders and the snapshot. Both
builds must pass every node, and fct_orders must then hold every raw order with the status
increment 1 gave it (the generator's manifest loads/batch_1.json lists them).

fakesnow (https://github.com/tekumara/fakesnow) runs Snowflake SQL on DuckDB, in a thread of
this test on a free 127.0.0.1 port. It lacks a few things dbt-snowflake relies on (temporary
relations, MERGE in a transaction): the macros in emulator/ work around them and
are copied into a scratch copy of dbt/ only, never into dbt/ itself; one SQL rewrite of
fakesnow's is switched off (emulator/README.md says why each exists). Nothing here
checks warehouses, roles or grants: fakesnow has none (test_snowflake_objects.py checks the
scripts that create them).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require

SCALE = "0.1"  # 100 customers, 500 orders, ~1,250 order items: the test runs in about 35 s
SEED = "42"
#: The raw tables and their keys: what a replication tool upserts on.
RAW_KEYS = {
    "customers": "customer_id",
    "products": "product_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "payments": "payment_id",
}
OVERRIDES = Path(__file__).resolve().parent / "emulator"
ROWS_PER_INSERT = 500
#: A build takes about 15 s; a longer one has hung (the connector retries a request that
#: fakesnow answers with HTTP 500 for as long as it is let).
BUILD_TIMEOUT = 120

# fakesnow 0.12.1 on DuckDB 2: noise, not a problem of the project.
pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result:UserWarning")


def snowflake_type(duckdb_type: str) -> str:
    """The Snowflake column type a replication tool gives a DuckDB column type."""
    name = duckdb_type.upper()
    if name in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}:
        return "NUMBER(38,0)"
    if name.startswith("DECIMAL"):
        return "NUMBER" + name.removeprefix("DECIMAL")
    mapped = {"TIMESTAMP": "TIMESTAMP_NTZ", "DOUBLE": "FLOAT", "FLOAT": "FLOAT"}
    if name in mapped:
        return mapped[name]
    if name in {"VARCHAR", "BOOLEAN", "DATE"}:
        return name
    raise AssertionError(f"the test has no Snowflake type for DuckDB's {duckdb_type}")


class Emulator:
    """A scratch copy of the project, the generator's warehouse and a fakesnow server."""

    def __init__(self, root: Path, work: Path, dbt: str, server: dict[str, Any]) -> None:
        answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
        self.root = root
        self.work = work
        self.dbt = dbt
        self.server = server
        self.database = f"{answers['snowflake_database_prefix']}_PROD".upper()
        self.warehouse = work / "warehouse.duckdb"
        self.project = work / "dbt"
        shutil.copytree(
            root / "dbt",
            self.project,
            ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"),
        )
        # The compatibility macros go into the copy only, next to the project's own.
        macros = self.project / "macros" / "_snowflake_emulator"
        macros.mkdir(parents=True)
        overrides = sorted(OVERRIDES.glob("*.sql"))
        assert overrides, f"no compatibility macros in {OVERRIDES}: restore emulator/*.sql"
        for override in overrides:
            shutil.copy(override, macros / override.name)
        self.profiles = work / "profiles"
        self.profiles.mkdir()
        self.write_profile()
        role = answers["snowflake_role_prefix"]
        self.env = {
            **os.environ,
            "DBT_TARGET": "prod",
            "DBT_LOG_PATH": str(work / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            # What .env.example sets for the prod target (fakesnow ignores role and warehouse).
            "SNOWFLAKE_ROLE": f"{role}_TRANSFORMER",
            "SNOWFLAKE_WAREHOUSE": f"{role}_TRANSFORMING_WH",
            "SNOWFLAKE_DATABASE": self.database,
        }
        for variable in ("DBT_SCHEMA_PREFIX", "DBT_PROFILES_DIR", "DBT_PROJECT_DIR"):
            self.env.pop(variable, None)  # the prod schemas, this copy, this profile
        import snowflake.connector

        self.connection = snowflake.connector.connect(**server)
        # What snowflake/schemas/prod.sql creates for the loader (the dbt schemas dbt creates).
        self.execute(f"create database if not exists {self.database}")
        self.execute(f"create schema if not exists {self.database}.RAW")
        self.execute(f"use schema {self.database}.RAW")

    def write_profile(self) -> None:
        """The project's prod output with the emulator's address instead of key-pair auth."""
        profiles = yaml.safe_load((self.root / "dbt" / "profiles.yml").read_text())
        name = yaml.safe_load((self.project / "dbt_project.yml").read_text())["profile"]
        prod = dict(profiles[name]["outputs"]["prod"])
        for auth in ("authenticator", "private_key", "private_key_path", "private_key_passphrase"):
            prod.pop(auth, None)
        prod.update(
            account=self.server["account"],
            user=self.server["user"],
            password=self.server["password"],
            host=self.server["host"],
            port=self.server["port"],
            protocol=self.server["protocol"],
            connect_retries=0,
        )
        profile = {name: {"target": "prod", "outputs": {"prod": prod}}}
        (self.profiles / "profiles.yml").write_text(yaml.safe_dump(profile, sort_keys=False))

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            try:
                return cursor.fetchall()
            except TypeError:  # a statement without a result set
                return []

    def generate(self, *args: str) -> dict[str, Any]:
        script = self.root / "scripts" / "utilities" / "generate_data.py"
        cmd = [sys.executable, str(script), "--database", str(self.warehouse), *args]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
        assert result.returncode == 0, f"generate_data.py failed:\n{result.stdout}{result.stderr}"
        batch = int(args[args.index("--increment") + 1]) if "--increment" in args else 0
        return json.loads((self.work / "loads" / f"batch_{batch}.json").read_text())

    def land(self, batch: int) -> None:
        """Apply batch N of the generator's raw tables to RAW, as upserts on each key."""
        import duckdb

        with duckdb.connect(str(self.warehouse), read_only=True) as source:
            for table, key in RAW_KEYS.items():
                columns = source.execute(f"describe raw.{table}").fetchall()
                rows = source.execute(
                    f"select * from raw.{table} where _batch_id = ? order by {key}", [batch]
                ).fetchall()
                if batch == 0:
                    definition = ", ".join(f"{c[0]} {snowflake_type(c[1])}" for c in columns)
                    self.execute(f"create or replace table RAW.{table} ({definition})")
                position = [c[0] for c in columns].index(key)
                for start in range(0, len(rows), ROWS_PER_INSERT):
                    chunk = rows[start : start + ROWS_PER_INSERT]
                    if batch:
                        keys = ", ".join(["%s"] * len(chunk))
                        self.execute(
                            f"delete from RAW.{table} where {key} in ({keys})",
                            [row[position] for row in chunk],
                        )
                    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
                    self.execute(
                        f"insert into RAW.{table} values {', '.join([row] * len(chunk))}",
                        [value for values in chunk for value in values],
                    )

    def build(self) -> list[dict[str, Any]]:
        """`dbt build --target prod` on the emulator; returns dbt's results of the nodes."""
        cmd = [
            self.dbt,
            "build",
            "--target",
            "prod",
            "--project-dir",
            str(self.project),
            "--profiles-dir",
            str(self.profiles),
            # fakesnow has no masking policies and no ACCOUNT_USAGE (security's hooks and models).
            "--vars",
            "{apply_masking_policies: false, build_audit_logs: false}",
        ]
        log = self.work / "logs" / "dbt.log"
        try:
            result = subprocess.run(
                cmd,
                env=self.env,
                cwd=self.work,
                capture_output=True,
                text=True,
                check=False,
                timeout=BUILD_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            tail = log.read_text()[-6000:] if log.exists() else ""
            pytest.fail(f"dbt build hung for {BUILD_TIMEOUT} s; its log ends:\n{tail}")
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"dbt build on the emulator failed:\n{output[-6000:]}"
        run_results = json.loads((self.project / "target" / "run_results.json").read_text())
        return run_results["results"]

    def run_sql(self, model: str) -> str:
        """The SQL dbt ran last for a model (target/run)."""
        return next((self.project / "target" / "run").glob(f"*/models/**/{model}.sql")).read_text()

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def emulator(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    bin_dirs = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    dbt = shutil.which("dbt", path=bin_dirs)
    require(dbt is not None, "dbt")
    for module, package in (
        ("dbt.adapters.snowflake", "dbt-snowflake"),
        ("duckdb", "duckdb"),
        ("fakesnow", "fakesnow"),
        ("uvicorn", "fakesnow[server]"),
    ):
        require(importlib.util.find_spec(module) is not None, package)
    import fakesnow
    import fakesnow.transforms

    # fakesnow rewrites SUM(x) (and AVG, MEDIAN, ...) to SUM(TRY_CAST(x AS DOUBLE)), for
    # Snowflake's implicit cast of text to numbers; on a NUMBER(12,2) column that turns an
    # exact sum of money into a float one, which Snowflake never does. The project sums
    # numbers only: keep them exact (emulator/README.md).
    monkeypatch.setattr(fakesnow.transforms, "numeric_agg_implicit_cast", lambda sql: sql)
    # The server runs in a thread of this process, on a free 127.0.0.1 port, until the end.
    with fakesnow.server() as server:
        emulator = Emulator(root, tmp_path, str(dbt), server)
        try:
            yield emulator
        finally:
            emulator.close()


def assert_all_passed(results: list[dict[str, Any]], build: str) -> None:
    assert results, f"the {build} build ran no node"
    failed = {
        r["unique_id"]: r["status"] for r in results if r["status"] not in {"success", "pass"}
    }
    assert not failed, f"the {build} build did not pass every node: {failed}"


def test_dbt_builds_and_merges_an_increment_on_emulated_snowflake(emulator: Emulator) -> None:
    emulator.generate("--scale", SCALE, "--seed", SEED)
    emulator.land(0)
    first = emulator.build()
    assert_all_passed(first, "first")
    kinds = {r["unique_id"].split(".")[0] for r in first}
    assert {"seed", "model", "snapshot", "test"} <= kinds, kinds

    increment = emulator.generate("--increment", "1")["tables"]
    emulator.land(1)
    second = emulator.build()
    assert_all_passed(second, "second")
    assert "merge into" in emulator.run_sql("fct_orders").lower(), (
        "the second build did not merge into fct_orders: is it still incremental?"
    )

    raw_orders = emulator.execute("select count(*) from RAW.orders")[0][0]
    assert raw_orders == increment["orders"]["rows"], "RAW.orders misses rows of the generator"
    built_orders = emulator.execute("select count(*) from MARTS.fct_orders")[0][0]
    assert built_orders == raw_orders, (
        f"fct_orders has {built_orders} rows, RAW.orders {raw_orders}"
    )

    expected = {int(order): status for order, status in increment["orders"]["new_status"].items()}
    assert expected, "increment 1 changed no order status: the check would prove nothing"
    ids = ", ".join(map(str, expected))
    built = emulator.execute(
        f"select order_id, status from MARTS.fct_orders where order_id in ({ids})"
    )
    assert {int(order): status for order, status in built} == expected

    deleted = increment["orders"]["soft_deleted_ids"]
    assert deleted, "increment 1 soft-deleted no order: the check would prove nothing"
    ids = ", ".join(map(str, deleted))
    flags = emulator.execute(f"select is_deleted from MARTS.fct_orders where order_id in ({ids})")
    assert flags == [(True,)] * len(deleted), "soft-deleted orders must stay, flagged"

    changed = increment["customers"]["updated_ids"]
    assert changed, "increment 1 changed no customer: the snapshot check would prove nothing"
    ids = ", ".join(map(str, changed))
    versions = emulator.execute(
        f"select customer_id, count(*) from SNAPSHOTS.snap_customers "
        f"where customer_id in ({ids}) group by customer_id"
    )
    assert dict(versions) == dict.fromkeys(changed, 2), "the snapshot missed a new version"
