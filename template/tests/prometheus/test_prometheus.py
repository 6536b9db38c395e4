"""Prometheus: its config and rules pass promtool, the rules' unit tests pass, the server boots.

promtool and prometheus are the Debian package `prometheus` (2.42); the compose stack runs
prom/prometheus 3.x, so the files use only syntax both accept.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from monitoring_helpers import (
    prometheus_dir,
    promql_parses,
    read_yaml,
    rule_files,
    rule_groups,
    rules,
    run,
    tool,
)

BOOT_TIMEOUT_SECONDS = 30
SEVERITIES = {"critical", "warning"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_of_prometheus(root: Path, tmp_path: Path) -> Path:
    """monitoring/prometheus/ in tmp_path, to break or to boot without touching the repo."""
    target = tmp_path / "prometheus"
    shutil.copytree(prometheus_dir(root), target)
    return target


def test_promtool_check_config(root: Path) -> None:
    result = run([tool("promtool"), "check", "config", "prometheus.yml"], prometheus_dir(root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rule_files(root))} rule files found" in result.stdout


def test_a_broken_config_is_rejected(root: Path, tmp_path: Path) -> None:
    copy = copy_of_prometheus(root, tmp_path)
    text = (copy / "prometheus.yml").read_text()
    (copy / "prometheus.yml").write_text(text.replace("scrape_interval:", "scrape_intervall:", 1))
    result = run([tool("promtool"), "check", "config", "prometheus.yml"], copy)
    assert result.returncode != 0
    assert "scrape_intervall" in result.stdout + result.stderr


def test_promtool_check_rules(root: Path) -> None:
    files = [str(path) for path in rule_files(root)]
    result = run([tool("promtool"), "check", "rules", *files])
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_rule_is_rejected(root: Path, tmp_path: Path) -> None:
    copy = copy_of_prometheus(root, tmp_path)
    path = copy / "rules" / "pipeline.yml"
    path.write_text(path.read_text().replace("> 48 * 3600", "> 48 * 3600)", 1))
    result = run([tool("promtool"), "check", "rules", str(path)])
    assert result.returncode != 0
    assert "DataFreshnessStale" in result.stdout + result.stderr


def test_promtool_test_rules(root: Path) -> None:
    tests = sorted(path.name for path in (prometheus_dir(root) / "tests").glob("*.test.yml"))
    assert tests, "monitoring/prometheus/tests/ holds no *.test.yml"
    result = run([tool("promtool"), "test", "rules", *tests], prometheus_dir(root) / "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rule_unit_tests_can_fail(root: Path, tmp_path: Path) -> None:
    """A rule that stays silent where its test expects an alert fails `promtool test rules`."""
    copy = copy_of_prometheus(root, tmp_path)
    path = copy / "rules" / "pipeline.yml"
    path.write_text(path.read_text().replace("> 48 * 3600", "> 72 * 3600", 1))
    result = run([tool("promtool"), "test", "rules", "pipeline.test.yml"], copy / "tests")
    assert result.returncode != 0
    assert "DataFreshnessStale" in result.stdout + result.stderr


def unit_test_cases(root: Path) -> tuple[dict[str, set[str]], set[str]]:
    """alertname -> {"fires", "silent"} seen in the unit tests; recording rules tested."""
    alerts: dict[str, set[str]] = {}
    recorded = set()
    for path in (prometheus_dir(root) / "tests").glob("*.test.yml"):
        for case in read_yaml(path)["tests"]:
            for check in case.get("alert_rule_test") or []:
                verdict = "fires" if check.get("exp_alerts") else "silent"
                alerts.setdefault(check["alertname"], set()).add(verdict)
            recorded |= {check["expr"] for check in case.get("promql_expr_test") or []}
    return alerts, recorded


def untested(root: Path) -> list[str]:
    alerts, recorded = unit_test_cases(root)
    problems = []
    for rule in rules(root):
        if "alert" in rule and alerts.get(rule["alert"]) != {"fires", "silent"}:
            problems.append(f"{rule['alert']}: {sorted(alerts.get(rule['alert'], set()))}")
        if "record" in rule and rule["record"] not in recorded:
            problems.append(f"{rule['record']}: no promql_expr_test")
    return problems


def test_every_rule_has_unit_tests_both_ways(root: Path, tmp_path: Path) -> None:
    assert untested(root) == [], (
        "each alert needs a case where it fires and one where it stays silent, each recording "
        "rule a promql_expr_test, in monitoring/prometheus/tests/"
    )
    copy = tmp_path / "repo"
    (copy / "monitoring").mkdir(parents=True)
    shutil.copytree(prometheus_dir(root), copy / "monitoring" / "prometheus")
    test_file = copy / "monitoring" / "prometheus" / "tests" / "pipeline.test.yml"
    document = read_yaml(test_file)
    for case in document["tests"]:
        case["alert_rule_test"] = [
            check
            for check in case.get("alert_rule_test") or []
            if not (check["alertname"] == "DbtTaskFailed" and not check.get("exp_alerts"))
        ]
    test_file.write_text(yaml.safe_dump(document))
    assert untested(copy) == ["DbtTaskFailed: ['fires']"]


def test_every_alert_says_how_bad_and_where_to_look(root: Path) -> None:
    for rule in rules(root):
        if "alert" not in rule:
            continue
        assert rule.get("labels", {}).get("severity") in SEVERITIES, rule["alert"]
        annotations = rule.get("annotations") or {}
        assert annotations.get("summary") and annotations.get("description"), rule["alert"]


def test_promql_parses_reports_each_broken_expression(tmp_path: Path) -> None:
    errors = promql_parses(
        {
            "fine": "sum by (dag_id) (rate(airflow_ti_failures_total[5m]))",
            "unclosed": "sum(rate(airflow_ti_failures_total[5m])",
        },
        tmp_path,
    )
    assert list(errors) == ["unclosed"]
    assert "unclosed left parenthesis" in errors["unclosed"]


def freshness_hours(root: Path) -> dict[str, float | None]:
    """The age (hours) at which each DataFreshness* alert fires, read from its expression."""
    hours = {}
    for rule in rules(root):
        if rule.get("alert", "").startswith("DataFreshness"):
            match = re.search(r">\s*(\d+)\s*\*\s*3600\s*$", rule["expr"])  # "> 48 * 3600"
            hours[rule["alert"]] = float(match.group(1)) if match else None
    return hours


def period_hours(threshold: dict[str, object]) -> float:
    factor = {"minute": 1 / 60, "hour": 1, "day": 24}[str(threshold["period"])]
    return float(threshold["count"]) * factor  # type: ignore[arg-type]


@pytest.mark.coherence
def test_freshness_alerts_match_dbt_source_freshness(root: Path) -> None:
    sources = root / "dbt" / "models" / "staging" / "_sources.yml"
    freshness = [
        source["freshness"] for source in read_yaml(sources)["sources"] if source.get("freshness")
    ]
    assert freshness, f"{sources} declares no source freshness"
    alerts = freshness_hours(root)
    rules_file = "monitoring/prometheus/rules/pipeline.yml"
    for level, alert in (
        ("warn_after", "DataFreshnessLate"),
        ("error_after", "DataFreshnessStale"),
    ):
        wanted = period_hours(freshness[0][level])
        assert alerts.get(alert) == wanted, (
            f"{rules_file}: {alert} fires after {alerts.get(alert)} h but "
            f"dbt/models/staging/_sources.yml's freshness {level} is {wanted} h: make the alert's "
            f"threshold ({wanted:g} * 3600) and dbt's {level} agree"
        )


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"prometheus not ready in {BOOT_TIMEOUT_SECONDS} s:\n{log.read_text()[-3000:]}")


def test_prometheus_boots_and_loads_every_rule_group(root: Path, tmp_path: Path) -> None:
    binary = tool("prometheus")
    copy = copy_of_prometheus(root, tmp_path)
    url = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "prometheus.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={copy / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address={url.removeprefix('http://')}",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(url, process, log)
        with urllib.request.urlopen(f"{url}/api/v1/rules", timeout=5) as response:
            loaded = json.load(response)["data"]["groups"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    expected = rule_groups(rule_files(root))
    assert {group["name"] for group in loaded} == set(expected)
    assert sum(len(group["rules"]) for group in loaded) == sum(map(len, expected.values()))
