"""The failure callback of every task: one structured log line, and a webhook post.

The webhook is the ``pipeline_alerts`` connection (airflow/config/connections.yaml):
an http(s) host, optionally with a path in ``schema``/``extra.endpoint``. Without a host the
callback only logs. A webhook that is down never fails the callback itself: Airflow would
hide the task's own error behind it.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

log = logging.getLogger(__name__)

CONN_ID = "pipeline_alerts"
TIMEOUT_SECONDS = 10


def describe(context: dict[str, Any]) -> dict[str, Any]:
    """The facts of a failed task instance that a person on call needs first."""
    ti = context.get("task_instance") or context.get("ti")
    dag_run = context.get("dag_run")
    error = context.get("exception")
    return {
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(dag_run, "run_id", None) or getattr(ti, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "error": f"{type(error).__name__}: {error}" if error else None,
    }


def message(facts: dict[str, Any]) -> str:
    text = (
        f"Task {facts['dag_id']}.{facts['task_id']} failed "
        f"(run {facts['run_id']}, try {facts['try_number']})"
    )
    return f"{text}: {facts['error']}" if facts["error"] else text


def webhook_url() -> str | None:
    """The URL of the pipeline_alerts connection, or None when it is unset or has no host."""
    try:
        from airflow.sdk import Connection

        connection = Connection.get(CONN_ID)
    except Exception:  # noqa: BLE001 - an undefined connection means "log only"
        return None
    host = (connection.host or "").strip()
    if not host:
        return None
    if "://" not in host:
        host = f"{connection.conn_type if connection.conn_type in {'http', 'https'} else 'https'}://{host}"
    if connection.port:
        host = f"{host}:{connection.port}"
    endpoint = (connection.extra_dejson or {}).get("endpoint") or connection.schema or ""
    return f"{host.rstrip('/')}/{endpoint.lstrip('/')}" if endpoint else host


def post(url: str, payload: dict[str, Any]) -> bool:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return 200 <= response.status < 300
    except OSError as error:
        log.warning("pipeline_alerts: could not post to %s: %s", url, error)
        return False


def notify_failure(context: dict[str, Any]) -> None:
    """on_failure_callback of every task of this project's DAGs."""
    facts = describe(context)
    text = message(facts)
    log.error("PIPELINE FAILURE %s", json.dumps(facts, default=str))
    url = webhook_url()
    if url:
        post(url, {"text": text, **facts})
