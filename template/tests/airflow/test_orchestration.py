"""The DAG's plugins (airflow/plugins/orchestration) without a scheduler: landing and alerts.

Each check runs in a subprocess with the local Airflow environment (Airflow reads its
settings at import), against a scratch warehouse file and scratch connection files.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from airflow_helpers import airflow_bin, environment, python_json

LAND = r"""
import json, sys
import airflow  # initialises Airflow, which puts airflow/plugins on sys.path
from orchestration.landing import LandSampleDataOperator

database, target = sys.argv[1], sys.argv[2]
results = []
for _ in range(2):
    operator = LandSampleDataOperator(
        task_id="land", scale="0.05", seed="7", target=target, database=database
    )
    result = operator.execute(context={})
    results.append({k: result.get(k) for k in ("landed", "batch_id", "target")})
print(json.dumps(results))
"""

ALERT = r"""
import json
import airflow  # initialises Airflow, which puts airflow/plugins on sys.path
from orchestration import alerts

class TaskInstance:
    dag_id, task_id, run_id, try_number = "a_dag", "a_task", "manual__1", 3

print(json.dumps({"url": alerts.webhook_url()}), flush=True)
alerts.notify_failure({"task_instance": TaskInstance(), "exception": ValueError("boom")})
print(json.dumps({"url": alerts.webhook_url()}))
"""


def script(code: str, *args: str) -> str:
    return f"import sys; sys.argv[1:] = {list(args)!r}\n" + code


def test_landing_loads_first_then_increments(tmp_path: Path) -> None:
    airflow_bin()
    database = tmp_path / "landing" / "warehouse.duckdb"
    env = environment(tmp_path)
    results = python_json(script(LAND, str(database), "ci"), env)
    assert results == [
        {"landed": True, "batch_id": 0, "target": "ci"},
        {"landed": True, "batch_id": 1, "target": "ci"},
    ]
    assert sorted(p.name for p in (database.parent / "loads").iterdir()) == [
        "batch_0.json",
        "batch_1.json",
    ]


def test_landing_leaves_a_real_warehouse_to_replication(tmp_path: Path) -> None:
    airflow_bin()
    database = tmp_path / "none" / "warehouse.duckdb"
    results = python_json(script(LAND, str(database), "prod"), environment(tmp_path))
    assert results[0] == {"landed": False, "batch_id": None, "target": "prod"}
    assert not database.exists()


class Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        length = int(self.headers["Content-Length"])
        Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def with_connections(tmp_path: Path, text: str) -> dict[str, str]:
    connections = tmp_path / "connections.yaml"
    connections.write_text(text)
    env = environment(tmp_path)
    env["AIRFLOW__SECRETS__BACKEND_KWARGS"] = json.dumps(
        {"connections_file_path": str(connections)}
    )
    return env


def test_the_failure_callback_posts_to_the_webhook(tmp_path: Path) -> None:
    airflow_bin()
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Hook.received.clear()
    try:
        port = server.server_address[1]
        env = with_connections(
            tmp_path,
            "pipeline_alerts:\n  conn_type: http\n  host: 127.0.0.1\n"
            f"  port: {port}\n  extra_dejson:\n    endpoint: /hook\n",
        )
        result = python_json(ALERT, env)
    finally:
        server.shutdown()
    assert result == {"url": f"http://127.0.0.1:{port}/hook"}
    assert len(Hook.received) == 1
    payload = Hook.received[0]
    assert payload["task_id"] == "a_task" and payload["try_number"] == 3
    assert payload["text"] == "Task a_dag.a_task failed (run manual__1, try 3): ValueError: boom"


def test_without_a_webhook_host_the_callback_only_logs(tmp_path: Path) -> None:
    airflow_bin()
    env = with_connections(tmp_path, 'pipeline_alerts:\n  conn_type: http\n  host: ""\n')
    assert python_json(ALERT, env) == {"url": None}
