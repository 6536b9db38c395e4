"""Each named variant boots: its own `make setup`, `make lint` and `make test` pass.

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
from catalog import named_variants
from conftest import require_tool
from rendering import HOSTILE, git, render, snapshot

VARIANTS = named_variants()
STEP_TIMEOUT = 900  # seconds for one make target


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("template") / "repo")


def make(project: Path, target: str) -> tuple[float, str]:
    env = {
        **os.environ,
        "CI": "true",
        # uv from the template's environment; a user without uv gets a private copy.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("VIRTUAL_ENV", None)
    started = time.monotonic()
    result = subprocess.run(
        ["make", target],
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
def test_boot(template: Path, tmp_path: Path, variant: str) -> None:
    require_tool(shutil.which("make") is not None, "make")
    require_tool(shutil.which("uv", path=str(Path(sys.executable).parent)) is not None, "uv")
    # The full boot renders with hostile-but-valid answers (quotes, a backslash, a colon,
    # Jinja braces in the description): dbt, the linters and the tests run on them.
    answers = HOSTILE if variant == "full" else {}
    project = render(template, tmp_path / variant, VARIANTS[variant], **answers)
    git("init", "-q", "-b", "main", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "Render from the template", cwd=project)

    timings = {target: make(project, target)[0] for target in ("setup", "lint", "test")}

    changed = git("status", "--porcelain", "--untracked-files=no", cwd=project)
    assert not changed.strip(), f"make setup/lint/test changed tracked files:\n{changed}"
    untracked = git("status", "--porcelain", cwd=project).split("\n")
    assert all(line in {"", "?? uv.lock"} for line in untracked), (
        f"files left that .gitignore does not cover: {untracked}"
    )
    print(variant, {k: round(v, 1) for k, v in timings.items()})
