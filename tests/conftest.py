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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow boots first, the largest variant first: with two processes, the longest
    boot never starts last and runs alone at the end of the run."""
    from catalog import named_variants

    sizes = {f"[{name}]": len(components) for name, components in named_variants().items()}

    def weight(item: pytest.Item) -> int:
        if item.get_closest_marker("slow") is None:
            return 0
        return 1 + next((n for key, n in sizes.items() if item.name.endswith(key)), 0)

    items.sort(key=weight, reverse=True)
