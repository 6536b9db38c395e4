"""scripts/setup/check_prerequisites.py finds missing and too old tools, by component.

The script runs before `make setup`, so it reads .copier-answers.yml without PyYAML: its
reading must equal PyYAML's. On a PATH of fake tools it reports each missing required tool
of the chosen components and a too old GNU Make, and exits 1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "setup" / "check_prerequisites.py"
sys.path.insert(0, str(SCRIPT.parent))

import check_prerequisites as prerequisites  # noqa: E402


def fake_tool(folder: Path, name: str, output: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{output}'\n")
    path.chmod(0o755)


def test_the_answers_are_read_as_yaml_reads_them(root: Path) -> None:
    data = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert prerequisites.read_answers(root / ".copier-answers.yml") == (
        str(data["python_version"]),
        data.get("components") or [],
    )


def test_missing_and_old_tools_are_reported(root: Path, tmp_path: Path) -> None:
    fake_tool(tmp_path, "git", "git version 2.39.5")
    fake_tool(tmp_path, "make", "GNU Make 3.81")
    (tmp_path / "python3").symlink_to(sys.executable)
    run = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env={**os.environ, "PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("ok") and "git 2.39.5" in line for line in lines)
    assert any(line.startswith("TOO OLD") and "make 3.81 (needs 3.82+)" in line for line in lines)
    python, components = prerequisites.read_answers(root / ".copier-answers.yml")
    for tool in prerequisites.tools_for(python, components):
        if tool.command in {"git", "make", "python3"}:
            continue
        level = "MISSING " if tool.required else "missing (recommended)"
        assert any(line.startswith(level) and f" {tool.command}: " in line for line in lines), (
            tool.command,
            lines,
        )
    assert any("GB free" in line for line in lines)


def test_the_tools_follow_the_components() -> None:
    commands = {t.command for t in prerequisites.tools_for("3.11", ["snowflake", "prometheus"])}
    assert {"git", "make", "python3", "python3.11", "openssl", "promtool", "amtool"} <= commands
    assert "java" not in commands
    jenkins = [t.command for t in prerequisites.tools_for("3.11", ["github_actions", "jenkins"])]
    assert jenkins.count("node") == 1 and "java" in jenkins
