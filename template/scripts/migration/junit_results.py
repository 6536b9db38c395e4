"""The outcome of the last `make test`, read from the JUnit XML file pytest wrote.

The checklist does not run the tests itself: `make test` runs every test folder, this
repository's tests include the checklist's own (tests/unit/test_migration_check.py), and a
full run takes minutes. `make test` writes ``.local/test-results.xml`` (pytest's
``--junitxml``); the checklist trusts it only when it covers every test folder and is newer
than every committed file but the Markdown ones, so a result from before a code change or
from a partial run (``pytest tests/unit``) does not count.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

#: At most this many failing tests are named in the report.
SHOWN = 10


@dataclass
class Results:
    """What one pytest run reported."""

    tests: int = 0
    #: Why each skipped test was skipped (pytest's message), in order.
    skipped: list[str] = field(default_factory=list)
    #: ``tests/unit/test_x.py::test_y`` and pytest's message, per failure or error.
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: The test folders the run covered, e.g. ``tests/unit``.
    folders: set[str] = field(default_factory=set)


def read(path: Path) -> Results:
    """The results in a JUnit XML file; ValueError when it is not one."""
    try:
        tree = ElementTree.parse(path)
    except ElementTree.ParseError as error:
        raise ValueError(f"{path.name} is not valid XML ({error})") from None
    cases = list(tree.getroot().iter("testcase"))
    if tree.getroot().tag not in {"testsuites", "testsuite"}:
        raise ValueError(f"{path.name} is not a JUnit XML report (root <{tree.getroot().tag}>)")
    results = Results(tests=len(cases))
    for case in cases:
        parts = case.get("classname", "").split(".")
        module = "/".join(p for p in parts if p and not p[0].isupper())
        results.folders.add("/".join(parts[:2]))
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            message = (problem.get("message") or problem.text or problem.tag).strip()
            results.failed.append((f"{module}.py::{case.get('name')}", message))
        elif (skipped := case.find("skipped")) is not None:
            results.skipped.append(skipped.get("message") or "no reason given")
    return results


def summary(failure: tuple[str, str], lines: int = 1) -> str:
    """A failing test and the first lines of its message, on one line."""
    test, message = failure
    return f"{test}: " + " / ".join(message.splitlines()[:lines])[:400]


def folders_with_tests(files: list[str]) -> set[str]:
    """The folders under tests/ that hold test modules (tests/unit, tests/airflow, ...)."""
    return {
        "/".join(PurePosixPath(name).parts[:2])
        for name in files
        if name.startswith("tests/")
        and PurePosixPath(name).name.startswith("test_")
        and name.endswith(".py")
    }


def newest_change(root: Path, files: list[str]) -> tuple[float, str]:
    """The modification time and name of the newest committed file that is not Markdown."""
    return max(((root / name).stat().st_mtime, name) for name in files if not name.endswith(".md"))
