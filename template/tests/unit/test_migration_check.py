"""scripts/migration/migration_check.py: the readiness report, and each failure it must catch.

"Ready" only when every item passed; cost figures equal ones computed by hand; on broken copies
each failure is found, and a skipped test or missing PII report is not done. The checklist
reads the JUnit XML of `make test` instead of running it, so this file runs in seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_no_secrets import FAKE_AWS_ID

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "migration"))

import junit_results  # noqa: E402
import migration_check  # noqa: E402
from migration_check import Item, Repository  # noqa: E402
from repository import answers, committed_files  # noqa: E402

ITEMS = [
    "Documentation present",
    "Tests pass",
    "Security scans clean",
    "Warehouse cost estimate",
    "Integration points listed",
]
COMPONENTS = answers(ROOT)["components"]
SNOWFLAKE = "snowflake" in COMPONENTS
UNIT = {"tests/unit/test_x.py::test_ok": None}
FAILING = {"tests/integration/test_y.py::test_dbt": "AssertionError: 2 != 3"}
FAILURE = "tests/integration/test_y.py::test_dbt: AssertionError: 2 != 3"
SKIPPED = {"tests/unit/test_z.py::test_tool": "skip: promtool is missing: run `make setup`"}


def repository(root: Path) -> Repository:
    return Repository(root, answers(root), committed_files(root))


def junit(path: Path, cases: dict[str, str | None]) -> Path:
    """A JUnit XML file as pytest writes it: test id -> None (passed), ``skip: reason`` or a
    failure message."""
    lines = ['<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">']
    for test, failure in cases.items():
        module, name = test.split("::")
        body = f'<failure message="{failure}">trace</failure>' if failure else ""
        if failure and failure.startswith("skip: "):
            body = f'<skipped type="pytest.skip" message="{failure[6:]}">trace</skipped>'
        classname = module.removesuffix(".py").replace("/", ".")
        lines.append(f'<testcase classname="{classname}" name="{name}">{body}</testcase>')
    path.write_text("\n".join([*lines, "</testsuite></testsuites>"]))
    return path


def passing_run(root: Path, path: Path, more: dict[str, str | None] | None = None) -> Path:
    """Results of a run that covered every test folder, newer than every file (and more)."""
    folders = sorted(junit_results.folders_with_tests(committed_files(root)))
    return junit(path, {f"{folder}/test_x.py::test_ok": None for folder in folders} | (more or {}))


@pytest.fixture
def copy(root: Path, tmp_path: Path) -> Path:
    """The files git would commit, copied (not a git repository: every file is listed)."""
    for name in committed_files(root):
        (tmp_path / "copy" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, tmp_path / "copy" / name)
    return tmp_path / "copy"


def run_check(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(root / "scripts/migration/migration_check.py"), *args]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)


def test_the_report_of_this_repository_lists_every_item(root: Path, tmp_path: Path) -> None:
    report, results = tmp_path / "readiness_report.md", passing_run(root, tmp_path / "r.xml")
    run = run_check(root, "--report", str(report), "--test-results", str(results))
    text = report.read_text()
    found = {
        i: s for i in ITEMS for s in ("passed", "failed", "skipped") if f"| {i} | {s} |" in text
    }
    assert list(found) == ITEMS, text
    expected = dict.fromkeys([*ITEMS[:2], ITEMS[4]], "passed")
    expected[ITEMS[3]] = "passed" if SNOWFLAKE else "skipped"
    assert found.items() >= expected.items() and "| secret scans | passed |" in text, text
    labels = [migration_check.integration_points.INTEGRATIONS[k].label for k in COMPONENTS]
    variables = migration_check.integration_points.env_variables(root)
    assert variables and all(f"`{name}`" in text for name, _ in variables), text
    assert all(f"| {label} |" in text for label in labels), text
    ready = set(found.values()) == {"passed"}
    assert ("**Ready: all 5 items passed.**" in text) == ready != ("**Not ready: " in text), text
    assert (run.returncode, f"report: {report}" in run.stdout) == (0 if ready else 1, True)


def test_a_skipped_item_is_not_done() -> None:
    items = [Item(title, "passed", "") for title in ITEMS]
    assert migration_check.verdict(items) == "Ready: all 5 items passed."
    items[3] = Item(ITEMS[3], "skipped", "no snowflake component")
    assert migration_check.verdict(items) == "Not ready: 0 of 5 items failed, 1 skipped (not done)."


def test_a_broken_copy_fails_documentation_security_and_integration_points(
    copy: Path, tmp_path: Path
) -> None:
    (copy / "scripts" / "migration" / "README.md").unlink()
    (copy / "dbt" / "README.md").write_text("\n")
    (copy / "README.md").write_text((copy / "README.md").read_text() + f"\nKey id: {FAKE_AWS_ID}\n")
    (copy / "dbt" / "profiles.yml").unlink()
    data = yaml.safe_load((copy / ".copier-answers.yml").read_text())
    data["components"] = [*COMPONENTS, "mainframe"]
    (copy / ".copier-answers.yml").write_text(yaml.safe_dump(data))
    _, items = migration_check.check(copy, passing_run(copy, tmp_path / "results.xml"))
    failed = {item.title: "\n".join(item.details) for item in items if item.status == "failed"}
    assert list(failed) == [ITEMS[0], ITEMS[2], ITEMS[4]], failed
    documentation, security, integrations = failed.values()
    assert "- scripts/migration/README.md is missing" in documentation
    assert "- dbt/README.md is empty" in documentation
    assert "- secret scans:" in security and "README.md" in security
    assert "- dbt: no committed file matches `dbt/profiles.yml`" in integrations
    assert (
        "- component mainframe has no entry in scripts/migration/integration_points.json"
        in integrations
    )


def test_a_real_pytest_junit_file_is_read(copy: Path, tmp_path: Path) -> None:
    xml = tmp_path / "real.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}"]
    subprocess.run([*command, "tests/unit/test_no_secrets.py"], cwd=copy, capture_output=True)
    results = junit_results.read(xml)
    assert results.tests > 5 and not results.failed
    assert results.folders == {"tests/unit"}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", ["no test results at"]),
        ("malformed", ["is unreadable"]),
        ("failing", ["1 test(s) failed", f"- failed: `{FAILURE}`"]),
        ("partial", ["(a partial run)", "tests/integration"]),
        ("stale", ["changed after the last test run"]),
    ],
)
def test_a_test_run_that_does_not_pass_fails(
    case: str, expected: list[str], copy: Path, tmp_path: Path
) -> None:
    results = passing_run(copy, tmp_path / "results.xml")
    if case == "missing":
        results.unlink()
    elif case == "malformed":
        results.write_text("<testsuites><testcase")
    elif case == "stale":
        os.utime(results, (1e9, 1e9))  # 2001
    else:
        junit(results, UNIT | FAILING if case == "failing" else UNIT)
    item = migration_check.tests(repository(copy), results)
    details = "\n".join([item.why, *item.details])
    assert item.status == "failed" and all(e in details for e in expected), item
    assert migration_check.tests(repository(copy), passing_run(copy, results)).status == "passed"


def test_a_skipped_test_is_not_done(copy: Path, tmp_path: Path) -> None:
    item = migration_check.tests(repository(copy), passing_run(copy, tmp_path / "r.xml", SKIPPED))
    assert item.status == "skipped", item  # not passed: what a skipped test checks is not done
    assert item.why == "skipped (1): promtool is missing: run `make setup`", item.why
    assert item.details[0] == f"- {item.why}" and ", 0 failed, 1 skipped (" in item.details[2]


def test_a_missing_pii_report_is_not_done_and_findings_fail(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for scan in ("secret_scans", "classification"):
        monkeypatch.setattr(migration_check, scan, lambda repo: ("passed", "clean"))
    repo = Repository(copy, {"components": ["security"]}, [])
    item = migration_check.security(repo)
    assert item.status == "skipped" and item.why.startswith(
        "PII scan report: no .local/pii_report.json yet: `make demo` then `make pii-scan`"
    )
    report = copy / migration_check.PII_REPORT
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text('{"generated_at": "2026-01-01T00:00:00Z", "findings": []}')
    assert migration_check.security(repo).status == "passed"
    report.write_text('{"findings": ["raw.customers.email: flagged as e-mail, not pii"]}')
    item = migration_check.security(repo)
    assert item.status == "failed" and "raw.customers.email" in item.why
    report.write_text("{not json")
    assert migration_check.pii_report(repo)[1].endswith("run `make pii-scan` again")


def test_setup_errors_exit_2_and_leave_the_report_alone(copy: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    report.write_text("the previous report\n")
    (copy / ".copier-answers.yml").unlink()
    run = run_check(copy, "--report", str(report))
    assert run.returncode == 2
    assert run.stderr.startswith("migration_check.py: no .copier-answers.yml in ")
    assert "Traceback" not in run.stderr and len(run.stderr.splitlines()) == 1
    assert report.read_text() == "the previous report\n"
    run = run_check(copy, "--report", str(tmp_path))
    assert (run.returncode, "is a folder" in run.stderr) == (2, True), run.stderr
