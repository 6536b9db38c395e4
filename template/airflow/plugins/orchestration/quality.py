"""The data-quality task: the Great Expectations checkpoint, run inside a plain task.

The GX Airflow provider would downgrade Airflow, so the task runs the project's own
runner, data_quality/great_expectations/checkpoint.py (what `make quality` runs), in a
subprocess: GX's heavy import stays out of the worker, and the warehouse file is opened by
a process of its own (DuckDB refuses a second, differently configured connection to a file
a process already holds, as dbt's in-process runs do). The task fails when any
expectation failed, naming each one; passed or failed, it first sends each suite's counts
and the raw tables' load times as metrics (orchestration/metrics.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from airflow.sdk.exceptions import AirflowException

from orchestration import metrics, settings

TIMEOUT_SECONDS = 1800


def checkpoint_script() -> Path:
    path = settings.project_root() / "data_quality" / "great_expectations" / "checkpoint.py"
    if not path.exists():
        raise AirflowException(f"{path} is missing: the data_quality task runs it")
    return path


def release_dbt_duckdb_connection() -> None:
    """Close the DuckDB connection dbt-duckdb keeps open in a process that ran dbt.

    Only matters when tasks share one process (`airflow dags test`); a worker runs each
    task in a process of its own, where dbt-duckdb is not even imported.
    """
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is not None:
        connections.DuckDBConnectionManager.close_all_connections()


def run_checkpoint(target: str | None = None, database: str | Path | None = None) -> dict[str, Any]:
    """Run the checkpoint on the target's warehouse; raise when an expectation failed."""
    target = target or settings.dbt_target()
    command = [sys.executable, str(checkpoint_script()), "--target", target]
    if database:
        command += ["--database", str(database)]
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "False"}
    release_dbt_duckdb_connection()
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, check=False, timeout=TIMEOUT_SECONDS
    )
    output = result.stdout.strip()
    print(output)
    if result.returncode == 2:
        raise AirflowException(f"the checkpoint could not run: {result.stderr.strip()}")
    lines = output.splitlines()
    reports = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Result:")]
    if reports:
        send_metrics(Path(reports[0]))
    if result.returncode != 0:
        failed = [line.strip() for line in output.splitlines() if line.startswith("  ")]
        raise AirflowException(f"the checkpoint FAILED:\n{chr(10).join(failed)}")
    return {"success": True, "report": reports[0] if reports else None}


def send_metrics(report: Path) -> None:
    """The run's metrics from the result file the checkpoint wrote (its "summary")."""
    try:
        summary = json.loads(report.read_text())["summary"]
    except (OSError, ValueError, KeyError) as error:
        print(f"No metrics: cannot read the checkpoint's summary in {report}: {error}")
        return
    metrics.checked(summary)
