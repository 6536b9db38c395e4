"""classify.py --check on this repository's dbt project, as `make lint` runs it.

dbt parses the project (no warehouse) into a scratch target folder; the check must pass.
On a copy of dbt/ with a mart column's classification removed, another set to an unknown
level and a third downgraded from pii, it must fail naming each column and the YAML file.
(The stale-manifest and no-manifest cases are in tests/security/test_classification.py.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import require

CLASSIFY = Path("security") / "data_classification" / "classify.py"


def find_dbt() -> str | None:
    beside = Path(sys.executable).parent / "dbt"
    return shutil.which("dbt") or (str(beside) if beside.exists() else None)


def dbt_parse(project: Path, target: Path, work: Path) -> None:
    dbt = find_dbt()
    require(dbt is not None, "dbt")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(project),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_DUCKDB_PATH": str(work / "parse.duckdb"),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    result = subprocess.run(
        [str(dbt), "parse", "--project-dir", str(project), "--target", "ci", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def run_check(root: Path, project: Path, manifest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(root / CLASSIFY),
            "--check",
            "--project-dir",
            str(project),
            "--manifest",
            str(manifest),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def copy_project(root: Path, destination: Path) -> Path:
    shutil.copytree(
        root / "dbt", destination, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    return destination


def test_the_project_passes_the_check(root: Path, tmp_path: Path) -> None:
    dbt_parse(root / "dbt", tmp_path / "target", tmp_path)
    result = run_check(root, root / "dbt", tmp_path / "target" / "manifest.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no downgrades" in result.stdout


def test_the_check_names_each_broken_mart_column_and_its_yaml(root: Path, tmp_path: Path) -> None:
    project = copy_project(root, tmp_path / "dbt")
    marts_yml = project / "models" / "marts" / "_marts.yml"
    marts = yaml.safe_load(marts_yml.read_text())
    columns = {
        (model["name"], column["name"]): column
        for model in marts["models"]
        for column in model["columns"]
    }
    del columns[("dim_customers", "email")]["config"]["meta"]["classification"]
    columns[("dim_products", "category")]["config"]["meta"]["classification"] = "secret"
    columns[("dim_customers", "phone")]["config"]["meta"]["classification"] = "internal"
    marts_yml.write_text(yaml.safe_dump(marts, sort_keys=False))

    dbt_parse(project, tmp_path / "target", tmp_path)
    result = run_check(root, project, tmp_path / "target" / "manifest.json")
    assert result.returncode == 1, result.stdout + result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) == 3, result.stderr
    expected = [
        "model dim_customers.email has no classification",
        "model dim_products.category has the unknown classification 'secret'",
        "model dim_customers.phone is internal but is built from model stg_customers.phone",
    ]
    for text in expected:
        matching = [problem for problem in problems if text in problem]
        assert len(matching) == 1, f"{text!r} is not reported: {problems}"
        assert str(marts_yml) in matching[0], matching[0]
