#!/usr/bin/env python3
"""The pre-migration checklist: is this prototype ready to move to the production platform?

`make migration-check` checks five items (documentation, tests, security scans, warehouse
cost estimate, integration points; see README.md) and writes a Markdown readiness report
with each item passed, failed or skipped, and why. Ready means every item passed: a skipped
item, test or scan, or a missing report, is work not done. Exit status: 0 ready, 1 an item
failed or was skipped, 2 setup error (not a rendered repository, an unwritable report).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import integration_points
import junit_results
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
COSTS = (
    "| {warehouse} | {size} | {credits_per_hour} | {auto_suspend} | {idle_credits_per_resume:.3f}"
    " | {monitor} (suspends at {cap_percent} %) | {quota:g} | {quota_hours:g} | "
    "{monthly_upper_bound:g} |"
)


class Item(NamedTuple):
    """One line of the checklist, with the details its section of the report shows."""

    title: str
    status: str
    why: str
    details: Sequence[str] = ()


class Repository(NamedTuple):
    root: Path
    answers: dict[str, Any]
    files: list[str]

    @property
    def components(self) -> list[str]:
        return list(self.answers["components"])


def outcome(
    title: str, passed: str, details: list[str], failed: list[str], undone: Sequence[str] = ()
) -> Item:
    """Failed with the failures, else skipped (not done) with what was not done, else passed;
    the failures and what was not done head the details."""
    if found := [*failed, *undone]:
        why = found[0] + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")
        bullets = [f"- {message}" for message in found]
        return Item(title, FAILED if failed else SKIPPED, why, [*bullets, "", *details])
    return Item(title, PASSED, passed, details)


def failing(*checks: tuple[object, str]) -> list[str]:
    """The messages of the checks that are true: (wrong, message) pairs."""
    return [message for wrong, message in checks if wrong]


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def run(command: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)


#: What each missing or empty document should say.
WRITE = defaultdict(
    lambda: "write what the folder holds and how it is checked",
    {
        "README.md": "write what the prototype does and how to run it",
        "QUICKSTART.md": "write the steps from a fresh clone to a green `make test`",
    },
)


def documentation(repo: Repository) -> Item:
    top = {name.split("/")[0] for name in repo.files if name.count("/") == 1 and name[0] != "."}
    top |= {home for p in integration_points.chosen(repo.components) for home in p.home.split()}
    documents = ["README.md", "QUICKSTART.md", *(f"{folder}/README.md" for folder in sorted(top))]
    texts = {d: (repo.root / d).read_text() for d in documents if (repo.root / d).is_file()}
    empty = [d for d in documents if not texts.get(d, "").strip()]
    problems = [f"{d} {'is empty' if d in texts else 'is missing'}: {WRITE[d]}" for d in empty]
    markdown = any(name.startswith("docs/") and name.endswith(".md") for name in repo.files)
    problems += failing((not markdown, "docs/ holds no Markdown page"))
    passed = f"README.md, QUICKSTART.md and {len(top)} folder READMEs (docs/ included)"
    checked = ["Checked: " + ", ".join(f"`{d}`" for d in documents)]
    return outcome("Documentation present", passed, checked, problems)


def tests(repo: Repository, path: Path) -> Item:
    title = "Tests pass"
    shown = (path.relative_to(repo.root) if path.is_relative_to(repo.root) else path).as_posix()
    if not path.is_file():
        return Item(title, FAILED, f"no test results at {shown}: run `make test` first")
    try:
        results = junit_results.read(path)
    except (OSError, ValueError) as error:
        return Item(title, FAILED, f"{shown} is unreadable ({error}): run `make test` again")
    changed, name = junit_results.newest_change(repo.root, repo.files)
    missing = ", ".join(sorted(junit_results.folders_with_tests(repo.files) - results.folders))
    written, failed, skipped = path.stat().st_mtime, results.failed, results.skipped
    problems = failing(
        (changed > written, f"{name} changed after the last test run: run `make test` again"),
        (missing, f"the results miss {missing} (a partial run): run `make test` again"),
        (failed, f"{len(failed)} test(s) failed: fix them and run `make test`"),
    )
    counts = (
        f"{results.tests} tests, {len(failed)} failed, {len(skipped)} skipped (`{shown}`, "
        f"{datetime.fromtimestamp(written, UTC):%Y-%m-%d %H:%M} UTC)"
    )
    listed = failed[: junit_results.SHOWN]
    details = [counts, *(f"- failed: `{junit_results.summary(f)}`" for f in listed)]
    if len(failed) > len(listed):
        details.append(f"- ... and {len(failed) - len(listed)} more")
    undone = [f"skipped ({skipped.count(r)}): {r}" for r in sorted(set(skipped))]
    return outcome(title, counts, details, problems, undone)


def secret_scans(repo: Repository) -> tuple[str, str]:
    """Run the repository's secret-scan tests; (status, why)."""
    ids = [t for key, ids in SECRET_TESTS.items() if key in (None, *repo.components) for t in ids]
    with tempfile.TemporaryDirectory() as scratch:
        xml = Path(scratch) / "results.xml"
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        run([*pytest, f"--junitxml={xml}", *ids], repo.root)
        try:
            results = junit_results.read(xml)
        except (OSError, ValueError):
            return FAILED, f"pytest could not run {', '.join(ids)}: run it by hand"
    ran, failed, skipped = results.tests, results.failed, results.skipped
    problems = failing(
        (failed, "; ".join(junit_results.summary(f, lines=6) for f in failed)),
        (skipped, "a scan was skipped: " + "; ".join(sorted(set(skipped)))),
        (ran < len(ids), f"pytest ran {ran} of {', '.join(ids)}: are they there?"),
    )
    clean = f"{len(ids)} scan(s) clean: " + ", ".join(f"`{t}`" for t in ids)
    return (FAILED, problems[0]) if problems else (PASSED, clean)


