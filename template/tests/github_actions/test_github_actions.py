"""The GitHub Actions workflows (.github/workflows/) and composite actions (cicd/github-actions/).

actionlint passes on every workflow and on the steps of every composite action, and fails on
broken copies; zizmor (the security audit) finds nothing at Medium or above, and does on a
broken copy; every action is pinned to a commit, with its release in a comment, at its current
major; local actions exist and get the inputs they declare; each job has the permissions it
needs and no more, and no job that can write runs the template's code; every `make` target the
workflows run exists; the deploy workflow comes with Astronomer only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from cicd_github import (
    action_as_workflow,
    action_files,
    actionlint,
    load,
    local_action_problems,
    missing_make_targets,
    remote_uses,
    serious,
    steps,
    unpinned_uses,
    workflow_files,
    zizmor_findings,
)

#: The oldest major of each action the workflows may use: the node24 releases. The actionlint
#: inside the WebAssembly build predates them and cannot tell, so this test does.
CURRENT_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/setup-node": 5,
    "actions/setup-java": 5,
    "actions/cache": 5,
    "actions/upload-artifact": 6,
    "actions/download-artifact": 7,
}
#: The only jobs that write: (workflow file, job) -> the permissions they need.
WRITERS = {("template-update.yml", "pull-request"): {"contents", "pull-requests"}}
PROBLEM_LINE = re.compile(r".+:\d+:\d+: .+ \[[\w-]+\]$")


def test_actionlint_passes_on_every_workflow(root: Path) -> None:
    files = workflow_files(root)
    assert {path.name for path in files} >= {"ci.yml", "template-update.yml"}

    result = actionlint(root, *files)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_actionlint_fails_on_a_broken_workflow(root: Path, tmp_path: Path) -> None:
    text = (root / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    broken = text.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    stepz: []", 1)
    broken = broken.replace("${{ github.ref }}", "${{ github.nope_ref }}", 1)
    assert broken.count("stepz") == 1 and "nope_ref" in broken
    path = tmp_path / "ci.yml"
    path.write_text(broken, encoding="utf-8")

    result = actionlint(root, path)

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any('"stepz"' in line and line.endswith("[syntax-check]") for line in lines), lines
    assert any('"nope_ref"' in line and line.endswith("[expression]") for line in lines), lines
    assert all(PROBLEM_LINE.match(line) for line in lines), lines


def test_actionlint_passes_on_every_composite_action(root: Path, tmp_path: Path) -> None:
    files = action_files(root)
    assert {path.parent.name for path in files} >= {"setup", "dbt-build"}
    linted = {}
    for path in files:
        as_workflow = tmp_path / f"{path.parent.name}.yml"
        as_workflow.write_text(yaml.safe_dump(action_as_workflow(load(path)), sort_keys=False))
        linted[as_workflow.name] = path.relative_to(root)

    result = actionlint(root, *(tmp_path / name for name in linted))

    assert result.returncode == 0, (
        f"the steps of {sorted(map(str, linted.values()))}, linted as reusable workflows:\n"
        + result.stdout
        + result.stderr
    )


def test_actionlint_fails_on_a_broken_composite_action(root: Path, tmp_path: Path) -> None:
    action = load(root / "cicd/github-actions/dbt-build/action.yml")
    action["runs"]["steps"][-1]["env"]["DBT_TARGET"] = "${{ inputs.targt }}"
    path = tmp_path / "dbt-build.yml"
    path.write_text(yaml.safe_dump(action_as_workflow(action), sort_keys=False))

    result = actionlint(root, path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert '"targt"' in result.stdout, result.stdout


def test_composite_actions_are_well_formed(root: Path) -> None:
    problems = []
    for path in action_files(root):
        action = load(path)
        where = path.relative_to(root)
        for key in ("name", "description"):
            if not action.get(key):
                problems.append(f"{where}: no `{key}`")
        if action.get("runs", {}).get("using") != "composite":
            problems.append(f"{where}: `runs.using` must be composite")
        for name, spec in (action.get("inputs") or {}).items():
            if not spec.get("description"):
                problems.append(f"{where}: input `{name}` has no description")
        for step in steps(action):
            if "run" in step and "shell" not in step:
                problems.append(f"{where}: a `run` step of a composite action needs `shell:`")
    assert not problems, problems


def test_local_actions_exist_and_get_their_inputs(root: Path) -> None:
    problems = [
        problem
        for path in [*workflow_files(root), *action_files(root)]
        for problem in local_action_problems(root, path)
    ]
    assert not problems, problems


def test_local_action_check_rejects_unknown_missing_and_absent(root: Path, tmp_path: Path) -> None:
    workflow = {
        "on": "push",
        "jobs": {
            "a": {
                "runs-on": "ubuntu-latest",
                "steps": [
                    {"uses": "./cicd/github-actions/dbt-build", "with": {"targt": "ci"}},
                    {"uses": "./cicd/github-actions/nope"},
                ],
            }
        },
    }
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(workflow))

    problems = local_action_problems(root, path)

    assert len(problems) == 3, problems
    assert "input `targt`" in problems[0] and "dbt-build/action.yml" in problems[0]
    assert "required input `target`" in problems[1]
    assert "nope/action.yml does not exist" in problems[2]


def test_zizmor_finds_nothing_serious(root: Path) -> None:
    findings = zizmor_findings(root, root / ".github", root / "cicd/github-actions")

    assert not serious(findings), "zizmor --offline, Medium or above:\n" + "\n".join(
        serious(findings)
    )


def test_zizmor_fails_a_broken_workflow(root: Path, tmp_path: Path) -> None:
    text = (root / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    broken = re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v5", text, count=1)
    broken = broken.replace("        with:\n          persist-credentials: false\n", "", 1)
    broken = broken.replace("  pull_request:\n", "  pull_request_target:\n", 1)
    assert broken.count("@v5") == 1 and "pull_request_target" in broken
    assert broken.count("persist-credentials") == text.count("persist-credentials") - 1
    (tmp_path / ".github/workflows").mkdir(parents=True)
    path = tmp_path / ".github/workflows/ci.yml"
    path.write_text(broken, encoding="utf-8")

    audits = {line.split("[")[1].split("]")[0] for line in serious(zizmor_findings(root, path))}

    assert {"unpinned-uses", "dangerous-triggers", "artipacked"} <= audits, audits


def test_actions_are_pinned_to_commits(root: Path) -> None:
    files = [*workflow_files(root), *action_files(root)]
    assert any(remote_uses(path) for path in files)
    problems = [problem for path in files for problem in unpinned_uses(path)]
    assert not problems, problems


def test_the_pin_check_rejects_tags_and_missing_comments(tmp_path: Path) -> None:
    path = tmp_path / "ci.yml"
    path.write_text(
        "jobs:\n  a:\n    steps:\n"
        "      - uses: actions/checkout@v5\n"
        f"      - uses: actions/cache@{'a' * 40}\n"
        f"      - uses: actions/setup-node@{'b' * 40} # v5\n"
        f"      - uses: actions/setup-python@{'c' * 40} # v6.3.0\n"
        "      - uses: ./cicd/github-actions/setup\n"
    )

    problems = unpinned_uses(path)

    assert [problem.split(":")[1] for problem in problems] == ["4", "5", "6"], problems


def test_actions_use_current_majors(root: Path) -> None:
    used = {
        (path.relative_to(root), ref.partition("@")[0], rest)
        for path in [*workflow_files(root), *action_files(root)]
        for _, ref, rest in remote_uses(path)
    }
    assert used
    problems = []
    for where, action, comment in sorted(used):
        major = re.search(r"# v(\d+)\.", comment)
        if action not in CURRENT_MAJORS:
            problems.append(f"{where}: {action} is not an action this test knows: add it above")
        elif not major or int(major.group(1)) < CURRENT_MAJORS[action]:
            problems.append(f"{where}: {action}{comment}: use v{CURRENT_MAJORS[action]} or later")
    assert not problems, problems


def test_no_job_that_can_write_runs_the_template(root: Path) -> None:
    workflow = load(root / ".github/workflows/template-update.yml")
    for name, job in workflow["jobs"].items():
        runs = " ".join(step.get("run", "") for step in job.get("steps") or [])
        writes = "write" in (job.get("permissions") or {}).values()
        assert not (writes and ("copier" in runs or "make" in runs)), (
            f"template-update.yml: job {name} can write and runs the template's code: run "
            "`copier update` in a read-only job and hand its result over"
        )
    assert "copier update --trust" in " ".join(
        step.get("run", "") for step in workflow["jobs"]["update"]["steps"]
    )


def test_permissions_are_minimal_per_job(root: Path) -> None:
    problems = []
    for path in workflow_files(root):
        workflow = load(path)
        if workflow.get("permissions") != {}:
            problems.append(f"{path.name}: set `permissions: {{}}` at the top, grant per job")
        for name, job in workflow["jobs"].items():
            granted = job.get("permissions")
            if not isinstance(granted, dict):
                problems.append(f"{path.name}: job {name} must list its permissions")
                continue
            writes = {scope for scope, level in granted.items() if level == "write"}
            if writes != WRITERS.get((path.name, name), set()):
                problems.append(f"{path.name}: job {name} writes {sorted(writes)}")
    assert not problems, problems


@pytest.mark.coherence
def test_every_make_target_the_workflows_run_exists(root: Path) -> None:
    missing = missing_make_targets(root, *workflow_files(root), *action_files(root))
    assert not missing, (
        f"{missing}: a target the Makefile does not have; add it to the Makefile, or call a "
        "target that `make help` lists"
    )


def test_the_make_check_rejects_a_missing_target(root: Path, tmp_path: Path) -> None:
    job = {"runs-on": "ubuntu-latest", "steps": [{"run": "make setup\nmake lint && make lintt"}]}
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump({"on": "push", "jobs": {"a": job}}))

    assert missing_make_targets(root, path) == [f"{path} runs `make lintt`"]


def test_deploy_workflow_comes_with_astronomer_only(root: Path) -> None:
    components = yaml.safe_load((root / ".copier-answers.yml").read_text())["components"]
    deploy = root / ".github/workflows/deploy.yml"
    action = root / "cicd/github-actions/deploy-astro/action.yml"
    assert deploy.exists() == action.exists() == ("astronomer" in components), (
        "deploy.yml and cicd/github-actions/deploy-astro/ belong to the astronomer component: "
        "add or remove it with `copier update -d components=[...]`"
    )
