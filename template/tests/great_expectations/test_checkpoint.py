"""The Great Expectations checkpoint of data_quality/ on a scratch warehouse (yours is untouched).

The module copies the session's sample warehouse (conftest.py), built as `make demo` does
(initial load at scale 0.2, `dbt build --target ci`, increment 1, `dbt build`), and runs the
checkpoint on it: every expectation
passes. Each other test breaks a copy of that warehouse the way a real defect would (a
duplicated or null key, a value out of range or outside the accepted ones, stale rows, rows
lost, an increment landed but not built) and expects the checkpoint to fail naming the broken
expectation; a missing warehouse or mart is a setup error with the fix in its message.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT, SampleWarehouse, require, run_step

CHECKPOINT = ROOT / "data_quality" / "great_expectations" / "checkpoint.py"
SUITES = ROOT / "data_quality" / "great_expectations" / "expectations"

#: A defect -> the SQL that puts it into the marts and the failure the checkpoint must name.
DEFECTS = {
    "duplicated key": (
        "insert into marts.fct_orders select * from marts.fct_orders where order_id = 1",
        "fct_orders: expect_column_values_to_be_unique(order_id)",
    ),
    "null key": (
        "update marts.dim_customers set customer_id = null where customer_id = 1",
        "dim_customers: expect_column_values_to_not_be_null(customer_id)",
    ),
    "negative amount": (
        "update marts.fct_order_items set line_amount = -5 where order_item_id = 1",
        "fct_order_items: expect_column_values_to_be_between(line_amount)",
    ),
    "unknown status": (
        "update marts.fct_orders set status = 'lost' where order_id = 2",
        "fct_orders: expect_column_values_to_be_in_set(status)",
    ),
    "malformed sku": (
        "update marts.dim_products set sku = 'sku 1' where product_id = 1",
        "dim_products: expect_column_values_to_match_regex(sku)",
    ),
    "stale rows": (
        "update marts.dim_products set loaded_at = loaded_at - interval 3 day",
        "dim_products: expect_column_max_to_be_between(loaded_at)",
    ),
    "lost rows": (
        "delete from marts.fct_order_items where order_item_id = 1",
        "fct_order_items: expect_table_row_count_to_equal()",
    ),
}


def load_checkpoint() -> ModuleType:
    """checkpoint.py by file path, as Airflow's task loads it."""
    spec = importlib.util.spec_from_file_location("data_quality_checkpoint", CHECKPOINT)
    assert spec and spec.loader, f"{CHECKPOINT} is missing"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def warehouse(sample_warehouse: SampleWarehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's copy of the session's sample warehouse, after increment 1's build."""
    require(importlib.util.find_spec("great_expectations") is not None, "great-expectations")
    return sample_warehouse.copy(tmp_path_factory.mktemp("quality"))


@pytest.fixture(scope="module")
def checkpoint(warehouse: Path) -> ModuleType:
    return load_checkpoint()


@pytest.fixture(autouse=True)
def plain_schemas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBT_SCHEMA_PREFIX", raising=False)
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "False")


