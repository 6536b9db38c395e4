"""scripts/migration/migration_check.py: the readiness report, and each state it must report.

Every item is passed, failed or not checked (with the reason and the command that would check
it); "Ready" and exit status 0 only when every item passed, exit 1 when one failed, 3 when
nothing failed but one was not checked. On broken copies each failure is found; a skipped test,
a missing PII report, benchmark or dbt manifest is not checked, never passed. The checklist
reads the JUnit XML of `make test` instead of running it, so this file runs in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from test_no_secrets import FAKE_AWS_ID

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "migration"))

import compliance  # noqa: E402
import junit_results  # noqa: E402
import migration_check  # noqa: E402
from migration_check import Item, Repository  # noqa: E402
from repository import answers, committed_files  # noqa: E402

ITEMS = [
    "Documentation present",
    "Tests pass",
    "Security scans clean",
    "Compliance on content",
    "Performance within budget",
    "Warehouse cost estimate",
    "Integration points listed",
]
STATES = ("passed", "failed", "not checked")
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
    found = {i: s for i in ITEMS for s in STATES if f"| {i} | {s} |" in text}
    assert list(found) == ITEMS, text
    expected = dict.fromkeys([*ITEMS[:2], ITEMS[6]], "passed")
    expected[ITEMS[5]] = "passed" if SNOWFLAKE else "not checked"
    assert found.items() >= expected.items() and "| secret scans | passed |" in text, text
    labels = [migration_check.integration_points.INTEGRATIONS[k].label for k in COMPONENTS]
    variables = migration_check.integration_points.env_variables(root)
    assert variables and all(f"`{name}`" in text for name, _ in variables), text
    assert all(f"| {label} |" in text for label in labels), text
    statuses = set(found.values())
    ready = statuses == {"passed"}
    assert ("**Ready: all 7 items passed.**" in text) == ready != ("**Not ready: " in text), text
    status = 0 if ready else 1 if "failed" in statuses else 3
    assert (run.returncode, f"report: {report}" in run.stdout) == (status, True), run.stdout
    for item, state in found.items():  # each item not checked says how to check it
        if state == "not checked":
            assert f"- not checked: {item} (to check: `" in run.stdout, run.stdout


def item(title: str, status: str, command: str = "") -> Item:
    return Item(title, status, f"why {title}", command=command)


def test_ready_only_when_every_item_passed_and_the_exit_status_follows() -> None:
    items = [item(title, "passed") for title in ITEMS]
    assert migration_check.verdict(items) == "Ready: all 7 items passed."
    assert migration_check.exit_status(items) == 0 and migration_check.blockers(items) == []
    items[1] = item(ITEMS[1], "not checked", "make test")
    assert migration_check.verdict(items) == "Not ready: of 7 items, 0 failed and 1 not checked."
    assert migration_check.exit_status(items) == 3
    assert migration_check.blockers(items) == ["- not checked: Tests pass (to check: `make test`)"]
    items[3] = item(ITEMS[3], "failed")
    assert migration_check.verdict(items) == "Not ready: of 7 items, 1 failed and 1 not checked."
    assert migration_check.exit_status(items) == 1
    assert migration_check.blockers(items)[0] == "- failed: Compliance on content"


def test_the_command_line_says_not_ready_and_exits_3_when_only_unchecked(
    copy: Path, tmp_path: Path
) -> None:
    """A copy with no test results, dbt manifest, PII report or benchmark: nothing failed and
    much is not checked, each with its command; exit 3 (1 is left for a failure)."""
    report, missing = tmp_path / "report.md", tmp_path / "no-results.xml"
    run = run_check(copy, "--report", str(report), "--test-results", str(missing))
    text = report.read_text()
    found = {i: s for i in ITEMS for s in STATES if f"| {i} | {s} |" in text}
    assert list(found) == ITEMS and "failed" not in found.values(), text
    assert run.returncode == 3, run.stdout
    assert "not checked  Tests pass: no test results yet" in run.stdout, run.stdout
    assert "| Tests pass | not checked | no test results yet" in text, text
    assert "\n- not checked: Tests pass (to check: `make test`)\n" in run.stdout, run.stdout
    assert "- not checked: Performance within budget (to check: `make benchmark`)" in text
    assert "Ready: all" not in run.stdout and "Not ready: of 7 items, 0 failed and " in text


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
    assert list(failed) == [ITEMS[0], ITEMS[2], ITEMS[6]], failed
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


def test_a_failing_test_run_fails(copy: Path, tmp_path: Path) -> None:
    results = junit(tmp_path / "results.xml", UNIT | FAILING)  # partial and failing: failed
    item = migration_check.tests(repository(copy), results)
    details = "\n".join([item.why, *item.details])
    assert item.status == "failed", item
    assert "1 test(s) failed" in item.why and f"- failed: `{FAILURE}`" in details, details
    assert "- not checked: the results miss " in details  # and the partial run is said
    assert migration_check.tests(repository(copy), passing_run(copy, results)).status == "passed"


def test_a_skipped_test_is_not_checked(copy: Path, tmp_path: Path) -> None:
    item = migration_check.tests(repository(copy), passing_run(copy, tmp_path / "r.xml", SKIPPED))
    assert item.status == "not checked", item  # what a skipped test checks is not done
    assert item.why == "skipped (1): promtool is missing: run `make setup`", item.why
    assert item.command == "make test"
    assert item.details[0] == f"- not checked: {item.why} (to check: `make test`)"
    assert ", 0 failed, 1 skipped (" in item.details[2]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", "no test results yet"),
        ("malformed", "is unreadable"),
        ("partial", "(a partial run)"),
        ("stale", "changed after the last test run"),
    ],
)
def test_test_results_that_do_not_show_the_tests_are_not_checked(
    case: str, expected: str, copy: Path, tmp_path: Path
) -> None:
    results = passing_run(copy, tmp_path / "results.xml")
    if case == "missing":
        results.unlink()
    elif case == "malformed":
        results.write_text("<testsuites><testcase")
    elif case == "stale":
        os.utime(results, (1e9, 1e9))  # 2001
    else:
        junit(results, UNIT)
    item = migration_check.tests(repository(copy), results)
    assert (item.status, item.command) == ("not checked", "make test"), item
    assert expected in item.why, item


def test_a_missing_pii_report_is_not_checked_and_findings_fail(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for scan in ("secret_scans", "classification"):
        monkeypatch.setattr(migration_check, scan, lambda repo: compliance.Check("passed", "ok"))
    repo = Repository(copy, {"components": ["security"]}, [])
    item = migration_check.security(repo)
    assert item.status == "not checked", item
    assert item.why == "PII scan report: no PII scan report yet (.local/pii_report.json)"
    assert item.command == "make demo && make pii-scan"
    report = copy / migration_check.PII_REPORT
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text('{"generated_at": "2026-01-01T00:00:00Z", "findings": []}')
    assert migration_check.security(repo).status == "passed"
    report.write_text('{"findings": ["raw.customers.email: flagged as e-mail, not pii"]}')
    item = migration_check.security(repo)
    assert item.status == "failed" and "raw.customers.email" in item.why
    report.write_text("{not json")
    assert migration_check.pii_report(repo) == (
        "not checked",
        f"{report.relative_to(copy)} is unreadable",
        "make pii-scan",
    )


# Performance: the last `make benchmark` against the budget of pyproject.toml.

BUDGET = "\n[tool.migration-check.performance]\nscale = 1\nmax_build_s = 10\n"


def benchmark(root: Path, build: float, incremental: float = 1.0, scale: float = 1) -> Path:
    path = root / migration_check.BENCHMARK
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {"scale": scale, "order_items": 900, "load_s": 1.0, "build_s": build}
    path.write_text(json.dumps([row | {"increment_s": 0.5, "incremental_build_s": incremental}]))
    return path


def test_the_performance_budget_lives_in_pyproject(root: Path) -> None:
    repo = repository(root)
    item = migration_check.performance(repo)
    assert "no table [tool.migration-check.performance]" not in item.why, item
    assert item.status in STATES and (item.status != "not checked" or item.command), item


def test_performance_against_the_budget(copy: Path) -> None:
    pyproject = copy / "pyproject.toml"
    base = pyproject.read_text().split("[tool.migration-check.performance]")[0]
    pyproject.write_text(base)
    item = migration_check.performance(repository(copy))
    assert item.status == "failed", item
    assert item.why.startswith("no table [tool.migration-check.performance] in pyproject.toml")
    pyproject.write_text(base + BUDGET)
    item = migration_check.performance(repository(copy))
    assert item.status == "failed" and "positive numbers for max_incremental_build_s" in item.why
    pyproject.write_text(base + BUDGET + "max_incremental_build_s = 8\n")
    item = migration_check.performance(repository(copy))
    assert (item.status, item.command) == ("not checked", "make benchmark"), item
    assert item.why == "no benchmark yet (.local/benchmark.json)"
    benchmark(copy, build=7.5, incremental=3.2)
    item = migration_check.performance(repository(copy))
    assert item.status == "passed", item
    assert item.why.startswith("dbt build 7.5 s (budget 10 s), incremental dbt build 3.2 s")
    benchmark(copy, build=12.25, incremental=3.2)
    item = migration_check.performance(repository(copy))
    assert item.status == "failed", item
    assert item.why.startswith("dbt build took 12.2 s at scale 1, over the budget of 10 s")
    path = benchmark(copy, build=7.5, scale=2)
    item = migration_check.performance(repository(copy))
    assert (item.status, item.why) == (
        "not checked",
        f"the last benchmark ({path.relative_to(copy)}) has no figures at scale 1",
    )
    path = benchmark(copy, build=7.5)
    os.utime(path, (1e9, 1e9))  # older than the dbt project
    item = migration_check.performance(repository(copy))
    assert item.status == "not checked" and "changed after the last benchmark" in item.why


# Compliance on content: a manifest as `dbt parse` writes it, reduced to what is read.

SQL_GRANT = "grant database role snowflake.governance_viewer to role X_TRANSFORMER;\n"


def node(kind: str, name: str, pii: list[str], **more: object) -> dict:
    columns = {c: {"name": c, "meta": {"classification": "pii"}} for c in pii}
    columns["id"] = {"name": "id", "meta": {"classification": "internal"}}
    return {
        "resource_type": kind,
        "name": name,
        "package_name": "shop",
        "schema": more.pop("schema", "marts"),
        "fqn": ["shop", *more.pop("folders", ["marts"]), name],
        "columns": columns,
        "config": {"materialized": "table", "meta": {"owner": "data-platform"}}
        | more.pop("config", {}),
        **more,
    }


HOOK = {"post-hook": [{"sql": "{{ apply_masking_policies() }}"}]}


def catalog(root: Path, nodes: list[dict], audit_enabled: object = "{{ target.type == 'x' }}"):
    """Write dbt_project.yml, the audit model's YAML and the manifest (newest) into root."""
    dbt = root / "dbt"
    (dbt / "models").mkdir(parents=True, exist_ok=True)
    project = {"name": "shop", "vars": {"apply_masking_policies": True}}
    (dbt / "dbt_project.yml").write_text(yaml.safe_dump(project))
    config = {"name": compliance.AUDIT_MODEL, "config": {"enabled": audit_enabled}}
    (dbt / "models" / "_audit_x.yml").write_text(yaml.safe_dump({"models": [config]}))
    audit = node("model", compliance.AUDIT_MODEL, [], patch_path="shop://models/_audit_x.yml")
    manifest = {
        "nodes": {f"n{i}": n for i, n in enumerate(nodes) if n["resource_type"] != "source"},
        "sources": {f"s{i}": n for i, n in enumerate(nodes) if n["resource_type"] == "source"},
        "disabled": {"audit": [audit]} if audit_enabled is not None else {},
    }
    (dbt / "target").mkdir(exist_ok=True)
    (dbt / "target" / "manifest.json").write_text(json.dumps(manifest))
    setup = root / compliance.AUDIT_SETUP
    setup.parent.mkdir(parents=True, exist_ok=True)
    setup.write_text(SQL_GRANT)


