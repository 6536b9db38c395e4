"""The source_freshness task (airflow/plugins/orchestration/freshness.py).

A real `dbt source freshness` on a scratch warehouse: after the initial load every source
is fresh; once the newest `_loaded_at` of raw.orders is moved three days back, the task
fails, naming raw.orders, its age and dbt's error_after, and says how to fix it, while
raw.customers, moved 30 hours back, only warns. The verdicts on dbt's report (stale,
warned, not measurable, nothing measured) are checked without dbt too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from airflow_helpers import ROOT, airflow_bin, environment, python_json

CHECK = r"""
import json
import airflow  # initialises Airflow, which puts airflow/plugins on sys.path
from orchestration import freshness

try:
    print(json.dumps({"passed": freshness.check_sources(target="ci")}))
except Exception as error:
    print(json.dumps({"error": type(error).__name__, "message": str(error)}))
"""

EVALUATE = r"""
import json, sys
import airflow
from orchestration import freshness

try:
    print(json.dumps({"passed": freshness.evaluate(json.loads(sys.argv[1]))}))
except Exception as error:
    print(json.dumps({"error": type(error).__name__, "message": str(error)}))
"""


def result(name: str, status: str, hours: float = 1.0, **extra: object) -> dict[str, object]:
    return {
        "unique_id": f"source.project.raw.{name}",
        "status": status,
        "max_loaded_at": "2026-01-01T00:00:00+00:00",
        "max_loaded_at_time_ago_in_s": hours * 3600,
        "criteria": {
            "warn_after": {"count": 24, "period": "hour"},
            "error_after": {"count": 48, "period": "hour"},
        },
        **extra,
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    airflow_bin()
    work = tmp_path_factory.mktemp("freshness")
    env = environment(work)
    database = Path(env["DBT_DUCKDB_PATH"])
    generate = ROOT / "scripts" / "utilities" / "generate_data.py"
    landed = subprocess.run(
        [sys.executable, str(generate), "--database", str(database), "--scale", "0.05"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert landed.returncode == 0, landed.stderr[-3000:]
    return database, env


def test_fresh_sources_pass(warehouse: tuple[Path, dict[str, str]]) -> None:
    _, env = warehouse
    outcome = python_json(CHECK, env, timeout=600)
    assert "passed" in outcome, outcome
    assert set(outcome["passed"]) >= {"raw.orders", "raw.customers"}, outcome
    assert set(outcome["passed"].values()) == {"pass"}, outcome


def test_a_stale_source_fails_the_task_naming_it(warehouse: tuple[Path, dict[str, str]]) -> None:
    import duckdb

    database, env = warehouse
    with duckdb.connect(str(database)) as db:
        db.execute("update raw.orders set _loaded_at = _loaded_at - interval 72 hour")
        db.execute("update raw.customers set _loaded_at = _loaded_at - interval 30 hour")
    outcome = python_json(CHECK, env, timeout=600)
    assert outcome.get("error") == "AirflowFailException", outcome
    message = outcome["message"]
    assert "1 source(s) failed dbt source freshness" in message, message
    assert "raw.orders: newest row loaded at" in message, message
    assert "error_after is 48 hours" in message, message
    assert "raw.customers" not in message, "a source past warn_after only warns"
    assert "make increment" in message and "_sources.yml" in message, message


@pytest.mark.parametrize(
    ("results", "error", "words"),
    [
        ([result("orders", "error", 50)], "AirflowFailException", ["raw.orders", "50.0 hours"]),
        (
            [result("orders", "runtime error", error="relation raw.orders does not exist")],
            "AirflowFailException",
            ["raw.orders: dbt could not measure it: relation raw.orders does not exist"],
        ),
        ([], "AirflowException", ["measured no source", "loaded_at_field"]),
    ],
    ids=["stale", "not-measurable", "nothing-measured"],
)
def test_verdicts_on_the_report(
    tmp_path: Path, results: list[dict[str, object]], error: str, words: list[str]
) -> None:
    airflow_bin()
    code = f"import sys; sys.argv[1:] = [{json.dumps(results)!r}]\n" + EVALUATE
    outcome = python_json(code, environment(tmp_path))
    assert outcome.get("error") == error, outcome
    for word in words:
        assert word in outcome["message"], outcome


def test_a_warning_does_not_fail(tmp_path: Path) -> None:
    airflow_bin()
    results = [result("orders", "pass"), result("customers", "warn", 30)]
    code = f"import sys; sys.argv[1:] = [{json.dumps(results)!r}]\n" + EVALUATE
    outcome = python_json(code, environment(tmp_path))
    assert outcome == {"passed": {"raw.orders": "pass", "raw.customers": "warn"}}, outcome
