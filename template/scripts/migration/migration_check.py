#!/usr/bin/env python3
"""The pre-migration checklist: is this prototype ready to move to the production platform?

`make migration-check` runs five items and writes a Markdown readiness report (default
``.local/migration/readiness_report.md``) with each item passed, failed or skipped, and why:

1. documentation present: README.md and QUICKSTART.md, docs/, and a README.md in every
   top-level folder and every component's folder;
2. tests pass: the JUnit XML of the last `make test` (see junit_results.py for why the
   checklist reads it instead of running the tests);
3. security scans clean: the repository's secret scan (tests/unit/test_no_secrets.py) and,
   with the security component, detect-secrets against .secrets.baseline, the
   classification check and the last PII scan report;
4. warehouse cost estimate: credits per hour and the monthly upper bound of every Snowflake
   warehouse, from snowflake/warehouses/warehouses.sql (skipped without snowflake);
5. integration points: per component, the system it talks to, the files that configure it
   and the variables of .env.example it needs.

Exit status: 0 every item passed or was skipped, 1 an item failed (the report says why),
2 setup error (not a rendered repository, a report that cannot be written).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import integration_points
import junit_results
import warehouse_costs
from repository import SetupError, answers, committed_files

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RESULTS = Path(".local/test-results.xml")
PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
#: The tests that are the repository's secret scans, by component (None: always).
SECRET_TESTS: dict[str | None, tuple[str, ...]] = {
    None: ("tests/unit/test_no_secrets.py::test_no_file_holds_a_credential_like_value",),
    "security": (
        "tests/security/test_detect_secrets.py::test_the_baseline_is_current_and_records_no_finding",
        "tests/security/test_detect_secrets.py::test_no_committed_file_holds_a_secret",
    ),
}
PII_REPORT = Path(".local/pii_report.json")


@dataclass
class Item:
    """One line of the checklist, with the details its section of the report shows."""

    title: str
    status: str
    why: str
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Repository:
    root: Path
    answers: dict[str, Any]
    files: list[str]

    @property
    def components(self) -> list[str]:
        return list(self.answers["components"])


def outcome(title: str, problems: list[str], passed: str, details: list[str]) -> Item:
    """Failed with the problems as details, or passed with its summary."""
    if problems:
        summary = problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        return Item(title, FAILED, summary, [f"- {p}" for p in problems] + ["", *details])
    return Item(title, PASSED, passed, details)


# ---------------------------------------------------------------------------- 1. documentation
def documentation(repo: Repository) -> Item:
    top = {name.split("/")[0] for name in repo.files if "/" in name and name[0] != "."}
    homes = {
        folder
        for key in integration_points.chosen(repo.components)
        for folder in integration_points.INTEGRATIONS[key].home
    }
    folders = sorted(top | homes)
    documents = ["README.md", "QUICKSTART.md"] + [f"{folder}/README.md" for folder in folders]
    problems = []
    for document in documents:
        path = repo.root / document
        if not path.is_file():
            problems.append(
                f"{document} is missing: write what the folder holds and how it is checked"
            )
        elif not path.read_text().strip():
            problems.append(f"{document} is empty")
    if not any(name.startswith("docs/") and name.endswith(".md") for name in repo.files):
        problems.append("docs/ holds no Markdown page")
    details = ["Checked: " + ", ".join(f"`{d}`" for d in documents)]
    return outcome(
        "Documentation present",
        problems,
        f"README.md, QUICKSTART.md and {len(folders)} folder READMEs (docs/ included)",
        details,
    )


# ------------------------------------------------------------------------------------ 2. tests
def tests(repo: Repository, results_path: Path) -> Item:
    title = "Tests pass"
    shown = (
        results_path.relative_to(repo.root).as_posix()
        if results_path.is_relative_to(repo.root)
        else results_path.as_posix()
    )
    if not results_path.is_file():
        return Item(title, FAILED, f"no test results at {shown}: run `make test` first")
    try:
        results = junit_results.read(results_path)
    except (OSError, ValueError) as error:
        return Item(title, FAILED, f"{shown} is unreadable ({error}): run `make test` again")
    changed, name = junit_results.newest_change(repo.root, repo.files)
    problems = []
    if changed > results_path.stat().st_mtime:
        problems.append(f"{name} changed after the last test run: run `make test` again")
    missing = sorted(junit_results.folders_with_tests(repo.files) - results.folders)
    if missing:
        problems.append(
            f"the results miss {', '.join(missing)} (a partial run): run `make test` again"
        )
    if results.failed:
        problems.append(f"{len(results.failed)} test(s) failed: fix them and run `make test`")
    written = datetime.fromtimestamp(results_path.stat().st_mtime, UTC)
    counts = (
        f"{results.tests} tests, {len(results.failed)} failed, {len(results.skipped)} skipped "
        f"(`{shown}`, {written:%Y-%m-%d %H:%M} UTC)"
    )
    details = [counts]
    shown_failures = results.failed[: junit_results.SHOWN]
    details += [f"- failed: `{junit_results.summary(f)}`" for f in shown_failures]
    if len(results.failed) > len(shown_failures):
        details.append(f"- ... and {len(results.failed) - len(shown_failures)} more")
    reasons = sorted(set(results.skipped))
    details += [f"- skipped ({results.skipped.count(r)}): {r}" for r in reasons]
    return outcome(title, problems, counts, details)


# --------------------------------------------------------------------------------- 3. security
def run_quietly(command: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)


def secret_scans(repo: Repository) -> tuple[str, str]:
    """Run the repository's secret-scan tests; (status, why)."""
    node_ids = [
        t for key, ids in SECRET_TESTS.items() if key in (None, *repo.components) for t in ids
    ]
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "results.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        run_quietly([*command, f"--junitxml={report}", *node_ids], repo.root)
        try:
            results = junit_results.read(report)
        except (OSError, ValueError):
            return FAILED, f"pytest could not run {', '.join(node_ids)}: run it by hand"
    if results.failed:
        return FAILED, "; ".join(junit_results.summary(f, lines=6) for f in results.failed)
    if results.skipped:
        return FAILED, "a scan was skipped: " + "; ".join(sorted(set(results.skipped)))
    if results.tests < len(node_ids):
        return FAILED, f"pytest ran {results.tests} of {', '.join(node_ids)}: are they there?"
    return PASSED, f"{len(node_ids)} scan(s) clean: " + ", ".join(f"`{t}`" for t in node_ids)


