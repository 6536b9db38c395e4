"""`make looker` follows dbt: a new mart gets its view, a removed one loses it, bad input stops."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require
from lookml_project import dbt_parse, generate, load

NEW_MART_SQL = """select
    customer_id,
    count(*) as return_count,
    sum(order_amount) as returned_amount
from {{ ref('fct_orders') }}
where status = 'returned'
group by customer_id
"""
NEW_MART_YML = """models:
  - name: fct_returns
    description: Returned orders per customer.
    columns:
      - name: customer_id
        description: Customer who returned orders.
        data_type: bigint
        data_tests:
          - unique
          - relationships:
              arguments:
                to: ref('dim_customers')
                field: customer_id
      - name: return_count
        description: Number of returned orders.
        data_type: bigint
      - name: returned_amount
        description: What the returned orders cost.
        data_type: decimal(38,2)
"""


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_adding_a_mart_adds_exactly_its_view_and_explore(root: Path, tmp_path: Path) -> None:
    require(shutil.which("dbt") is not None, "dbt")
    dbt = tmp_path / "dbt"
    shutil.copytree(root / "dbt", dbt, ignore=shutil.ignore_patterns("target", "logs"))
    (dbt / "models" / "marts" / "fct_returns.sql").write_text(NEW_MART_SQL)
    (dbt / "models" / "marts" / "_fct_returns.yml").write_text(NEW_MART_YML)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(dbt_parse(dbt, tmp_path / "work")))
    looker = tmp_path / "looker"
    shutil.copytree(root / "looker", looker)
    before = snapshot(looker)

    result = generate(looker / "generate_lookml.py", manifest, looker)

    assert result.returncode == 0, result.stderr
    after = snapshot(looker)
    added = sorted(set(after) - set(before))
    assert added == [
        "explores/generated/fct_returns.explore.lkml",
        "views/generated/fct_returns.view.lkml",
    ]
    assert not set(before) - set(after)
    assert [n for n in before if before[n] != after[n]] == []
    view = load(looker).views["fct_returns"]
    assert view.table == "@{database}.MARTS.FCT_RETURNS"
    assert {"customer_id", "return_count", "total_returned_amount", "count"} <= view.fields
    assert "${fct_returns.customer_id} = ${dim_customers.customer_id}" in after[added[0]]


def test_a_removed_mart_loses_its_view(root: Path, tmp_path: Path) -> None:
    looker = tmp_path / "looker"
    shutil.copytree(root / "looker", looker)
    manifest = manifest_without(root, tmp_path, "dim_products")
    result = generate(looker / "generate_lookml.py", manifest, looker)
    assert result.returncode == 0, result.stderr
    assert not (looker / "views" / "generated" / "dim_products.view.lkml").exists()
    assert not (looker / "explores" / "generated" / "dim_products.explore.lkml").exists()
    assert (looker / "views" / "generated" / "dim_customers.view.lkml").exists()
    assert not list(looker.glob(".generate-*")), "the generator left its temporary folder"


def manifest_without(root: Path, tmp_path: Path, mart: str) -> Path:
    """A small manifest built from the committed views' marts, minus one mart."""
    views = load(root / "looker").views
    nodes = {
        f"model.demo.{name}": {
            "resource_type": "model",
            "package_name": "demo",
            "name": name,
            "fqn": ["demo", "marts", name],
            "schema": "marts",
            "config": {"schema": "marts"},
            "original_file_path": f"models/marts/{name}.sql",
            "columns": {"id": {"name": "id", "data_type": "bigint"}},
        }
        for name in views
        if name != mart
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"metadata": {"project_name": "demo"}, "nodes": nodes}))
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no dbt manifest at"),
        ("{not json", "is not a readable JSON manifest"),
        (
            '{"metadata": {"project_name": "demo"}, "nodes": {}}',
            "holds no model under models/marts/",
        ),
    ],
)
def test_bad_manifest_stops_with_one_line_and_writes_nothing(
    root: Path, tmp_path: Path, content: str | None, expected: str
) -> None:
    looker = tmp_path / "looker"
    shutil.copytree(root / "looker", looker)
    before = snapshot(looker)
    manifest = tmp_path / "manifest.json"
    if content is not None:
        manifest.write_text(content)
    result = generate(looker / "generate_lookml.py", manifest, looker)
    assert result.returncode == 1
    assert expected in result.stderr and "make looker" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert snapshot(looker) == before


def test_connection_fill_names_every_missing_variable(root: Path) -> None:
    script = root / "looker" / "data_sources" / "fill_connection.py"
    env = {"PATH": "/usr/bin:/bin", "LOOKER_SNOWFLAKE_ACCOUNT": "xy12345"}
    result = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    assert "LOOKER_SNOWFLAKE_PRIVATE_KEY_BASE64" in result.stderr
    assert "LOOKER_SNOWFLAKE_ACCOUNT" not in result.stderr and "Traceback" not in result.stderr
    # A made-up key: any text stands in, the script only substitutes it.
    secrets = ["LOOKER_SNOWFLAKE_PRIVATE_KEY_BASE64", "LOOKER_SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"]
    env |= dict.fromkeys(secrets, "a2V5")
    result = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["host"] == "xy12345.snowflakecomputing.com" and body["certificate"] == "a2V5"
    assert "${" not in result.stdout
