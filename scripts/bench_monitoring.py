#!/usr/bin/env python3
"""Measure the monitoring figures of a rendered repository: the tool checks and a Prometheus boot.

    python scripts/bench_monitoring.py --project DIR [--runs 5]

DIR is a rendered prototype with the prometheus component. This is the template's
benchmark (not rendered).

1. Each check `make monitoring-test` runs with a real tool, timed on its own: `promtool check
   config`, `promtool check rules`, `promtool test rules` and `amtool check-config`.
2. The Prometheus server on the rendered config, on a free port with scratch storage:
   seconds until `/-/ready` answers, and until `/api/v1/rules` lists every rule group.
3. What was checked: rule groups, alerting and recording rules, promtool unit-test files.

Medians of --runs. It is a benchmark, not a test: it prints figures and fails only when a
step fails (or a tool is missing). Nothing of yours is written: scratch files go to a
temporary folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

#: The rendered repository measured (set from --project).
ROOT = Path.cwd()
PROMETHEUS = ROOT / "monitoring" / "prometheus"
ALERTMANAGER = ROOT / "monitoring" / "alerts" / "alertmanager.yml"
TOOLS = {
    "promtool": "promtool",
    "amtool": "amtool",
    "prometheus": "prometheus",
    "alertmanager": "prometheus-alertmanager",
}


def tool(name: str) -> str:
    found = shutil.which(TOOLS[name])
    if not found:
        sys.exit(
            f"{TOOLS[name]} is missing: install the Debian packages prometheus and "
            "prometheus-alertmanager (apt-get install prometheus prometheus-alertmanager)"
        )
    return found


def run(*command: str) -> None:
    result = subprocess.run(command, cwd=PROMETHEUS, capture_output=True, text=True, check=False)
    if result.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


def timed(step: Callable[[], object], runs: int) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rule_groups() -> dict[str, list[dict[str, object]]]:
    groups = {}
    for path in sorted((PROMETHEUS / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            groups[group["name"]] = group["rules"]
    return groups


def boot(runs: int) -> tuple[float, float]:
    """Median seconds until /-/ready, and until the rules API lists every group."""
    expected = set(rule_groups())
    ready_times, rules_times = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="prometheus-") as scratch:
            url = f"http://127.0.0.1:{free_port()}"
            start = time.perf_counter()
            process = subprocess.Popen(
                [
                    tool("prometheus"),
                    f"--config.file={PROMETHEUS / 'prometheus.yml'}",
                    f"--storage.tsdb.path={scratch}",
                    f"--web.listen-address={url.removeprefix('http://')}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                ready_times.append(wait_for(f"{url}/-/ready", start, process))
                rules_times.append(wait_for_groups(f"{url}/api/v1/rules", expected, start))
            finally:
                process.terminate()
                process.wait(timeout=10)
    return statistics.median(ready_times), statistics.median(rules_times)


def wait_for(url: str, start: float, process: subprocess.Popen[bytes]) -> float:
    while time.perf_counter() - start < 30:
        if process.poll() is not None:
            sys.exit(f"prometheus exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return time.perf_counter() - start
        except OSError:
            time.sleep(0.01)
    sys.exit(f"{url} did not answer within 30 s")


def wait_for_groups(url: str, expected: set[str], start: float) -> float:
    while time.perf_counter() - start < 30:
        with urllib.request.urlopen(url, timeout=1) as response:
            loaded = {g["name"] for g in json.load(response)["data"]["groups"]}
        if loaded == expected:
            return time.perf_counter() - start
        time.sleep(0.01)
    sys.exit(f"{url} did not list the rule groups {sorted(expected)} within 30 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="a rendered repository")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    args = parser.parse_args()
    global ROOT, PROMETHEUS, ALERTMANAGER
    ROOT = args.project.resolve()
    PROMETHEUS = ROOT / "monitoring" / "prometheus"
    ALERTMANAGER = ROOT / "monitoring" / "alerts" / "alertmanager.yml"
    runs = args.runs
    promtool = tool("promtool")
    tests = sorted(str(p.relative_to(PROMETHEUS)) for p in (PROMETHEUS / "tests").glob("*.yml"))
    rules = sorted(str(p.relative_to(PROMETHEUS)) for p in (PROMETHEUS / "rules").glob("*.yml"))
    figures = {
        "promtool check config prometheus.yml (with its rule files)": timed(
            lambda: run(promtool, "check", "config", "prometheus.yml"), runs
        ),
        "promtool check rules rules/*.yml": timed(
            lambda: run(promtool, "check", "rules", *rules), runs
        ),
        "promtool test rules tests/*.yml": timed(
            lambda: run(promtool, "test", "rules", *tests), runs
        ),
        "amtool check-config alerts/alertmanager.yml": timed(
            lambda: run(tool("amtool"), "check-config", str(ALERTMANAGER)), runs
        ),
    }
    ready, listed = boot(runs)
    figures["prometheus: start until /-/ready"] = ready
    figures["prometheus: start until /api/v1/rules lists every group"] = listed
    groups = rule_groups()
    alerts = sum("alert" in rule for group in groups.values() for rule in group)
    records = sum("record" in rule for group in groups.values() for rule in group)
    print(f"Monitoring checks, median of {runs} runs")
    for name, seconds in figures.items():
        print(f"  {name:<58} {seconds:7.3f} s")
    print(
        f"Checked: {len(groups)} rule groups, {alerts} alerting and {records} recording rules, "
        f"{len(tests)} promtool unit-test files"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
