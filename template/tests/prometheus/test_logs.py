"""The log collector (monitoring/logs/fluent-bit.yaml) finds Airflow's task logs and labels them.

No Fluent Bit or Loki binary exists offline: these are the project's own checks against
their documented formats. The task log path comes from the installed Airflow itself: its
[logging] log_filename_template, rendered for a fake task instance the way
FileTaskHandler renders it, under base_log_folder as the containers set it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from conftest import require
from monitoring_helpers import monitoring, read_yaml

ROOT = Path(__file__).resolve().parents[2]
#: Airflow's base_log_folder in the containers: $AIRFLOW_HOME/logs.
CONTAINER_LOGS = "/opt/airflow/logs"
#: The labels the collector must give each log stream.
LABELS = ("dag_id", "task_id", "run_id", "attempt")
#: The keys Fluent Bit documents for the parts this file uses (docs.fluentbit.io, 4.x).
DOCUMENTED = {
    "service": {
        "flush",
        "log_level",
        "http_server",
        "http_listen",
        "http_port",
        "health_check",
        "hc_errors_count",
        "hc_retry_failure_count",
        "hc_period",
        "storage.path",
    },
    "parser": {"name", "format", "regex", "time_key", "time_format", "time_keep", "types"},
    "tail": {
        "name",
        "tag",
        "path",
        "exclude_path",
        "path_key",
        "parser",
        "read_from_head",
        "refresh_interval",
        "db",
        "skip_long_lines",
        "mem_buf_limit",
        "buffer_chunk_size",
        "buffer_max_size",
    },
    "filter:parser": {"name", "match", "key_name", "parser", "reserve_data", "preserve_key"},
    "loki": {
        "name",
        "match",
        "host",
        "port",
        "uri",
        "tls",
        "labels",
        "label_keys",
        "remove_keys",
        "line_format",
        "drop_single_key",
        "tenant_id",
    },
}

RENDER = r"""
import json
from types import SimpleNamespace

from airflow.configuration import conf
from airflow.utils.helpers import parse_template_string, render_template

_, template = parse_template_string(conf.get("logging", "log_filename_template"))
paths = []
for map_index in (-1, 3):
    ti = SimpleNamespace(dag_id="a_dag", run_id="manual__2026-01-02T03:04:05+00:00",
                         task_id="dbt.stg_orders_build", map_index=map_index, try_number=2)
    paths.append(render_template(template, {"ti": ti, "ts": "", "try_number": 2}, native=False))
