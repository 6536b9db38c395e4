"""scripts/setup/check_prerequisites.py finds missing and too old tools, and installs them.

The tools of the chosen components come from scripts/setup/prerequisites.json. On a PATH
of fake tools the script reports each missing required tool and a too old GNU Make, and
exits 1; with --install it asks apt-get for exactly the missing tools' packages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "setup" / "check_prerequisites.py"
sys.path.insert(0, str(SCRIPT.parent))

import check_prerequisites as prerequisites  # noqa: E402


def run(path: Path, tools: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The script on a PATH of fake tools (name -> shell script), with this Python as python3."""
    for name, script in tools.items():
        (path / name).write_text(f"#!/bin/sh\n{script}\n")
        (path / name).chmod(0o755)
    (path / "python3").symlink_to(sys.executable)
    env = {**os.environ, "PATH": str(path)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False
    )


def test_the_prerequisites_name_the_python_and_tools_of_this_repository(root: Path) -> None:
    data = json.loads((root / "scripts" / "setup" / "prerequisites.json").read_text())
    python, tools = prerequisites.read_prerequisites()
    assert python == data["python_version"]
    assert [t.command for t in tools] == [entry["command"] for entry in data["tools"]]
    for tool in tools:
        assert tool.why and tool.install, tool


def test_missing_and_old_tools_are_reported(tmp_path: Path) -> None:
    result = run(tmp_path, {"git": "echo 'git version 2.39.5'", "make": "echo 'GNU Make 3.81'"})
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok") and "git 2.39.5" in line for line in lines)
    assert any(line.startswith("TOO OLD") and "make 3.81 (needs 3.82+)" in line for line in lines)
    always = {tool.command for tool in prerequisites.ALWAYS}
    for tool in prerequisites.tools_for(*prerequisites.read_prerequisites()):
        level = "MISSING " if tool.required else "missing (recommended)"
        found = any(line.startswith(level) and f" {tool.command}: " in line for line in lines)
        assert tool.command in always or found, (tool.command, lines)
    assert any("GB free" in line for line in lines)


def test_install_asks_apt_get_for_the_missing_packages(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    fakes = {"git": "echo 'git 4.4'", "make": "echo 'make 4.4'", "sudo": '"$@"'}
    run(tmp_path, fakes | {"apt-get": f'echo "apt-get $*" >> {calls}'}, "--install")
    _, tools = prerequisites.read_prerequisites()
    wanted = sorted({p for t in tools if t.required for p in t.apt})
    asked = calls.read_text().splitlines() if calls.exists() else []
    if wanted:
        assert asked[-1] == "apt-get install -y --no-install-recommends " + " ".join(wanted)
    else:
        assert not asked, "nothing is missing, yet apt-get was called"


def test_a_broken_prerequisites_file_says_how_to_restore_it(tmp_path: Path) -> None:
    broken = tmp_path / "prerequisites.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError):
        prerequisites.read_prerequisites(broken)
