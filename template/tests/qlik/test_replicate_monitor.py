"""qlik/monitoring/replicate_monitor.py against recorded Enterprise Manager responses.

The script runs as `make qlik-monitor` runs it (a subprocess, configured by environment
variables) against em_server.py, which serves the responses in fixtures/em/.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest
from em_server import PASSWORD, SERVER, USER, enterprise_manager, free_port
from prometheus_client.parser import text_string_to_metric_families

SCRIPT = Path("qlik") / "monitoring" / "replicate_monitor.py"
TASK, OTHER = "shop_to_snowflake_raw", "shop_reload"
STATES = ("RUNNING", "STOPPED", "ERROR", "RECOVERING")


def monitor_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QLIK_EM_", "QLIK_MONITOR_"))}
    env.update(QLIK_EM_URL=url, QLIK_EM_USER=USER, QLIK_EM_PASSWORD=PASSWORD, QLIK_EM_TIMEOUT="5")
    env.update(extra)
    return env


def run_once(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / SCRIPT), "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition text, parsed by prometheus_client's own parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def expected() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """What fixtures/em/ must produce (the poll duration is checked apart: it varies)."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {("qlik_replicate_up", ()): 1.0}

    def add(name: str, task: str, value: float, **labels: str) -> None:
        key = tuple(sorted({"server": SERVER, "task": task, **labels}.items()))
        found[(name, key)] = value

    for task, current in ((TASK, "RUNNING"), (OTHER, "ERROR")):
        for state in STATES:
            add("qlik_replicate_task_state", task, float(state == current), state=state)
    add("qlik_replicate_task_latency_seconds", TASK, 3.0, kind="source")
    add("qlik_replicate_task_latency_seconds", TASK, 72.0, kind="total")
    for task, counts in ((TASK, (5, 0, 0, 0)), (OTHER, (2, 0, 2, 1))):
        for status, count in zip(("completed", "loading", "queued", "error"), counts, strict=True):
            add("qlik_replicate_task_full_load_tables", task, float(count), status=status)
    for operation, count in (("insert", 1520), ("update", 4311), ("delete", 17), ("ddl", 0)):
        add("qlik_replicate_task_applied_changes", TASK, float(count), operation=operation)
    return found


def test_once_prints_the_metrics_of_the_recorded_responses(root: Path) -> None:
    with enterprise_manager() as url:
        result = run_once(root, monitor_env(url))
    assert result.returncode == 0, result.stderr
    found = samples(result.stdout)
    duration = found.pop(("qlik_replicate_poll_duration_seconds", ()))
    assert 0 <= duration < 30
    assert found == expected()


def test_once_reads_only_the_configured_server(root: Path) -> None:
    with enterprise_manager() as url:
        result = run_once(root, monitor_env(url, QLIK_EM_SERVER="replicate-dr"))
    # The stand-in knows only replicate-prod: asking for another server is an HTTP 404.
    assert result.returncode == 1
    assert "HTTP 404" in result.stderr and "QLIK_EM_SERVER" in result.stderr


def test_password_file_is_read(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "em_password"
    secret.write_text(PASSWORD + "\n")
    with enterprise_manager() as url:
        env = monitor_env(url, QLIK_EM_PASSWORD_FILE=str(secret))
        del env["QLIK_EM_PASSWORD"]
        result = run_once(root, env)
    assert result.returncode == 0, result.stderr


def load_monitor(root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("replicate_monitor", root / SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("text", "seconds"), [("00:00:00", 0), ("00:01:12", 72), ("123:04:05", 443045)]
)
def test_latency_is_read_as_hh_mm_ss(root: Path, text: str, seconds: int) -> None:
    assert load_monitor(root).parse_latency(text, "latency") == seconds


@pytest.mark.parametrize("value", ["00:60:00", "72", "1 min", "", None, 72])
def test_malformed_latency_is_a_clear_error(root: Path, value: object) -> None:
    monitor = load_monitor(root)
    with pytest.raises(monitor.MonitorError, match="not HH:MM:SS"):
        monitor.parse_latency(value, "cdc_latency.total_latency")


def test_url_may_name_the_api_path(root: Path) -> None:
    env = monitor_env("https://em.example.com/attunityenterprisemanager/api/v1/")
    assert load_monitor(root).Config.from_env(env).url == "https://em.example.com"


def assert_clean_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 1, nothing on stdout, one line on stderr naming the problem, no traceback."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("unauthorized", ("HTTP 401", "QLIK_EM_USER")),
        ("malformed", ("not JSON", "QLIK_EM_URL")),
        ("wrong_shape", ("taskList", "documented shape")),
    ],
)
def test_bad_answers_give_one_clear_line(root: Path, mode: str, words: tuple[str, ...]) -> None:
    with enterprise_manager(mode) as url:
        result = run_once(root, monitor_env(url))
    assert_clean_failure(result, *words)


def test_unreachable_server_gives_one_clear_line(root: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert_clean_failure(run_once(root, monitor_env(url)), "cannot reach", url)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"QLIK_EM_URL": ""}, ("QLIK_EM_URL",)),
        ({"QLIK_EM_USER": ""}, ("QLIK_EM_USER",)),
        ({"QLIK_EM_PASSWORD": ""}, ("QLIK_EM_PASSWORD_FILE",)),
        ({"QLIK_EM_PASSWORD_FILE": "/nonexistent/em_password"}, ("cannot be read",)),
        ({"QLIK_MONITOR_PORT": "http"}, ("QLIK_MONITOR_PORT",)),
        ({"QLIK_EM_CA_BUNDLE": "/nonexistent/ca.pem"}, ("QLIK_EM_CA_BUNDLE",)),
    ],
)
def test_missing_or_bad_config_gives_one_clear_line(
    root: Path, change: dict[str, str], words: tuple[str, ...]
) -> None:
    env = monitor_env("http://127.0.0.1:9")
    env.update(change)
    assert_clean_failure(run_once(root, env), *words)


def scrape(port: int, deadline: float) -> str:
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as page:
                return page.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_server_mode_keeps_serving_with_up_0_while_unreachable(root: Path) -> None:
    port = free_port()
    env = monitor_env(
        f"http://127.0.0.1:{free_port()}", QLIK_MONITOR_PORT=str(port), QLIK_MONITOR_INTERVAL="1"
    )
    process = subprocess.Popen(
        [sys.executable, str(root / SCRIPT)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        scrape(port, deadline)  # serving before the first poll ends
        time.sleep(2.5)  # two polls at least: the exporter must survive them
        assert process.poll() is None, "the exporter exited while Enterprise Manager was down"
        found = samples(scrape(port, deadline))
        assert found[("qlik_replicate_up", ())] == 0.0
        assert not [key for key in found if key[0] == "qlik_replicate_task_state"]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    errors = [line for line in stderr.splitlines() if "ERROR" in line]
    assert errors and all("poll failed: cannot reach Enterprise Manager" in e for e in errors)
    assert "Traceback" not in stderr
