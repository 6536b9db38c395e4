#!/usr/bin/env python3
"""The pre-migration checklist: is this prototype ready to move to the production platform?

`make migration-check` checks seven items (documentation, tests, security scans, compliance,
performance, warehouse cost estimate, integration points; see README.md) and writes a
Markdown readiness report with each item in one of three states: passed, failed, or not
checked (with the reason and the command that would check it). Ready means every item
passed: an item not checked, a skipped test or scan, or a missing report, is work not done.
Exit status: 0 ready; 1 an item failed; 3 nothing failed but an item was not checked; 2 setup
error (not a rendered repository, an unwritable report).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import compliance
import integration_points
import junit_results
from compliance import Check
from repository import SetupError, answers, committed_files

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RESULTS = Path(".local/test-results.xml")
PASSED, FAILED, NOT_CHECKED = compliance.PASSED, compliance.FAILED, compliance.NOT_CHECKED
#: Exit status per verdict: ready, an item failed, nothing failed but an item was not checked.
READY, NOT_READY_FAILED, NOT_READY_UNCHECKED = 0, 1, 3
#: The tests that are the repository's secret scans, by component (None: always).
SECRET_TESTS: dict[str | None, tuple[str, ...]] = {
    None: ("tests/unit/test_no_secrets.py::test_no_file_holds_a_credential_like_value",),
    "security": (
        "tests/security/test_detect_secrets.py::test_the_baseline_is_current_and_records_no_finding",
        "tests/security/test_detect_secrets.py::test_no_committed_file_holds_a_secret",
    ),
}
PII_REPORT = Path(".local/pii_report.json")
BENCHMARK = Path(".local/benchmark.json")
#: The performance budget: this table of pyproject.toml.
SETTINGS = ("tool", "migration-check", "performance")
BUDGETS = {"build_s": "dbt build", "incremental_build_s": "incremental dbt build"}
COSTS = (
    "| {warehouse} | {size} | {credits_per_hour} | {auto_suspend} | {idle_credits_per_resume:.3f}"
    " | {monitor} (suspends at {cap_percent} %) | {quota:g} | {quota_hours:g} | "
    "{monthly_upper_bound:g} |"
)


class Item(NamedTuple):
    """One line of the checklist, with the details its section of the report shows; a not
    checked item also has the command that would check it."""

    title: str
    status: str
    why: str
    details: Sequence[str] = ()
    command: str = ""


class Repository(NamedTuple):
    root: Path
    answers: dict[str, Any]
    files: list[str]

    @property
    def components(self) -> list[str]:
        return list(self.answers["components"])


def outcome(
    title: str,
    passed: str,
    details: list[str],
    failed: list[str],
    undone: Sequence[tuple[str, str]] = (),
) -> Item:
    """Failed with the failures, else not checked with what was not checked (reason, command),
    else passed; the failures and what was not checked head the details."""
    found = [*failed, *(f"not checked: {why} (to check: `{run}`)" for why, run in undone)]
    if not found:
        return Item(title, PASSED, passed, details)
    bullets = [*(f"- {message}" for message in found), ""]
    first = failed[0] if failed else undone[0][0]
    why = first + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")
    if failed:
        return Item(title, FAILED, why, [*bullets, *details])
    command = "; ".join(dict.fromkeys(run for _, run in undone))
    return Item(title, NOT_CHECKED, why, [*bullets, *details], command)


def add_component(repo: Repository, key: str) -> str:
    """The command that adds a component to this repository."""
    keys = ", ".join([*repo.components, key])
    return f"copier update --trust --defaults -d 'components=[{keys}]'"


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
        return Item(title, NOT_CHECKED, f"no test results yet ({shown})", command="make test")
    try:
        results = junit_results.read(path)
    except (OSError, ValueError) as error:
        return Item(title, NOT_CHECKED, f"{shown} is unreadable ({error})", command="make test")
    changed, name = junit_results.newest_change(repo.root, repo.files)
    missing = ", ".join(sorted(junit_results.folders_with_tests(repo.files) - results.folders))
    written, failed, skipped = path.stat().st_mtime, results.failed, results.skipped
    problems = failing((failed, f"{len(failed)} test(s) failed: fix them and run `make test`"))
    undone = [
        (why, "make test")
        for wrong, why in (
            (changed > written, f"{name} changed after the last test run"),
            (missing, f"the results miss {missing} (a partial run)"),
        )
        if wrong
    ]
    counts = (
        f"{results.tests} tests, {len(failed)} failed, {len(skipped)} skipped (`{shown}`, "
        f"{datetime.fromtimestamp(written, UTC):%Y-%m-%d %H:%M} UTC)"
    )
    listed = failed[: junit_results.SHOWN]
    details = [counts, *(f"- failed: `{junit_results.summary(f)}`" for f in listed)]
    if len(failed) > len(listed):
        details.append(f"- ... and {len(failed) - len(listed)} more")
    undone += [(f"skipped ({skipped.count(r)}): {r}", "make test") for r in sorted(set(skipped))]
    return outcome(title, counts, details, problems, undone)


def secret_scans(repo: Repository) -> Check:
    """Run the repository's secret-scan tests."""
    ids = [t for key, ids in SECRET_TESTS.items() if key in (None, *repo.components) for t in ids]
    with tempfile.TemporaryDirectory() as scratch:
        xml = Path(scratch) / "results.xml"
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        run([*pytest, f"--junitxml={xml}", *ids], repo.root)
        try:
            results = junit_results.read(xml)
        except (OSError, ValueError):
            return Check(FAILED, f"pytest could not run {', '.join(ids)}: run it by hand")
    ran, failed, skipped = results.tests, results.failed, results.skipped
    problems = failing(
        (failed, "; ".join(junit_results.summary(f, lines=6) for f in failed)),
        (ran < len(ids) and not skipped, f"pytest ran {ran} of {', '.join(ids)}: are they there?"),
    )
    if problems:
        return Check(FAILED, problems[0])
    if skipped:
        files = " ".join(dict.fromkeys(t.split("::")[0] for t in ids))
        why = "a scan was skipped: " + "; ".join(sorted(set(skipped)))
        return Check(NOT_CHECKED, why, f".venv/bin/python -m pytest {files}")
    return Check(PASSED, f"{len(ids)} scan(s) clean: " + ", ".join(f"`{t}`" for t in ids))