def broken_copy(warehouse: Path, folder: Path, *statements: str) -> Path:
    """A copy of the scratch warehouse (with its load manifests) with the statements applied."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / warehouse.name
    shutil.copy2(warehouse, copy)
    shutil.copytree(warehouse.parent / "loads", folder / "loads")
    with duckdb.connect(str(copy)) as connection:
        for statement in statements:
            connection.execute(statement)
    return copy


def failing_suites(summary: dict[str, Any]) -> set[str]:
    return {name for name, suite in summary["suites"].items() if not suite["success"]}


def test_checkpoint_passes_on_generated_data(
    checkpoint: ModuleType, warehouse: Path, tmp_path: Path
) -> None:
    summary = checkpoint.run_checkpoint(warehouse, target="ci", report_dir=tmp_path)
    assert summary["success"], f"expectations failed on generated data: {summary['failures']}"
    assert summary["failed"] == []
    defined = sum(len(json.loads(p.read_text())["expectations"]) for p in SUITES.glob("*.json"))
    assert summary["evaluated"] == defined > 0, "an expectation of the suites was not evaluated"
    assert all(suite["rows"] > 0 for suite in summary["suites"].values()), summary["suites"]
    json.dumps(summary)  # Airflow passes it on as XCom: it must be plain JSON

    report = Path(summary["report"])
    assert report.parent == tmp_path / "results"
    assert json.loads(report.read_text())["summary"]["success"] is True
    docs = Path(summary["data_docs"])
    assert docs == tmp_path / "data_docs" / "index.html" and docs.is_file()
    pages = list((tmp_path / "data_docs" / "validations").rglob("*.html"))
    assert len(pages) == len(summary["suites"]), "Data Docs need a page per validated mart"


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_checkpoint_names_the_broken_expectation(
    checkpoint: ModuleType, warehouse: Path, tmp_path: Path, defect: str
) -> None:
    statement, expected = DEFECTS[defect]
    broken = broken_copy(warehouse, tmp_path / "warehouse", statement)
    summary = checkpoint.run_checkpoint(broken, target="ci", report_dir=tmp_path / "reports")
    assert not summary["success"], f"the checkpoint did not notice: {defect}"
    assert expected in summary["failed"], f"{expected!r} not among {summary['failed']}"
    suite = expected.split(":")[0]
    assert failing_suites(summary) == {suite}, "a defect of one mart failed other suites"
    report = json.loads(Path(summary["report"]).read_text())
    assert report["summary"]["failed"] == summary["failed"]


def test_an_increment_that_dbt_has_not_built_fails(
    checkpoint: ModuleType, warehouse: Path, tmp_path: Path
) -> None:
    copy = broken_copy(warehouse, tmp_path / "warehouse")
    script = str(ROOT / "scripts" / "utilities" / "generate_data.py")
    run_step([sys.executable, script, "--database", str(copy), "--increment", "2"])
    summary = checkpoint.run_checkpoint(copy, target="ci", report_dir=tmp_path / "reports")
    assert not summary["success"]
    for mart in ("dim_customers", "dim_products", "fct_orders", "fct_order_items"):
        assert f"{mart}: expect_table_row_count_to_equal()" in summary["failed"], mart
        assert f"{mart}: expect_column_max_to_be_between(loaded_at)" in summary["failed"], mart


def test_a_missing_mart_is_a_setup_error(
    checkpoint: ModuleType, warehouse: Path, tmp_path: Path
) -> None:
    broken = broken_copy(warehouse, tmp_path / "warehouse", "drop table marts.fct_order_items")
    with pytest.raises(checkpoint.QualityError, match=r"marts\.fct_order_items missing.*make demo"):
        checkpoint.run_checkpoint(broken, target="ci", report_dir=tmp_path / "reports")


def test_command_line_exit_status(
    checkpoint: ModuleType,
    warehouse: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = checkpoint.main(["--database", str(warehouse), "--report-dir", str(tmp_path / "a")])
    output = capsys.readouterr().out
    assert good == 0, output
    assert "All expectations passed." in output

    statement, expected = DEFECTS["null key"]
    broken = broken_copy(warehouse, tmp_path / "warehouse", statement)
    bad = checkpoint.main(["--database", str(broken), "--report-dir", str(tmp_path / "b")])
    output = capsys.readouterr().out
    assert bad == 1, output
    assert expected in output and "FAILED" in output


def test_a_missing_warehouse_exits_2_with_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.duckdb"
    command = [sys.executable, str(CHECKPOINT), "--database", str(missing)]
    result = subprocess.run(
        [*command, "--report-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"no warehouse at {missing}" in result.stderr
    assert "make demo" in result.stderr
    assert not result.stdout
