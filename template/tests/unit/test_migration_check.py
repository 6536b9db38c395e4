"""scripts/migration/migration_check.py: the readiness report, and each failure it must catch.

The report of this repository lists the five items; documentation, integration points and
(with snowflake) the cost estimate pass, and the cost figures equal the ones computed here
by hand from the answers. On broken copies each kind of failure is found: a missing README,
a planted secret, a failing, stale or partial test run, a malformed warehouse script, an
integration file that is gone, and a setup error exits 2 without touching the report. The
checklist never runs `make test` (it reads its JUnit XML), so this file runs in seconds.
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
import warehouse_costs  # noqa: E402
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
#: Sizes the answers may choose, and the credits per hour of each (Snowflake's table).
SIZES = ["XSMALL", "SMALL", "MEDIUM", "LARGE", "XLARGE"]
CREDITS = {"XSMALL": 1, "SMALL": 2, "MEDIUM": 4, "LARGE": 8, "XLARGE": 16}
#: A script of the shape of snowflake/warehouses/warehouses.sql, with figures known here.
SCRIPT = """
-- two warehouses; a comment with a ; in it
create warehouse if not exists BIG_WH warehouse_size = 'X-LARGE' auto_suspend = 120
    comment = 'runs; everything';
create warehouse if not exists HUGE_WH warehouse_size = X4LARGE auto_suspend = 60;
create resource monitor if not exists BIG_MON with credit_quota = 160 frequency = monthly
    triggers on 90 percent do notify on 100 percent do suspend on 120 percent do suspend_immediate;
create resource monitor if not exists HUGE_MON with credit_quota = 256
    triggers on 100 percent do suspend;