def classification(repo: Repository) -> Check:
    script = "security/data_classification/classify.py"
    result = run([sys.executable, script, "--check"], repo.root)
    if result.returncode == 0:
        return Check(PASSED, f"`{script} --check` passes")
    lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
    why = f"`{script} --check` exits {result.returncode}: " + " ".join(lines[:3])
    if result.returncode == 2:  # no or stale manifest: the check did not run
        return Check(NOT_CHECKED, why, compliance.PARSE)
    return Check(FAILED, why)


def pii_report(repo: Repository) -> Check:
    """The last PII scan's report: not checked while there is none."""
    path, shown = repo.root / PII_REPORT, PII_REPORT.as_posix()
    if not path.is_file():
        return Check(NOT_CHECKED, f"no PII scan report yet ({shown})", "make demo && make pii-scan")
    try:
        report = json.loads(path.read_text())
        findings = list(report["findings"])
    except (OSError, ValueError, KeyError, TypeError):
        return Check(NOT_CHECKED, f"{shown} is unreadable", "make pii-scan")
    if findings:
        why = f"{len(findings)} unclassified PII column(s): " + "; ".join(findings[:5])
        return Check(FAILED, why)
    return Check(PASSED, f"no finding in {shown} of {report.get('generated_at', '?')}")


def table(title: str, rows: list[tuple[str, Check]], passed: str, more: str = "") -> Item:
    """An item made of several checks: a table of them, failed if one failed, else not
    checked if one was not checked."""
    details = ["| check | result | why | to check or fix |", "|---|---|---|---|"]
    details += [f"| {n} | {c.status} | {cell(c.why)} | {cell(c.command)} |" for n, c in rows]
    details += [f"\n{more}"] if more else []
    failed = [
        f"{n}: {c.why}" + (f" ({c.command})" if c.command else "")
        for n, c in rows
        if c.status == FAILED
    ]
    undone = [(f"{n}: {c.why}", c.command) for n, c in rows if c.status == NOT_CHECKED]
    passed = passed or "; ".join(f"{name}: {check.why}" for name, check in rows)
    return outcome(title, passed, details, failed, undone)


