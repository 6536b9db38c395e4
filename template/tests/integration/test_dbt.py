"""dbt itself accepts the project, and .env.example lists every variable the project reads.

dbt parses the project into a manifest without a connection.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import require


def test_dbt_parse_writes_a_manifest(root: Path, tmp_path: Path) -> None:
    dbt = shutil.which("dbt")
    require(dbt is not None, "dbt")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(root / "dbt"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_DUCKDB_PATH": str(tmp_path / "parse.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    result = subprocess.run(
        [dbt, "parse", "--project-dir", str(root / "dbt"), "--target", "ci"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    project = yaml.safe_load((root / "dbt" / "dbt_project.yml").read_text())["name"]
    assert manifest["metadata"]["project_name"] == project


def test_dbt_parse_rejects_a_broken_ref(root: Path, tmp_path: Path) -> None:
    dbt = shutil.which("dbt")
    require(dbt is not None, "dbt")
    project = tmp_path / "dbt"
    shutil.copytree(root / "dbt", project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models").mkdir(exist_ok=True)
    (project / "models" / "broken.sql").write_text("select * from {{ ref('no_such_model') }}\n")
    result = subprocess.run(
        [
            dbt,
            "parse",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target",
            "ci",
        ],
        env={
            **os.environ,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DBT_DUCKDB_PATH": str(tmp_path / "parse.duckdb"),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "no_such_model" in result.stdout + result.stderr


@pytest.mark.coherence
def test_env_example_lists_every_variable_dbt_reads(root: Path) -> None:
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", (root / ".env.example").read_text(), re.M))
    read = {
        name
        for path in (root / "dbt").rglob("*")
        if path.suffix in {".yml", ".yaml", ".sql"} and "target" not in path.parts
        for name in re.findall(r"env_var\(\s*['\"]([A-Z0-9_]+)['\"]", path.read_text())
    }
    assert read - listed == set(), (
        f"dbt/ reads the variables {sorted(read - listed)} (env_var), which .env.example does not "
        "list: add them to .env.example with a comment"
    )
