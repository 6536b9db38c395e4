"""The profiler of data_quality/profiles/ on a scratch warehouse (yours is untouched).

The module lands a small initial load (scale 0.05: 50 customers, 250 orders) into a temporary
DuckDB file and profiles its schema raw with ``profile_tables.py``, as ``make profile`` does: the
report names every table and column of the schema, and each figure of it equals what SQL
counts. A warehouse with nulls planted in it shows them; a missing warehouse or an empty
schema is a setup error (exit status 2) whose message says what to run.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, require

PROFILER = ROOT / "data_quality" / "profiles" / "profile_tables.py"
GENERATOR = ROOT / "scripts" / "utilities" / "generate_data.py"
SCALE = "0.05"


def run_profiler(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PROFILER), *args], capture_output=True, text=True, check=False
    )


def profile_of(database: Path, output: Path) -> tuple[dict[str, Any], str]:
    """Profile ``database`` into ``output``: the JSON report and the Markdown one."""
    result = run_profiler("--database", str(database), "--output", str(output))
    assert result.returncode == 0, result.stderr
    (json_report,) = output.glob("raw_*.json")
    (markdown_report,) = output.glob("raw_*.md")
    assert str(markdown_report) in result.stdout
    return json.loads(json_report.read_text()), markdown_report.read_text()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require(importlib.util.find_spec("duckdb") is not None, "duckdb")
    database = tmp_path_factory.mktemp("profiles") / "warehouse.duckdb"
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--database", str(database), "--scale", SCALE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return database


@pytest.fixture(scope="module")
def report(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    return profile_of(warehouse, tmp_path_factory.mktemp("report"))


def sql_columns(database: Path) -> dict[str, list[tuple[str, str]]]:
    import duckdb

    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "select table_name, column_name, data_type from duckdb_columns() "
            "where schema_name = 'raw' order by table_name, column_index"
        ).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        columns.setdefault(table, []).append((column, data_type))
    return columns


def test_the_report_lists_every_raw_table_and_column(warehouse: Path, report: tuple) -> None:
    profile, markdown = report
    expected = sql_columns(warehouse)
    assert {"customers", "products", "orders", "order_items", "payments"} <= set(expected)
    tables = {table["name"]: table for table in profile["tables"]}
    assert set(tables) == set(expected)
    for name, columns in expected.items():
        assert [(c["name"], c["type"]) for c in tables[name]["columns"]] == columns, name
        assert f"## `raw.{name}`" in markdown
        for column, data_type in columns:
            assert f"| `{column}` | {data_type} |" in markdown, f"{name}.{column}"


def test_every_figure_equals_what_sql_counts(warehouse: Path, report: tuple) -> None:
    import duckdb

    profile, _ = report
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for table in profile["tables"]:
            relation = f'raw."{table["name"]}"'
            (rows,) = connection.execute(f"select count(*) from {relation}").fetchone()
            assert table["rows"] == rows > 0, table["name"]
            for column in table["columns"]:
                where = f"{table['name']}.{column['name']}"
                quoted = f'"{column["name"]}"'
                nulls, distinct, low, high = connection.execute(
                    f"select count(*) filter (where {quoted} is null), "
                    f"count(distinct {quoted}), min({quoted})::varchar, max({quoted})::varchar "
                    f"from {relation}"
                ).fetchone()
                assert column["nulls"] == nulls, where
                assert column["null_share"] == round(nulls / rows, 4), where
                assert column["distinct"] == distinct, where
                if "min" in column:
                    assert (column["min"], column["max"]) == (low, high), where
                if "top_values" in column:
                    top = connection.execute(
                        f"select {quoted}::varchar, count(*) from {relation} "
                        f"where {quoted} is not null group by 1 order by 2 desc, 1 limit 5"
                    ).fetchall()
                    top = [(value[:200], count) for value, count in top]  # the JSON cuts at 200
                    assert [(v["value"], v["count"]) for v in column["top_values"]] == top, where


def test_the_figures_the_report_promises(report: tuple) -> None:
    profile, _ = report
    tables = {
        table["name"]: {c["name"]: c for c in table["columns"]} for table in profile["tables"]
    }
    orders = tables["orders"]
    assert {"min", "max", "mean"} <= set(orders["order_id"])  # a number
    assert {"min", "max"} <= set(orders["ordered_at"])  # a timestamp
    assert "top_values" in orders["status"]  # low-cardinality text
    assert "top_values" not in tables["customers"]["email"]  # one value per customer


def test_planted_nulls_show_in_the_profile(warehouse: Path, tmp_path: Path) -> None:
    import duckdb

    broken = tmp_path / "broken.duckdb"
    shutil.copyfile(warehouse, broken)
    with duckdb.connect(str(broken)) as connection:
        connection.execute("update raw.customers set phone = null where customer_id <= 3")
    profile, markdown = profile_of(broken, tmp_path / "report")
    (customers,) = (t for t in profile["tables"] if t["name"] == "customers")
    (phone,) = (c for c in customers["columns"] if c["name"] == "phone")
    assert phone["nulls"] == 3
    assert phone["null_share"] == round(3 / customers["rows"], 4)
    assert "| `phone` | VARCHAR | 3 |" in markdown


def test_a_missing_warehouse_is_a_setup_error(tmp_path: Path) -> None:
    result = run_profiler("--database", str(tmp_path / "none.duckdb"), "--output", str(tmp_path))
    assert result.returncode == 2
    assert f"no warehouse at {tmp_path / 'none.duckdb'}" in result.stderr
    assert "make demo" in result.stderr
    assert not list(tmp_path.glob("raw_*"))


def test_an_empty_schema_is_a_setup_error(warehouse: Path, tmp_path: Path) -> None:
    result = run_profiler(
        "--database", str(warehouse), "--schema", "marts", "--output", str(tmp_path)
    )
    assert result.returncode == 2
    assert "no table in schema marts" in result.stderr
