"""The metrics Airflow and the pipeline send map to the names the alert rules query.

A subprocess with Airflow's StatsD settings on (AIRFLOW__METRICS__STATSD_*) sends, over UDP
to a socket of this test: every metric of Airflow's own registry (metrics_template.yaml of
the installed Airflow, with example dag/task ids, through Airflow's stats module, so its
legacy names and its escaping of dots are the real ones), and the pipeline's metrics
through airflow/plugins/orchestration/metrics.py. monitoring_helpers.map_metric applies
statsd_mapping.yml to what arrives.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require
from monitoring_helpers import (
    Mapped,
    Mapping,
    exported_metrics,
    load_mapping,
    map_metric,
    mapping_errors,
    metric_names,
    parse_datagrams,
    prometheus_dir,
    rules,
)

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "a_dag"
#: A Cosmos task id: dbt.<node>, with the dot Airflow's legacy names turn into "__".
DBT_TASK_ID = "dbt.stg_orders_build"

EMIT = r"""
import json, sys
from pathlib import Path

from airflow.sdk.configuration import conf
from airflow.sdk.observability import stats
from airflow.sdk.observability.metrics import stats_utils
import airflow.sdk._shared.observability.metrics as registry_package
import yaml

# What the task runner does before a task runs (airflow/sdk/execution_time/task_runner.py).
stats.initialize(
    factory=stats_utils.get_stats_factory(),
    export_legacy_names=conf.getboolean("metrics", "legacy_names_on"),
)
examples = json.loads(sys.argv[1])
registry = Path(registry_package.__file__).parent / "metrics_template.yaml"
for metric in yaml.safe_load(registry.read_text())["metrics"]:
    tags = {name: examples.get(name, "x") for name in metric.get("name_variables") or []}
    name = metric["name"].format(**tags)
    if metric["type"] == "counter":
        stats.incr(name, tags=tags)
    elif metric["type"] == "gauge":
        stats.gauge(name, 1, tags=tags)
    else:
        stats.timing(name, 1500.0, tags=tags)

sys.path.insert(0, "airflow/plugins")
from orchestration import metrics

metrics.landed({"loaded_at": "2026-01-02T03:04:05",
                "tables": {"orders": {"inserted": 3, "updated": 2, "soft_deleted": 1}}})
metrics.checked({"suites": {"fct_orders": {"evaluated": 10, "failed": 2}},
                 "parameters": {"now_utc": "2026-01-02T04:00:00",
                                "raw_customers_loaded_at": "2026-01-02T03:04:05"}})
