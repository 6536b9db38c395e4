"""Each named variant boots: its own `make setup`, `make lint` and `make test` pass.

The core variant boots as a user's project: rendered at the last release, edited, and
updated to HEAD.

minimal, defaults, core and full run their whole `make test`. A variant `only-<key>` (the
component and what it requires) runs `make test TESTS="tests/unit tests/<key>"`: the
checks that depend on the variant (tests/unit: the migration checklist, the secrets scan,
the prerequisites) and the component's own tests. The dbt suites (tests/integration,
tests/data_quality) and the suites of the components it requires render the same there
as in minimal and in the required component's own boot, which run them; full runs all of
them together. So each suite runs where it differs, not seventeen times.

Slow (a variant installs its pinned packages with uv; the uv and pre-commit
caches are shared between variants). The template's CI runs one variant a job;
`.ci/run` runs them all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catalog import BY_KEY, named_variants
from conftest import require_tool
from releases import releases, template_with_releases
from rendering import HOSTILE, git, render, snapshot
from test_update import commit_all, edit_as_a_user, files_with_markers, render_committed, update

VARIANTS = named_variants()
#: Booted as a user's edited project updated from the last release, not as a fresh render
#: (test_update.py proves an unedited update is byte for byte the fresh render).
UPDATED = "core"
STEP_TIMEOUT = 1800  # seconds for one make target (full's make test takes about 15 min)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template_with_releases(tmp_path_factory.mktemp("released") / "repo")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("template") / "repo")


def updated_project(released: Path, dst: Path) -> Path:
    """A user's project: rendered at the last release, edited as test_update.py's users
    edit it, updated to HEAD with every edit kept and no conflict, and committed."""
    project = render_committed(released, dst, VARIANTS[UPDATED], releases()[-1].tag)
    expect = edit_as_a_user(project)
    update(project)
    assert not files_with_markers(project), "the update left conflicts"
    for path, line in expect.items():
        assert line in (project / path).read_text(), f"the update lost the edit of {path}"
    commit_all(project, "Update from the template")
    return project


def suites_of(variant: str) -> str:
    """What `make test` runs in the variant's boot (the module docstring says why)."""
    if not variant.startswith("only-"):
        return "tests"
    key = variant.removeprefix("only-")
    own = [path for path in BY_KEY[key].owns if path.startswith("tests/")]
    assert own, f"{key} owns no tests/ folder: its boot would run none of its tests"
    return " ".join(["tests/unit", *own])


def make(project: Path, target: str, *args: str) -> tuple[float, str]:
    env = {
        **os.environ,
        "CI": "true",
        # uv from the template's environment; a user without uv gets a private copy.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("VIRTUAL_ENV", None)
    started = time.monotonic()
    result = subprocess.run(
        ["make", target, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"make {target} failed in {project.name}:\n{output[-6000:]}"
    return time.monotonic() - started, output


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_boot(request: pytest.FixtureRequest, template: Path, tmp_path: Path, variant: str) -> None:
    require_tool(shutil.which("make") is not None, "make")
    require_tool(shutil.which("uv", path=str(Path(sys.executable).parent)) is not None, "uv")
    if variant == UPDATED:
        project = updated_project(request.getfixturevalue("released"), tmp_path / variant)
    else:
        # The full boot renders with hostile-but-valid answers (quotes, a backslash, a
        # colon, Jinja braces in the description): dbt, the linters and the tests run on them.
        answers = HOSTILE if variant == "full" else {}
        project = render(template, tmp_path / variant, VARIANTS[variant], **answers)
        git("init", "-q", "-b", "main", cwd=project)
        git("add", "-A", cwd=project)
        git("commit", "-q", "-m", "Render from the template", cwd=project)

    timings = {target: make(project, target)[0] for target in ("setup", "lint")}
    timings["test"] = make(project, "test", f"TESTS={suites_of(variant)}")[0]

    changed = git("status", "--porcelain", "--untracked-files=no", cwd=project)
    assert not changed.strip(), f"make setup/lint/test changed tracked files:\n{changed}"
    untracked = git("status", "--porcelain", cwd=project).split("\n")
    assert all(line in {"", "?? uv.lock"} for line in untracked), (
        f"files left that .gitignore does not cover: {untracked}"
    )
    print(variant, {k: round(v, 1) for k, v in timings.items()})
