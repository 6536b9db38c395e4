"""What the checks read from the repository: its answers and the files git would commit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ANSWERS = ".copier-answers.yml"
#: Walked past when the repository is not a git repository (git ls-files lists files otherwise).
SKIP_DIRS = {
    ".git",
    ".venv",
    ".tools",
    ".local",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".airflow_home",
    "reports",
}
#: dbt's output, walked past too (a folder named logs elsewhere, monitoring/logs, is content).
SKIP_PATHS = ("dbt/target/", "dbt/logs/", "dbt/dbt_packages/")


class SetupError(Exception):
    """The checklist cannot run at all (no answers file, unwritable report): exit status 2."""


def answers(root: Path) -> dict[str, Any]:
    """The answers the repository was rendered with; ``components`` is always a list."""
    path = root / ANSWERS
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise SetupError(
            f"no {ANSWERS} in {root}: run the check from a repository rendered by copier"
        ) from None
    except (OSError, yaml.YAMLError) as error:
        raise SetupError(f"cannot read {path}: {error}; restore it with git checkout") from None
    components = data.get("components") if isinstance(data, dict) else None
    if not isinstance(components, list | type(None)):
        raise SetupError(f"{path}: `components` is not a list; restore it with git checkout")
    return {**(data or {}), "components": [str(key) for key in components or []]}


def committed_files(root: Path) -> list[str]:
    """The files git would commit (tracked and not ignored), relative, with forward slashes.

    Outside a git repository (a copy, an unpacked archive), every file but the environments,
    caches and build output.
    """
    git = shutil.which("git")
    if git and (root / ".git").exists():
        listing = subprocess.run(
            [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=False,
        )
        if listing.returncode == 0:
            names = {name for name in listing.stdout.decode().split("\0") if name}
            return sorted(name for name in names if (root / name).is_file())
    return sorted(
        name
        for path in root.rglob("*")
        if path.is_file()
        and not SKIP_DIRS.intersection(path.relative_to(root).parts)
        and not (name := path.relative_to(root).as_posix()).startswith(SKIP_PATHS)
    )