def classification(repo: Repository) -> tuple[str, str]:
    script = "security/data_classification/classify.py"
    result = run_quietly([sys.executable, script, "--check"], repo.root)
    if result.returncode == 0:
        return PASSED, f"`{script} --check` passes"
    lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
    return FAILED, f"`{script} --check` exits {result.returncode}: " + " ".join(lines[:3])


def pii_report(repo: Repository) -> tuple[str, str]:
    path = repo.root / PII_REPORT
    if not path.is_file():
        return (
            SKIPPED,
            f"no {PII_REPORT.as_posix()} yet: `make demo` then `make pii-scan` writes it",
        )
    try:
        report = json.loads(path.read_text())
        findings = list(report["findings"])
    except (OSError, ValueError, KeyError, TypeError):
        return FAILED, f"{PII_REPORT.as_posix()} is unreadable: run `make pii-scan` again"
    if findings:
        return FAILED, f"{len(findings)} unclassified PII column(s): " + "; ".join(findings[:5])
    return PASSED, f"no finding in {PII_REPORT.as_posix()} of {report.get('generated_at', '?')}"


def security(repo: Repository) -> Item:
    checks: list[tuple[str, Callable[[Repository], tuple[str, str]]]] = [
        ("secret scans", secret_scans)
    ]
    if "security" in repo.components:
        checks += [("classification", classification), ("PII scan report", pii_report)]
    rows = [(name, *check(repo)) for name, check in checks]
    details = ["| scan | result | why |", "|---|---|---|"]
    details += [f"| {name} | {status} | {cell(why)} |" for name, status, why in rows]
    if "security" not in repo.components:
        details.append(
            "\nWith the security component: detect-secrets, the classification check, PII scans."
        )
    problems = [f"{name}: {why}" for name, status, why in rows if status == FAILED]
    return outcome("Security scans clean", problems, f"{len(rows)} scan(s) clean", details)


# ----------------------------------------------------------------------------- 4. warehouses
def credits(value: float) -> str:
    return f"{value:g}"


