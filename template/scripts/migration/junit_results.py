"""The outcome of the last `make test`, read from the JUnit XML file pytest wrote.

The checklist does not run the tests: `make test` runs every test folder, the checklist's own
tests among them, and takes minutes. It writes ``.local/test-results.xml``, which counts only
when it covers every test folder and is newer than every committed file but the Markdown
ones: a result from before a code change or from a partial run (``pytest tests/unit``) does not.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

SHOWN = 10  # at most this many failing tests are named in the report


@dataclass
class Results:
    """What one pytest run reported."""

    tests: int = 0
    skipped: list[str] = field(default_factory=list)  # pytest's reason, per skipped test
    failed: list[tuple[str, str]] = field(default_factory=list)  # (test id, message)
    folders: set[str] = field(default_factory=set)  # the test folders covered: tests/unit, ...


def read(path: Path) -> Results:
    """The results in a JUnit XML file; ValueError when it is not one."""
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise ValueError(f"{path.name} is not valid XML ({error})") from None
    if root.tag not in {"testsuites", "testsuite"}:
        raise ValueError(f"{path.name} is not a JUnit XML report (root <{root.tag}>)")
    results = Results(tests=len(list(root.iter("testcase"))))
    for case in root.iter("testcase"):
        parts = case.get("classname", "").split(".")
        results.folders.add("/".join(parts[:2]))
        module = "/".join(p for p in parts if p and not p[0].isupper())
        problem = next((p for p in map(case.find, ("failure", "error")) if p is not None), None)
        if problem is not None:
            message = (problem.get("message") or problem.text or problem.tag).strip()
            results.failed.append((f"{module}.py::{case.get('name')}", message))
        elif (skipped := case.find("skipped")) is not None:
            results.skipped.append(skipped.get("message") or "no reason given")
    return results


def summary(failure: tuple[str, str], lines: int = 1) -> str:
    """A failing test and the first lines of its message, on one line."""
    return f"{failure[0]}: " + " / ".join(failure[1].splitlines()[:lines])[:400]


def folders_with_tests(files: list[str]) -> set[str]:
    """The folders under tests/ that hold test modules (tests/unit, tests/airflow, ...)."""
    tests = (name for name in files if re.fullmatch(r"tests/(.*/)?test_[^/]*\.py", name))
    return {"/".join(name.split("/")[:2]) for name in tests}


def newest_change(root: Path, files: list[str]) -> tuple[float, str]:
    """The modification time and name of the newest committed file that is not Markdown."""
    return max(((root / name).stat().st_mtime, name) for name in files if not name.endswith(".md"))
