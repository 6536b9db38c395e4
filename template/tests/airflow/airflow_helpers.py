"""What the Airflow tests share: the local environment in a scratch AIRFLOW_HOME, and runners.

Airflow reads its settings once, at import, so every test runs Airflow in a subprocess
whose environment comes from airflow/config/airflow_local.py (the same settings
`make airflow-up` uses), pointed at a scratch metadata database and warehouse file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from conftest import require

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "airflow" / "dags"
TELEMETRY_OFF = {
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "False",
}


def local_airflow() -> ModuleType:
    """airflow/config/airflow_local.py, loaded by path."""
    path = ROOT / "airflow" / "config" / "airflow_local.py"
    spec = importlib.util.spec_from_file_location("airflow_local", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def airflow_bin() -> str:
    path = Path(sys.executable).parent / "airflow"
    require(path.exists(), "airflow (apache-airflow in .venv)")
    return str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(work: Path, port: int = 8080, **overrides: str) -> dict[str, str]:
    """The local Airflow environment with its home and warehouse under ``work``."""
    base = {
        **os.environ,
        **TELEMETRY_OFF,
        "AIRFLOW_HOME": str(work / "airflow_home"),
        "DBT_DUCKDB_PATH": str(work / "warehouse" / "warehouse.duckdb"),
        "DBT_TARGET": "ci",
        **overrides,
    }
    for name in ("AIRFLOW_CONFIG", "PYTEST_CURRENT_TEST"):
        base.pop(name, None)
    return local_airflow().environment(base, port=port)


def run(
    args: list[str], env: Mapping[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=dict(env), capture_output=True, text=True, check=False, timeout=timeout, cwd=ROOT
    )


def python_json(code: str, env: Mapping[str, str], timeout: float = 300) -> object:
    """Run ``code`` with the .venv's Python in ``env``; it prints one JSON document last."""
    result = run([sys.executable, "-c", code], env, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


class ScratchAirflow:
    """Airflow in a scratch folder: its metadata database, a warehouse file, no retries, and
    the settings of airflow/config/ (variables from a copy of variables.yaml at ``scale``)."""

    def __init__(self, work: Path, scale: str = "0.2") -> None:
        self.work = work
        variables = work / "variables.yaml"
        text = (ROOT / "airflow" / "config" / "variables.yaml").read_text()
        wanted = f'sample_data_scale: "{scale}"'
        variables.write_text(text.replace('sample_data_scale: "1"', wanted))
        assert wanted in variables.read_text(), "variables.yaml changed shape"
        self.env = environment(work, PIPELINE_TASK_RETRIES="0")
        self.env["AIRFLOW__SECRETS__BACKEND_KWARGS"] = json.dumps(
            {
                "connections_file_path": str(ROOT / "airflow" / "config" / "connections.yaml"),
                "variables_file_path": str(variables),
            }
        )
        self.database = Path(self.env["DBT_DUCKDB_PATH"])
        self.metadata = Path(self.env["AIRFLOW_HOME"]) / "airflow.db"

    def states(self, dag_id: str) -> dict[str, str]:
        return dict(self.query("select task_id, state from task_instance where dag_id = ?", dag_id))

    def query(self, sql: str, *args: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.metadata) as db:
            return db.execute(sql, args).fetchall()
