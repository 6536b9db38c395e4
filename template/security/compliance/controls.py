#!/usr/bin/env python3
"""The controls matrix of controls.yml: check its references, print or write its table.

Each control of ``controls.yml`` names the GDPR articles and SOC 2 criteria it supports and
what in this repository implements it (``implemented_by``), as references of three kinds:

- ``path/to/file`` or ``path/to/folder/``: exists, relative to the repository root;
- ``path/to/file.py::name``: the file defines ``name`` (a Python ``def`` or ``class``, or a
  Jinja ``macro``), e.g. one test of a test file;
- ``make target``: a rule of the Makefile.

Usage:
  controls.py            print the matrix as a Markdown table
  controls.py --check    every reference exists and README.md shows the table of
                         controls.yml; each problem names the control
  controls.py --write    rewrite the table of README.md from controls.yml

Exit status: 0 fine, 1 ``--check`` found problems, 2 controls.yml is missing or malformed.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONTROLS = HERE / "controls.yml"
README = HERE / "README.md"
BEGIN, END = "<!-- controls:begin -->", "<!-- controls:end -->"

FRAMEWORKS = {"gdpr": "GDPR", "soc2": "SOC 2"}
CONTROL_ID = re.compile(r"^[A-Z]{2,4}-\d{2}$")
#: GDPR articles (``Art. 32(1)(b)``) and SOC 2 criteria (``CC6.1``, ``PI1.2``, ``C1.1``).
REFERENCE_FORMS = {
    "gdpr": re.compile(r"^Art\. \d{1,2}(\(\d\))?(\([a-f]\))?$"),
    "soc2": re.compile(r"^(CC|PI|A|C|P)\d\.\d{1,2}$"),
}
MAKE_TARGET = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):", re.MULTILINE)


class ControlsError(Exception):
    """controls.yml is missing or malformed (exit status 2)."""


def load(path: Path = CONTROLS) -> list[dict[str, Any]]:
    """The controls of ``path``, checked for shape: unique ids, frameworks, references."""
    try:
        document = yaml.safe_load(path.read_text())
    except FileNotFoundError as error:
        raise ControlsError(f"{path} is missing: restore it from git") from error
    except yaml.YAMLError as error:
        raise ControlsError(f"{path} is not valid YAML: {error}") from error
    controls = (document or {}).get("controls")
    if not isinstance(controls, list) or not controls:
        raise ControlsError(f"{path}: no `controls:` list")
    problems, seen = [], set()
    for number, control in enumerate(controls, start=1):
        name = control.get("id", f"control #{number}") if isinstance(control, dict) else number
        if not isinstance(control, dict):
            problems.append(f"control #{number} is not a mapping")
            continue
        if not CONTROL_ID.match(str(control.get("id", ""))):
            problems.append(f"{name}: id must look like ABC-01")
        if name in seen:
            problems.append(f"{name}: id used twice")
        seen.add(name)
        for key in ("title", "description"):
            if not isinstance(control.get(key), str) or not control[key].strip():
                problems.append(f"{name}: `{key}` is missing")
        frameworks = control.get("frameworks")
        if not isinstance(frameworks, dict) or not frameworks:
            problems.append(f"{name}: `frameworks` must map gdpr and/or soc2 to references")
            frameworks = {}
        for framework, references in frameworks.items():
            if framework not in FRAMEWORKS:
                problems.append(
                    f"{name}: unknown framework {framework!r} ({', '.join(FRAMEWORKS)})"
                )
                continue
            if not isinstance(references, list) or not references:
                problems.append(f"{name}: `frameworks.{framework}` must be a non-empty list")
                continue
            problems += [
                f"{name}: {FRAMEWORKS[framework]} reference {ref!r} is not of the form "
                f"{'Art. 32(1)(b)' if framework == 'gdpr' else 'CC6.1'}"
                for ref in references
                if not REFERENCE_FORMS[framework].match(str(ref))
            ]
        implemented_by = control.get("implemented_by")
        if not isinstance(implemented_by, list) or not implemented_by:
            problems.append(f"{name}: `implemented_by` must list at least one reference")
        elif not all(isinstance(ref, str) and ref.strip() for ref in implemented_by):
            problems.append(f"{name}: every `implemented_by` entry must be a non-empty string")
    if problems:
        raise ControlsError(f"{path}:\n  " + "\n  ".join(problems))
    return controls


def make_targets(root: Path = ROOT) -> set[str]:
    makefile = root / "Makefile"
    return set(MAKE_TARGET.findall(makefile.read_text())) if makefile.is_file() else set()


def missing(reference: str, root: Path, targets: set[str]) -> str | None:
    """Why ``reference`` does not resolve in ``root``, or None when it does."""
    if reference.startswith("make "):
        target = reference.removeprefix("make ").strip()
        return None if target in targets else f"`{reference}`: no such target in the Makefile"
    path, _, name = reference.partition("::")
    if not (root / path).exists():
        return f"{path} does not exist"
    if name:
        if not (root / path).is_file():
            return f"{path} is not a file, so it defines no {name}"
        definition = re.compile(rf"^\s*(?:def|class|{{%-?\s*macro)\s+{re.escape(name)}\b", re.M)
        if not definition.search((root / path).read_text()):
            return f"{path} defines no {name}"
    return None


def broken_references(controls: list[dict[str, Any]], root: Path = ROOT) -> list[str]:
    """One message per reference that does not resolve, naming its control."""
    targets = make_targets(root)
    problems = []
    for control in controls:
        for reference in control["implemented_by"]:
            reason = missing(reference, root, targets)
            if reason:
                problems.append(f"{control['id']} ({control['title']}): {reason}")
    return problems


def cell(reference: str) -> str:
    """A reference as Markdown: make targets as code, paths as links from this folder."""
    if reference.startswith("make "):
        return f"`{reference}`"
    path = reference.partition("::")[0]
    return f"[`{reference}`](../../{path})"


def table(controls: list[dict[str, Any]]) -> str:
    """The matrix as a Markdown table, one row per control."""
    rows = [
        "| id | control | GDPR | SOC 2 | implemented by |",
        "|---|---|---|---|---|",
    ]
    for control in controls:
        frameworks = control["frameworks"]
        description = " ".join(control["description"].split())
        rows.append(
            f"| {control['id']} | **{control['title']}**: {description} "
            f"| {', '.join(frameworks.get('gdpr', [])) or '-'} "
            f"| {', '.join(frameworks.get('soc2', [])) or '-'} "
            f"| {'<br>'.join(cell(ref) for ref in control['implemented_by'])} |"
        )
    return "\n".join(rows)


def readme_table(readme: Path = README) -> str | None:
    """The table between the markers of README.md, or None without markers."""
    text = readme.read_text() if readme.is_file() else ""
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def write_readme(controls: list[dict[str, Any]], readme: Path = README) -> None:
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise ControlsError(f"{readme} lacks the markers {BEGIN} and {END}")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    readme.write_text(f"{before}{BEGIN}\n{table(controls)}\n{END}{after}")


def check(controls: list[dict[str, Any]], root: Path = ROOT, readme: Path = README) -> list[str]:
    problems = broken_references(controls, root)
    if readme_table(readme) != table(controls):
        problems.append(
            f"{readme.relative_to(root) if readme.is_relative_to(root) else readme} does not show "
            "the table of controls.yml: run `python security/compliance/controls.py --write`"
        )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="controls.py",
        description="Check the controls matrix of controls.yml, or print or write its table.",
        epilog="Exit status: 0 fine, 1 --check found problems, 2 controls.yml is malformed.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--check", action="store_true", help="every reference exists, README.md is in sync"
    )
    action.add_argument(
        "--write", action="store_true", help="rewrite README.md's table from controls.yml"
    )
    args = parser.parse_args(argv)
    try:
        controls = load()
        if args.write:
            write_readme(controls)
            print(f"{README}: table of {len(controls)} controls written")
            return 0
    except ControlsError as error:
        print(f"controls.py: {error}", file=sys.stderr)
        return 2
    if not args.check:
        print(table(controls))
        return 0
    problems = check(controls)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    references = sum(len(control["implemented_by"]) for control in controls)
    print(f"{len(controls)} controls, {references} references: all present, README.md in sync")
    return 0


if __name__ == "__main__":
    sys.exit(main())
