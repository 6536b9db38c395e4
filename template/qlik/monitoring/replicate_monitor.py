#!/usr/bin/env python3
"""Expose the health of Qlik Replicate tasks as Prometheus metrics, read from Enterprise Manager.

Replicate's own console shows task state and latency, but alerting lives in Prometheus: this
exporter polls Qlik Enterprise Manager's REST API (login with Basic auth, then the server list,
the task list and each task's details) and serves what it found on ``/metrics``.

Metrics (the alert rules of monitoring/ depend on these names and labels):

- ``qlik_replicate_up``: 1 when the last poll of Enterprise Manager succeeded, else 0.
- ``qlik_replicate_task_state{server,task,state}``: 1 for the task's current state, 0 for the
  other known states (RUNNING, STOPPED, ERROR, RECOVERING).
- ``qlik_replicate_task_latency_seconds{server,task,kind}``: CDC latency, kind = source | total.
- ``qlik_replicate_task_full_load_tables{server,task,status}``: tables by full-load status.
- ``qlik_replicate_task_applied_changes{server,task,operation}``: changes applied since start.
- ``qlik_replicate_poll_duration_seconds``: how long the last poll took.

Configuration comes from the environment (see ``Config.from_env``). ``--once`` polls once,
prints the exposition text and exits (0, or 1 with a one-line error); without it the exporter
keeps serving, reporting ``qlik_replicate_up 0`` and logging one line while the poll fails.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

KNOWN_STATES = ("RUNNING", "STOPPED", "ERROR", "RECOVERING")
SESSION_HEADER = "EnterpriseManager.APISessionID"
API_PREFIX = "/attunityenterprisemanager/api/v1"
DEFAULT_PORT = 9187
DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 10.0
LATENCY = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")
FULL_LOAD_COUNTERS = {
    "completed": "tables_completed_count",
    "loading": "tables_loading_count",
    "queued": "tables_queued_count",
    "error": "tables_with_error_count",
}
CHANGE_COUNTERS = {
    "insert": "applied_insert_count",
    "update": "applied_update_count",
    "delete": "applied_delete_count",
    "ddl": "applied_ddl_count",
}

log = logging.getLogger("replicate_monitor")


class MonitorError(Exception):
    """A problem the user can fix; the message names it and the fix, in one line."""


@dataclass(frozen=True)
class Config:
    """Where Enterprise Manager is and how to log in; read once at start."""

    url: str
    user: str
    password: str
    server: str | None
    port: int
    interval: float
    timeout: float
    verify: bool | str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        """Read QLIK_EM_* and QLIK_MONITOR_* variables; raise MonitorError naming what is wrong."""
        # Accept the address as the API guide writes it too (.../attunityenterprisemanager/api/v1).
        url = env.get("QLIK_EM_URL", "").strip().rstrip("/").removesuffix(API_PREFIX)
        if not url.startswith(("http://", "https://")):
            raise MonitorError(
                "QLIK_EM_URL is not set to an http(s) URL: set it to Enterprise Manager's address, "
                "e.g. https://em.example.com"
            )
        user = env.get("QLIK_EM_USER", "").strip()
        if not user:
            raise MonitorError("QLIK_EM_USER is not set: set it to the Enterprise Manager user")
        return cls(
            url=url,
            user=user,
            password=_password(env),
            server=env.get("QLIK_EM_SERVER", "").strip() or None,
            port=int(_number(env, "QLIK_MONITOR_PORT", DEFAULT_PORT, 1, 65535)),
            interval=_number(env, "QLIK_MONITOR_INTERVAL", DEFAULT_INTERVAL, 1, 86400),
            timeout=_number(env, "QLIK_EM_TIMEOUT", DEFAULT_TIMEOUT, 1, 600),
            verify=_verify(env),
        )


def _password(env: Mapping[str, str]) -> str:
    """QLIK_EM_PASSWORD_FILE first (keeps the secret out of the environment), else the variable."""
    path = env.get("QLIK_EM_PASSWORD_FILE", "").strip()
    if path:
        try:
            secret = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise MonitorError(
                f"QLIK_EM_PASSWORD_FILE {path} cannot be read ({exc.strerror}): "
                "point it to a readable file holding the password"
            ) from None
        if not secret:
            raise MonitorError(f"QLIK_EM_PASSWORD_FILE {path} is empty: write the password into it")
        return secret
    secret = env.get("QLIK_EM_PASSWORD", "")
    if not secret:
        raise MonitorError("no password: set QLIK_EM_PASSWORD_FILE (a file) or QLIK_EM_PASSWORD")
    return secret


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise MonitorError(
            f"{name}={raw!r} is not a number from {low:g} to {high:g}: fix or unset it"
        )
    return value


def _verify(env: Mapping[str, str]) -> bool | str:
    """TLS verification: a CA bundle path, or QLIK_EM_TLS_VERIFY=false for lab servers."""
    bundle = env.get("QLIK_EM_CA_BUNDLE", "").strip()
    if bundle:
        if not Path(bundle).is_file():
            raise MonitorError(
                f"QLIK_EM_CA_BUNDLE {bundle} is not a file: point it to the PEM bundle "
                "that signed Enterprise Manager's certificate"
            )
        return bundle
    flag = env.get("QLIK_EM_TLS_VERIFY", "true").strip().lower()
    if flag not in {"true", "false", "1", "0", "yes", "no"}:
        raise MonitorError(f"QLIK_EM_TLS_VERIFY={flag!r} is not true or false: fix or unset it")
    return flag in {"true", "1", "yes"}


@dataclass
class TaskStatus:
    """What one poll learnt about one task."""

    server: str
    task: str
    state: str
    source_latency: float | None = None
    total_latency: float | None = None
    full_load_tables: dict[str, int] = field(default_factory=dict)
    applied_changes: dict[str, int] = field(default_factory=dict)


def parse_latency(value: Any, where: str) -> float:
    """Seconds of an Enterprise Manager latency (``HH:MM:SS``; hours may exceed 24)."""
    match = LATENCY.match(value) if isinstance(value, str) else None
    if match is None:
        raise MonitorError(
            f"{where} is {value!r}, not HH:MM:SS: check that QLIK_EM_URL is Enterprise Manager"
        )
    hours, minutes, seconds = (int(part) for part in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def _field(body: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get(key), kind):
        raise MonitorError(
            f"{where} has no {kind.__name__} {key!r}: the response is not Enterprise Manager's "
            "documented shape; check QLIK_EM_URL and the Enterprise Manager version"
        )
    return body[key]


def _counters(body: dict[str, Any], key: str, names: dict[str, str], where: str) -> dict[str, int]:
    """Optional counter groups: absent before a task's first run, but never of the wrong type."""
    group = body.get(key)
    if group is None:
        return {}
    return {label: _field(group, name, int, f"{where} {key}") for label, name in names.items()}


