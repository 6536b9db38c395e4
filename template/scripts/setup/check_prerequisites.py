"""Check that this machine has what the repository needs beyond `make setup`.

`make setup` installs the Python packages into .venv, but not the programs around them: git,
GNU Make, a Python for uv, and the tools of the chosen components' tests, which
scripts/setup/prerequisites.json lists (the template writes it from its component catalog).
Each tool is found on PATH and its version compared with the oldest that works. A missing or
too old required tool is a problem; a recommended one is only reported. Exit status: 0 nothing
required is missing, 1 something is (each line says how to install it), 2 setup error.

`--install` first installs the Debian packages of the missing required tools with apt-get
(through sudo unless run as root): what CI runs on a fresh runner.

It runs before `make setup`, with any python3: the standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PREREQUISITES = Path(__file__).resolve().parent / "prerequisites.json"
#: Free space .venv (Airflow, dbt, Great Expectations: about 1 GB) and the warehouse need.
MIN_FREE_GB = 3
VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


@dataclass(frozen=True)
class Tool:
    command: str
    why: str
    minimum: tuple[int, ...] = ()
    apt: tuple[str, ...] = ()
    install: str = ""  # how to install it; default: apt install <apt>
    required: bool = True
    version_args: tuple[str, ...] = ("--version",)


ALWAYS = (
    Tool("git", "the pre-commit hooks and `make lint` run on the files git knows", apt=("git",)),
    Tool(
        "make",
        "every command is a make target (.SHELLFLAGS needs GNU Make 3.82+)",
        (3, 82),
        ("make",),
    ),
    Tool("python3", "`make setup` bootstraps uv with it", (3, 9), ("python3", "python3-venv")),
)


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
    found = version_of(path, tool) if path else None
    shown = ".".join(map(str, found)) if found else "unknown version"
    install = tool.install or "apt install " + " ".join(tool.apt)
    if path is None:
        level = "MISSING" if tool.required else "missing (recommended)"
        return not tool.required, f"{level:<22} {tool.command}: {tool.why}; install: {install}"
    if tool.minimum and (found is None or found < tool.minimum):
        level = "TOO OLD" if tool.required else "old (recommended)"
        return not tool.required, (
            f"{level:<22} {tool.command} {shown} (needs {'.'.join(map(str, tool.minimum))}+): "
            f"{tool.why}; install: {install}"
        )
    return True, f"{'ok':<22} {tool.command} {shown}"


def read_prerequisites(path: Path = PREREQUISITES) -> tuple[str, list[Tool]]:
    """The Python version and the components' tools of prerequisites.json."""
    data = json.loads(path.read_text(encoding="utf-8"))
    tools = [
        Tool(**{key: tuple(v) if isinstance(v, list) else v for key, v in entry.items()})
        for entry in data["tools"]
    ]
    return str(data["python_version"]), tools


def tools_for(python: str, components_tools: list[Tool]) -> list[Tool]:
    """The tools of this repository: always, the Python it pins, then the components'."""
    pinned = Tool(
        f"python{python}",
        f"uv builds .venv with Python {python}; without it uv downloads one (needs internet)",
        install=f"apt install python{python} (or pyenv install {python})",
        required=False,
    )
    tools = [*ALWAYS, pinned]
    return tools + [t for t in components_tools if t.command not in {a.command for a in tools}]


def install_missing(tools: list[Tool]) -> int:
    """apt-get install the packages of the required tools that are not on PATH."""
    missing = [t for t in tools if t.required and shutil.which(t.command) is None]
    packages = sorted({package for tool in missing for package in tool.apt})
    if not packages:
        print("Nothing to install: every required tool with a Debian package is here.")
        return 0
    if shutil.which("apt-get") is None:
        print(f"apt-get is missing: install {' '.join(packages)} by hand.", file=sys.stderr)
        return 1
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    print(f"Installing {' '.join(packages)} with apt-get", flush=True)
    for command in (
        [*sudo, "apt-get", "update", "-q"],
        [*sudo, "apt-get", "install", "-y", "--no-install-recommends", *packages],
    ):
        if subprocess.run(command, check=False).returncode != 0:
            print(f"check_prerequisites.py: {' '.join(command)} failed", file=sys.stderr)
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--install", action="store_true", help="apt-get install the missing required tools first"
    )
    args = parser.parse_args(argv)
    try:
        tools = tools_for(*read_prerequisites())
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(
            f"check_prerequisites.py: cannot read {PREREQUISITES.relative_to(ROOT)} ({error}): "
            "restore it with `git checkout -- scripts/setup/prerequisites.json`",
            file=sys.stderr,
        )
        return 2
    if args.install and install_missing(tools):
        return 1
    free = shutil.disk_usage(ROOT).free / 1024**3
    results = [check_tool(tool) for tool in tools] + [
        (False, f"{'LOW DISK':<22} {free:.1f} GB free in {ROOT}, needs {MIN_FREE_GB} GB")
        if free < MIN_FREE_GB
        else (True, f"{'ok':<22} {free:.0f} GB free")
    ]
    for _, line in results:
        print(line)
    problems = sum(1 for fine, _ in results if not fine)
    print(
        f"{problems} problem(s)" if problems else "Everything required is here: run `make setup`."
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
