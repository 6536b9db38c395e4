"""The source-freshness task: `dbt source freshness` before the build, failing on a stale source.

dbt measures, for every source table with a `loaded_at_field`, how old its newest row is
and compares it with the table's `warn_after` and `error_after`
(dbt/models/staging/_sources.yml). This task runs it in a subprocess (the dbt of
DBT_EXECUTABLE_PATH, else the one of Airflow's environment), with its artifacts in a
temporary folder (starting from the partial parse of `make airflow-manifest`) so
dbt/target/ stays as that command left it, and reads the
JSON report dbt writes (`--output`):

- every source's newest load time goes out as the metric the freshness alerts watch
  (pipeline.data_loaded_at.<table>, orchestration/metrics.py), so an alert and this task
  judge the same figure;
- a source past `error_after` fails the task, naming each stale source, its age and the
  threshold, without retrying (waiting does not make data fresher); the DAG's failure
  callback reports it. A source past `warn_after` only logs a warning.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from orchestration import metrics, settings

TIMEOUT_SECONDS = 900
SOURCES_FILE = "dbt/models/staging/_sources.yml"


def dbt_command() -> Path:
    executable = settings.subprocess_dbt()
    if executable is None:
        raise AirflowException(
            "no dbt executable: install dbt in Airflow's environment (make setup) or set "
            "DBT_EXECUTABLE_PATH (airflow/config/airflow.env)"
        )
    return executable


def source_name(result: Mapping[str, Any]) -> str:
    """`raw.orders` from `source.<project>.raw.orders`."""
    return ".".join(str(result.get("unique_id", "?")).split(".")[-2:])


def threshold(criteria: Mapping[str, Any], key: str) -> str | None:
    after = (criteria or {}).get(key) or {}
    if not after.get("count") or not after.get("period"):
        return None
    return f"{after['count']} {after['period']}{'s' if after['count'] != 1 else ''}"


def describe(result: Mapping[str, Any]) -> str:
    """One line for one source: its status, age and the threshold it was judged by."""
    name = source_name(result)
    status = result.get("status")
    if status == "runtime error":
        return f"{name}: dbt could not measure it: {result.get('error') or 'no error given'}"
    hours = float(result.get("max_loaded_at_time_ago_in_s") or 0) / 3600
    key = "error_after" if status == "error" else "warn_after"
    limit = threshold(result.get("criteria") or {}, key)
    limit_text = f", {key} is {limit}" if limit else ""
    return (
        f"{name}: newest row loaded at {result.get('max_loaded_at')}, "
        f"{hours:.1f} hours old{limit_text}"
    )


def evaluate(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Send each source's load time as a metric; raise when any source is stale.

    Returns {source: status} for the sources that passed or only warned.
    """
    if not results:
        raise AirflowException(
            f"dbt source freshness measured no source: give the sources in {SOURCES_FILE} a "
            "loaded_at_field and a freshness block"
        )
    statuses: dict[str, Any] = {}
    stale, warned = [], []
    for result in results:
        name = source_name(result)
        statuses[name] = result.get("status")
        if result.get("max_loaded_at"):
            metrics.data_loaded_at(name.split(".")[-1], result["max_loaded_at"])
        if result.get("status") in {"error", "runtime error"}:
            stale.append(describe(result))
        elif result.get("status") == "warn":
            warned.append(describe(result))
    for line in warned:
        print(f"WARNING stale soon: {line}")
    if stale:
        raise AirflowFailException(
            f"{len(stale)} source(s) failed dbt source freshness:\n  "
            + "\n  ".join(stale)
            + "\nLand new data (the land_raw_data task, `make increment`, or the replication "
            f"tool), or change the source's freshness in {SOURCES_FILE}."
        )
    print(f"dbt source freshness: {len(statuses)} sources, {len(warned)} warned, none stale")
    return statuses


def check_sources(target: str | None = None) -> dict[str, Any]:
    """Run `dbt source freshness` on the target; raise on a stale source."""
    target = target or settings.dbt_target()
    project = settings.dbt_project_dir()
    with tempfile.TemporaryDirectory(prefix="dbt-freshness-") as work:
        report = Path(work) / "sources.json"
        # dbt's partial parse of `make airflow-manifest` spares a full parse of the project.
        parsed = settings.dbt_manifest().parent / "partial_parse.msgpack"
        if parsed.exists():
            shutil.copy2(parsed, work)
        command = [
            str(dbt_command()), "source", "freshness", "--target", target,
            "--project-dir", str(project), "--profiles-dir", str(settings.dbt_profiles_dir()),
            "--target-path", work, "--output", str(report),
        ]  # fmt: skip
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, check=False,
            timeout=TIMEOUT_SECONDS, cwd=project,
        )  # fmt: skip
        print(result.stdout[-6000:])
        if not report.exists():
            raise AirflowException(
                f"dbt source freshness did not run (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )
        results = json.loads(report.read_text()).get("results") or []
    return evaluate(results)