def warehouses(repo: Repository) -> Item:
    title = "Warehouse cost estimate"
    script = warehouse_costs.SCRIPT
    if "snowflake" not in repo.components:
        return Item(
            title, SKIPPED, "no snowflake component: the local DuckDB warehouse costs nothing"
        )
    try:
        estimates = warehouse_costs.estimate(repo.root / script)
    except warehouse_costs.EstimateError as error:
        return Item(title, FAILED, f"{script}: {error}")
    details = [
        f"From `{script}`, standard warehouses, in credits (times your contract's price per "
        "credit). A resume bills at least 60 s, and an idle warehouse runs until auto-suspend.",
        "",
        "| warehouse | size | credits/hour | auto_suspend (s) | credits per idle tail | "
        "resource monitor | monthly quota | hours at quota | monthly upper bound |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for e in estimates:
        details.append(
            f"| {e.warehouse} | {e.size} | {e.credits_per_hour} | {e.auto_suspend} | "
            f"{e.idle_credits_per_resume:.3f} | {e.monitor.name} (suspends at "
            f"{e.monitor.cap_percent} %) | {credits(e.monitor.quota)} | {e.quota_hours:g} | "
            f"{credits(e.monthly_upper_bound)} |"
        )
    per_hour = sum(e.credits_per_hour for e in estimates)
    bound = sum(e.monthly_upper_bound for e in estimates)
    quota = sum(e.monitor.quota for e in estimates)
    details.append(
        f"| **all** | | **{per_hour}** | | | | **{credits(quota)}** | | **{credits(bound)}** |"
    )
    why = (
        f"{len(estimates)} warehouses: {per_hour} credits/hour all running, at most "
        f"{credits(bound)} credits a month (quotas {credits(quota)})"
    )
    return Item(title, PASSED, why, details)


# ----------------------------------------------------------------------- 5. integration points
def integrations(repo: Repository) -> Item:
    variables = integration_points.env_variables(repo.root)
    problems, claimed = [], set()
    details = [
        "| component | connects to | configured by | needs from .env |",
        "|---|---|---|---|",
    ]
    unknown = [k for k in repo.components if k not in integration_points.INTEGRATIONS]
    problems += [
        f"component {k} has no entry in scripts/migration/integration_points.py: add one"
        for k in unknown
    ]
    for key in integration_points.chosen(repo.components):
        point = integration_points.INTEGRATIONS[key]
        files: list[str] = []
        for pattern in point.files:
            found = integration_points.matching(repo.files, pattern)
            if not found:
                problems.append(f"{point.label}: no committed file matches `{pattern}`")
            files += [f for f in integration_points.shown(pattern, found) if f not in files]
        needs = [v for v in variables if point.env and re.match(point.env, v.name)]
        claimed |= {v.name for v in needs}
        details.append(
            f"| {point.label} | {point.system} | {', '.join(files)} | "
            f"{', '.join(map(str, needs)) or '-'} |"
        )
    others = [str(v) for v in variables if v.name not in claimed]
    if others:
        details.append(f"| (other) | | `.env.example` | {', '.join(others)} |")
    listed = len(integration_points.chosen(repo.components))
    return outcome("Integration points listed", problems, f"{listed} integration point(s)", details)


# ----------------------------------------------------------------------------------- report
def render(repo: Repository, items: list[Item]) -> str:
    failed = [item for item in items if item.status == FAILED]
    verdict = (
        f"**Not ready: {len(failed)} of {len(items)} items failed.**"
        if failed
        else f"**Ready: all {len(items)} items passed or were skipped with a reason.**"
    )
    components = ", ".join(repo.components) or "none (dbt on DuckDB only)"
    lines = [
        f"# Migration readiness: {repo.answers.get('project_name', repo.root.name)}",
        "",
        f"Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make migration-check` "
        f"(scripts/migration/migration_check.py). Components: {components}.",
        "",
        verdict,
        "",
        "| item | result | why |",
        "|---|---|---|",
        *(f"| {item.title} | {item.status} | {cell(item.why)} |" for item in items),
    ]
    for item in items:
        lines += ["", f"## {item.title}: {item.status}", "", item.why]
        if item.details:
            lines += ["", *item.details]
    return "\n".join(lines) + "\n"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def write_atomically(path: Path, text: str) -> None:
    """Write the report next to its place, then rename: never a half-written report."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise SetupError(f"cannot write the report {path}: {error.strerror}") from None


def check(root: Path, results: Path) -> tuple[Repository, list[Item]]:
    """The repository and every item of its checklist, in order."""
    repo = Repository(root, answers(root), committed_files(root))
    return repo, [
        documentation(repo),
        tests(repo, results if results.is_absolute() else root / results),
        security(repo),
        warehouses(repo),
        integrations(repo),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, required=True, help="the Markdown report to write")
    parser.add_argument(
        "--test-results",
        type=Path,
        default=DEFAULT_RESULTS,
        help=f"the JUnit XML of the last `make test` (default {DEFAULT_RESULTS})",
    )
    args = parser.parse_args(argv)
    try:
        if args.report.is_dir():
            raise SetupError(
                f"the report {args.report} is a folder: give a file name ending in .md"
            )
        repo, items = check(ROOT, args.test_results)
        write_atomically(args.report, render(repo, items))
    except SetupError as error:
        print(f"migration_check.py: {error}", file=sys.stderr)
        return 2
    for item in items:
        print(f"{item.status:>7}  {item.title}: {item.why}")
    print(f"report: {args.report}")
    return 1 if any(item.status == FAILED for item in items) else 0


if __name__ == "__main__":
    sys.exit(main())