"""


@pytest.fixture(scope="module")
def received(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    """(name, StatsD type) of everything the emitting subprocess sent."""
    require(importlib.util.find_spec("statsd") is not None, "statsd (Airflow's StatsD client)")
    require(importlib.util.find_spec("airflow") is not None, "apache-airflow")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(1.0)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow_home")),
        "AIRFLOW__METRICS__STATSD_ON": "True",
        "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__STATSD_PORT": str(sock.getsockname()[1]),
        "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
    }
    examples = {"dag_id": DAG_ID, "task_id": DBT_TASK_ID, "state": "failed"}
    with sock:
        result = subprocess.run(
            [sys.executable, "-c", EMIT, json.dumps(examples)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        payloads = []
        try:
            while True:
                payloads.append(sock.recv(65535))
        except TimeoutError:
            pass
    return parse_datagrams(payloads)


def mapped(received: list[tuple[str, str]]) -> dict[str, Mapped | None]:
    mappings = load_mapping(prometheus_dir(ROOT) / "statsd_mapping.yml")
    return {name: map_metric(mappings, name, kind) for name, kind in received}


def test_the_pipeline_metrics_map_to_the_contract(received: list[tuple[str, str]]) -> None:
    pipeline = [m for m in mapped(received).values() if m and m.name.startswith("airflow_pipeline")]
    assert {m.kind for m in pipeline} == {"gauge"}
    found = {(m.name, tuple(sorted(m.labels.items()))) for m in pipeline}
    assert found == {
        ("airflow_pipeline_rows_landed", (("table", "orders"),)),
        ("airflow_pipeline_data_loaded_at_seconds", (("table", "orders"),)),
        ("airflow_pipeline_data_loaded_at_seconds", (("table", "customers"),)),
        ("airflow_pipeline_quality_expectations", (("result", "failed"), ("suite", "fct_orders"))),
        ("airflow_pipeline_quality_expectations", (("result", "passed"), ("suite", "fct_orders"))),
    }


def test_airflow_task_metrics_carry_dag_task_and_state(received: list[tuple[str, str]]) -> None:
    by_name = {m.name: m for m in mapped(received).values() if m}
    escaped = DBT_TASK_ID.replace(".", "__")
    assert by_name["airflow_ti_finish_total"].labels == {
        "dag_id": DAG_ID,
        "task_id": escaped,
        "state": "failed",
    }
    assert by_name["airflow_task_duration_seconds"].kind == "histogram"
    assert by_name["airflow_task_duration_seconds"].labels == {"dag_id": DAG_ID, "task_id": escaped}
    assert by_name["airflow_dagrun_duration_seconds"].labels == {
        "dag_id": DAG_ID,
        "state": "failed",
    }
    for name in ("airflow_scheduler_heartbeat_total", "airflow_dag_processing_import_errors"):
        assert name in by_name, f"Airflow sends no metric statsd_mapping.yml maps to {name}"


def test_the_dbt_task_selector_of_the_rules_matches_a_real_dbt_task(
    received: list[tuple[str, str]],
) -> None:
    task_ids = {
        m.labels["task_id"]
        for m in mapped(received).values()
        if m and m.name == "airflow_ti_finish_total"
    }
    selectors = {
        selector
        for rule in rules(ROOT)
        for selector in re.findall(r'task_id=~"([^"]+)"', rule["expr"])
    }
    assert selectors, "no rule selects dbt tasks by task_id"
    for selector in selectors:
        pattern = selector.encode().decode("unicode_escape")
        assert any(re.fullmatch(pattern, task_id) for task_id in task_ids), (
            f"task_id=~{selector!r} in monitoring/prometheus/rules/ matches none of {task_ids}"
        )


def test_the_label_less_twins_are_dropped(received: list[tuple[str, str]]) -> None:
    names = {name for name, _ in received}
    assert {"airflow.ti.finish", "airflow.task.duration"} <= names
    result = mapped(received)
    assert result["airflow.ti.finish"] is None and result["airflow.task.duration"] is None


def test_every_metric_a_rule_queries_is_produced(root: Path) -> None:
    produced = exported_metrics(root)
    missing = {
        rule.get("alert") or rule.get("record"): sorted(metric_names(rule["expr"]) - produced)
        for rule in rules(root)
    }
    assert {name: names for name, names in missing.items() if names} == {}, (
        "these rules query metrics that neither statsd_mapping.yml, a recording rule, "
        "Prometheus itself nor the Qlik monitor produce"
    )
    assert metric_names('sum(rate(airflow_ti_finsh_total{state="failed"}[5m]))') - produced == {
        "airflow_ti_finsh_total"
    }


def test_the_mapping_loads_as_the_exporter_loads_it(root: Path) -> None:
    mappings = load_mapping(prometheus_dir(root) / "statsd_mapping.yml")
    assert mapping_errors(mappings) == []
    assert all(m.metric_type for m in mappings if m.action != "drop"), (
        "give every mapping of statsd_mapping.yml its match_metric_type"
    )
    broken = load_mapping(prometheus_dir(root) / "statsd_mapping.yml")
    broken[0].labels["task-id"] = "$1"
    assert mapping_errors(broken) == [f"{broken[0].match}: invalid label key 'task-id'"]


def test_the_mapping_semantics() -> None:
    """The parts of statsd_exporter's matching the helpers implement, on small cases."""
    mappings = [
        Mapping(match=r"^a\.(.+)$", name="regex_$1", match_type="regex"),
        Mapping(match="a.*", name="glob_$1", metric_type="counter"),
        Mapping(match="a.*.c", name="dropped", action="drop"),
    ]
    assert map_metric(mappings, "a.b", "c") == Mapped("glob_b", "counter", {})
    assert map_metric(mappings, "a.b", "g") == Mapped("regex_b", "gauge", {})
    assert map_metric(mappings, "a.b.c", "c") is None
    assert map_metric(mappings, "x.y-z", "ms") == Mapped("x_y_z", "histogram", {})