def checks(root: Path, components: tuple[str, ...] = ("security", "snowflake")) -> dict:
    return compliance.checks(root, list(components), lambda key: f"add {key}")


def good() -> list[dict]:
    waiver = {"masking_waiver": "only the loader and dbt read raw"}
    return [
        node("model", "dim_customers", ["email"], config=HOOK),
        node("model", "fct_orders", []),
        node("snapshot", "snap_customers", ["email"], schema="snapshots", config=HOOK),
        node(
            "model",
            "int_people",
            ["email"],
            folders=["intermediate"],
            config={"materialized": "ephemeral"},
        ),  # stored nowhere: nothing to mask
        node("source", "customers", ["email"], schema="raw", source_name="raw", source_meta=waiver),
    ]


def test_compliance_passes_on_a_catalog_that_complies(tmp_path: Path) -> None:
    catalog(tmp_path, good())
    found = checks(tmp_path)
    assert {name: check.status for name, check in found.items()} == dict.fromkeys(
        ["mart owners", "pii masking", "audit logging"], "passed"
    ), found
    assert found["pii masking"].why == "3 pii columns: 2 masked, 1 waived"
    assert found["audit logging"].why.endswith("every read of pii in marts, raw, snapshots")


def test_compliance_fails_on_content(tmp_path: Path) -> None:
    nodes = good()
    nodes[1]["config"]["meta"] = {}  # a mart without owner
    nodes[0]["config"] = {"materialized": "table", "meta": {"owner": "x"}}  # no masking hook
    nodes[2]["columns"]["email"]["meta"]["mask"] = "stars"  # a mask the macro does not know
    del nodes[4]["source_meta"]  # raw's pii without a waiver
    catalog(tmp_path, nodes, audit_enabled=False)
    found = checks(tmp_path)
    assert {check.status for check in found.values()} == {"failed"}, found
    assert found["mart owners"].why == "1 of 2 mart(s) without meta owner: fct_orders"
    masking = found["pii masking"].why
    assert masking.startswith("3 of 3 pii column(s) neither masked nor waived: "), masking
    assert "dim_customers.email (its node does not run the post-hook" in masking
    assert "snap_customers.email (meta mask 'stars' is not one of" in masking
    assert "raw.customers.email (a source gets no masking policy)" in masking
    assert found["audit logging"].why.startswith(
        "audit_column_access never builds (`enabled: false` in dbt/models/_audit_x.yml)"
    )
    catalog(tmp_path, good(), audit_enabled=None)  # no audit model at all
    assert checks(tmp_path, ("snowflake",))["audit logging"] == (
        "failed",
        "no audit model audit_column_access: nothing records who reads the pii of marts, raw, "
        "snapshots",
        "add security",
    )
    catalog(tmp_path, good())
    (tmp_path / compliance.AUDIT_SETUP).write_text("-- no grant\n")
    assert "does not grant SNOWFLAKE.GOVERNANCE_VIEWER" in checks(tmp_path)["audit logging"].why