def classification(repo: Repository) -> tuple[str, str]:
    script = "security/data_classification/classify.py"
    result = run([sys.executable, script, "--check"], repo.root)
    if result.returncode == 0:
        return PASSED, f"`{script} --check` passes"
    lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
    return FAILED, f"`{script} --check` exits {result.returncode}: " + " ".join(lines[:3])


def pii_report(repo: Repository) -> tuple[str, str]:
    """The last PII scan's report: skipped (not done) while there is none."""
    path, shown = repo.root / PII_REPORT, PII_REPORT.as_posix()
    if not path.is_file():
        return SKIPPED, f"no {shown} yet: `make demo` then `make pii-scan` writes it"
    try:
        report = json.loads(path.read_text())
        findings = list(report["findings"])
    except (OSError, ValueError, KeyError, TypeError):
        return FAILED, f"{shown} is unreadable: run `make pii-scan` again"
    if findings:
        return FAILED, f"{len(findings)} unclassified PII column(s): " + "; ".join(findings[:5])
    return PASSED, f"no finding in {shown} of {report.get('generated_at', '?')}"


def security(repo: Repository) -> Item:
    checks = {"secret scans": secret_scans}
    if full := "security" in repo.components:
        checks |= {"classification": classification, "PII scan report": pii_report}
    rows = [(name, *check(repo)) for name, check in checks.items()]
    details = ["| scan | result | why |", "|---|---|---|"]
    details += [f"| {name} | {status} | {cell(why)} |" for name, status, why in rows]
    if not full:
        details.append(
            "\nWith the security component: detect-secrets, the classification check, PII scans."
        )
    failed, undone = ([f"{n}: {w}" for n, s, w in rows if s == x] for x in (FAILED, SKIPPED))
    return outcome("Security scans clean", f"{len(rows)} scan(s) clean", details, failed, undone)