def security(repo: Repository) -> Item:
    checks = {"secret scans": secret_scans}
    if full := "security" in repo.components:
        checks |= {"classification": classification, "PII scan report": pii_report}
    rows = [(name, check(repo)) for name, check in checks.items()]
    more = (
        ""
        if full
        else ("With the security component: detect-secrets, the classification check, PII scans.")
    )
    return table("Security scans clean", rows, f"{len(rows)} scan(s) clean", more)


def compliance_content(repo: Repository) -> Item:
    checks = compliance.checks(repo.root, repo.components, lambda key: add_component(repo, key))
    more = (
        f"Read from `{compliance.MANIFEST}` (`make migration-check` runs `dbt parse` first): "
        f"every mart has a meta owner; every pii column has a masking policy or a meta "
        f"`{compliance.WAIVER}` saying why; the audit model `{compliance.AUDIT_MODEL}` records "
        "the reads of every schema that holds pii."
    )
    return table("Compliance on content", list(checks.items()), "", more)


def budgets(settings: object) -> dict[str, float] | str:
    """The performance settings, or what is wrong with them."""
    keys = ("scale", *(f"max_{key}" for key in BUDGETS))
    if not isinstance(settings, dict):
        return "no table [" + ".".join(SETTINGS) + "] in pyproject.toml"
    wrong = [k for k in keys if not isinstance(settings.get(k), int | float) or settings[k] <= 0]
    if wrong or isinstance(settings.get("scale"), bool):
        return f"[{'.'.join(SETTINGS)}] needs positive numbers for {', '.join(wrong or keys)}"
    return {key: float(settings[key]) for key in keys}


def performance(repo: Repository) -> Item:
    """The dbt builds of the last `make benchmark` against the budget in pyproject.toml."""
    title = "Performance within budget"
    try:
        settings: object = tomllib.loads((repo.root / "pyproject.toml").read_text())
        for key in SETTINGS:
            settings = settings.get(key) if isinstance(settings, dict) else None
    except (OSError, tomllib.TOMLDecodeError) as error:
        return Item(title, FAILED, f"pyproject.toml is unreadable ({error}): fix it")
    limits = budgets(settings)
    if isinstance(limits, str):
        fix = "set scale, max_build_s and max_incremental_build_s (scripts/migration/README.md)"
        return Item(title, FAILED, f"{limits}: {fix}")
    scale = limits["scale"]
    command = "make benchmark" + ("" if scale == 1 else f" SCALES={scale:g}")
    path, shown = repo.root / BENCHMARK, BENCHMARK.as_posix()
    if not path.is_file():
        return Item(title, NOT_CHECKED, f"no benchmark yet ({shown})", command=command)
    try:
        rows = [row for row in json.loads(path.read_text()) if float(row["scale"]) == scale]
        figures = {key: float(rows[-1][key]) for key in BUDGETS} if rows else {}
    except (OSError, ValueError, KeyError, TypeError) as error:
        return Item(title, NOT_CHECKED, f"{shown} is unreadable ({error})", command=command)
    measured = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    inputs = [n for n in repo.files if n.startswith(("dbt/", "scripts/utilities/generate_data"))]
    changed, name = junit_results.newest_change(repo.root, inputs) if inputs else (0.0, "")
    if not figures:
        why = f"the last benchmark ({shown}) has no figures at scale {scale:g}"
        return Item(title, NOT_CHECKED, why, command=command)
    if changed > path.stat().st_mtime:
        why = f"{name} changed after the last benchmark"
        return Item(title, NOT_CHECKED, why, command=command)
    where = f"[{'.'.join(SETTINGS)}] of pyproject.toml"
    over = [
        f"{what} took {figures[key]:.1f} s at scale {scale:g}, over the budget of "
        f"{limits['max_' + key]:g} s (max_{key} in {where}): make it faster, or raise the "
        "budget saying why"
        for key, what in BUDGETS.items()
        if figures[key] > limits["max_" + key]
    ]
    details = [
        f"`{shown}` of {measured:%Y-%m-%d %H:%M} UTC (`{command}`), budgets from {where}.",
        "",
        "| step | seconds | budget |",
        "|---|---:|---:|",
        *(f"| {what} | {figures[k]:.1f} | {limits['max_' + k]:g} |" for k, what in BUDGETS.items()),
    ]
    passed = ", ".join(
        f"{what} {figures[k]:.1f} s (budget {limits['max_' + k]:g} s)"
        for k, what in BUDGETS.items()
    )
    return outcome(title, f"{passed} at scale {scale:g}", details, over)


