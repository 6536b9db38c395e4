"""Shared fixtures of the template's tests.

The catalog and naming modules are imported from ``extensions/`` exactly as
copier loads them (by file path), so the tests and the template read one
source of truth.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "extensions"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

#: Under CI=true a check whose tool is missing fails instead of skipping.
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_tool(found: bool, what: str) -> None:
    """Skip locally, fail under CI, when a tool a test needs is missing."""
    if found:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing; .ci/run installs it", pytrace=False)
    pytest.skip(f"{what} is missing (run .ci/run or install it)")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
