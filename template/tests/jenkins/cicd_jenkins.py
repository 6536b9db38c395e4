"""Reading cicd/jenkins/Jenkinsfile: its stages, their `sh` steps, and npm-groovy-lint.

npm-groovy-lint (pinned in cicd/jenkins/package.json) parses the file as Groovy and runs
CodeNarc on Java 17; it knows nothing of the declarative syntax, which only a Jenkins server
checks. The stage structure is therefore read here, with a brace matcher that is enough for a
declarative pipeline (no braces inside the quoted strings of `sh` steps).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from conftest import make_calls, node, npm_package, require

JENKINSFILE = Path("cicd/jenkins/Jenkinsfile")
BLOCK_START = re.compile(r"\b(stage\('([^']+)'\)|post)\s*\{")
SH_STEP = re.compile(r"\bsh\s+(?:'([^']*)'|\"([^\"]*)\")")


def block(text: str, opening: int) -> str:
    """The text between the brace at `opening` and its matching closing brace."""
    depth = 0
    for index in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[opening + 1 : index]
    raise ValueError(f"unbalanced braces from offset {opening}")


def stage_names(text: str) -> list[str]:
    return re.findall(r"\bstage\('([^']+)'\)", text)


def sh_steps(text: str) -> list[tuple[str, str]]:
    """(stage name, or `post`; shell command) of every `sh` step inside a stage or post."""
    found = []
    for match in BLOCK_START.finditer(text):
        body = block(text, match.end() - 1)
        for single, double in SH_STEP.findall(body):
            found.append((match.group(2) or "post", single or double))
    return found


def sh_problems(text: str, root: Path, targets: set[str]) -> list[str]:
    """`sh` steps that run neither an existing make target nor an existing repository script."""
    problems = []
    for stage, command in sh_steps(text):
        called = make_calls(command)
        script = re.fullmatch(r"bash (\S+)", command)
        if called:
            problems += [
                f"{JENKINSFILE} stage {stage!r} runs `make {target}`, which Makefile lacks"
                for target in called
                if target not in targets
            ]
        elif not (script and (root / script.group(1)).is_file()):
            problems.append(
                f"{JENKINSFILE} stage {stage!r} runs `{command}`: a stage runs a make target "
                "(or `bash <script of this repository>`); put the command in the Makefile"
            )
    return problems


@dataclass(frozen=True)
class GroovyLint:
    """One npm-groovy-lint run: its exit code and the error-level findings of each file."""

    returncode: int
    errors: dict[Path, list[str]]


def groovy_lint(root: Path, *files: Path, cwd: Path) -> GroovyLint:
    """npm-groovy-lint --noserver --failon error on files, in one run (CodeNarc starts once)."""
    package = npm_package(root / JENKINSFILE.parent, "npm-groovy-lint")
    require(shutil.which("java") is not None, "java (Java 17, for npm-groovy-lint's CodeNarc)")
    result = subprocess.run(
        [node(), str(package / "lib" / "index.js"), "--noserver", "--failon", "error"]
        + ["--output", "json", *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise AssertionError(f"npm-groovy-lint failed: {result.stdout}{result.stderr}") from error
    errors = {}
    for path, found in report["files"].items():
        errors[Path(path)] = [
            f"line {e['line']}: {e['msg']} [{e['rule']}]"
            for e in found["errors"]
            if e["severity"] == "error"
        ]
    return GroovyLint(result.returncode, errors)