print(json.dumps(paths))
"""


def collector(root: Path) -> dict:
    return read_yaml(monitoring(root) / "logs" / "fluent-bit.yaml")


@pytest.fixture(scope="module")
def task_log_paths(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Where Airflow writes a task's log in the containers: plain, and a mapped task's."""
    require(importlib.util.find_spec("airflow") is not None, "apache-airflow")
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow_home"))}
    env.pop("AIRFLOW__LOGGING__LOG_FILENAME_TEMPLATE", None)
    result = subprocess.run(
        [sys.executable, "-c", RENDER],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    relative = json.loads(result.stdout.strip().splitlines()[-1])
    return [f"{CONTAINER_LOGS}/{path}" for path in relative]


def glob_matches(pattern: str, path: str) -> bool:
    """glob(3), as Fluent Bit's tail expands `path`: `*` never crosses a slash."""
    parts, names = pattern.split("/"), path.split("/")
    return len(parts) == len(names) and all(map(fnmatchcase, names, parts))


def python_regex(onigmo: str) -> re.Pattern[str]:
    """A Fluent Bit (Onigmo) regex in Python's syntax: (?<name>...) is (?P<name>...)."""
    return re.compile(re.sub(r"\(\?<([a-zA-Z_]\w*)>", r"(?P<\1>", onigmo))


def parser(document: dict, name: str) -> dict:
    found = [entry for entry in document.get("parsers") or [] if entry["name"] == name]
    assert found, f"fluent-bit.yaml defines no parser {name!r}"
    return found[0]


def labels_of(document: dict, path: str) -> dict[str, str] | None:
    """What the collector makes of one log file: its Loki labels, or None when not read."""
    pipeline = document["pipeline"]
    tail = next(entry for entry in pipeline["inputs"] if entry["name"] == "tail")
    if not any(glob_matches(pattern.strip(), path) for pattern in tail["path"].split(",")):
        return None
    record = {tail["path_key"]: path}
    for step in pipeline.get("filters") or []:
        if step["name"] == "parser" and step["key_name"] in record:
            regex = python_regex(parser(document, step["parser"])["regex"])
            found = regex.search(record[step["key_name"]])
            if found:
                record.update({k: v for k, v in found.groupdict().items() if v is not None})
    loki = next(entry for entry in pipeline["outputs"] if entry["name"] == "loki")
    keys = [key.strip().removeprefix("$") for key in loki["label_keys"].split(",")]
    return {key: record[key] for key in keys if key in record}


def test_the_collector_labels_a_real_task_log_path(root: Path, task_log_paths: list[str]) -> None:
    for path in task_log_paths:
        assert labels_of(collector(root), path) == {
            "dag_id": "a_dag",
            "task_id": "dbt.stg_orders_build",
            "run_id": "manual__2026-01-02T03:04:05+00:00",
            "attempt": "2",
        }, path


def test_a_broken_path_pattern_or_regex_is_caught(root: Path, task_log_paths: list[str]) -> None:
    document = collector(root)
    tail = document["pipeline"]["inputs"][0]
    tail["path"] = tail["path"].replace("attempt=*.log", "*/attempt=*.log")
    assert labels_of(document, task_log_paths[0]) is None
    document = collector(root)
    path_parser = parser(document, "airflow_task_path")
    path_parser["regex"] = path_parser["regex"].replace("(?<attempt>", "(?<try>")
    assert "attempt" not in (labels_of(document, task_log_paths[0]) or {})


def test_the_collector_uses_only_documented_keys(root: Path) -> None:
    document = collector(root)
    assert set(document) <= {"service", "parsers", "pipeline"}
    sections = [("service", document["service"])]
    sections += [("parser", entry) for entry in document["parsers"]]
    pipeline = document["pipeline"]
    sections += [(entry["name"], entry) for entry in pipeline["inputs"]]
    sections += [(f"filter:{entry['name']}", entry) for entry in pipeline["filters"]]
    sections += [(entry["name"], entry) for entry in pipeline["outputs"]]
    for kind, entry in sections:
        assert kind in DOCUMENTED, f"fluent-bit.yaml: no documented keys listed for {kind}"
        assert set(entry) <= DOCUMENTED[kind], f"{kind}: {sorted(set(entry) - DOCUMENTED[kind])}"
    labels = [
        key.strip().removeprefix("$") for key in pipeline["outputs"][0]["label_keys"].split(",")
    ]
    assert tuple(labels) == LABELS


def test_loki_is_where_the_collector_looks(root: Path) -> None:
    loki = read_yaml(monitoring(root) / "logs" / "loki.yaml")
    port = loki["server"]["http_listen_port"]
    output = collector(root)["pipeline"]["outputs"][0]
    assert (output["host"], output["port"]) == ("loki", port)


def test_compose_gives_the_collector_airflows_log_volume(root: Path) -> None:
    compose = root / "docker-compose.yml"
    if not compose.exists():
        pytest.skip("no docker-compose.yml (docker component)")
    services = read_yaml(compose)["services"]

    def mount(service: str, target: str) -> str | None:
        for volume in services[service].get("volumes") or []:
            source, _, rest = volume.partition(":")
            if rest.split(":")[0] == target:
                return source
        return None

    airflow_volume = mount("airflow-scheduler", CONTAINER_LOGS)
    assert airflow_volume and mount("log-collector", CONTAINER_LOGS) == airflow_volume, (
        f"docker-compose.yml must mount the volume Airflow writes {CONTAINER_LOGS} to at the "
        "same path in log-collector (monitoring/logs/fluent-bit.yaml tails it there)"
    )
    assert "loki" in services