alter warehouse BIG_WH set resource_monitor = BIG_MON;
alter warehouse HUGE_WH set resource_monitor = HUGE_MON;
"""


def repository(root: Path) -> migration_check.Repository:
    return migration_check.Repository(root, answers(root), committed_files(root))


def junit(path: Path, cases: dict[str, str | None]) -> Path:
    """A JUnit XML file as pytest writes it: test id -> None (passed), ``skip: reason`` or a
    failure message."""
    lines = ['<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">']
    for test, failure in cases.items():
        module, name = test.split("::")
        classname = module.removesuffix(".py").replace("/", ".")
        body = f'<failure message="{failure}">trace</failure>' if failure else ""
        if failure and failure.startswith("skip: "):
            body = f'<skipped type="pytest.skip" message="{failure[6:]}">trace</skipped>'
        lines.append(f'<testcase classname="{classname}" name="{name}">{body}</testcase>')
    path.write_text("\n".join([*lines, "</testsuite></testsuites>"]))
    return path


def passing_run(root: Path, path: Path) -> Path:
    """Results of a run that covered every test folder, newer than every file."""
    folders = junit_results.folders_with_tests(committed_files(root))
    return junit(path, {f"{folder}/test_x.py::test_ok": None for folder in sorted(folders)})


@pytest.fixture
def copy(root: Path, tmp_path: Path) -> Path:
    """The files git would commit, copied (not a git repository: every file is listed)."""
    target = tmp_path / "copy"
    for name in committed_files(root):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)
    return target


def run_check(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = root / "scripts" / "migration" / "migration_check.py"
    return subprocess.run(
        [sys.executable, str(script), *args], cwd=root, capture_output=True, text=True, check=False
    )


# ----------------------------------------------------------------------------- the report
def test_the_report_of_this_repository_lists_every_item(root: Path, tmp_path: Path) -> None:
    report = tmp_path / "readiness_report.md"
    results = passing_run(root, tmp_path / "results.xml")
    run = run_check(root, "--report", str(report), "--test-results", str(results))
    assert run.returncode in {0, 1}, run.stderr
    text = report.read_text()
    status = {
        item: s
        for item in ITEMS
        for s in ("passed", "failed", "skipped")
        if f"| {item} | {s} |" in text
    }
    assert list(status) == ITEMS, text
    assert status["Documentation present"] == "passed", text
    assert status["Tests pass"] == "passed", text
    assert status["Integration points listed"] == "passed", text
    assert status["Warehouse cost estimate"] == ("passed" if SNOWFLAKE else "skipped"), text
    assert "| secret scans | passed |" in text, text
    assert f"report: {report}" in run.stdout


def test_every_chosen_component_and_env_variable_is_listed(root: Path) -> None:
    item = migration_check.integrations(repository(root))
    table = "\n".join(item.details)
    labels = [migration_check.integration_points.INTEGRATIONS[k].label for k in COMPONENTS]
    assert all(f"| {label} |" in table for label in labels), table
    variables = migration_check.integration_points.env_variables(root)
    assert variables and all(f"`{v.name}`" in table for v in variables), table


# -------------------------------------------------------------------------- documentation
def test_a_missing_or_empty_readme_fails(copy: Path) -> None:
    (copy / "scripts" / "migration" / "README.md").unlink()
    (copy / "dbt" / "README.md").write_text("\n")
    item = migration_check.documentation(repository(copy))
    assert item.status == "failed"
    assert "- scripts/migration/README.md is missing" in "\n".join(item.details)
    assert "- dbt/README.md is empty" in "\n".join(item.details)


# ---------------------------------------------------------------------------------- tests
def test_a_real_pytest_junit_file_is_read(copy: Path, tmp_path: Path) -> None:
    xml = tmp_path / "real.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={xml}",
            "tests/unit/test_no_secrets.py",
        ],
        cwd=copy,
        capture_output=True,
        check=False,
    )
    results = junit_results.read(xml)
    assert results.tests > 5 and not results.failed
    assert results.folders == {"tests/unit"}


@pytest.mark.parametrize("case", ["missing", "malformed", "failing", "partial", "stale"])
def test_a_test_run_that_does_not_pass_fails(case: str, copy: Path, tmp_path: Path) -> None:
    results = passing_run(copy, tmp_path / "results.xml")
    expected = {
        "missing": "no test results at",
        "malformed": "is unreadable",
        "failing": "1 test(s) failed",
        "partial": "(a partial run)",
        "stale": "changed after the last test run",
    }[case]
    if case == "missing":
        results.unlink()
    elif case == "malformed":
        results.write_text("<testsuites><testcase")
    elif case == "failing":
        junit(
            results,
            {
                "tests/unit/test_x.py::test_ok": None,
                "tests/integration/test_y.py::test_dbt": "AssertionError: 2 != 3",
            },
        )
    elif case == "partial":
        junit(results, {"tests/unit/test_x.py::test_ok": None})
    else:
        os.utime(results, (1e9, 1e9))  # 2001
    item = migration_check.tests(repository(copy), results)
    details = "\n".join([item.why, *item.details])
    assert item.status == "failed" and expected in details, item
    if case == "failing":
        assert (
            "- failed: `tests/integration/test_y.py::test_dbt: AssertionError: 2 != 3`" in details
        )
    if case == "partial":
        assert "tests/integration" in details
    assert migration_check.tests(repository(copy), passing_run(copy, results)).status == "passed"


def test_skipped_tests_pass_with_their_reason(copy: Path, tmp_path: Path) -> None:
    results = passing_run(copy, tmp_path / "results.xml")
    cases = {
        f"{f}/test_x.py::test_ok": None
        for f in junit_results.folders_with_tests(committed_files(copy))
    }
    cases["tests/unit/test_z.py::test_tool"] = "skip: promtool is missing: run `make setup`"
    item = migration_check.tests(repository(copy), junit(results, cases))
    assert item.status == "passed" and "1 skipped" in item.why
    assert "- skipped (1): promtool is missing: run `make setup`" in item.details


# ------------------------------------------------------------------------------- security
def test_a_planted_secret_fails(copy: Path) -> None:
    readme = copy / "README.md"
    readme.write_text(readme.read_text() + f"\nDeploy key id: {FAKE_AWS_ID}\n")
    item = migration_check.security(repository(copy))
    assert item.status == "failed"
    assert "secret scans:" in item.why and "README.md" in item.why, item.why


def test_a_pii_report_with_findings_fails(copy: Path) -> None:
    report = copy / migration_check.PII_REPORT
    assert migration_check.pii_report(repository(copy))[0] == "skipped"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text('{"generated_at": "2026-01-01T00:00:00Z", "findings": []}')
    assert migration_check.pii_report(repository(copy))[0] == "passed"
    report.write_text('{"findings": ["raw.customers.email: flagged as e-mail, not pii"]}')
    status, why = migration_check.pii_report(repository(copy))
    assert status == "failed" and "raw.customers.email" in why
    report.write_text("{not json")
    assert migration_check.pii_report(repository(copy))[1].endswith("run `make pii-scan` again")


# ----------------------------------------------------------------------------- warehouses
def test_the_cost_figures_equal_a_hand_computed_estimate(root: Path) -> None:
    if not SNOWFLAKE:
        item = migration_check.warehouses(repository(root))
        assert item.status == "skipped" and "no snowflake component" in item.why
        return
    size = str(answers(root)["snowflake_warehouse_size"])
    step = SIZES.index(size)
    prefix = answers(root)["snowflake_role_prefix"]
    # Loading is two sizes below the answer, reporting one; quotas are 20, 30, 20 hours.
    expected = {
        f"{prefix}_LOADING_WH": (SIZES[max(step - 2, 0)], 20),
        f"{prefix}_TRANSFORMING_WH": (size, 30),
        f"{prefix}_REPORTING_WH": (SIZES[max(step - 1, 0)], 20),
    }
    estimates = warehouse_costs.estimate(root / warehouse_costs.SCRIPT)
    found = {e.warehouse: (e.size, e.credits_per_hour, e.monthly_upper_bound) for e in estimates}
    assert found == {
        name: (s, CREDITS[s], pytest.approx(hours * CREDITS[s] * 1.1))
        for name, (s, hours) in expected.items()
    }
    total = sum(hours * CREDITS[s] * 1.1 for s, hours in expected.values())
    item = migration_check.warehouses(repository(root))
    assert item.status == "passed" and f"at most {round(total, 6):g} credits a month" in item.why


def test_sizes_aliases_and_triggers(tmp_path: Path) -> None:
    script = tmp_path / "warehouses.sql"
    script.write_text(SCRIPT)
    big, huge = warehouse_costs.estimate(script)
    assert (big.size, big.credits_per_hour, big.auto_suspend) == ("XLARGE", 16, 120)
    assert big.quota_hours == 10 and big.monthly_upper_bound == 192  # 160 x 120 %
    assert big.idle_credits_per_resume == pytest.approx(16 * 120 / 3600)
    assert (huge.size, huge.credits_per_hour, huge.quota_hours) == ("X4LARGE", 128, 2)
    assert huge.monthly_upper_bound == 256 and huge.idle_credits_per_resume == pytest.approx(
        128 / 60
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("warehouse_size = X4LARGE", "warehouse_size = HUGE", "HUGE_WH has warehouse_size = HUGE"),
        ("warehouse_size = X4LARGE", "", "HUGE_WH has no warehouse_size"),
        ("auto_suspend = 60", "auto_suspend = 0", "HUGE_WH never suspends itself"),
        ("alter warehouse HUGE_WH set resource_monitor = HUGE_MON;", "", "HUGE_WH has no resource"),
        ("on 100 percent do suspend;", "on 100 percent do notify;", "HUGE_MON never suspends"),
        ("credit_quota = 256", "credit_quota = lots", "'lots', not a number"),
        ("frequency = monthly", "frequency = daily", "BIG_MON resets daily"),
        ("HUGE_MON;", "OTHER_MON;", "uses resource monitor OTHER_MON, never created"),
        (SCRIPT, "use role sysadmin;", "creates no warehouse"),
    ],
)
def test_a_malformed_warehouse_script_is_a_clear_error(
    old: str, new: str, message: str, tmp_path: Path
) -> None:
    script = tmp_path / "warehouses.sql"
    assert old in SCRIPT
    script.write_text(SCRIPT.replace(old, new))
    with pytest.raises(warehouse_costs.EstimateError, match=message):
        warehouse_costs.estimate(script)


@pytest.mark.skipif(not SNOWFLAKE, reason="the snowflake component renders the script")
def test_a_broken_warehouse_script_fails_the_item(copy: Path) -> None:
    script = copy / warehouse_costs.SCRIPT
    script.write_text(
        script.read_text().replace("\n    warehouse_size = ", "\n    warehouse_size = X", 1)
    )
    item = migration_check.warehouses(repository(copy))
    assert item.status == "failed"
    assert item.why.startswith(f"{warehouse_costs.SCRIPT}: warehouse "), item.why
    assert "not a Snowflake size" in item.why


# --------------------------------------------------------------------- integration points
def test_a_missing_configuration_file_or_unknown_component_fails(copy: Path) -> None:
    (copy / "dbt" / "profiles.yml").unlink()
    data = yaml.safe_load((copy / ".copier-answers.yml").read_text())
    data["components"] = [*COMPONENTS, "mainframe"]
    (copy / ".copier-answers.yml").write_text(yaml.safe_dump(data))
    problems = "\n".join(migration_check.integrations(repository(copy)).details)
    assert "- dbt: no committed file matches `dbt/profiles.yml`" in problems
    assert (
        "- component mainframe has no entry in scripts/migration/integration_points.py" in problems
    )


# ---------------------------------------------------------------------------- exit status
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