def warehouses(repo: Repository) -> Item:
    title = "Warehouse cost estimate"
    if "snowflake" not in repo.components:
        return Item(
            title, SKIPPED, "no snowflake component: the local DuckDB warehouse costs nothing"
        )
    import warehouse_costs  # the snowflake component's: rendered only with it

    script = warehouse_costs.SCRIPT
    try:
        estimates = warehouse_costs.estimate(repo.root / script)
    except warehouse_costs.EstimateError as error:
        return Item(title, FAILED, f"{script}: {error}")
    totals = ("credits_per_hour", "quota", "monthly_upper_bound")
    per_hour, quota, bound = (sum(getattr(e, total) for e in estimates) for total in totals)
    details = [
        f"From `{script}`, standard warehouses, in credits (times your contract's price per "
        "credit). A resume bills at least 60 s, and an idle warehouse runs until auto-suspend.",
        "",
        "| warehouse | size | credits/hour | auto_suspend (s) | credits per idle tail | "
        "resource monitor | monthly quota | hours at quota | monthly upper bound |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|",
        *(COSTS.format(**e._asdict()) for e in estimates),
        f"| **all** | | **{per_hour}** | | | | **{quota:g}** | | **{bound:g}** |",
    ]
    why = f"{len(estimates)} warehouses: {per_hour} credits/hour all running, at most "
    return Item(title, PASSED, why + f"{bound:g} credits a month (quotas {quota:g})", details)


def integrations(repo: Repository) -> Item:
    variables = integration_points.env_variables(repo.root)
    points = integration_points.chosen(repo.components)
    unknown = [key for key in repo.components if key not in integration_points.INTEGRATIONS]
    problems = [
        f"component {k} has no entry in scripts/migration/integration_points.json: add one"
        for k in unknown
    ]
    details = ["| component | connects to | configured by | needs from .env |", "|---|---|---|---|"]
    claimed: set[str] = set()
    for point in points:
        files, unmatched = integration_points.files_of(point, repo.files)
        problems += [f"{point.label}: no committed file matches `{p}`" for p in unmatched]
        needs = [(n, shown) for n, shown in variables if point.env and re.match(point.env, n)]
        claimed |= {name for name, _ in needs}
        needed = ", ".join(shown for _, shown in needs) or "-"
        details.append(f"| {point.label} | {point.system} | {', '.join(files)} | {needed} |")
    if others := [shown for name, shown in variables if name not in claimed]:
        details.append(f"| (other) | | `.env.example` | {', '.join(others)} |")
    passed = f"{len(points)} integration point(s)"
    return outcome("Integration points listed", passed, details, problems)


def verdict(items: list[Item]) -> str:
    """Ready only when every item passed: a skipped item is not done."""
    failed, skipped = (sum(item.status == s for item in items) for s in (FAILED, SKIPPED))
    if failed or skipped:
        return f"Not ready: {failed} of {len(items)} items failed, {skipped} skipped (not done)."
    return f"Ready: all {len(items)} items passed."


def render(repo: Repository, items: list[Item]) -> str:
    components = ", ".join(repo.components) or "none (dbt on DuckDB only)"
    lines = [
        f"# Migration readiness: {repo.answers.get('project_name', repo.root.name)}\n",
        f"Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make migration-check` "
        f"(scripts/migration/migration_check.py). Components: {components}.\n",
        f"**{verdict(items)}**\n",
        "| item | result | why |\n|---|---|---|",
        *(f"| {item.title} | {item.status} | {cell(item.why)} |" for item in items),
    ]
    for item in items:
        lines += ["", f"## {item.title}: {item.status}\n", item.why]
        lines += ["", *item.details] if item.details else []
    return "\n".join(lines) + "\n"


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
    items = [documentation(repo), tests(repo, root / results)]  # an absolute path stays
    return repo, [*items, security(repo), warehouses(repo), integrations(repo)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, required=True, help="the Markdown report to write")
    default = f"the JUnit XML of the last `make test` (default {DEFAULT_RESULTS})"
    parser.add_argument("--test-results", type=Path, default=DEFAULT_RESULTS, help=default)
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
    print(f"{verdict(items)}\nreport: {args.report}")
    return 0 if all(item.status == PASSED for item in items) else 1


if __name__ == "__main__":
    sys.exit(main())