def test_compliance_not_checked_without_a_fresh_manifest_or_a_snowflake_account(
    tmp_path: Path,
) -> None:
    catalog(tmp_path, good())
    audit = checks(tmp_path, ("security",))["audit logging"]
    assert (audit.status, audit.command) == ("not checked", "add snowflake"), audit
    later = tmp_path / "dbt" / "models" / "new.yml"
    later.write_text("models: []\n")
    os.utime(later, (time.time() + 60, time.time() + 60))
    stale = checks(tmp_path)
    assert {c for c in stale.values()} == {
        (
            "not checked",
            f"dbt/models/new.yml changed after {compliance.MANIFEST} was written",
            compliance.PARSE,
        )
    }
    (tmp_path / compliance.MANIFEST).unlink()
    assert {c.why for c in checks(tmp_path).values()} == {
        f"no {compliance.MANIFEST} yet (dbt parse writes it)"
    }


def test_the_compliance_item_names_what_failed_and_what_was_not_checked(tmp_path: Path) -> None:
    nodes = good()
    nodes[1]["config"]["meta"] = {}
    catalog(tmp_path, nodes)
    repo = Repository(tmp_path, {"components": ["security"]}, [])
    item = migration_check.compliance_content(repo)
    assert item.status == "failed" and item.why.startswith("mart owners: 1 of 2"), item
    assert "| audit logging | not checked |" in "\n".join(item.details)
    catalog(tmp_path, good())
    item = migration_check.compliance_content(repo)
    assert item.status == "not checked" and item.command.startswith("copier update"), item
    assert "'components=[security, snowflake]'" in item.command


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