class EnterpriseManager:
    """A logged-in session of the Enterprise Manager REST API."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.http = requests.Session()
        self.http.verify = config.verify

    def _get(self, path: str, what: str, **kwargs: Any) -> requests.Response:
        url = f"{self.config.url}{API_PREFIX}{path}"
        try:
            response = self.http.get(url, timeout=self.config.timeout, **kwargs)
        except requests.exceptions.SSLError:
            raise MonitorError(
                f"TLS verification of {self.config.url} failed: set QLIK_EM_CA_BUNDLE to the "
                "certificate's CA bundle"
            ) from None
        except requests.exceptions.Timeout:
            raise MonitorError(
                f"Enterprise Manager at {self.config.url} did not answer within "
                f"{self.config.timeout:g} s: check that it runs, or raise QLIK_EM_TIMEOUT"
            ) from None
        except requests.exceptions.RequestException:
            raise MonitorError(
                f"cannot reach Enterprise Manager at {self.config.url}: check QLIK_EM_URL and "
                "that the server runs and is reachable from here"
            ) from None
        if response.status_code in (401, 403):
            raise MonitorError(
                f"Enterprise Manager refused {what} (HTTP {response.status_code}): check "
                "QLIK_EM_USER and the password, and that the user may view the tasks"
            )
        if response.status_code != 200:
            raise MonitorError(
                f"Enterprise Manager answered {what} with HTTP {response.status_code}: "
                "check QLIK_EM_URL and QLIK_EM_SERVER, and Enterprise Manager's log"
            )
        return response

    def _json(self, path: str, what: str) -> Any:
        response = self._get(path, what)
        try:
            return response.json()
        except ValueError:
            raise MonitorError(
                f"Enterprise Manager's answer to {what} is not JSON: check that QLIK_EM_URL "
                "is Enterprise Manager's address (not a proxy's or a login page's)"
            ) from None

    def login(self) -> None:
        """GET /login with Basic auth; later calls send the session id it returns."""
        response = self._get("/login", "the login", auth=(self.config.user, self.config.password))
        session = response.headers.get(SESSION_HEADER)
        if not session:
            raise MonitorError(
                f"the login answer has no {SESSION_HEADER} header: check that QLIK_EM_URL is "
                "Enterprise Manager's address"
            )
        self.http.headers[SESSION_HEADER] = session

    def servers(self) -> list[str]:
        if self.config.server:
            return [self.config.server]
        body = self._json("/servers", "the server list")
        servers = _field(body, "serverList", list, "the server list")
        return [_field(item, "name", str, "a server of the server list") for item in servers]

    def tasks(self, server: str) -> list[str]:
        where = f"the task list of server {server}"
        body = self._json(f"/servers/{quote(server, safe='')}/tasks", where)
        tasks = _field(body, "taskList", list, where)
        return [_field(item, "name", str, f"a task of {where}") for item in tasks]

    def task(self, server: str, task: str) -> TaskStatus:
        where = f"the details of task {task} on {server}"
        path = f"/servers/{quote(server, safe='')}/tasks/{quote(task, safe='')}"
        body = self._json(path, where)
        status = TaskStatus(server, task, _field(body, "state", str, where).upper())
        latency = body.get("cdc_latency")
        if latency is not None:
            status.source_latency = parse_latency(
                _field(latency, "source_latency", str, where),
                f"{where}: cdc_latency.source_latency",
            )
            status.total_latency = parse_latency(
                _field(latency, "total_latency", str, where), f"{where}: cdc_latency.total_latency"
            )
        status.full_load_tables = _counters(body, "full_load_counters", FULL_LOAD_COUNTERS, where)
        status.applied_changes = _counters(body, "cdc_event_counters", CHANGE_COUNTERS, where)
        return status


def poll(config: Config) -> list[TaskStatus]:
    """Log in and read every task of the configured server (or of every server)."""
    manager = EnterpriseManager(config)
    manager.login()
    return [
        manager.task(server, task) for server in manager.servers() for task in manager.tasks(server)
    ]


class ReplicateCollector(Collector):
    """Serves the result of the last poll; ``update`` replaces it as a whole."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._up = 0.0
        self._duration = 0.0
        self._tasks: list[TaskStatus] = []

    def update(self, tasks: list[TaskStatus] | None, duration: float) -> None:
        """Record a poll: its tasks, or None when it failed (then no task metrics are served)."""
        with self._lock:
            self._up = 0.0 if tasks is None else 1.0
            self._tasks = tasks or []
            self._duration = duration

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            up, duration, tasks = self._up, self._duration, list(self._tasks)
        yield GaugeMetricFamily(
            "qlik_replicate_up", "1 if the last poll of Enterprise Manager succeeded, else 0", up
        )
        yield GaugeMetricFamily(
            "qlik_replicate_poll_duration_seconds", "Duration of the last poll", duration
        )
        state = GaugeMetricFamily(
            "qlik_replicate_task_state",
            "1 for the task's current state, 0 for the other known states",
            labels=["server", "task", "state"],
        )
        latency = GaugeMetricFamily(
            "qlik_replicate_task_latency_seconds",
            "CDC latency of the task: source (capture) or total (until applied)",
            labels=["server", "task", "kind"],
        )
        tables = GaugeMetricFamily(
            "qlik_replicate_task_full_load_tables",
            "Tables of the task's full load by status",
            labels=["server", "task", "status"],
        )
        changes = GaugeMetricFamily(
            "qlik_replicate_task_applied_changes",
            "Changes applied to the target since the task started, by operation",
            labels=["server", "task", "operation"],
        )
        for item in tasks:
            names = [item.server, item.task]
            states = KNOWN_STATES if item.state in KNOWN_STATES else (*KNOWN_STATES, item.state)
            for known in states:
                state.add_metric([*names, known], 1.0 if known == item.state else 0.0)
            if item.source_latency is not None and item.total_latency is not None:
                latency.add_metric([*names, "source"], item.source_latency)
                latency.add_metric([*names, "total"], item.total_latency)
            for label, value in item.full_load_tables.items():
                tables.add_metric([*names, label], float(value))
            for label, value in item.applied_changes.items():
                changes.add_metric([*names, label], float(value))
        yield from (state, latency, tables, changes)


