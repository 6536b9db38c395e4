"""The rendered GitHub Actions pass zizmor, the security audit, in every named variant.

Each named variant with github_actions is rendered and zizmor (``--offline``, the template's
.venv) audits its ``.github/`` and ``cicd/github-actions/``: no finding at Medium or above.
Every remote ``uses:`` is pinned to a full commit with its release in a comment, as
``[actions]`` of components/github_actions/component.toml says. The rendered repository runs
the same audit itself (tests/github_actions, and a pre-commit hook of ``make lint``); this test
finds a regression in seconds, without a boot.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from catalog import BY_KEY, CatalogError, action, load_component, named_variants
from conftest import ROOT, require_tool
from rendering import render, snapshot

VARIANTS = {name: keys for name, keys in named_variants().items() if "github_actions" in keys}
ZIZMOR = Path(sys.executable).parent / "zizmor"
SEVERITIES = ("Unknown", "Informational", "Low", "Medium", "High")
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", re.MULTILINE)
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")
VERSION_COMMENT = re.compile(r"\s+# v\d+\.\d+\.\d+\s*")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("template") / "repo")


def serious_findings(project: Path, *paths: str) -> list[str]:
    """zizmor's findings at Medium or above on workflows, actions or folders of a project."""
    require_tool(ZIZMOR.is_file(), "zizmor in the template's .venv (make setup)")
    result = subprocess.run(
        [str(ZIZMOR), "--offline", "--format", "json", *paths],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # 0: no findings; 10 + the highest severity found; anything else: zizmor could not run.
    assert result.returncode in {0, *range(10, 16)}, result.stderr
    found = []
    for finding in json.loads(result.stdout or "[]"):
        severity = finding["determinations"]["severity"]
        if finding.get("ignored") or SEVERITIES.index(severity) < SEVERITIES.index("Medium"):
            continue
        where = finding["locations"][0]
        path = where["symbolic"]["key"].get("Local", {}).get("verbatim_path", "?")
        line = where["concrete"]["location"]["start_point"]["row"] + 1
        found.append(f"{path}:{line}: {severity} [{finding['ident']}] {finding['desc']}")
    return found


def unpinned(project: Path) -> list[str]:
    """Remote `uses:` of the workflows and actions without a commit pin and version comment."""
    files = [
        *project.glob(".github/workflows/*.y*ml"),
        *project.glob("cicd/github-actions/*/*.yml"),
    ]
    problems = []
    for path in files:
        for ref, rest in USES.findall(path.read_text(encoding="utf-8")):
            if ref.startswith("./"):
                continue
            if not (PINNED.fullmatch(ref) and VERSION_COMMENT.fullmatch(rest)):
                problems.append(f"{path.relative_to(project)}: uses: {ref}{rest}")
    return problems


@pytest.mark.parametrize("name", list(VARIANTS))
def test_rendered_actions_pass_zizmor(template: Path, tmp_path: Path, name: str) -> None:
    project = render(template, tmp_path / "p", VARIANTS[name])
    assert (project / ".github/workflows/ci.yml").is_file()

    found = serious_findings(project, ".github", "cicd/github-actions")

    assert not found, f"zizmor --offline on the {name} render:\n" + "\n".join(found)
    assert not unpinned(project), unpinned(project)


def test_the_checks_fail_on_a_broken_workflow(template: Path, tmp_path: Path) -> None:
    project = render(template, tmp_path / "p", ["github_actions"])
    ci = project / ".github/workflows/ci.yml"
    text = ci.read_text(encoding="utf-8")
    broken = re.sub(r"@[0-9a-f]{40} # v5\.\d+\.\d+", "@v5", text, count=1)
    broken = broken.replace("  pull_request:\n", "  pull_request_target:\n", 1)
    assert broken != text and "pull_request_target" in broken
    ci.write_text(broken, encoding="utf-8")

    audits = {line.split("[")[1].split("]")[0] for line in serious_findings(project, ".github")}

    assert {"unpinned-uses", "dangerous-triggers"} <= audits, audits
    assert [problem.split(": ", 1)[0] for problem in unpinned(project)] == [
        ".github/workflows/ci.yml"
    ]


def test_every_action_is_pinned_in_the_catalog() -> None:
    pins = BY_KEY["github_actions"].actions
    assert "actions/checkout" in pins
    commit, version = pins["actions/checkout"]
    assert action("actions/checkout") == f"actions/checkout@{commit} # {version}"
    with pytest.raises(CatalogError, match="no pin"):
        action("actions/nope")


def test_a_bad_pin_stops_the_catalog(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    folder.mkdir()
    source = ROOT / "components" / "github_actions" / "component.toml"
    text = source.read_text(encoding="utf-8")
    (folder / "component.toml").write_text(
        re.sub(r'(commit = ")[0-9a-f]{40}', r"\1v5", text, count=1), encoding="utf-8"
    )

    with pytest.raises(CatalogError, match="40-hex commit"):
        load_component(folder)
