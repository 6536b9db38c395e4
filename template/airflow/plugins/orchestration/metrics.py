"""The pipeline's own metrics: rows landed, how fresh the data is, the quality verdicts.

They go through Airflow's StatsD client (`airflow.sdk.observability.stats`, which the task
runner initialises from the [metrics] settings), so they travel with Airflow's metrics,
under the same `airflow` prefix, to the statsd exporter, and cost nothing when
AIRFLOW__METRICS__STATSD_ON is off (the client is then a no-op). Plain StatsD has no labels:
each label is one dot-separated part of the name, which
monitoring/prometheus/statsd_mapping.yml turns back into a label:

    pipeline.rows_landed.<table>       -> airflow_pipeline_rows_landed{table}
    pipeline.data_loaded_at.<table>    -> airflow_pipeline_data_loaded_at_seconds{table}
    pipeline.quality_expectations.<suite>.<passed|failed>
                                       -> airflow_pipeline_quality_expectations{suite, result}

Gauges, not counters: each run states the latest value, and the freshness alert compares
the newest load time with the clock, so it also fires when the pipeline stops running.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from airflow.sdk.observability import stats

#: What StatsD keeps of a name part: a dot would split one label into two.
UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def part(value: object) -> str:
    """One name part (a table or suite name) with anything but [A-Za-z0-9_] as '_'."""
    return UNSAFE.sub("_", str(value)) or "_"


def unix_seconds(moment: datetime | str) -> float:
    """Unix time of a timestamp; naive ones are UTC, as the warehouse's load times are."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def rows_landed(table: str, rows: int) -> None:
    stats.gauge(f"pipeline.rows_landed.{part(table)}", rows)


def data_loaded_at(table: str, moment: datetime | str) -> None:
    stats.gauge(f"pipeline.data_loaded_at.{part(table)}", unix_seconds(moment))


def quality_expectations(suite: str, passed: int, failed: int) -> None:
    stats.gauge(f"pipeline.quality_expectations.{part(suite)}.passed", passed)
    stats.gauge(f"pipeline.quality_expectations.{part(suite)}.failed", failed)


def landed(manifest: Mapping[str, Any]) -> None:
    """The metrics of one batch of scripts/utilities/generate_data.py (its JSON manifest)."""
    for table, entry in (manifest.get("tables") or {}).items():
        changed = sum(int(entry.get(key) or 0) for key in ("inserted", "updated", "soft_deleted"))
        rows_landed(table, changed)
        if manifest.get("loaded_at"):
            data_loaded_at(table, manifest["loaded_at"])


def checked(summary: Mapping[str, Any]) -> None:
    """The metrics of one checkpoint run (the summary data_quality/.../checkpoint.py writes).

    Each suite's passed/failed counts, and the newest load time of each raw table the
    suites compare with (`raw_<table>_loaded_at`): measured in the warehouse itself, so
    this also covers a real warehouse, which the landing task leaves to replication.
    """
    for suite, result in (summary.get("suites") or {}).items():
        failed = int(result.get("failed") or 0)
        quality_expectations(suite, int(result.get("evaluated") or 0) - failed, failed)
    for name, value in (summary.get("parameters") or {}).items():
        match = re.fullmatch(r"raw_(\w+?)_loaded_at", name)
        if match and value:
            data_loaded_at(match.group(1), value)
