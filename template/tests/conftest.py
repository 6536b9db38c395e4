"""Shared fixtures and helpers of the repository's tests.

A component's tests live in tests/<component>/; the helpers of one component's tests can be
imported by the tests of a component that requires it (tests/grafana/ imports
tests/prometheus/monitoring_helpers.py), so every folder of tests/ is on sys.path.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(path) for path in sorted(Path(__file__).parent.iterdir()) if path.is_dir()]
#: Under CI=true a test whose tool is missing fails instead of skipping.
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(found: bool, what: str) -> None:
    """Skip locally, fail in CI, when a tool a test needs is missing."""
    if found:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing: run `make setup`", pytrace=False)
    pytest.skip(f"{what} is missing: run `make setup`")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


# The Makefile and the Node.js tools that the CI checks (tests/github_actions, tests/jenkins) share.

#: A rule of the Makefile: `name:` or `name: prerequisites` (not `NAME := value`).
MAKE_RULE = re.compile(r"^([A-Za-z0-9_.][A-Za-z0-9_./-]*)[ \t]*:(?!=)", re.MULTILINE)
#: `make TARGET` at the start of a shell command (after a separator or at the start).
MAKE_CALL = re.compile(r"(?:^|[;&|(])[ \t]*make\s+([A-Za-z0-9_.][A-Za-z0-9_./-]*)", re.MULTILINE)


def make_targets(root: Path) -> set[str]:
    return set(MAKE_RULE.findall((root / "Makefile").read_text(encoding="utf-8")))


def make_calls(command: str) -> list[str]:
    """The make targets a shell command runs (the first target of each `make` call)."""
    return MAKE_CALL.findall(command)


def node() -> str:
    """The node executable; skips locally, fails under CI=true, when Node.js is missing."""
    found = shutil.which("node")
    require(found is not None, "node (Node.js 20 or later)")
    assert found is not None
    return found


def npm_package(folder: Path, package: str) -> Path:
    """The installed npm package of a cicd/ folder (installed by `make setup` with npm ci)."""
    path = folder / "node_modules" / package
    require(
        (path / "package.json").is_file(),
        f"the npm package {package} in {folder.name}/node_modules (npm ci --prefix {folder})",
    )
    return path
