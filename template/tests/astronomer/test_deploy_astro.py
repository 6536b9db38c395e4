"""astronomer/deploy.sh, the deploy to Astro that every CI system runs.

Docker and the Astro CLI are replaced by recording stand-ins on PATH: the test sees the
commands the script would run, and its one-line errors when a setting or a tool is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path("astronomer/deploy.sh")
RECORDER = '#!/usr/bin/env bash\necho "$(basename "$0") $* (in $PWD)" >> "$DEPLOY_LOG"\n'


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("docker", "astro"):
        (folder / tool).write_text(RECORDER)
        (folder / tool).chmod(0o755)
    return folder


def run(root: Path, path: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [shutil.which("bash") or "bash", str(root / SCRIPT)],
        cwd=root,
        env={"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_syntax(root: Path) -> None:
    result = subprocess.run(["bash", "-n", str(root / SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_builds_the_image_and_deploys_it(root: Path, bin_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "deploy.log"
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"

    result = run(root, path, ASTRO_DEPLOYMENT_ID="cl0abc", ASTRO_API_TOKEN="t", DEPLOY_LOG=str(log))

    assert result.returncode == 0, result.stderr
    build, deploy = log.read_text().splitlines()
    image = build.split(" -t ")[1].split()[0]
    assert build.startswith("docker build -f astronomer/Dockerfile -t ")
    assert build.endswith(f" . (in {root})")
    assert deploy == f"astro deploy cl0abc --image-name {image} (in {root / 'astronomer'})"


@pytest.mark.parametrize(
    ("settings", "tools", "message"),
    [
        ({"ASTRO_API_TOKEN": "t"}, True, "ASTRO_DEPLOYMENT_ID is empty"),
        ({"ASTRO_DEPLOYMENT_ID": "cl0abc"}, True, "ASTRO_API_TOKEN is empty"),
        ({"ASTRO_DEPLOYMENT_ID": "cl0abc", "ASTRO_API_TOKEN": "t"}, False, "docker is missing"),
    ],
)
def test_a_missing_setting_or_tool_is_one_line(
    root: Path, bin_dir: Path, tmp_path: Path, settings: dict, tools: bool, message: str
) -> None:
    log = tmp_path / "deploy.log"
    path = str(bin_dir) if tools else str(tmp_path / "empty")

    result = run(root, path, DEPLOY_LOG=str(log), **settings)

    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr, result.stderr
    assert not log.exists(), "nothing may run after an error"
