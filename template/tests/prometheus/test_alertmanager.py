"""Alertmanager: its configuration passes amtool, and alerts reach the intended receiver.

amtool is the Debian package prometheus-alertmanager (0.25); the compose stack runs
prom/alertmanager 0.34, so the file uses only keys both accept.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from monitoring_helpers import monitoring, read_yaml, rules, run, tool


def config(root: Path) -> Path:
    return monitoring(root) / "alerts" / "alertmanager.yml"


def receiver_of(path: Path, **labels: str) -> str:
    """The receiver amtool routes an alert with these labels to."""
    args = [f"{key}={value}" for key, value in labels.items()]
    result = run([tool("amtool"), "config", "routes", "test", f"--config.file={path}", *args])
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_amtool_check_config(root: Path) -> None:
    result = run([tool("amtool"), "check-config", str(config(root))])
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_config_is_rejected(root: Path, tmp_path: Path) -> None:
    broken = tmp_path / "alertmanager.yml"
    broken.write_text(
        config(root).read_text().replace("receiver: pipeline-critical", "receiver: nobody")
    )
    result = run([tool("amtool"), "check-config", str(broken)])
    assert result.returncode != 0
    assert "nobody" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("severity", "receiver"), [("critical", "pipeline-critical"), ("warning", "pipeline-alerts")]
)
def test_alerts_route_by_severity(root: Path, severity: str, receiver: str) -> None:
    assert receiver_of(config(root), alertname="AnyAlert", severity=severity) == receiver


def test_every_severity_of_the_rules_has_its_route(root: Path) -> None:
    severities = {rule["labels"]["severity"] for rule in rules(root) if "alert" in rule}
    routed = {severity: receiver_of(config(root), severity=severity) for severity in severities}
    assert routed == {
        severity: "pipeline-critical" if severity == "critical" else "pipeline-alerts"
        for severity in severities
    }


def alertnames(matchers: list[str]) -> list[str]:
    """The alert names an inhibit rule's alertname matcher ("=" or "=~" a|b) names."""
    names = []
    for matcher in matchers:
        match = re.fullmatch(r'alertname=~?"([^"]+)"', matcher)
        if match:
            names += match.group(1).split("|")
    return names


def unknown_inhibited_alerts(document: dict, known: set[str]) -> list[str]:
    return sorted(
        name
        for rule in document.get("inhibit_rules") or []
        for key in ("source_matchers", "target_matchers")
        for name in alertnames(rule.get(key) or [])
        if name not in known
    )


def test_inhibit_rules_name_alerts_that_exist(root: Path) -> None:
    known = {rule["alert"] for rule in rules(root) if "alert" in rule}
    document = read_yaml(config(root))
    assert unknown_inhibited_alerts(document, known) == [], (
        "monitoring/alerts/alertmanager.yml inhibits alerts monitoring/prometheus/rules/ lacks"
    )
    broken = yaml.safe_load(
        yaml.safe_dump(document).replace("DataFreshnessLate", "DataFreshnesLate")
    )
    assert "DataFreshnesLate" in unknown_inhibited_alerts(broken, known)


def test_the_webhook_url_file_is_the_compose_secret(root: Path) -> None:
    compose = root / "docker-compose.yml"
    if not compose.exists():
        pytest.skip(
            "no docker-compose.yml (docker component): wherever Alertmanager runs, "
            "it must provide the file"
        )
    services = read_yaml(compose)["services"]
    secrets = {f"/run/secrets/{name}" for name in services["alertmanager"].get("secrets") or []}
    files = {
        slack["api_url_file"]
        for receiver in read_yaml(config(root))["receivers"]
        for slack in receiver.get("slack_configs") or []
    }
    assert files <= secrets, (
        f"monitoring/alerts/alertmanager.yml reads {sorted(files)} but docker-compose.yml gives "
        f"the alertmanager service {sorted(secrets)}: add the secret or fix api_url_file"
    )