def warehouses(repo: Repository) -> Item:
    title = "Warehouse cost estimate"
    if "snowflake" not in repo.components:
        why = "no snowflake component: no production warehouse to estimate"
        return Item(title, NOT_CHECKED, why, command=add_component(repo, "snowflake"))
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
    """Ready only when every item passed: an item not checked is not done."""
    failed, unchecked = (sum(item.status == s for item in items) for s in (FAILED, NOT_CHECKED))
    if failed or unchecked:
        return f"Not ready: of {len(items)} items, {failed} failed and {unchecked} not checked."
    return f"Ready: all {len(items)} items passed."


def blockers(items: list[Item]) -> list[str]:
    """What stands between this repository and Ready: the failed items, then those not
    checked with the command that would check them."""
    lines = [f"- failed: {item.title}" for item in items if item.status == FAILED]
    lines += [
        f"- not checked: {item.title} (to check: `{item.command}`)"
        for item in items
        if item.status == NOT_CHECKED
    ]
    return lines


def exit_status(items: list[Item]) -> int:
    statuses = {item.status for item in items}
    if FAILED in statuses:
        return NOT_READY_FAILED
    return NOT_READY_UNCHECKED if NOT_CHECKED in statuses else READY


def render(repo: Repository, items: list[Item]) -> str:
    components = ", ".join(repo.components) or "none (dbt on DuckDB only)"
    blocking = blockers(items)
    lines = [
        f"# Migration readiness: {repo.answers.get('project_name', repo.root.name)}\n",
        f"Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make migration-check` "
        f"(scripts/migration/migration_check.py). Components: {components}.\n",
        f"**{verdict(items)}**\n",
        *([*blocking, ""] if blocking else []),
        "| item | result | why | to check |\n|---|---|---|---|",
        *(
            f"| {item.title} | {item.status} | {cell(item.why)} | "
            + (f"`{cell(item.command)}` |" if item.command else "|")
            for item in items
        ),
    ]
    for item in items:
        lines += ["", f"## {item.title}: {item.status}\n", item.why]
        lines += ["", f"To check: `{item.command}`"] if item.command else []
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
    items += [security(repo), compliance_content(repo), performance(repo)]
    return repo, [*items, warehouses(repo), integrations(repo)]


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
        run = f" -- to check: `{item.command}`" if item.command else ""
        print(f"{item.status:>11}  {item.title}: {item.why}{run}")
    print(verdict(items), *blockers(items), f"report: {args.report}", sep="\n")
    return exit_status(items)


if __name__ == "__main__":
    sys.exit(main())