def run_once(config: Config) -> str:
    """Poll once and return the exposition text; raises MonitorError before printing anything."""
    collector = ReplicateCollector()
    started = time.monotonic()
    tasks = poll(config)
    collector.update(tasks, time.monotonic() - started)
    registry = CollectorRegistry()
    registry.register(collector)
    return generate_latest(registry).decode("utf-8")


def serve(config: Config, stop: threading.Event) -> None:
    """Serve /metrics and poll every interval until ``stop`` is set; poll failures only log."""
    collector = ReplicateCollector()
    registry = CollectorRegistry()
    registry.register(collector)
    try:
        start_http_server(config.port, registry=registry)
    except OSError as exc:
        raise MonitorError(
            f"cannot listen on port {config.port} ({exc.strerror}): set QLIK_MONITOR_PORT "
            "to a free port"
        ) from None
    log.info("serving metrics on :%d/metrics, polling %s", config.port, config.url)
    while not stop.is_set():
        started = time.monotonic()
        try:
            tasks: list[TaskStatus] | None = poll(config)
        except MonitorError as exc:
            log.error("poll failed: %s", exc)
            tasks = None
        collector.update(tasks, time.monotonic() - started)
        stop.wait(config.interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--once",
        action="store_true",
        help="poll once, print the metrics and exit (for cron, tests)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = Config.from_env(os.environ)
        if args.once:
            sys.stdout.write(run_once(config))
        else:
            serve(config, threading.Event())
    except MonitorError as exc:
        print(f"replicate_monitor: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
