"""Shared fixtures of the repository's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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
