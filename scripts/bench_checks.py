#!/usr/bin/env python3
"""Measure what each check of a rendered repository costs, and count what the checks cover.

    python scripts/bench_checks.py --project DIR [--runs 1] [--slowest 15] [FOLDER ...]

DIR is a rendered prototype after its `make setup` (its .venv runs the tests).

1. Runs pytest on each test folder (every folder of DIR/tests by default) --runs times, and
   prints the median wall time of every folder and test file, and the slowest tests
   (pytest's own JUnit timings): each test is one check, most of them one tool run
   (promtool, kubernetes-validate, ansible-lint, actionlint, ...).
2. Counts what the checks read: dbt models, alert rules, dashboard panels, LookML views,
   Kubernetes objects, Terraform resource blocks, workflows, Jenkins stages, playbooks.

It is a benchmark, not a test: it prints figures and fails only when pytest cannot run.
A failing test is reported with its time, not hidden. Nothing of yours is written: the
JUnit files go to a temporary folder. It is the template's benchmark (not rendered).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

import yaml

#: The rendered repository measured (set from --project).
ROOT = Path.cwd()


def test_folders() -> list[str]:
    """Every folder of the project's tests/ (what `make test` runs)."""
    return sorted(
        path.relative_to(ROOT).as_posix() for path in (ROOT / "tests").iterdir() if path.is_dir()
    )


def project_python() -> str:
    python = ROOT / ".venv" / "bin" / "python"
    if not python.is_file():
        sys.exit(f"{ROOT} has no .venv: run `make setup` there first")
    return str(python)


def run_folder(folder: str, junit: Path) -> tuple[float, dict[str, float], list[str]]:
    """Wall seconds of pytest on the folder, seconds per test id, and the failed ids."""
    start = time.perf_counter()
    result = subprocess.run(
        [
            project_python(),
            "-m",
            "pytest",
            folder,
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if not junit.exists():
        sys.exit(f"pytest could not run {folder}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    tests, failed = {}, []
    for case in ElementTree.parse(junit).iter("testcase"):
        test_id = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        tests[test_id] = float(case.get("time") or 0)
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(test_id)
    return wall, tests, failed


def yaml_documents(paths: list[Path]) -> int:
    return sum(
        1 for path in paths for doc in yaml.safe_load_all(path.read_text()) if doc is not None
    )


def panels(dashboard: dict[str, object]) -> int:
    count = 0
    for panel in dashboard.get("panels", []) or []:  # type: ignore[union-attr]
        count += 0 if panel.get("type") == "row" else 1
        count += panels(panel) if isinstance(panel, dict) else 0
    return count


def coverage() -> dict[str, int]:
    """What the checks read, for the parts this repository has."""
    found: dict[str, int] = {}
    found["dbt models"] = len(list((ROOT / "dbt" / "models").rglob("*.sql")))
    rules = ROOT / "monitoring" / "prometheus" / "rules"
    if rules.is_dir():
        groups = [
            g for p in sorted(rules.glob("*.yml")) for g in yaml.safe_load(p.read_text())["groups"]
        ]
        found["Prometheus rule groups"] = len(groups)
        found["Prometheus rules"] = sum(len(g["rules"]) for g in groups)
    dashboards = ROOT / "grafana" / "dashboards"
    if dashboards.is_dir():
        found["Grafana dashboards"] = len(list(dashboards.glob("*.json")))
        found["Grafana panels"] = sum(
            panels(json.loads(p.read_text())) for p in dashboards.glob("*.json")
        )
    views = ROOT / "looker" / "views"
    if views.is_dir():
        found["LookML views (one per mart)"] = len(list((views / "generated").glob("*.view.lkml")))
    terraform = ROOT / "infrastructure" / "terraform"
    if terraform.is_dir():
        found["Terraform resource blocks"] = sum(
            len(re.findall(r'^resource\s+"', p.read_text(), re.MULTILINE))
            for p in terraform.rglob("*.tf")
        )
    kubernetes = ROOT / "infrastructure" / "kubernetes"
    if kubernetes.is_dir():
        found["Kubernetes objects"] = yaml_documents(sorted(kubernetes.glob("*.yaml")))
    ansible = ROOT / "infrastructure" / "ansible"
    if ansible.is_dir():
        found["Ansible playbooks"] = len(list((ansible / "playbooks").glob("*.yml")))
    workflows = ROOT / ".github" / "workflows"
    if workflows.is_dir():
        found["GitHub workflows"] = len(list(workflows.glob("*.yml")))
        found["composite actions"] = len(
            list((ROOT / "cicd" / "github-actions").glob("*/action.yml"))
        )
    jenkinsfile = ROOT / "cicd" / "jenkins" / "Jenkinsfile"
    if jenkinsfile.exists():
        found["Jenkins stages"] = len(re.findall(r"\bstage\s*\(", jenkinsfile.read_text()))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="a rendered repository")
    parser.add_argument("folders", nargs="*", help="test folders (default: all of tests/)")
    parser.add_argument("--runs", type=int, default=1, help="runs per folder (median)")
    parser.add_argument("--slowest", type=int, default=15, help="how many slowest tests to list")
    args = parser.parse_args()
    global ROOT
    ROOT = args.project.resolve()
    folders = args.folders or test_folders()
    walls: dict[str, list[float]] = defaultdict(list)
    tests: dict[str, list[float]] = defaultdict(list)
    failed: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="benchmark-checks-") as scratch:
        for run in range(args.runs):
            for number, folder in enumerate(folders):
                wall, times, broken = run_folder(folder, Path(scratch) / f"{run}-{number}.xml")
                walls[folder].append(wall)
                for test_id, seconds in times.items():
                    tests[test_id].append(seconds)
                failed.update(broken)
    median = {test_id: statistics.median(seconds) for test_id, seconds in tests.items()}
    by_file: dict[str, float] = defaultdict(float)
    for test_id, seconds in median.items():
        by_file[test_id.split("::")[0]] += seconds
    print(f"Test folders (pytest wall time, median of {args.runs})")
    for folder in folders:
        print(f"  {folder:<58} {statistics.median(walls[folder]):8.1f} s")
    print("Test files (sum of their tests)")
    for path, seconds in sorted(by_file.items(), key=lambda item: -item[1]):
        print(f"  {path:<58} {seconds:8.1f} s")
    print(f"Slowest {args.slowest} tests")
    for test_id, seconds in sorted(median.items(), key=lambda item: -item[1])[: args.slowest]:
        print(f"  {seconds:7.2f} s  {test_id}{'  FAILED' if test_id in failed else ''}")
    print(f"{len(median)} tests, {len(failed)} failed")
    print("Checked")
    for name, count in coverage().items():
        print(f"  {name:<30} {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
